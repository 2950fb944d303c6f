"""Finding `struct sock_filter` arrays in bytes: a file, a memory dump, a rebuilt stack frame.

A classic BPF program is an array of 8-byte instructions (`u16 code; u8 jt; u8 jf; u32 k`,
linux/filter.h) in the byte order of the machine it was built for, that ends in a return. The
finder anchors on return instructions, grows the run of well-formed instructions around each,
and keeps a run only when the kernel's own rules (`doorhunt.bpf.program.check_program`) accept
it and it looks like a packet filter: at least four instructions, a packet load and a
conditional jump. Every candidate then goes through the same analysis as a live socket's
filter (`doorhunt.bpf.explain`), so a sample's verdict and a host's verdict agree.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from doorhunt.bpf import opcodes as op
from doorhunt.bpf.classify import FilterClass
from doorhunt.bpf.explain import Explanation, explain
from doorhunt.bpf.interpreter import Link
from doorhunt.bpf.program import BpfProgramError, Instruction, Program, check_program

INSTRUCTION_BYTES = 8
MIN_INSTRUCTIONS = 4
MAX_CANDIDATES = 10_000  # return instructions examined in one blob
MAX_FILTERS = 64  # programs reported from one blob
MAX_START_TRIES = 16

# A return: code 0x06 (ret #k) or 0x16 (ret a), jt = jf = 0 (BPF_STMT in linux/filter.h).
_RETURNS = {
    "little": (re.compile(rb"\x06\x00\x00\x00"), re.compile(rb"\x16\x00\x00\x00")),
    "big": (re.compile(rb"\x00\x06\x00\x00"), re.compile(rb"\x00\x16\x00\x00")),
}
_LAYOUT = {"little": struct.Struct("<HBBI"), "big": struct.Struct(">HBBI")}
_PACKET_LOAD_MODES = frozenset({op.ABS, op.IND, op.MSH})


@dataclass(frozen=True, slots=True)
class FilterArray:
    """A classic BPF program found at `offset` of a blob, in `byte_order`."""

    offset: int
    byte_order: str
    program: Program

    @property
    def size(self) -> int:
        return len(self.program) * INSTRUCTION_BYTES


def find_filter_arrays(
    blob: bytes,
    preferred_order: str = "little",
    spans: Sequence[tuple[int, int]] | None = None,
) -> Iterator[FilterArray]:
    """Every plausible socket-filter array in `blob` (or in its `spans`, (start, end) pairs
    in order), the machine's byte order tried first."""
    orders = (preferred_order, "big" if preferred_order == "little" else "little")
    taken: list[tuple[int, int]] = []
    found = 0
    for order in orders:
        candidates = 0
        # Where the last run examined ended, for each alignment: a return's bytes inside
        # another instruction's `k` start runs of another phase, which must not cut this one.
        examined_until: dict[int, int] = {}
        layout = _LAYOUT[order]
        for position in _return_positions(blob, order, spans):
            candidates += 1
            if candidates > MAX_CANDIDATES or found >= MAX_FILTERS:
                break
            if position + INSTRUCTION_BYTES > len(blob):
                break
            phase = position % INSTRUCTION_BYTES
            floor = examined_until.get(phase, 0)
            if position < floor or any(start <= position < end for start, end in taken):
                continue
            # A return after something that is no instruction starts its run; a program of
            # four or more instructions through it ends at a later return, examined there.
            if position >= INSTRUCTION_BYTES and not _well_formed(
                layout.unpack_from(blob, position - INSTRUCTION_BYTES)
            ):
                continue
            arrays, examined_until[phase] = _arrays_around(blob, position, order, floor)
            for array in arrays:
                taken.append((array.offset, array.offset + array.size))
                found += 1
                yield array


def _return_positions(
    blob: bytes, order: str, spans: Sequence[tuple[int, int]] | None
) -> Iterator[int]:
    """Offsets of return instructions, in order: each pattern starts with a literal byte,
    which Python's regular expressions find at memory speed."""
    for start, end in spans if spans is not None else [(0, len(blob))]:
        positions = sorted(
            match.start()
            for pattern in _RETURNS[order]
            for match in pattern.finditer(blob, start, end)
        )
        yield from positions


