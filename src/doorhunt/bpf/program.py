"""A classic BPF program and the kernel's rules for accepting one."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple, overload

from doorhunt.bpf import opcodes as op
from doorhunt.errors import InputError


class BpfProgramError(InputError):
    """A program the kernel would refuse to attach (sk_attach_filter() → -EINVAL)."""


class BpfFormatError(InputError):
    """Text or bytes that are not a classic BPF program in the expected format."""


class Instruction(NamedTuple):
    """`struct sock_filter`: u16 code, u8 jt, u8 jf, u32 k."""

    code: int
    jt: int
    jf: int
    k: int

    @property
    def is_conditional_jump(self) -> bool:
        return op.bpf_class(self.code) == op.JMP and op.bpf_op(self.code) != op.JA

    @property
    def is_return(self) -> bool:
        return op.bpf_class(self.code) == op.RET


@dataclass(frozen=True, slots=True)
class Program(Sequence[Instruction]):
    """A validated, immutable classic BPF program."""

    instructions: tuple[Instruction, ...]

    @classmethod
    def of(cls, instructions: Iterable[Instruction | tuple[int, int, int, int]]) -> Program:
        """Build and validate a program as the kernel does; raises BpfProgramError."""
        program = cls(tuple(Instruction(*insn) for insn in instructions))
        check_program(program.instructions)
        return program

    def __len__(self) -> int:
        return len(self.instructions)

    @overload
    def __getitem__(self, index: int) -> Instruction: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Instruction]: ...
    def __getitem__(self, index: int | slice) -> Instruction | Sequence[Instruction]:
        return self.instructions[index]

    def __iter__(self) -> Iterator[Instruction]:
        return iter(self.instructions)

    def normalized(self) -> Program:
        """The same program with the fields the kernel ignores set to zero (libpcap leaves junk
        in `k` of `tax`, for example); `tcpdump -d` text can only round-trip this form."""
        return Program(tuple(_normalized(insn) for insn in self.instructions))

    def successors(self, pc: int) -> tuple[int, ...]:
        """Indices that control can reach next from `pc` (empty after a return)."""
        insn = self.instructions[pc]
        cls = op.bpf_class(insn.code)
        if cls == op.RET:
            return ()
        if cls == op.JMP:
            if op.bpf_op(insn.code) == op.JA:
                return (pc + 1 + insn.k,)
            if insn.jt == insn.jf:
                return (pc + 1 + insn.jt,)
            return (pc + 1 + insn.jt, pc + 1 + insn.jf)
        return (pc + 1,)


def _normalized(insn: Instruction) -> Instruction:
    code, jt, jf, k = insn
    cls = op.bpf_class(code)
    uses_k = not (
        code in (op.RET | op.A, op.MISC | op.TAX, op.MISC | op.TXA, op.ALU | op.NEG)
        or code in (op.LD | op.W | op.LEN, op.LDX | op.W | op.LEN)
        or (cls in (op.ALU, op.JMP) and op.bpf_src(code) == op.X and code != op.JMP | op.JA)
    )
    conditional = cls == op.JMP and op.bpf_op(code) != op.JA
    return Instruction(code, jt if conditional else 0, jf if conditional else 0, k if uses_k else 0)


def check_program(instructions: Sequence[Instruction]) -> None:
    """Apply bpf_check_classic() and check_load_and_stores() from net/core/filter.c."""
    length = len(instructions)
    if length == 0:
        raise BpfProgramError("empty program: the kernel needs at least one instruction")
    if length > op.MAXINSNS:
        raise BpfProgramError(
            f"{length} instructions: the kernel accepts at most {op.MAXINSNS} (BPF_MAXINSNS)"
        )
    for pc, insn in enumerate(instructions):
        _check_instruction(pc, insn, length)
    last = instructions[-1]
    if last.code not in (op.RET | op.K, op.RET | op.A):
        raise BpfProgramError(
            f"the last instruction must be a return, got opcode {last.code:#04x}",
            location=f"instruction {length - 1}",
        )
    _check_scratch_memory(instructions)


def _check_instruction(pc: int, insn: Instruction, length: int) -> None:
    where = f"instruction {pc}"
    code, jt, jf, k = insn
    for name, value, bits in (("code", code, 16), ("jt", jt, 8), ("jf", jf, 8), ("k", k, 32)):
        if not 0 <= value < (1 << bits):
            raise BpfProgramError(f"{name} {value} does not fit in {bits} bits", location=where)
    if code not in op.ALLOWED_CODES:
        raise BpfProgramError(f"unknown or unsupported opcode {code:#04x}", location=where)
    cls, operation = op.bpf_class(code), op.bpf_op(code)
    if cls == op.ALU and operation in (op.DIV, op.MOD) and op.bpf_src(code) == op.K and k == 0:
        raise BpfProgramError("division by constant zero", location=where)
    if cls == op.ALU and operation in (op.LSH, op.RSH) and op.bpf_src(code) == op.K and k >= 32:
        raise BpfProgramError(f"shift by {k}: must be below 32", location=where)
    if code in (op.LD | op.MEM, op.LDX | op.MEM, op.ST, op.STX) and k >= op.MEMWORDS:
        raise BpfProgramError(
            f"scratch memory slot M[{k}] does not exist (there are {op.MEMWORDS})", location=where
        )
    if code == op.JMP | op.JA and k >= length - pc - 1:
        raise BpfProgramError(
            f"jump of {k} leaves the program (target {pc + 1 + k}, last instruction {length - 1})",
            location=where,
        )
    if cls == op.JMP and operation != op.JA:
        for label, offset in (("jt", jt), ("jf", jf)):
            if pc + offset + 1 >= length:
                raise BpfProgramError(
                    f"{label} target {pc + offset + 1} is past the last instruction ({length - 1})",
                    location=where,
                )
    if cls == op.LD and op.bpf_mode(code) == op.ABS:
        offset = op.to_signed32(k)
        if op.SKF_AD_OFF <= offset < 0 and (offset - op.SKF_AD_OFF) not in op.ANCILLARY:
            raise BpfProgramError(
                f"load from {offset}: not an ancillary field the kernel knows", location=where
            )


def _check_scratch_memory(instructions: Sequence[Instruction]) -> None:
    """Every read of M[k] must follow a write of M[k] on every path (check_load_and_stores)."""
    masks = [0xFFFF] * len(instructions)
    valid = 0
    for pc, (code, jt, jf, k) in enumerate(instructions):
        valid &= masks[pc]
        if code in (op.ST, op.STX):
            valid |= 1 << k
        elif code in (op.LD | op.MEM, op.LDX | op.MEM):
            if not valid & (1 << k):
                raise BpfProgramError(
                    f"M[{k}] may be read before it is written", location=f"instruction {pc}"
                )
        elif code == op.JMP | op.JA:
            masks[pc + 1 + k] &= valid
            valid = 0xFFFF
        elif op.bpf_class(code) == op.JMP:
            masks[pc + 1 + jt] &= valid
            masks[pc + 1 + jf] &= valid
            valid = 0xFFFF


def validated(
    instructions: Sequence[Instruction], where: Callable[[int], str] | None = None
) -> Program:
    """Check `instructions`; an error names the instruction and, given `where`, its input place."""
    try:
        check_program(instructions)
    except BpfProgramError as error:
        location = error.location
        if where and location and location.startswith("instruction "):
            pc = int(location.split()[1])
            location = f"{location} ({where(pc)})"
        raise BpfProgramError(error.message, location=location) from None
    return Program(tuple(instructions))
