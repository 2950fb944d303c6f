"""Where ping-backs come back to, and how each one names the probe it answers.

An implant answers a probe with one UDP datagram to the ip and port the probe carried
(BPFDOOR.md §2); nothing else of the probe comes back. So the probe's *reply port* is its
nonce: every try of every (target, protocol, magic) in flight gets a port of its own from the
listener's range, and a ping-back to that port names exactly one try. Ports are handed out
first-in first-out, so a port is reused as late as possible. The scheme, and why 16 bits are
enough, is in docs/scan.md ("Nonces").
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

from doorhunt.errors import InputError
from doorhunt.scan.targets import FORBIDDEN, format_address, parse_address

ANSWER_TO_SOURCE = 0xFFFFFFFF  # the implant answers the probe's source address (§2)
DEFAULT_FIRST_PORT = 10000
DEFAULT_LAST_PORT = 65535
MIN_NONCES = 16


class ListenError(InputError):
    """A --listen value that cannot be used."""


@dataclass(frozen=True, slots=True)
class ListenSpec:
    """The ping-back address written into probes and the listener's port range."""

    address: int | None  # None: the kernel's source address towards each target
    first_port: int = DEFAULT_FIRST_PORT
    last_port: int = DEFAULT_LAST_PORT

    @property
    def answer_to_source(self) -> bool:
        return self.address == ANSWER_TO_SOURCE

    def __str__(self) -> str:
        host = "route source" if self.address is None else format_address(self.address)
        return f"{host}:{self.first_port}-{self.last_port}"


def parse_listen(text: str) -> ListenSpec:
    """`IP`, `IP:PORT`, `IP:FIRST-LAST`, `:FIRST-LAST`; IP 255.255.255.255 asks the implant to
    answer the probe's source (for NAT)."""
    location = "--listen"
    value = text.strip()
    if not value or len(value) > 40 or not value.isascii() or not value.isprintable():
        raise ListenError("expected IP, IP:PORT or IP:FIRST-LAST", location=location)
    if value.startswith("[") or value.count(":") > 1:
        raise ListenError("IPv6 is not used: BPFDoor's ping-back is IPv4", location=location)
    host, _, ports = value.partition(":")
    address: int | None = None
    if host:
        try:
            address = parse_address(host)
        except ValueError as error:
            raise ListenError(str(error), location=location) from None
        if address != ANSWER_TO_SOURCE:
            for first, last, why in FORBIDDEN:
                if first <= address <= last:
                    raise ListenError(f"{host} is one of {why}", location=location)
    first, last = DEFAULT_FIRST_PORT, DEFAULT_LAST_PORT
    if ":" in value:
        first, last = _ports(ports, location)
    return ListenSpec(address, first, last)


def _ports(text: str, location: str) -> tuple[int, int]:
    first_text, dash, last_text = text.partition("-")
    if not dash:
        last_text = first_text
    for part in (first_text, last_text):
        if not part.isdigit() or len(part) > 5 or not 1 <= int(part) <= 65535:
            raise ListenError(
                f"{text[:20]!r}: ports are numbers from 1 to 65535", location=location
            )
    first, last = int(first_text), int(last_text)
    if last < first:
        raise ListenError(f"{text}: the port range ends before it starts", location=location)
    return first, last


class NonceSpace:
    """The reply ports probes may carry: the listen range minus ports already bound here."""

    __slots__ = ("_slot_of_port", "ports")

    def __init__(self, spec: ListenSpec, bound: frozenset[int] = frozenset()) -> None:
        self.ports: array[int] = array(
            "H", (p for p in range(spec.first_port, spec.last_port + 1) if p not in bound)
        )
        if len(self.ports) < MIN_NONCES:
            raise ListenError(
                f"{len(self.ports)} free ports in {spec.first_port}-{spec.last_port}: the "
                f"listener needs at least {MIN_NONCES} (a wider range means a faster scan)",
                location="--listen",
            )
        self._slot_of_port: array[int] = array("l", [-1]) * 65536
        for slot, port in enumerate(self.ports):
            self._slot_of_port[port] = slot

    def __len__(self) -> int:
        return len(self.ports)

    def slot(self, port: int) -> int:
        """The nonce a reply port stands for, or -1."""
        return self._slot_of_port[port] if 0 <= port < 65536 else -1


def bound_udp_ports(paths: tuple[str, ...] = ("/proc/thread-self/net/udp",
                                              "/proc/thread-self/net/udp6")) -> frozenset[int]:  # fmt: skip
    """UDP ports sockets of this network namespace are bound to: a ping-back must never be
    delivered to another program (proc(5), /proc/net/udp: local_address is ADDR:PORT in hex)."""
    ports: set[int] = set()
    for path in paths:
        try:
            with open(path, encoding="ascii", errors="replace") as handle:
                lines = handle.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 1 and ":" in fields[1]:
                try:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
                except ValueError:
                    continue
    return frozenset(ports)


__all__ = [
    "ANSWER_TO_SOURCE",
    "ListenError",
    "ListenSpec",
    "NonceSpace",
    "bound_udp_ports",
    "parse_listen",
]
