"""Reading an ELF file that an attacker built: header checked by hand first, the rest through
pyelftools, every table bounded, every failure either located (the file is not an ELF file we
can read) or recorded as a gap (a broken table, the rest still analysed).

Layouts: the System V gABI ("ELF header", "Sections", "Program header") and linux/elf.h.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntFlag
from typing import Any

from elftools.common.utils import struct_parse
from elftools.elf.elffile import ELFFile

from doorhunt.errors import InputError

ELF_MAGIC = b"\x7fELF"
# Bounds no real program reaches; past them a table is treated as corrupt (gABI allows
# 0xff00 section indices before SHN_LORESERVE; 4096 is far above any linker's output).
MAX_SECTIONS = 4096
MAX_SEGMENTS = 1024
MAX_SYMBOLS = 200_000
MAX_NAME_BYTES = 256

# e_machine values from the gABI registry (the architectures BPFDoor builds are reported for,
# and their neighbours).
MACHINES = {
    2: "sparc",
    3: "x86",
    8: "mips",
    18: "sparc32plus",
    20: "ppc",
    21: "ppc64",
    22: "s390",
    40: "arm",
    43: "sparcv9",
    62: "x86-64",
    183: "aarch64",
    243: "riscv",
    258: "loongarch",
}
FILE_TYPES = {0: "none", 1: "relocatable", 2: "executable", 3: "shared", 4: "core"}

SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
PF_X, PF_W, PF_R = 0x1, 0x2, 0x4


class SampleFormatError(InputError):
    """Bytes that are not an ELF file doorhunt can read; the location says where."""


class Access(IntFlag):
    NONE = 0
    READ = 4
    WRITE = 2
    EXECUTE = 1


@dataclass(frozen=True, slots=True)
class Region:
    """A named stretch of the file: a section, or a loadable segment when sections are gone."""

    name: str
    offset: int
    size: int
    address: int
    access: Access
    kind: str  # "section" or "segment"

    @property
    def end(self) -> int:
        return self.offset + self.size

    @property
    def is_code(self) -> bool:
        return bool(self.access & Access.EXECUTE)

    def contains(self, offset: int) -> bool:
        return self.offset <= offset < self.end


@dataclass(frozen=True, slots=True)
class ElfHeader:
    elf_class: int  # 32 or 64
    byte_order: str  # "little" or "big"
    machine: int
    file_type: int
    entry: int
    section_count: int
    segment_count: int

    @property
    def machine_name(self) -> str:
        return MACHINES.get(self.machine, f"machine {self.machine}")

    @property
    def type_name(self) -> str:
        return FILE_TYPES.get(self.file_type, f"type {self.file_type}")


@dataclass(frozen=True, slots=True)
class ElfImage:
    """What doorhunt knows about an ELF file's layout; `gaps` says what could not be read."""

    data: bytes
    header: ElfHeader
    sections: tuple[Region, ...]
    segments: tuple[Region, ...]
    interpreter: str | None
    symbols: frozenset[str]
    dynamic_symbols: frozenset[str]
    gaps: tuple[str, ...] = field(default=())

    @property
    def regions(self) -> tuple[Region, ...]:
        """Sections when the file has readable ones, else its loadable segments."""
        return self.sections or self.segments

    @property
    def code_regions(self) -> tuple[Region, ...]:
        return tuple(region for region in self.regions if region.is_code)

    @property
    def stripped(self) -> bool:
        return not self.symbols

    @property
    def static(self) -> bool:
        return self.interpreter is None and not self.dynamic_symbols

    def region_at(self, offset: int) -> Region | None:
        for region in self.regions:
            if region.contains(offset):
                return region
        return None

    def offset_of(self, address: int) -> int | None:
        """File offset of a virtual address, through the loadable segments (or sections)."""
        for region in self.segments or self.sections:
            if region.address <= address < region.address + region.size:
                return region.offset + (address - region.address)
        return None

    def read_virtual(self, address: int, size: int) -> bytes | None:
        offset = self.offset_of(address)
        if offset is None or offset + size > len(self.data):
            return None
        return self.data[offset : offset + size]


