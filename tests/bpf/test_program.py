"""The kernel's rules for accepting a classic program, and the kernel itself as their oracle."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorhunt.bpf import opcodes as op
from doorhunt.bpf.program import BpfProgramError, Instruction, Program, check_program
from tests.bpf.strategies import programs
from tests.kernel import FilterRefused, attach_filter

RET0 = (op.RET | op.K, 0, 0, 0)


def refusal(instructions: list[tuple[int, int, int, int]]) -> BpfProgramError:
    with pytest.raises(BpfProgramError) as caught:
        Program.of(instructions)
    return caught.value


def test_valid_program_is_accepted() -> None:
    program = Program.of(
        [
            (op.LD | op.H | op.ABS, 0, 0, 12),
            (op.JMP | op.JEQ | op.K, 0, 1, 0x800),
            (op.RET | op.K, 0, 0, 0xFFFF),
            RET0,
        ]
    )
    assert len(program) == 4


@pytest.mark.parametrize(
    ("instructions", "location", "words"),
    [
        ([], None, "empty"),
        ([(0xFFFF, 0, 0, 0), RET0], "instruction 0", "opcode 0xffff"),
        ([(op.JMP | op.JEQ | op.K, 5, 0, 1), RET0], "instruction 0", "jt target 6"),
        ([(op.JMP | op.JEQ | op.K, 0, 1, 1), RET0], "instruction 0", "jf target 2"),
        ([(op.JMP | op.JA, 0, 0, 1), RET0], "instruction 0", "leaves the program"),
        ([(op.LD | op.IMM, 0, 0, 1)], "instruction 0", "last instruction must be a return"),
        ([(op.ALU | op.DIV | op.K, 0, 0, 0), RET0], "instruction 0", "division by constant zero"),
        ([(op.ALU | op.MOD | op.K, 0, 0, 0), RET0], "instruction 0", "division by constant zero"),
        ([(op.ALU | op.LSH | op.K, 0, 0, 32), RET0], "instruction 0", "shift by 32"),
        ([(op.LD | op.MEM, 0, 0, 16), RET0], "instruction 0", "M[16]"),
        ([(op.LD | op.MEM, 0, 0, 3), RET0], "instruction 0", "read before it is written"),
        (
            [(op.LD | op.W | op.ABS, 0, 0, (op.SKF_AD_OFF + 2) & 0xFFFFFFFF), RET0],
            "instruction 0",
            "ancillary",
        ),
        ([RET0] * 4097, None, "at most 4096"),
    ],
)
def test_invalid_programs_are_refused_with_their_location(
    instructions: list[tuple[int, int, int, int]], location: str | None, words: str
) -> None:
    error = refusal(instructions)
    assert error.location == location
    assert words in error.message


def test_memory_written_on_only_one_branch_is_refused() -> None:
    error = refusal(
        [
            (op.JMP | op.JEQ | op.K, 0, 1, 0),  # A == 0 skips the store
            (op.ST, 0, 0, 2),
            (op.LD | op.MEM, 0, 0, 2),
            RET0,
        ]
    )
    assert error.location == "instruction 2"


def test_normalized_clears_fields_the_kernel_ignores() -> None:
    program = Program((Instruction(op.MISC | op.TAX, 3, 4, 5), Instruction(op.RET | op.A, 1, 1, 9)))
    assert program.normalized().instructions == (
        Instruction(op.MISC | op.TAX, 0, 0, 0),
        Instruction(op.RET | op.A, 0, 0, 0),
    )


def kernel_accepts(instructions: list[tuple[int, int, int, int]]) -> bool:
    # Attaching a filter to an unbound UDP socket needs no privilege and sends nothing.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            attach_filter(sock, instructions)
        except FilterRefused:
            return False
        return True


def doorhunt_accepts(instructions: list[tuple[int, int, int, int]]) -> bool:
    try:
        check_program([Instruction(*insn) for insn in instructions])
    except BpfProgramError:
        return False
    return True


raw_instructions = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(sorted(op.ALLOWED_CODES)), st.integers(0, 0xFF)),
        st.integers(0, 6),
        st.integers(0, 6),
        st.one_of(
            st.integers(0, 40),
            st.sampled_from(
                [0xFFFFF000, 0xFFFFF004, 0xFFFFF008, 0xFFFFF002, 0xFFF00000, 0xFFE00000]
            ),
        ),
    ),
    min_size=1,
    max_size=8,
).map(lambda body: [*body, RET0] if len(body) % 2 else body)


@given(raw_instructions)
def test_checker_agrees_with_the_kernel(instructions: list[tuple[int, int, int, int]]) -> None:
    assert doorhunt_accepts(instructions) == kernel_accepts(instructions)


@given(programs())
def test_generated_programs_are_all_accepted_by_the_kernel(program: Program) -> None:
    assert kernel_accepts(list(program))
