"""Scan targets: addresses, CIDR ranges and address ranges, from the command line and files.

A target set is kept as sorted, disjoint spans of 32-bit addresses and iterated lazily, so a
/8 costs two small arrays, never a list of 16 million addresses.

What is never a target (DESIGN.md principle 7, "the scanner only sends to targets it is
given"): "this network" 0.0.0.0/8 (RFC 1122 §3.2.1.3), multicast 224.0.0.0/4 (RFC 5771),
reserved 240.0.0.0/4 and the limited broadcast 255.255.255.255 (RFC 1112 §4, RFC 919), and
the network and broadcast addresses of every CIDR range of /30 or wider (RFC 1122 §3.2.1.3;
/31 and /32 have none, RFC 3021). A directed broadcast given as a single address is caught
later, when the kernel's route says RTN_BROADCAST.
"""

from __future__ import annotations

import bisect
import ipaddress
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from doorhunt.errors import InputError

MIN_PREFIX = 8
MAX_TARGETS = 1 << (32 - MIN_PREFIX)  # one /8
MAX_SPEC_LENGTH = 64

# (first, last, why): whole ranges that are never scanned.
FORBIDDEN: tuple[tuple[int, int, str], ...] = (
    (0x00000000, 0x00FFFFFF, '"this network" addresses (0.0.0.0/8)'),
    (0xE0000000, 0xEFFFFFFF, "multicast addresses (224.0.0.0/4)"),
    (0xF0000000, 0xFFFFFFFE, "reserved addresses (240.0.0.0/4)"),
    (0xFFFFFFFF, 0xFFFFFFFF, "the broadcast address 255.255.255.255"),
)


class TargetError(InputError):
    """A target or exclusion that cannot be scanned, with where it was given."""


@dataclass(frozen=True, slots=True)
class Span:
    """Addresses first..last, both included, as 32-bit integers."""

    first: int
    last: int

    def __len__(self) -> int:
        return self.last - self.first + 1


def format_address(value: int) -> str:
    return f"{value >> 24}.{(value >> 16) & 0xFF}.{(value >> 8) & 0xFF}.{value & 0xFF}"


def parse_address(text: str) -> int:
    """A dotted-quad IPv4 address (no shorthand, no leading zeros) as an integer."""
    try:
        return int(ipaddress.IPv4Address(text))
    except ValueError:
        raise ValueError(f"{text!r} is not an IPv4 address") from None


def parse_spec(text: str, *, location: str, exclusion: bool = False) -> list[Span]:
    """One target: `A.B.C.D`, `A.B.C.D/N`, `A.B.C.D-E.F.G.H` or `A.B.C.D-N` (last octet).

    Exclusions take the same forms and may cover anything; targets are refused when they
    touch a forbidden range or span more than a /8.
    """
    spec = text.strip()
    if not spec:
        raise TargetError("empty target", location=location)
    if len(spec) > MAX_SPEC_LENGTH or not spec.isascii() or not spec.isprintable():
        raise TargetError(f"{_shown(spec)} is not an IPv4 address or range", location=location)
    try:
        if "/" in spec:
            spans = _cidr(spec, exclusion)
        elif "-" in spec:
            spans = [_range(spec)]
        else:
            address = parse_address(spec)
            spans = [Span(address, address)]
    except ValueError as error:
        if ":" in spec:
            message = f"{_shown(spec)}: IPv6 is not scanned (BPFDoor filters are IPv4 only)"
        elif any(c.isalpha() for c in spec):
            message = f"{_shown(spec)} is not an IPv4 address or range (names are not resolved)"
        else:
            message = str(error)
        raise TargetError(message, location=location) from None
    if not exclusion:
        for span in spans:
            _check_allowed(span, spec, location)
    return spans