def read_header(data: bytes) -> ElfHeader:
    """The ELF identification and header, checked field by field; raises SampleFormatError."""
    if len(data) < 16 or not data.startswith(ELF_MAGIC):
        got = data[:4].hex(" ") or "an empty file"
        raise SampleFormatError(
            f"not an ELF file: expected magic 7f 45 4c 46, got {got}", location="byte 0"
        )
    elf_class = {1: 32, 2: 64}.get(data[4])
    if elf_class is None:
        raise SampleFormatError(
            f"ELF class {data[4]} is neither 1 (32-bit) nor 2 (64-bit)", location="byte 4"
        )
    byte_order = {1: "little", 2: "big"}.get(data[5])
    if byte_order is None:
        raise SampleFormatError(
            f"ELF data encoding {data[5]} is neither 1 (little-endian) nor 2 (big-endian)",
            location="byte 5",
        )
    size = 52 if elf_class == 32 else 64
    if len(data) < size:
        raise SampleFormatError(
            f"truncated ELF header: {len(data)} bytes, a {elf_class}-bit header needs {size}",
            location="byte 0",
        )
    endian = "<" if byte_order == "little" else ">"
    address = "I" if elf_class == 32 else "Q"
    layout = f"{endian}HHI{address}{address}{address}IHHHHHH"
    (file_type, machine, _version, entry, _phoff, _shoff, _flags, _ehsize, _phentsize, phnum) = (
        struct.unpack_from(layout, data, 16)[:10]
    )
    shnum = struct.unpack_from(layout, data, 16)[11]
    return ElfHeader(elf_class, byte_order, machine, file_type, entry, shnum, phnum)


def load_image(data: bytes) -> ElfImage:
    """Parse `data` as ELF. Only an unreadable header is fatal; a broken section or segment
    table becomes a gap and the analysis goes on over what remains (and the whole file)."""
    header = read_header(data)
    gaps: list[str] = []
    try:
        elf = ELFFile(io.BytesIO(data))
    except Exception as error:  # pyelftools raises many types on hostile input
        raise SampleFormatError(
            f"ELF header unreadable: {_describe(error)}", location="ELF header"
        ) from None
    segments, interpreter = _read_segments(elf, data, gaps)
    headers = _section_headers(elf, data, gaps)
    sections = _read_sections(elf, data, headers)
    symbols, dynamic = _read_symbols(elf, data, headers)
    return ElfImage(
        data=data,
        header=header,
        sections=sections,
        segments=segments,
        interpreter=interpreter,
        symbols=symbols,
        dynamic_symbols=dynamic,
        gaps=tuple(gaps),
    )


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split())[:160]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _table_fits(
    offset: int, count: int, entry_size: int, expected: int, limit: int, data: bytes
) -> str | None:
    """Why a header table cannot be read, or None when it can."""
    if count > limit:
        return f"{count} entries (more than {limit})"
    if entry_size != expected:
        return f"entry size {entry_size}, expected {expected}"
    if offset + count * entry_size > len(data):
        return f"table at byte {offset} runs past the end of the file ({len(data)} bytes)"
    return None


def _read_segments(
    elf: ELFFile, data: bytes, gaps: list[str]
) -> tuple[tuple[Region, ...], str | None]:
    header = elf.header
    count = header["e_phnum"]
    if count == 0:
        return (), None
    expected = 32 if elf.elfclass == 32 else 56
    problem = _table_fits(
        header["e_phoff"], count, header["e_phentsize"], expected, MAX_SEGMENTS, data
    )
    if problem:
        gaps.append(f"program headers ignored: {problem}")
        return (), None
    regions: list[Region] = []
    interpreter = None
    try:
        for index in range(count):
            # The header alone (pyelftools' struct): `get_segment` would also build a
            # dynamic-section reader, which walks every section, for each PT_DYNAMIC.
            segment = struct_parse(
                elf.structs.Elf_Phdr, elf.stream, header["e_phoff"] + index * expected
            )
            kind, offset, size = segment["p_type"], segment["p_offset"], segment["p_filesz"]
            if kind == "PT_INTERP" and offset + size <= len(data):
                interpreter = (
                    data[offset : offset + size]
                    .split(b"\0", 1)[0]
                    .decode("utf-8", "surrogateescape")
                )
            if kind != "PT_LOAD" or size == 0 or offset >= len(data):
                continue
            flags = segment["p_flags"]
            access = Access.NONE
            if flags & PF_R:
                access |= Access.READ
            if flags & PF_W:
                access |= Access.WRITE
            if flags & PF_X:
                access |= Access.EXECUTE
            size = min(size, len(data) - offset)
            regions.append(
                Region(f"LOAD#{index}", offset, size, segment["p_vaddr"], access, "segment")
            )
    except Exception as error:  # a field pyelftools cannot decode: keep what was read
        gaps.append(f"program headers partly unreadable: {_describe(error)}")
    return tuple(regions), interpreter


