"""The magic packet's layout, recognised from the code that reads it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doorhunt.sample.elf import ElfImage, load_image
from doorhunt.sample.layout import FIELDS, find_magic_layout
from tests.sample.builds import BUILDS, Build, Samples, require_module
from tests.sample.elf_builder import SHF_ALLOC, SHF_EXECINSTR, ElfSpec, Section, build_elf


@pytest.fixture(autouse=True, scope="module")
def _capstone() -> None:
    require_module("capstone", "capstone")


def image_of(code: bytes, bits: int = 64) -> ElfImage:
    spec = ElfSpec(
        bits=bits,
        machine=62 if bits == 64 else 3,
        sections=[Section(".text", code, SHF_ALLOC | SHF_EXECINSTR)],
    )
    return load_image(build_elf(spec))


# mov eax, [rdi]; mov esi, [rdi+4]; movzx edx, word [rdi+8]; rol dx, 8; mov rcx, [rdi+10];
# cmp eax, 0x7255; ret: a pointer to the packet, every field read, the magic compared.
READER = bytes.fromhex("8b078b77040fb7570866c1c208488b4f0a3d55720000c3")


def test_a_reader_of_every_field_that_compares_the_magic_is_high_confidence() -> None:
    layout = find_magic_layout(image_of(READER), [0x7255])
    assert layout is not None and layout.confidence.value == "high"
    assert layout.fields == FIELDS and layout.size == 24
    assert layout.evidence == (
        "ip-read",
        "port-read",
        "flag-read",
        "pass-read",
        "port-byte-swap",
        "magic-compare",
    )
    assert layout.place.address == 0x400000 + 0x78 + 2  # the ip read, after `mov eax, [rdi]`


def test_the_pair_of_reads_alone_is_not_a_layout() -> None:
    # mov esi, [rdi+4]; movzx edx, word [rdi+8]; ret: any structure looks like this.
    code = bytes.fromhex("8b77040fb75708c3")
    assert find_magic_layout(image_of(code), [0x7255]) is None


def test_without_the_magic_two_other_signs_make_it_medium() -> None:
    code = READER.replace(bytes.fromhex("3d55720000"), bytes.fromhex("83f817"))  # cmp eax, 23
    layout = find_magic_layout(image_of(code), [0x5293])
    assert layout is not None and layout.confidence.value == "medium"
    assert "magic-compare" not in layout.evidence and "size-check" in layout.evidence


def test_other_machines_and_no_magics_give_nothing() -> None:
    assert find_magic_layout(load_image(build_elf(ElfSpec(machine=8))), [0x7255]) is None
    assert find_magic_layout(image_of(READER), []) is None


@pytest.mark.parametrize("build", [b for b in BUILDS if b.bpfdoor], ids=lambda b: b.name)
def test_every_build_with_the_reader_shows_it_and_the_others_do_not(
    samples: Samples, build: Build
) -> None:
    layout = find_magic_layout(load_image(samples.data(build.name)), build.magics)
    if build.extras:
        assert layout is not None and layout.confidence.value == "high"
    else:
        assert layout is None


@settings(max_examples=40)
@given(st.binary(max_size=2048), st.sampled_from([32, 64]))
def test_any_code_bytes_are_read_without_error(code: bytes, bits: int) -> None:
    layout = find_magic_layout(image_of(code, bits), [0x7255, 0x5293, 0x39393939])
    if layout is not None:
        layout.to_json()
