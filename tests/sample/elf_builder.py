"""Small ELF files built in memory, for byte orders and machines the test machine cannot
compile for (a big-endian MIPS image) and for structure-aware property tests."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
SHT_PROGBITS, SHT_STRTAB = 1, 3
PF_X, PF_W, PF_R = 1, 2, 4


@dataclass
class Section:
    name: str
    data: bytes
    flags: int = SHF_ALLOC
    kind: int = SHT_PROGBITS
    address: int = 0


@dataclass
class ElfSpec:
    bits: int = 64
    byte_order: str = "little"
    machine: int = 62
    file_type: int = 2
    sections: list[Section] = field(default_factory=list)
    base_address: int = 0x400000


def build_elf(spec: ElfSpec) -> bytes:
    """An ELF file with the given sections, one PT_LOAD covering the file, .shstrtab last."""
    end = "<" if spec.byte_order == "little" else ">"
    wide = spec.bits == 64
    header_size = 64 if wide else 52
    phentsize = 56 if wide else 32
    shentsize = 64 if wide else 40
    names = b"\0"
    name_offsets = []
    for section in [*spec.sections, Section(".shstrtab", b"", 0, SHT_STRTAB)]:
        name_offsets.append(len(names))
        names += section.name.encode() + b"\0"
    body = bytearray()
    placed = []
    offset = header_size + phentsize
    for section in spec.sections:
        padding = (-offset - len(body)) % 8
        body += bytes(padding)
        placed.append((offset + len(body), section))
        body += section.data
    shstrtab_offset = offset + len(body)
    body += names
    padding = (-(offset + len(body))) % 8
    body += bytes(padding)
    shoff = offset + len(body)
    count = len(spec.sections) + 2
    address = "Q" if wide else "I"
    ident = b"\x7fELF" + bytes([2 if wide else 1, 1 if spec.byte_order == "little" else 2, 1])
    ident += bytes(9)
    header = ident + struct.pack(
        f"{end}HHI{address}{address}{address}IHHHHHH",
        spec.file_type,
        spec.machine,
        1,
        spec.base_address,
        header_size,
        shoff,
        0,
        header_size,
        phentsize,
        1,
        shentsize,
        count,
        count - 1,
    )
    total = shoff + count * shentsize
    if wide:
        program = struct.pack(
            f"{end}IIQQQQQQ",
            1,
            PF_R | PF_X,
            0,
            spec.base_address,
            spec.base_address,
            total,
            total,
            0x1000,
        )
    else:
        program = struct.pack(
            f"{end}IIIIIIII",
            1,
            0,
            spec.base_address,
            spec.base_address,
            total,
            total,
            PF_R | PF_X,
            0x1000,
        )
    table = bytes(shentsize)
    for (file_offset, section), name in zip(placed, name_offsets, strict=False):
        table += _section_header(
            end,
            wide,
            name,
            section.kind,
            section.flags,
            section.address or spec.base_address + file_offset,
            file_offset,
            len(section.data),
        )
    table += _section_header(
        end, wide, name_offsets[-1], SHT_STRTAB, 0, 0, shstrtab_offset, len(names)
    )
    return header + program + bytes(body) + table


def _section_header(
    end: str, wide: bool, name: int, kind: int, flags: int, address: int, offset: int, size: int
) -> bytes:
    if wide:
        return struct.pack(f"{end}IIQQQQIIQQ", name, kind, flags, address, offset, size, 0, 0, 8, 0)
    return struct.pack(f"{end}IIIIIIIIII", name, kind, flags, address, offset, size, 0, 0, 4, 0)
