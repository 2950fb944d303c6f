"""Reading and writing classic BPF programs in the formats they are found in.

Formats:
  raw      `struct sock_filter` array, 8 bytes an instruction (host order unless told)
  c        `tcpdump -dd`:  { 0x28, 0, 0, 0x0000000c },
  decimal  `tcpdump -ddd`: a count line, then `40 0 0 12` lines
  ss       `ss -0 -b`:     bpf filter (30):  0x28 0 0 12, 0x15 0 27 2048, ...
  asm      `tcpdump -d`:   (000) ldh      [12]
"""

from __future__ import annotations

import re
import struct
import sys
from dataclasses import dataclass
from enum import StrEnum

from doorhunt.bpf.disasm import assemble, disassemble
from doorhunt.bpf.program import BpfFormatError, Instruction, Program, validated


class Format(StrEnum):
    RAW = "raw"
    C = "c"
    DECIMAL = "decimal"
    SS = "ss"
    ASM = "asm"


@dataclass(frozen=True, slots=True)
class ParsedProgram:
    """A program read from input, with where it came from."""

    program: Program
    format: Format
    location: str  # "line 3", "byte 0"
    context: str | None = None  # e.g. the `ss` socket line above a filter


def from_bytes(data: bytes, *, byteorder: str = sys.byteorder) -> Program:
    """Decode a `struct sock_filter` array."""
    if len(data) % 8:
        raise BpfFormatError(
            f"{len(data)} bytes is not a whole number of 8-byte instructions "
            f"({len(data) % 8} bytes left over)",
            location=f"byte {len(data) - len(data) % 8}",
        )
    layout = struct.Struct(("<" if byteorder == "little" else ">") + "HBBI")
    return validated(
        [Instruction(*fields) for fields in layout.iter_unpack(data)], lambda pc: f"byte {pc * 8}"
    )


def to_bytes(program: Program, *, byteorder: str = sys.byteorder) -> bytes:
    layout = struct.Struct(("<" if byteorder == "little" else ">") + "HBBI")
    return b"".join(layout.pack(*insn) for insn in program)


_C_INSN = re.compile(
    r"\{\s*(0[xX][0-9a-fA-F]+|\d+)\s*,\s*(0[xX][0-9a-fA-F]+|\d+)\s*,"
    r"\s*(0[xX][0-9a-fA-F]+|\d+)\s*,\s*(0[xX][0-9a-fA-F]+|\d+)\s*\}",
    re.ASCII,
)
_SS_HEADER = re.compile(r"bpf filter \((\d+)\)\s*:", re.ASCII)
_SS_INSN = re.compile(r"\s*(0[xX][0-9a-fA-F]+|\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*,?", re.ASCII)
_ASM_LINE = re.compile(r"^\s*\(\d+\)\s", re.ASCII)
_DECIMAL_LINE = re.compile(r"^\s*\d+(\s+\d+){3}\s*$", re.ASCII)