def _section_headers(elf: ELFFile, data: bytes, gaps: list[str]) -> list[Any]:
    """Every section header (index 0 included), each parsed once with pyelftools' struct;
    empty when the table cannot be read (a gap says why)."""
    header = elf.header
    count = header["e_shnum"]
    if count == 0:
        return []
    expected = 40 if elf.elfclass == 32 else 64
    problem = _table_fits(
        header["e_shoff"], count, header["e_shentsize"], expected, MAX_SECTIONS, data
    )
    if problem:
        gaps.append(f"section headers ignored: {problem}")
        return []
    headers: list[Any] = []
    try:
        for index in range(count):
            headers.append(
                struct_parse(elf.structs.Elf_Shdr, elf.stream, header["e_shoff"] + index * expected)
            )
    except Exception as error:  # pyelftools raises many types on hostile input
        gaps.append(f"section headers partly unreadable: {_describe(error)}")
    return headers


def _read_sections(elf: ELFFile, data: bytes, headers: list[Any]) -> tuple[Region, ...]:
    names = _section_name_table(elf, data, headers)
    regions: list[Region] = []
    for index, section in enumerate(headers[1:], start=1):
        kind, offset, size = section["sh_type"], section["sh_offset"], section["sh_size"]
        if kind == "SHT_NOBITS" or size == 0 or offset >= len(data):
            continue
        flags = section["sh_flags"]
        access = Access.READ if flags & SHF_ALLOC else Access.NONE
        if flags & SHF_WRITE:
            access |= Access.WRITE
        if flags & SHF_EXECINSTR:
            access |= Access.EXECUTE
        name = _name_at(names, section["sh_name"]) or f"section#{index}"
        size = min(size, len(data) - offset)
        regions.append(Region(name, offset, size, section["sh_addr"], access, "section"))
    return tuple(regions)


def _section_name_table(elf: ELFFile, data: bytes, headers: list[Any]) -> bytes:
    """The bytes of .shstrtab, or nothing when its index or extent is bad."""
    index = elf.header["e_shstrndx"]
    if not 0 < index < len(headers):
        return b""
    return _slice(data, headers[index]["sh_offset"], headers[index]["sh_size"])


def _name_at(table: bytes, offset: int) -> str:
    if not 0 <= offset < len(table):
        return ""
    raw = table[offset : offset + MAX_NAME_BYTES].split(b"\0", 1)[0]
    return raw.decode("utf-8", "surrogateescape")


def _read_symbols(
    elf: ELFFile, data: bytes, headers: list[Any]
) -> tuple[frozenset[str], frozenset[str]]:
    """Names in .symtab and .dynsym (imports like setsockopt, utimes, prctl), bounded."""
    static: set[str] = set()
    dynamic: set[str] = set()
    symbol_size = 16 if elf.elfclass == 32 else 24
    endian = "<" if elf.little_endian else ">"
    for section in headers[1:]:
        if section["sh_type"] not in ("SHT_SYMTAB", "SHT_DYNSYM"):
            continue
        link = section["sh_link"]
        if not 0 < link < len(headers):
            continue
        strings = headers[link]
        table = _slice(data, strings["sh_offset"], strings["sh_size"])
        target = static if section["sh_type"] == "SHT_SYMTAB" else dynamic
        for name_offset in _symbol_name_offsets(
            data, section["sh_offset"], section["sh_size"], symbol_size, endian
        ):
            name = _name_at(table, name_offset)
            if name:
                target.add(name)
    return frozenset(static), frozenset(dynamic)


def _slice(data: bytes, offset: int, size: int) -> bytes:
    if offset >= len(data) or size <= 0:
        return b""
    return data[offset : offset + min(size, len(data) - offset)]


def _symbol_name_offsets(
    data: bytes, offset: int, size: int, entry_size: int, endian: str
) -> Iterator[int]:
    """st_name of each symbol (the first field in both layouts), at most MAX_SYMBOLS."""
    table = _slice(data, offset, size)
    count = min(len(table) // entry_size, MAX_SYMBOLS)
    for index in range(1, count):
        yield struct.unpack_from(f"{endian}I", table, index * entry_size)[0]


__all__ = [
    "Access",
    "ElfHeader",
    "ElfImage",
    "Region",
    "SampleFormatError",
    "load_image",
    "read_header",
]
