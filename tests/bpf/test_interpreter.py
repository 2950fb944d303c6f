"""The interpreter's kernel semantics, and the fast form held to the reference interpreter."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorhunt.bpf import opcodes as op
from doorhunt.bpf.examples import EXAMPLES
from doorhunt.bpf.interpreter import Link, Metadata, execute
from doorhunt.bpf.jit import compile_filter, translate
from doorhunt.bpf.program import Program
from tests.bpf.strategies import frames, programs

ACCEPT_A = (op.RET | op.A, 0, 0, 0)


def run(instructions: list[tuple[int, int, int, int]], packet: bytes, **options: object) -> int:
    program = Program.of(instructions)
    result = execute(program, packet, **options)  # type: ignore[arg-type]
    fast = compile_filter(program, options.get("link", Link.ETHERNET))  # type: ignore[arg-type]
    assert fast(packet, options.get("meta", Metadata())) == result  # type: ignore[arg-type]
    return result


def test_load_past_the_end_drops_the_packet() -> None:
    assert run([(op.LD | op.H | op.ABS, 0, 0, 19), (op.RET | op.K, 0, 0, 1)], bytes(20)) == 0
    assert run([(op.LD | op.H | op.ABS, 0, 0, 18), (op.RET | op.K, 0, 0, 1)], bytes(20)) == 1


def test_division_by_zero_x_drops_and_constant_division_truncates() -> None:
    divide_by_x = [(op.LD | op.IMM, 0, 0, 7), (op.ALU | op.DIV | op.X, 0, 0, 0), ACCEPT_A]
    assert run(divide_by_x, b"") == 0
    assert run([(op.LD | op.IMM, 0, 0, 7), (op.ALU | op.DIV | op.K, 0, 0, 2), ACCEPT_A], b"") == 3
    assert run([(op.LD | op.IMM, 0, 0, 7), (op.ALU | op.MOD | op.X, 0, 0, 0), ACCEPT_A], b"") == 0


def test_alu_is_32_bit() -> None:
    assert run([(op.LD | op.IMM, 0, 0, 0), (op.ALU | op.SUB | op.K, 0, 0, 1), ACCEPT_A], b"") == (
        0xFFFFFFFF
    )
    assert run([(op.LD | op.IMM, 0, 0, 1), (op.ALU | op.NEG, 0, 0, 0), ACCEPT_A], b"") == 0xFFFFFFFF
    assert (
        run(
            [
                (op.LD | op.IMM, 0, 0, 0x80000000),
                (op.ALU | op.LSH | op.K, 0, 0, 1),
                (op.ALU | op.ADD | op.K, 0, 0, 5),
                ACCEPT_A,
            ],
            b"",
        )
        == 5
    )


def test_shift_by_x_uses_the_low_five_bits() -> None:
    program = [
        (op.LDX | op.IMM, 0, 0, 33),
        (op.LD | op.IMM, 0, 0, 1),
        (op.ALU | op.LSH | op.X, 0, 0, 0),
        ACCEPT_A,
    ]
    assert run(program, b"") == 2


def test_scratch_memory_and_register_moves() -> None:
    program = [
        (op.LD | op.IMM, 0, 0, 40),
        (op.ST, 0, 0, 3),
        (op.LD | op.IMM, 0, 0, 1),
        (op.LDX | op.MEM, 0, 0, 3),
        (op.MISC | op.TXA, 0, 0, 0),
        ACCEPT_A,
    ]
    assert run(program, b"") == 40


def test_msh_reads_the_ipv4_header_length() -> None:
    frame = bytes(14) + bytes([0x46]) + bytes(30)
    assert (
        run([(op.LDX | op.B | op.MSH, 0, 0, 14), (op.MISC | op.TXA, 0, 0, 0), ACCEPT_A], frame)
        == 24
    )


def test_negative_offsets_count_from_the_network_and_link_headers() -> None:
    frame = bytes(range(40))
    net9 = (op.SKF_NET_OFF + 9) & 0xFFFFFFFF
    ll0 = op.SKF_LL_OFF & 0xFFFFFFFF
    load_net = [(op.LD | op.B | op.ABS, 0, 0, net9), ACCEPT_A]
    load_link = [(op.LD | op.B | op.ABS, 0, 0, ll0), ACCEPT_A]
    assert run(load_net, frame) == 14 + 9
    assert run(load_link, frame) == 0
    assert run(load_net, frame, link=Link.IP) == 9
    header = Metadata(link_header=b"\xaa" * 14)
    assert run(load_link, frame, link=Link.IP, meta=header) == 0xAA
    assert (
        run([(op.LD | op.B | op.ABS, 0, 0, (op.SKF_LL_OFF - 1) & 0xFFFFFFFF), ACCEPT_A], frame) == 0
    )


def test_indirect_load_that_wraps_negative_reaches_the_network_header() -> None:
    program = [
        (op.LDX | op.IMM, 0, 0, op.SKF_NET_OFF & 0xFFFFFFFF),
        (op.LD | op.B | op.IND, 0, 0, 9),
        ACCEPT_A,
    ]
    assert run(program, bytes(range(40))) == 23


def test_ancillary_loads() -> None:
    meta = Metadata(protocol=0x86DD, pkttype=3, ifindex=7, vlan_tci=0x123, vlan_present=True)
    for field, expected in ((0, 0x86DD), (4, 3), (8, 7), (44, 0x123), (48, 1)):
        program = [(op.LD | op.W | op.ABS, 0, 0, (op.SKF_AD_OFF + field) & 0xFFFFFFFF), ACCEPT_A]
        assert run(program, b"", meta=meta) == expected
    xor = [
        (op.LD | op.IMM, 0, 0, 0xF0),
        (op.LDX | op.IMM, 0, 0, 0xFF),
        (op.LD | op.W | op.ABS, 0, 0, (op.SKF_AD_OFF + 40) & 0xFFFFFFFF),
        ACCEPT_A,
    ]
    assert run(xor, b"") == 0x0F


def test_netlink_attribute_search() -> None:
    attributes = struct.pack("=HH", 8, 1) + b"abcd" + struct.pack("=HH", 6, 9) + b"xy\0\0"
    program = [
        (op.LD | op.IMM, 0, 0, 0),
        (op.LDX | op.IMM, 0, 0, 9),
        (op.LD | op.W | op.ABS, 0, 0, (op.SKF_AD_OFF + 12) & 0xFFFFFFFF),
        ACCEPT_A,
    ]
    assert run(program, attributes) == 8
    missing = [
        (op.LD | op.IMM, 0, 0, 0),
        (op.LDX | op.IMM, 0, 0, 5),
        (op.LD | op.W | op.ABS, 0, 0, (op.SKF_AD_OFF + 12) & 0xFFFFFFFF),
        ACCEPT_A,
    ]
    assert run(missing, attributes) == 0


def test_trace_lists_the_executed_instructions() -> None:
    trace: list[int] = []
    execute(EXAMPLES["bpfdoor-classic"].build(), bytes(14), trace=trace)
    assert trace == [0, 1, 29]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_translation_is_valid_python_for_every_example(name: str) -> None:
    source = translate(EXAMPLES[name].build())
    compile(source, name, "exec")
    assert source.startswith("def _filter(")


metadata = st.builds(
    Metadata,
    protocol=st.sampled_from([0x0800, 0x86DD, 0x0806, 4]),
    pkttype=st.integers(0, 4),
    ifindex=st.integers(0, 10),
    mark=st.integers(0, 0xFFFFFFFF),
    vlan_tci=st.integers(0, 0xFFFF),
    vlan_present=st.booleans(),
    link_header=st.binary(max_size=14),
)


@given(
    programs(max_length=60, ancillary=tuple(op.ANCILLARY)),
    frames(),
    st.sampled_from(list(Link)),
    metadata,
)
def test_fast_form_equals_the_reference_interpreter(
    program: Program, frame: bytes, link: Link, meta: Metadata
) -> None:
    packet = frame if link is Link.ETHERNET else frame[14:]
    assert compile_filter(program, link)(packet, meta) == execute(
        program, packet, link=link, meta=meta
    )


def test_deeply_nested_program_translates() -> None:
    # 300 conditional jumps that each skip nothing: deeper than Python's indentation limit.
    body = [(op.JMP | op.JEQ | op.K, 0, 1, i) for i in range(300)]
    instructions = []
    for condition in body:
        instructions += [condition, (op.LD | op.IMM, 0, 0, 1)]
    program = Program.of([*instructions, (op.RET | op.K, 0, 0, 9)])
    assert compile_filter(program)(b"") == execute(program, b"") == 9
