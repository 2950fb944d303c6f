"""Text in a sample: the printable runs of the file (what `strings` prints) and the strings the
code assembles on its stack (`doorhunt.sample.code`)."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import accumulate
from typing import NamedTuple

from doorhunt.sample.code import StackBuffer
from doorhunt.sample.elf import ElfImage

MIN_CHARS = 4
MAX_CHARS = 4096  # a longer run is kept, cut here
MAX_STRINGS = 400_000

_PRINTABLE_MARKS = bytes(1 if byte == 0x09 or 0x20 <= byte <= 0x7E else 0 for byte in range(256))
_new_string = tuple.__new__
_RUN = re.compile(b"\x01" * MIN_CHARS + b"\x01*")  # a literal prefix: a fast search
# A stack string is a C string: printable bytes that end in NUL (or at the buffer's end).
_STACK_STRING = re.compile(rb"(?<![\x20-\x7e])[\x20-\x7e]{%d,}(?=\x00|$)" % MIN_CHARS)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a piece of evidence is: a file offset, or the address of the code that made it."""

    origin: str  # "file", "stack" (built by code on the stack) or "code" (an immediate)
    offset: int | None = None
    address: int | None = None

    def to_json(self) -> dict[str, object]:
        document: dict[str, object] = {"origin": self.origin}
        if self.offset is not None:
            document["offset"] = self.offset
        if self.address is not None:
            document["address"] = f"{self.address:#x}"
        return document


class Confidence(StrEnum):
    """How sure an extracted item is what it is said to be (docs/sample.md, "Confidence")."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    def raised(self) -> Confidence:
        return Confidence.HIGH if self is not Confidence.LOW else Confidence.MEDIUM


class TextString(NamedTuple):
    """A string and where it came from: a file offset, or the code that built it. A named
    tuple: a large file has a million strings, and a tuple is built in a third of the time of
    a frozen dataclass."""

    value: str
    origin: str  # "file" or "stack"
    offset: int | None = None  # file offset (origin "file")
    address: int | None = None  # address of the code that stored it (origin "stack")

    @property
    def place(self) -> Place:
        return Place(self.origin, self.offset, self.address)


@dataclass(frozen=True, slots=True)
class JoinedStrings:
    """Strings as one newline-separated text, so that a finder runs one regular expression
    over all of them (in C) instead of a Python loop over each; `at` maps a match back."""

    strings: tuple[TextString, ...]
    text: str
    starts: tuple[int, ...]  # where each string starts in `text`

    @classmethod
    def of(cls, strings: Sequence[TextString]) -> JoinedStrings:
        text = "\n".join(string.value for string in strings)
        starts = tuple(accumulate((len(s.value) + 1 for s in strings[:-1]), initial=0))
        return cls(tuple(strings), text, starts if strings else ())

    def index_at(self, position: int) -> int:
        """The index of the string holding text position `position`."""
        return bisect_right(self.starts, position) - 1

    def at(self, position: int) -> tuple[TextString, int]:
        """The string holding text position `position`, and the position inside it."""
        index = self.index_at(position)
        return self.strings[index], position - self.starts[index]

    def place(self, position: int) -> Place:
        """Where text position `position` is: the file offset of that character, or the code
        that built the stack string holding it."""
        string, inside = self.at(position)
        if string.offset is not None:
            return Place(string.origin, string.offset + inside)
        return string.place


@dataclass(frozen=True, slots=True)
class StringScan:
    strings: tuple[TextString, ...]
    truncated: bool


def file_strings(
    data: bytes, limit: int = MAX_STRINGS, spans: Sequence[tuple[int, int]] | None = None
) -> StringScan:
    """Printable ASCII runs of at least MIN_CHARS characters, at most `limit` of them, in
    `spans` (start, end) of `data` (all of it by default).

    The bytes are first mapped to 1 (printable) and 0 (not) with `bytes.translate`, then the
    runs of 1 are found by a pattern with a literal prefix: both run in C at memory speed,
    twice as fast over a large file as a pattern that tests a class at every position."""
    found: list[TextString] = []
    for start, end in spans if spans is not None else [(0, len(data))]:
        marks = data[start:end].translate(_PRINTABLE_MARKS)
        for run in _RUN.finditer(marks):
            if len(found) >= limit:
                return StringScan(tuple(found), truncated=True)
            first = start + run.start()
            raw = data[first : first + min(run.end() - run.start(), MAX_CHARS)]
            found.append(_new_string(TextString, (raw.decode("ascii"), "file", first, None)))
    return StringScan(tuple(found), truncated=False)


def data_spans(image: ElfImage | None, size: int) -> list[tuple[int, int]]:
    """The parts of a file where a program keeps its data: everything but the sections that
    hold code (their bytes are instructions; stack strings built there come from the code
    sweep) and the linker's and unwinder's tables (relocations, symbol and hash tables,
    unwind and exception tables, debug information: numbers and pointers, about 40% of a
    system program's data, where a program keeps none of its own strings). Symbol names are
    read from the symbol tables by `elf`. A file without section headers, or a raw blob, is
    read whole: a segment that is executable may hold read-only data too."""
    if image is None or not image.sections:
        return [(0, size)]
    skipped = [region for region in image.sections if region.is_code or _is_table(region.name)]
    spans: list[tuple[int, int]] = []
    position = 0
    for region in sorted(skipped, key=lambda region: region.offset):
        if region.offset > position:
            spans.append((position, region.offset))
        position = max(position, region.end)
    if position < size:
        spans.append((position, size))
    return spans


def _is_table(name: str) -> bool:
    return name in _TABLE_SECTIONS or name.startswith(_TABLE_PREFIXES)


# gABI and the GNU/LSB extensions: sections that hold tables, never a program's own strings.
_TABLE_SECTIONS = frozenset(
    {
        *(".eh_frame", ".eh_frame_hdr", ".gcc_except_table", ".dynsym", ".symtab", ".strtab"),
        *(".gnu.hash", ".hash", ".init_array", ".fini_array", ".got", ".got.plt", ".dynamic"),
        ".data.rel.ro",
    }
)
_TABLE_PREFIXES = (".rela.", ".rel.", ".gnu.version", ".debug_", ".zdebug_")


def stack_strings(buffers: Iterable[StackBuffer]) -> Iterator[TextString]:
    for buffer in buffers:
        for match in _STACK_STRING.finditer(buffer.data):
            yield TextString(match.group().decode("ascii"), "stack", address=buffer.address)


__all__ = [
    "Confidence",
    "JoinedStrings",
    "Place",
    "StringScan",
    "TextString",
    "data_spans",
    "file_strings",
    "stack_strings",
]
