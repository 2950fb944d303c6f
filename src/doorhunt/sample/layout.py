"""The magic packet's layout, read from the code that parses it.

BPFDoor reads a 24-byte structure from the payload of a packet its filter let through:
`u32 flag | u32 ip | u16 port | char pass[14]`, packed, in network order (BPFDOOR.md §2). The
code that reads it loads a 32-bit field at +4 (the address to call back), a 16-bit field at +8
(the port, then byte-swapped by ntohs) and the bytes from +10 (the password), usually after
checking that 24 bytes are there, and compares the flag with the filter's magic. doorhunt
decodes the code around the places that compare with the sample's own magic values (and,
around compares with 23 or 24), and looks for one base (a pointer register,
or the frame when the structure was copied to the stack) read at +4 as 32 bits and at +8 as
16 bits. Evidence beyond that pair raises the confidence:

- reads at +0 (flag) and from +10 to +23 (password); a compare with 23 or 24 (its size);
  a 16-bit byte swap (ntohs inlined as `rol r16, 8`); a compare with the filter's magic.
- high: the magic compare and three of the others; medium: two of the others; low: the pair
  beside a magic compare. Without a magic compare and two others nothing is reported.

Only run for a sample whose filters compare payload magics (the caller decides): the pair
alone is common in any code that reads structures. x86 and x86-64.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from doorhunt.sample.code import disassembler_for, supported_architecture
from doorhunt.sample.elf import ElfImage
from doorhunt.sample.strings import Confidence, Place

PACKET_SIZE = 24
FIELDS = (("flag", 0, 4), ("ip", 4, 4), ("port", 8, 2), ("pass", 10, 14))
MAX_ANCHORS = 128
MAX_ANCHORS_PER_VALUE = 64
WINDOW = 256  # bytes decoded each side of an anchor
MAX_INSTRUCTIONS = 40_000

_WIDTHS = {"byte": 1, "word": 2, "dword": 4, "qword": 8, "xmmword": 16}
_MEMORY = re.compile(
    r"(byte|word|dword|qword|xmmword) ptr \[([a-z0-9]+)(?: ([+-]) (0x[0-9a-f]+|\d+))?\]"
)
_LEA = re.compile(r"^[a-z0-9]+, \[([a-z0-9]+)(?: ([+-]) (0x[0-9a-f]+|\d+))?\]$")
_READS = frozenset({"mov", "movzx", "movsx", "cmp", "movdqu", "movups", "movq", "movd", "test"})
_SIZE_COMPARE = re.compile(
    rb"\x83(?:[\xf8-\xff]|\x7d.|\x7c\x24.|\xbd....|\xbc\x24....)[\x17\x18]", re.DOTALL
)
_SWAP16 = re.compile(r"^(?:[abcd]x|[sd]i|bp|r(?:[89]|1[0-5])w), 8$")  # ntohs: rol r16, 8


@dataclass(frozen=True, slots=True)
class MagicLayout:
    """The magic packet's fields as the code reads them."""

    fields: tuple[tuple[str, int, int], ...]  # (name, offset, size)
    size: int
    evidence: tuple[str, ...]
    confidence: Confidence
    place: Place  # the code that reads the address field

    def to_json(self) -> dict[str, object]:
        return {
            "fields": [
                {"name": name, "offset": offset, "size": size} for name, offset, size in self.fields
            ],
            "size": self.size,
            "evidence": list(self.evidence),
            "confidence": self.confidence.value,
            "place": self.place.to_json(),
        }


@dataclass(frozen=True, slots=True)
class _Access:
    address: int
    base: str
    displacement: int
    width: int


def find_magic_layout(image: ElfImage, magics: Iterable[int]) -> MagicLayout | None:
    """The best-supported layout near the code that compares with `magics` (16- or 32-bit
    payload magics of the sample's filters), or None."""
    if supported_architecture(image) is None:
        return None
    disassembler = disassembler_for(image.header.elf_class)
    if disassembler is None:
        return None
    wanted = sorted({value for value in magics if 0 < value <= 0xFFFFFFFF})
    best: MagicLayout | None = None
    decoded = 0
    for region in image.code_regions:
        code = image.data[region.offset : region.end]
        for start, end in _windows(code, wanted):
            if decoded >= MAX_INSTRUCTIONS:
                return best
            instructions = list(disassembler.disasm_lite(code[start:end], region.address + start))
            decoded += len(instructions)
            layout = _layout_in(instructions, wanted)
            if layout is not None and (best is None or _better(layout, best)):
                best = layout
    return best