def _cidr(spec: str, exclusion: bool) -> list[Span]:
    address, _, prefix_text = spec.partition("/")
    if not prefix_text.isdigit() or len(prefix_text) > 2:
        raise ValueError(f"{spec!r}: the prefix length must be a number from 0 to 32")
    prefix = int(prefix_text)
    if prefix > 32:
        raise ValueError(f"{spec!r}: the prefix length must be a number from 0 to 32")
    if prefix < MIN_PREFIX and not exclusion:
        raise ValueError(f"{spec!r} is larger than a /{MIN_PREFIX}: split it or narrow it")
    network = parse_address(address) & (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
    last = network | ((1 << (32 - prefix)) - 1)
    if prefix <= 30 and not exclusion:
        return [Span(network + 1, last - 1)]  # neither the network nor the broadcast address
    return [Span(network, last)]


def _range(spec: str) -> Span:
    start_text, _, end_text = spec.partition("-")
    first = parse_address(start_text.strip())
    end_text = end_text.strip()
    if end_text.isdigit() and len(end_text) <= 3:
        end_octet = int(end_text)
        if end_octet > 255:
            raise ValueError(f"{spec!r}: the last octet must be at most 255")
        last = (first & 0xFFFFFF00) | end_octet
    else:
        last = parse_address(end_text)
    if last < first:
        raise ValueError(f"{spec!r}: the range ends before it starts")
    if last - first + 1 > MAX_TARGETS:
        raise ValueError(f"{spec!r} holds more addresses than a /{MIN_PREFIX}")
    return Span(first, last)


def _check_allowed(span: Span, spec: str, location: str) -> None:
    for first, last, why in FORBIDDEN:
        if span.first <= last and first <= span.last:
            raise TargetError(f"{spec} includes {why}, which are never scanned", location=location)


def _shown(text: str) -> str:
    return repr(text if len(text) <= MAX_SPEC_LENGTH else text[:MAX_SPEC_LENGTH] + "...")


def parse_list(data: bytes, *, name: str, exclusion: bool = False) -> list[Span]:
    """A target file: one spec a line (or several separated by spaces or commas); `#` starts
    a comment; blank lines are skipped. Any other line is an error with its line number."""
    spans: list[Span] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise TargetError(f"not UTF-8 text (byte {error.start})", location=name) from None
    for number, line in enumerate(text.splitlines(), 1):
        content = line.split("#", 1)[0]
        for word in content.replace(",", " ").split():
            spans += parse_spec(word, location=f"{name}:line {number}", exclusion=exclusion)
    return spans


def _merge(spans: Iterable[Span]) -> tuple[array[int], array[int]]:
    firsts: array[int] = array("L")
    lasts: array[int] = array("L")
    for span in sorted(spans, key=lambda s: s.first):
        if lasts and span.first <= lasts[-1] + 1:
            lasts[-1] = max(lasts[-1], span.last)
        else:
            firsts.append(span.first)
            lasts.append(span.last)
    return firsts, lasts


class TargetSet:
    """The addresses to scan: the union of the targets minus the exclusions, ascending."""

    __slots__ = ("_firsts", "_lasts", "_size")

    def __init__(self, targets: Iterable[Span], exclusions: Iterable[Span] = ()) -> None:
        firsts, lasts = _merge(targets)
        out_firsts, out_lasts = _merge(exclusions)
        self._firsts: array[int] = array("L")
        self._lasts: array[int] = array("L")
        index = 0
        for first, last in zip(firsts, lasts, strict=True):
            start = first
            # Exclusions are sorted: skip the ones wholly before this span.
            while index < len(out_lasts) and out_lasts[index] < start:
                index += 1
            probe = index
            while probe < len(out_firsts) and out_firsts[probe] <= last and start <= last:
                if out_firsts[probe] > start:
                    self._append(start, out_firsts[probe] - 1)
                start = max(start, out_lasts[probe] + 1)
                probe += 1
            if start <= last:
                self._append(start, last)
        self._size = sum(b - a + 1 for a, b in zip(self._firsts, self._lasts, strict=True))
        if self._size > MAX_TARGETS:
            raise TargetError(
                f"{self._size:,} addresses to scan: more than a /{MIN_PREFIX} "
                f"({MAX_TARGETS:,}); scan in parts or add --exclude"
            )

    def _append(self, first: int, last: int) -> None:
        self._firsts.append(first)
        self._lasts.append(last)

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[int]:
        for first, last in zip(self._firsts, self._lasts, strict=True):
            yield from range(first, last + 1)

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, int):
            return False
        index = bisect.bisect_right(self._firsts, address) - 1
        return index >= 0 and address <= self._lasts[index]

    def spans(self) -> list[Span]:
        return [Span(a, b) for a, b in zip(self._firsts, self._lasts, strict=True)]


__all__ = [
    "MAX_TARGETS",
    "Span",
    "TargetError",
    "TargetSet",
    "format_address",
    "parse_address",
    "parse_list",
    "parse_spec",
]
