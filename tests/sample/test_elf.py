"""ELF reading: located errors for what is not ELF, gaps for broken tables, never a crash."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorhunt.sample.elf import MAX_SECTIONS, SampleFormatError, load_image, read_header
from tests.sample.builds import Samples
from tests.sample.elf_builder import SHF_ALLOC, SHF_EXECINSTR, ElfSpec, Section, build_elf

SMALL = build_elf(ElfSpec(sections=[Section(".text", b"\x90" * 32, SHF_ALLOC | SHF_EXECINSTR)]))


@pytest.mark.parametrize(
    ("data", "location", "message"),
    [
        (b"", "byte 0", "expected magic 7f 45 4c 46, got an empty file"),
        (b"MZ\x90\x00" + bytes(60), "byte 0", "got 4d 5a 90 00"),
        (b"\x7fELF\x03\x01" + bytes(58), "byte 4", "ELF class 3 is neither"),
        (b"\x7fELF\x02\x07" + bytes(58), "byte 5", "data encoding 7"),
        (b"\x7fELF\x02\x01" + bytes(20), "byte 0", "truncated ELF header: 26 bytes"),
    ],
)
def test_what_is_not_elf_is_refused_with_its_location(
    data: bytes, location: str, message: str
) -> None:
    with pytest.raises(SampleFormatError) as raised:
        load_image(data)
    assert raised.value.location == location
    assert message in raised.value.message


@pytest.mark.parametrize(
    ("bits", "order"), [(32, "little"), (32, "big"), (64, "little"), (64, "big")]
)
def test_built_images_read_back_in_every_class_and_byte_order(bits: int, order: str) -> None:
    spec = ElfSpec(
        bits=bits,
        byte_order=order,
        machine=8,
        sections=[
            Section(".text", b"\0" * 16, SHF_ALLOC | SHF_EXECINSTR),
            Section(".rodata", b"text\0"),
        ],
    )
    image = load_image(build_elf(spec))
    assert (image.header.elf_class, image.header.byte_order) == (bits, order)
    assert image.header.machine_name == "mips"
    assert [r.name for r in image.code_regions] == [".text"]
    assert image.gaps == ()
    rodata = next(r for r in image.sections if r.name == ".rodata")
    assert image.read_virtual(rodata.address, 4) == b"text"


def test_a_section_table_past_the_end_is_a_gap_and_segments_remain() -> None:
    data = bytearray(SMALL)
    struct.pack_into("<Q", data, 0x28, len(data) + 4096)  # e_shoff
    image = load_image(bytes(data))
    assert image.sections == ()
    assert image.segments and image.regions == image.segments
    assert any("section headers ignored" in gap for gap in image.gaps)


def test_an_absurd_section_count_is_refused_without_reading_it() -> None:
    data = bytearray(SMALL)
    struct.pack_into("<H", data, 0x3C, 0xFFFF)  # e_shnum
    image = load_image(bytes(data))
    assert image.sections == ()
    assert any(f"more than {MAX_SECTIONS}" in gap for gap in image.gaps)


def test_real_builds_have_code_symbols_and_an_interpreter(samples: Samples) -> None:
    image = load_image(samples.data("classic-x86-64-O0"))
    assert image.header.machine_name == "x86-64"
    assert ".text" in {r.name for r in image.code_regions}
    assert "setsockopt" not in image.dynamic_symbols  # the fixture opens no socket
    assert "strncpy" in image.dynamic_symbols and not image.stripped
    assert image.interpreter and image.interpreter.startswith("/lib")
    stripped = load_image(samples.data("classic-x86-64-O2"))
    assert stripped.stripped
    static = load_image(samples.data("variant-2025-static"))
    assert static.static and static.interpreter is None


@given(st.binary(max_size=600))
def test_arbitrary_bytes_give_an_image_or_a_located_error(data: bytes) -> None:
    try:
        load_image(data)
    except SampleFormatError as error:
        assert error.location


@given(st.binary(max_size=400))
def test_arbitrary_bytes_behind_an_elf_identification(tail: bytes) -> None:
    for prefix in (b"\x7fELF\x01\x01\x01", b"\x7fELF\x02\x02\x01", b"\x7fELF\x02\x01\x01"):
        try:
            image = load_image(prefix + bytes(9) + tail)
        except SampleFormatError as error:
            assert error.location
        else:
            for region in image.regions:
                assert region.offset >= 0 and region.end <= len(image.data)


@given(st.data())
def test_truncated_and_corrupted_builds_never_crash(data: st.DataObject) -> None:
    image = bytearray(SMALL)
    cut = data.draw(st.integers(16, len(image)))
    for _ in range(data.draw(st.integers(0, 12))):
        position = data.draw(st.integers(0, len(image) - 1))
        image[position] = data.draw(st.integers(0, 255))
    try:
        result = load_image(bytes(image[:cut]))
    except SampleFormatError as error:
        assert error.location
    else:
        assert all(r.end <= cut for r in result.regions)


def test_header_fields(samples: Samples) -> None:
    header = read_header(samples.data("classic-x86-32"))
    assert (header.elf_class, header.byte_order, header.machine_name) == (32, "little", "x86")
    assert header.section_count > 10
