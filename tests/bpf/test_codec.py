"""Reading and writing programs in every format, and located errors for bad input."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorhunt.bpf.codec import (
    Format,
    detect_format,
    format_program,
    from_bytes,
    parse_program,
    parse_programs,
    to_bytes,
)
from doorhunt.bpf.disasm import assemble, disassemble
from doorhunt.bpf.examples import EXAMPLES
from doorhunt.bpf.interpreter import Link
from doorhunt.bpf.program import BpfFormatError, BpfProgramError, Program
from tests.bpf.conftest import compile_expression, compiled_cases
from tests.bpf.strategies import programs

CLASSIC = EXAMPLES["bpfdoor-classic"].build()


@given(programs(), st.sampled_from(list(Format)))
def test_every_format_round_trips(program: Program, fmt: Format) -> None:
    written = format_program(program, fmt)
    assert detect_format(written) is fmt or fmt is Format.RAW
    expected = program.normalized() if fmt is Format.ASM else program
    assert parse_program(written, fmt) == expected
    assert parse_program(written) == expected or fmt is Format.RAW


@given(programs(), st.sampled_from(["little", "big"]))
def test_raw_round_trips_in_both_byte_orders(program: Program, order: str) -> None:
    assert from_bytes(to_bytes(program, byteorder=order), byteorder=order) == program


@pytest.mark.parametrize(("expression", "link"), compiled_cases())
def test_tcpdump_formats_read_alike_and_disassemble_as_tcpdump(
    expression: str, link: Link, tcpdump: str
) -> None:
    linktype = "EN10MB" if link is Link.ETHERNET else "RAW"

    def run(flag: str) -> bytes:
        return subprocess.run(
            [tcpdump, "-y", linktype, flag, "--", expression], check=True, capture_output=True
        ).stdout

    c_array, decimal, listing = run("-dd"), run("-ddd"), run("-d")
    assert detect_format(c_array) is Format.C
    assert detect_format(decimal) is Format.DECIMAL
    assert detect_format(listing) is Format.ASM
    program = parse_program(c_array)
    assert parse_program(decimal) == program
    assert parse_program(listing) == program.normalized()
    # Byte for byte the same text as tcpdump -d (no negative offsets in these expressions).
    assert "\n".join(disassemble(program)) + "\n" == listing.decode()
    assert program == compile_expression(expression, link)


def test_ss_output_with_several_sockets_gives_each_filter_with_its_socket_line() -> None:
    text = (
        "Netid Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"
        'p_raw 0 0 *:eth0 * users:(("dhclient",pid=700,fd=6))\n'
        "\tbpf filter (2):  0x06 0 0 262144, 0x06 0 0 0,\n"
        'p_raw 0 0 *:* * users:(("haldrund",pid=4437,fd=3))\n'
        + format_program(CLASSIC, Format.SS).decode()
    )
    parsed = parse_programs(text.encode())
    assert [p.program for p in parsed][1] == CLASSIC
    assert len(parsed[0].program) == 2
    assert parsed[0].context is not None and "dhclient" in parsed[0].context
    assert parsed[1].context is not None and "haldrund" in parsed[1].context
    assert parsed[1].location == "line 5"


def test_ss_text_prints_k_in_decimal_as_iproute2_does() -> None:
    text = format_program(CLASSIC, Format.SS).decode()
    assert text.startswith("\tbpf filter (30):  0x28 0 0 12, 0x15 0 27 2048,")
    assert " 0x15 0 1 21139," in text  # 0x5293 as ss prints it


def test_bare_ss_instruction_list_is_read() -> None:
    assert len(parse_program(b"0x28 0 0 12, 0x15 0 1 2048, 0x06 0 0 65535, 0x06 0 0 0,")) == 4


@pytest.mark.parametrize(
    ("data", "fmt", "location", "words"),
    [
        (
            b"{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 5, 0x00000800 },\n{ 0x6, 0, 0, 0 },\n",
            None,
            "instruction 1 (line 2, column 1)",
            "jf target 7",
        ),
        (b"3\n40 0 0 12\n21 0 1 2048\n6 0 0\n", Format.DECIMAL, "line 4", "four decimal"),
        (b"2\n6 0 0 0\n", Format.DECIMAL, "line 1", "says 2 instructions, 1 follow"),
        (
            b"bpf filter (2):  0x28 0 0 12, 0x99 0 0 0,",
            None,
            "instruction 1 (line 1, column 31)",
            "opcode 0x99",
        ),
        (b"bpf filter (3):  0x06 0 0 0,", None, "line 1, column 1", "followed by 1"),
        (b"(000) ldh      [12]\n(001) frob     #1\n", Format.ASM, "line 2", "cannot read"),
        (b"(000) ret      #0\n(005) ret      #0\n", Format.ASM, "line 2", "(001) was expected"),
        (b"\x06\x00\x00\x00\x00\x00\x00\x00\x06", Format.RAW, "byte 8", "8-byte"),
        (b"{ 0x10000, 0, 0, 0 },", Format.C, "line 1, column 1", "does not fit in 16 bits"),
        (b"hello world\n", None, "line 1", "cannot tell the program format"),
        (b"\xff\xfe{ 0x06, 0, 0, 0 }", Format.C, "byte 0", "not valid UTF-8"),
    ],
)
def test_malformed_input_gives_a_located_error(
    data: bytes, fmt: Format | None, location: str, words: str
) -> None:
    with pytest.raises((BpfFormatError, BpfProgramError)) as caught:
        parse_programs(data, fmt)
    assert caught.value.location == location
    assert words in caught.value.message


def test_error_location_is_prefixed_with_the_input_name() -> None:
    with pytest.raises(BpfFormatError) as caught:
        parse_programs(b"2\n6 0 0 0\n", Format.DECIMAL)
    assert str(caught.value.at("filter.txt")) == (
        "filter.txt:line 1: the count line says 2 instructions, 1 follow"
    )


@given(st.binary(max_size=200))
def test_arbitrary_bytes_give_a_program_or_a_located_error(data: bytes) -> None:
    try:
        parse_programs(data)
    except (BpfFormatError, BpfProgramError) as error:
        assert error.message


@given(st.text(max_size=200))
def test_arbitrary_text_gives_a_program_or_a_located_error(text: str) -> None:
    for fmt in (None, *Format):
        try:
            parse_programs(text.encode("utf-8", "surrogatepass"), fmt)
        except (BpfFormatError, BpfProgramError) as error:
            assert error.message


def test_assembler_reads_named_ancillary_loads_and_negative_bases() -> None:
    program = assemble(
        "(000) ldb      [vlanp]\n"
        "(001) ld       [proto]\n"
        "(002) ldb      [SKF_NET_OFF+9]\n"
        "(003) ldh      [SKF_LL_OFF+12]\n"
        "(004) ret      #-1\n"
    )
    assert [insn.k for insn in program] == [
        0xFFFFF030,
        0xFFFFF000,
        0xFFF00009,
        0xFFE0000C,
        0xFFFFFFFF,
    ]
    assert disassemble(program)[2] == "(002) ldb      [SKF_NET_OFF+9]"
    assert disassemble(program)[0] == "(000) ldb      [vlanp]"
