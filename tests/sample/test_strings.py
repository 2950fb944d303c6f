"""Strings of a file: the fast run finder matches the plain pattern, spans skip code, and the
joined text maps every position back to its string."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from doorhunt.sample.elf import load_image
from doorhunt.sample.strings import MAX_CHARS, JoinedStrings, TextString, data_spans, file_strings
from tests.sample.elf_builder import SHF_ALLOC, SHF_EXECINSTR, ElfSpec, Section, build_elf

_REFERENCE = re.compile(rb"[\t\x20-\x7e]{4,}")


@settings(max_examples=200)
@given(st.binary(max_size=4000), st.integers(0, 200), st.integers(0, 200))
def test_runs_are_what_the_plain_pattern_finds(data: bytes, cut_start: int, cut_end: int) -> None:
    start, end = min(cut_start, len(data)), max(0, len(data) - cut_end)
    spans = [(start, max(start, end))]
    expected = [
        (m.start(), m.group()[:MAX_CHARS].decode())
        for m in _REFERENCE.finditer(data, spans[0][0], spans[0][1])
    ]
    found = file_strings(data, spans=spans).strings
    assert [(s.offset, s.value) for s in found] == expected


def test_long_runs_are_cut_and_the_limit_is_a_truncation() -> None:
    data = b"\0" + b"A" * (MAX_CHARS + 10) + b"\0" + b"abcd\0" * 10
    scan = file_strings(data, limit=3)
    assert [len(s.value) for s in scan.strings] == [MAX_CHARS, 4, 4] and scan.truncated


def test_code_sections_are_left_out_unless_there_are_no_sections() -> None:
    data = build_elf(
        ElfSpec(
            sections=[
                Section(".text", b"\x90" * 8 + b"movabs-text\0", SHF_ALLOC | SHF_EXECINSTR),
                Section(".rodata", b"/var/run/haldrund.pid\0"),
            ]
        )
    )
    image = load_image(data)
    values = {s.value for s in file_strings(data, spans=data_spans(image, len(data))).strings}
    assert "/var/run/haldrund.pid" in values and "movabs-text" not in values
    assert data_spans(None, 10) == [(0, 10)]


@given(st.lists(st.text(alphabet="abc .:", min_size=1, max_size=20), min_size=1, max_size=20))
def test_every_position_of_the_joined_text_maps_back(values: list[str]) -> None:
    strings = [TextString(v, "file", 1000 * i) for i, v in enumerate(values)]
    joined = JoinedStrings.of(strings)
    for position, character in enumerate(joined.text):
        string, inside = joined.at(position)
        if character != "\n":
            assert string.value[inside] == character
            assert string.offset is not None
            assert joined.place(position).offset == string.offset + inside
