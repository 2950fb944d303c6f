"""Finding socket-filter arrays in bytes, in either byte order, among junk."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from doorhunt.bpf.classify import FilterClass
from doorhunt.bpf.examples import EXAMPLES, bpfdoor_multi
from doorhunt.bpf.program import Program, check_program
from doorhunt.sample.filters import best_explanation, find_filter_arrays

CLASSIC = EXAMPLES["bpfdoor-classic"].build()
DHCP = EXAMPLES["dhcp-client"].build()


def encode(program: Program, order: str) -> bytes:
    layout = struct.Struct("<HBBI" if order == "little" else ">HBBI")
    return b"".join(layout.pack(*insn) for insn in program)


def test_the_classic_array_is_found_in_both_byte_orders_among_junk() -> None:
    for order in ("little", "big"):
        blob = b"\xaa" * 13 + bytes(64) + encode(CLASSIC, order) + bytes(32) + b"tail"
        found = list(find_filter_arrays(blob, order))
        assert len(found) == 1
        array = found[0]
        assert (array.offset, array.byte_order, array.program) == (77, order, CLASSIC)


def test_the_other_byte_order_is_tried_too() -> None:
    found = list(find_filter_arrays(encode(CLASSIC, "big"), "little"))
    assert [a.byte_order for a in found] == ["big"]


def test_two_arrays_back_to_back_are_two_programs() -> None:
    blob = encode(CLASSIC, "little") + encode(DHCP, "little")
    programs = [a.program for a in find_filter_arrays(blob)]
    assert programs == [CLASSIC, DHCP]


def test_a_large_multi_magic_program_is_found_whole() -> None:
    program = bpfdoor_multi((0x7255, 0x5293, 0x39393939))
    found = list(find_filter_arrays(b"\x01\x02" + encode(program, "little")))
    assert [a.program for a in found] == [program]


def test_classification_goes_through_doorhunt_bpf() -> None:
    assert best_explanation(CLASSIC).classification.filter_class is FilterClass.BPFDOOR
    assert best_explanation(DHCP).classification.filter_class is FilterClass.DHCP


def test_lone_returns_and_short_runs_are_not_filters() -> None:
    ret = struct.pack("<HBBI", 0x06, 0, 0, 0xFFFF)
    load = struct.pack("<HBBI", 0x28, 0, 0, 12)
    assert list(find_filter_arrays(ret * 50)) == []
    assert list(find_filter_arrays(load + ret)) == []


@given(st.binary(max_size=2048), st.sampled_from(["little", "big"]))
def test_any_bytes_give_only_programs_the_kernel_accepts(blob: bytes, order: str) -> None:
    for array in find_filter_arrays(blob, order):
        check_program(array.program.instructions)
        assert array.offset >= 0 and array.offset + array.size <= len(blob)


@given(st.binary(max_size=200), st.binary(max_size=200), st.sampled_from(["little", "big"]))
def test_the_classic_array_survives_any_surroundings(
    before: bytes, after: bytes, order: str
) -> None:
    padding = bytes(-len(before) % 4)  # arrays sit at their alignment
    blob = before + padding + encode(CLASSIC, order) + after
    programs = [a.program for a in find_filter_arrays(blob, order)]
    # Junk that happens to decode as instructions may join the array (and is reported with
    # it); the classic program's instructions are always inside one found program.
    assert any(tuple(CLASSIC) == p.instructions[-len(CLASSIC) :] for p in programs)