def _decimal(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts '²' and other digits int() refuses."""
    return text.isascii() and text.isdigit()


def detect_format(data: bytes) -> Format:
    """Guess the format of `data` from its shape; binary input is `raw`."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return Format.RAW
    if "\x00" in text:
        return Format.RAW  # text formats never hold NUL; a sock_filter array nearly always does
    # `ss` output carries process names, which may hold any character: look for its marker
    # before judging the text by its characters.
    if _SS_HEADER.search(text):
        return Format.SS
    if _C_INSN.search(text):
        return Format.C
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and all(_ASM_LINE.match(line) for line in lines):
        return Format.ASM
    if lines and _decimal(lines[0].strip()) and all(_DECIMAL_LINE.match(x) for x in lines[1:]):
        return Format.DECIMAL
    if lines and all(_SS_INSN.fullmatch(chunk) for chunk in _split_ss(text)):
        return Format.SS
    if data and len(data) % 8 == 0 and not all(ch.isprintable() or ch in "\r\n\t" for ch in text):
        return Format.RAW
    raise BpfFormatError(
        "cannot tell the program format: expected raw sock_filter bytes, tcpdump -d/-dd/-ddd "
        "output or `ss -b` filter text (use --format to say which)",
        location="line 1",
    )


def parse_programs(data: bytes, fmt: Format | None = None) -> list[ParsedProgram]:
    """Every program in `data` (an `ss` listing may hold several)."""
    fmt = fmt or detect_format(data)
    if fmt is Format.RAW:
        return [ParsedProgram(from_bytes(data), fmt, "byte 0")]
    text = _decode_text(data)
    if fmt is Format.C:
        return [ParsedProgram(_parse_c(text), fmt, "line 1")]
    if fmt is Format.DECIMAL:
        return [ParsedProgram(_parse_decimal(text), fmt, "line 1")]
    if fmt is Format.ASM:
        return [ParsedProgram(assemble(text), fmt, "line 1")]
    return _parse_ss(text)


def parse_program(data: bytes, fmt: Format | None = None) -> Program:
    """Exactly one program from `data`."""
    programs = parse_programs(data, fmt)
    if len(programs) != 1:
        raise BpfFormatError(f"expected one program, found {len(programs)}")
    return programs[0].program


def format_program(program: Program, fmt: Format, *, byteorder: str = sys.byteorder) -> bytes:
    """Write `program` in `fmt`, byte-for-byte as the tool that defines the format does."""
    if fmt is Format.RAW:
        return to_bytes(program, byteorder=byteorder)
    if fmt is Format.C:
        text = "".join(f"{{ {c:#04x}, {jt}, {jf}, {k:#010x} }},\n" for c, jt, jf, k in program)
    elif fmt is Format.DECIMAL:
        text = f"{len(program)}\n" + "".join(f"{c} {jt} {jf} {k}\n" for c, jt, jf, k in program)
    elif fmt is Format.SS:
        # iproute2 misc/ss.c: out("\n\tbpf filter (%d): ", num); out(" 0x%02x %u %u %u,", ...)
        body = "".join(f" 0x{c:02x} {jt} {jf} {k}," for c, jt, jf, k in program)
        text = f"\tbpf filter ({len(program)}): {body}\n"
    else:
        text = "".join(line + "\n" for line in disassemble(program))
    return text.encode("ascii")


def _decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BpfFormatError(
            "text input is not valid UTF-8", location=f"byte {error.start}"
        ) from None


def _line_column(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line}, column {column}"


def _instruction(parts: tuple[str, ...] | list[str], location: str) -> Instruction:
    values = [int(part, 16) if part[:2].lower() == "0x" else int(part) for part in parts]
    for name, value, bits in zip(("code", "jt", "jf", "k"), values, (16, 8, 8, 32), strict=True):
        if value >= 1 << bits:
            raise BpfFormatError(f"{name} {value} does not fit in {bits} bits", location=location)
    return Instruction(*values)


def _parse_c(text: str) -> Program:
    instructions: list[Instruction] = []
    starts: list[int] = []
    position = 0
    for match in _C_INSN.finditer(text):
        gap = text[position : match.start()]
        if re.search(r"[^\s,{};=\[\]A-Za-z_0-9*]", gap) or re.search(r"\{", gap):
            bad = position + next(
                i for i, ch in enumerate(gap) if not ch.isspace() and ch not in ","
            )
            raise BpfFormatError(
                "expected `{ code, jt, jf, k },`", location=_line_column(text, bad)
            )
        instructions.append(_instruction(match.groups(), _line_column(text, match.start())))
        starts.append(match.start())
        position = match.end()
    if not instructions:
        raise BpfFormatError("no `{ code, jt, jf, k }` instructions found", location="line 1")
    return validated(instructions, lambda pc: _line_column(text, starts[pc]))


def _parse_decimal(text: str) -> Program:
    lines = text.splitlines()
    numbered = [(n, line) for n, line in enumerate(lines, 1) if line.strip()]
    if not numbered:
        raise BpfFormatError("empty input", location="line 1")
    first_line, first = numbered[0]
    if not _decimal(first.strip()):
        raise BpfFormatError(
            f"expected the instruction count, got {first.strip()[:40]!r}",
            location=f"line {first_line}",
        )
    count = int(first.strip())
    instructions: list[Instruction] = []
    for number, line in numbered[1:]:
        parts = line.split()
        if len(parts) != 4 or not all(_decimal(part) for part in parts):
            raise BpfFormatError(
                f"expected `code jt jf k` as four decimal numbers, got {line.strip()[:40]!r}",
                location=f"line {number}",
            )
        instructions.append(_instruction(parts, f"line {number}"))
    if count != len(instructions):
        raise BpfFormatError(
            f"the count line says {count} instructions, {len(instructions)} follow",
            location=f"line {first_line}",
        )
    lines_of = [number for number, _ in numbered[1:]]
    return validated(instructions, lambda pc: f"line {lines_of[pc]}")


def _split_ss(text: str) -> list[str]:
    return [chunk for chunk in text.replace("\n", " ").split(",") if chunk.strip()]


def _parse_ss(text: str) -> list[ParsedProgram]:
    headers = list(_SS_HEADER.finditer(text))
    if not headers:
        # Bare instruction list, as copied from the middle of an `ss` line.
        return [ParsedProgram(_parse_ss_body(text, 0, len(text), None), Format.SS, "line 1")]
    programs: list[ParsedProgram] = []
    for number, header in enumerate(headers):
        end = headers[number + 1].start() if number + 1 < len(headers) else len(text)
        body_end = _ss_body_end(text, header.end(), end)
        line_start = text.rfind("\n", 0, header.start())
        previous_start = text.rfind("\n", 0, max(line_start, 0)) + 1 if line_start > 0 else 0
        context = text[previous_start:line_start].strip() if line_start > 0 else None
        program = _parse_ss_body(
            text, header.end(), body_end, (int(header.group(1)), header.start())
        )
        programs.append(
            ParsedProgram(
                program,
                Format.SS,
                _line_column(text, header.start()).split(",")[0],
                context or None,
            )
        )
    return programs


def _ss_body_end(text: str, start: int, limit: int) -> int:
    """An `ss` filter ends at the first line that is not a continuation of instructions."""
    position = start
    while position < limit:
        match = _SS_INSN.match(text, position)
        if not match or match.end() == position:
            break
        position = match.end()
    return position


def _parse_ss_body(text: str, start: int, end: int, declared: tuple[int, int] | None) -> Program:
    """Instructions in text[start:end]; `declared` is the header's (count, position)."""
    instructions: list[Instruction] = []
    starts: list[int] = []
    position = start
    while position < end:
        if text[position:end].strip() == "":
            break
        match = _SS_INSN.match(text, position)
        if not match or match.end() > end:
            raise BpfFormatError(
                "expected `0xCODE JT JF K,` (ss -b filter text)",
                location=_line_column(text, _skip_space(text, position)),
            )
        instructions.append(_instruction(match.groups(), _line_column(text, match.start())))
        starts.append(match.start())
        position = match.end()
    if not instructions:
        raise BpfFormatError("filter with no instructions", location=_line_column(text, start))
    if declared is not None and declared[0] != len(instructions):
        raise BpfFormatError(
            f"`bpf filter ({declared[0]})` is followed by {len(instructions)} instructions",
            location=_line_column(text, declared[1]),
        )
    return validated(instructions, lambda pc: _line_column(text, _skip_space(text, starts[pc])))


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index].isspace():
        index += 1
    return index


__all__ = [
    "BpfFormatError",
    "Format",
    "ParsedProgram",
    "detect_format",
    "format_program",
    "from_bytes",
    "parse_program",
    "parse_programs",
    "to_bytes",
]