def _better(layout: MagicLayout, other: MagicLayout) -> bool:
    rank = {Confidence.HIGH: 2, Confidence.MEDIUM: 1, Confidence.LOW: 0}
    return (rank[layout.confidence], len(layout.evidence)) > (
        rank[other.confidence],
        len(other.evidence),
    )


def _windows(code: bytes, magics: list[int]) -> list[tuple[int, int]]:
    """Stretches around the magics' bytes (little-endian, as an immediate) and compares with
    23 or 24; merged, at most MAX_ANCHORS."""
    anchors: list[int] = []
    for value in magics:
        needle = value.to_bytes(2 if value <= 0xFFFF else 4, "little")
        position = code.find(needle)
        count = 0
        while position != -1 and count < MAX_ANCHORS_PER_VALUE:
            anchors.append(position)
            count += 1
            position = code.find(needle, position + 1)
    anchors += [match.start() for match in _SIZE_COMPARE.finditer(code)][:MAX_ANCHORS]
    windows: list[tuple[int, int]] = []
    for anchor in sorted(anchors)[:MAX_ANCHORS]:
        start, end = max(0, anchor - WINDOW), min(len(code), anchor + WINDOW)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


def _layout_in(
    instructions: list[tuple[int, int, str, str]], magics: list[int]
) -> MagicLayout | None:
    accesses = list(_accesses(instructions))
    size_check = swap = magic_compare = False
    for _, _, mnemonic, operands in instructions:
        if mnemonic == "cmp":
            immediate = operands.rsplit(", ", 1)[-1]
            if immediate in ("0x17", "0x18", "23", "24"):
                size_check = True
            if _number(immediate) in magics:
                magic_compare = True
        elif mnemonic in ("rol", "ror") and _SWAP16.match(operands):
            swap = True
    best: MagicLayout | None = None
    for base in {access.base for access in accesses}:
        mine = [access for access in accesses if access.base == base]
        ip_reads = {a.displacement - 4: a for a in mine if a.width == 4}
        port_reads = {a.displacement - 8 for a in mine if a.width == 2}
        for start in sorted(set(ip_reads) & port_reads):
            evidence = ["ip-read", "port-read"]
            if any(a.displacement == start and a.width == 4 for a in mine):
                evidence.append("flag-read")
            if any(start + 10 <= a.displacement < start + PACKET_SIZE for a in mine):
                evidence.append("pass-read")
            if size_check:
                evidence.append("size-check")
            if swap:
                evidence.append("port-byte-swap")
            others = len(evidence) - 2
            if magic_compare:
                evidence.append("magic-compare")
                confidence = (
                    Confidence.HIGH
                    if others >= 3
                    else Confidence.MEDIUM
                    if others >= 2
                    else Confidence.LOW
                )
            elif others >= 2:
                confidence = Confidence.MEDIUM
            else:
                continue
            layout = MagicLayout(
                FIELDS,
                PACKET_SIZE,
                tuple(evidence),
                confidence,
                Place("code", address=ip_reads[start].address),
            )
            if best is None or _better(layout, best):
                best = layout
    return best


def _accesses(instructions: list[tuple[int, int, str, str]]) -> Iterator[_Access]:
    """Memory reads relative to one register (no index), and addresses taken with lea."""
    for address, _, mnemonic, operands in instructions:
        if mnemonic == "lea":
            match = _LEA.match(operands)
            if match:
                base, sign, displacement = match.groups()
                yield _Access(address, base, _signed(sign, displacement), 0)
            continue
        if mnemonic not in _READS:
            continue
        # The source is the last operand, except that cmp and test read both.
        operand = operands if mnemonic in ("cmp", "test") else operands.split(", ", 1)[-1]
        for match in _MEMORY.finditer(operand):
            width, base, sign, displacement = match.groups()
            yield _Access(address, base, _signed(sign, displacement), _WIDTHS[width])


def _signed(sign: str | None, displacement: str | None) -> int:
    value = int(displacement, 0) if displacement else 0
    return -value if sign == "-" else value


def _number(text: str) -> int | None:
    try:
        return int(text, 0)
    except ValueError:
        return None


__all__ = ["FIELDS", "PACKET_SIZE", "MagicLayout", "find_magic_layout"]