def _arrays_around(
    blob: bytes, position: int, order: str, floor: int
) -> tuple[list[FilterArray], int]:
    """The arrays in the run of well-formed instructions around the return at `position`,
    and where that run ends (later returns inside it need no second look). The walk back
    stops at `floor`, where the last run examined ended: each byte is read at most twice,
    however long a stretch of data that decodes as instructions (certificate tables do)."""
    layout = _LAYOUT[order]
    start = position
    # Walk back over well-formed instructions (at most a whole program's worth).
    while (
        start - INSTRUCTION_BYTES >= max(0, floor)
        and (position - start) // INSTRUCTION_BYTES < op.MAXINSNS
    ):
        if not _well_formed(layout.unpack_from(blob, start - INSTRUCTION_BYTES)):
            break
        start -= INSTRUCTION_BYTES
    end = position
    last_return = position
    while end + INSTRUCTION_BYTES <= len(blob) and (end - start) // INSTRUCTION_BYTES < op.MAXINSNS:
        instruction = layout.unpack_from(blob, end)
        if not _well_formed(instruction):
            break
        if op.bpf_class(instruction[0]) == op.RET:
            last_return = end
        end += INSTRUCTION_BYTES
    raw = [
        layout.unpack_from(blob, offset)
        for offset in range(start, last_return + INSTRUCTION_BYTES, INSTRUCTION_BYTES)
    ]
    examined = last_return + INSTRUCTION_BYTES
    # Cheap test before the kernel's checker: a packet filter loads packet bytes and branches.
    if len(raw) < MIN_INSTRUCTIONS or not (
        any(
            op.bpf_class(code) in (op.LD, op.LDX) and op.bpf_mode(code) in _PACKET_LOAD_MODES
            for code, _, _, _ in raw
        )
        and any(op.bpf_class(code) == op.JMP and op.bpf_op(code) != op.JA for code, _, _, _ in raw)
    ):
        return [], examined
    instructions = [Instruction(*fields) for fields in raw]
    return list(_programs_in(instructions, start, order)), last_return + INSTRUCTION_BYTES


def _programs_in(instructions: list[Instruction], offset: int, order: str) -> Iterator[FilterArray]:
    """The programs in a run: junk before the first real instruction is dropped, and a second
    array that follows the first one's unreachable tail is reported on its own."""
    tries = 0
    while instructions and tries < MAX_START_TRIES:
        tries += 1
        program = _accepted(instructions)
        if program is None:
            instructions = instructions[1:]
            offset += INSTRUCTION_BYTES
            continue
        reachable = _reachable_length(program)
        if reachable < len(program):
            head = _accepted(instructions[:reachable])
            if head is not None and _looks_like_filter(head):
                yield FilterArray(offset, order, head)
            instructions = instructions[reachable:]
            offset += reachable * INSTRUCTION_BYTES
            continue
        if _looks_like_filter(program):
            yield FilterArray(offset, order, program)
        return


def _accepted(instructions: list[Instruction]) -> Program | None:
    if len(instructions) < MIN_INSTRUCTIONS:
        return None
    try:
        check_program(instructions)
    except BpfProgramError:
        return None
    return Program(tuple(instructions))


def _well_formed(instruction: tuple[int, int, int, int]) -> bool:
    """An instruction as compilers and `tcpdump -dd` write it. The all-zero `ld #0` ends a run:
    it is what padding and zeroed memory decode to, and no filter generator emits it first."""
    code, jt, jf, k = instruction
    if code not in op.ALLOWED_CODES or (code == 0 and jt == jf == k == 0):
        return False
    conditional = op.bpf_class(code) == op.JMP and op.bpf_op(code) != op.JA
    return conditional or jt == jf == 0


def _reachable_length(program: Program) -> int:
    """One past the last instruction reachable from the first."""
    seen = {0}
    pending = [0]
    while pending:
        for successor in program.successors(pending.pop()):
            if successor not in seen:
                seen.add(successor)
                pending.append(successor)
    return max(seen) + 1


def _looks_like_filter(program: Program) -> bool:
    loads = any(
        op.bpf_class(insn.code) in (op.LD, op.LDX) and op.bpf_mode(insn.code) in _PACKET_LOAD_MODES
        for insn in program
    )
    return loads and any(insn.is_conditional_jump for insn in program)


def best_explanation(program: Program) -> Explanation:
    """The program explained for the socket it most plausibly sits on. BPFDoor opens a
    SOCK_RAW packet socket, whose filters see the Ethernet header (BPFDOOR.md §1, §4); a
    program that only makes sense from the IP header (SOCK_DGRAM, AF_INET raw) is read that
    way when the Ethernet reading leaves it unexplained (`other`)."""
    ethernet = explain(program, Link.ETHERNET)
    if ethernet.classification.filter_class is not FilterClass.OTHER:
        return ethernet
    ip = explain(program, Link.IP)
    return ip if ip.classification.filter_class is not FilterClass.OTHER else ethernet


__all__ = ["FilterArray", "best_explanation", "find_filter_arrays"]
