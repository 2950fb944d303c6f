"""A fast form of a program: classic BPF translated to a Python function.

The reference interpreter (`interpreter.execute`) decodes every instruction for every packet.
Translating the loop-free program once into nested `if` statements, with bounds checks that a
longer earlier check already covers left out, runs the classic BPFDoor filter several times
faster; tests hold both to the same results and to the kernel's.

The generated source is built from integers only (opcodes and constants of the program), never
from text of the input, so executing it is as safe as running the interpreter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from doorhunt.bpf import opcodes as op
from doorhunt.bpf.interpreter import (
    DEFAULT_METADATA,
    Link,
    Metadata,
    _Buffer,
    _Drop,
    ancillary,
)
from doorhunt.bpf.program import Program

# Python's tokenizer refuses more than 100 indentation levels; deeper subtrees become functions.
_MAX_DEPTH = 40
# A join point reached by several jumps is inlined only when it is a short straight run to a
# return; otherwise it becomes one shared function, so the code stays linear in program size.
_MAX_INLINED_JOIN = 4


class CompiledFilter(Protocol):
    def __call__(self, packet: bytes, meta: Metadata = DEFAULT_METADATA, /) -> int: ...


_ALU_K = {
    op.ADD: "A = (A + {k}) & 0xFFFFFFFF",
    op.SUB: "A = (A - {k}) & 0xFFFFFFFF",
    op.MUL: "A = (A * {k}) & 0xFFFFFFFF",
    op.DIV: "A = A // {k}",
    op.MOD: "A = A % {k}",
    op.AND: "A &= {k}",
    op.OR: "A |= {k}",
    op.XOR: "A ^= {k}",
    op.LSH: "A = (A << {k}) & 0xFFFFFFFF",
    op.RSH: "A >>= {k}",
}
_ALU_X = {
    op.ADD: "A = (A + X) & 0xFFFFFFFF",
    op.SUB: "A = (A - X) & 0xFFFFFFFF",
    op.MUL: "A = (A * X) & 0xFFFFFFFF",
    op.DIV: "if not X: return 0\nA = A // X",
    op.MOD: "if not X: return 0\nA = A % X",
    op.AND: "A &= X",
    op.OR: "A |= X",
    op.XOR: "A ^= X",
    op.LSH: "A = (A << (X & 31)) & 0xFFFFFFFF",
    op.RSH: "A >>= X & 31",
}
_JUMP = {op.JEQ: "A == {v}", op.JGT: "A > {v}", op.JGE: "A >= {v}", op.JSET: "A & {v}"}


def _read(size: int, at: int | str) -> str:
    """Big-endian read of `size` bytes at a constant offset or at the variable named `at`."""

    def place(i: int) -> str:
        if isinstance(at, int):
            return str(at + i)
        return f"{at} + {i}" if i else at

    parts = [f"p[{place(i)}]" for i in range(size)]
    return " | ".join(
        f"{part} << {8 * (size - 1 - i)}" if i < size - 1 else part for i, part in enumerate(parts)
    )


class _Translator:
    def __init__(self, program: Program) -> None:
        self.program = program
        self.lines: list[str] = []
        self.functions: dict[int, list[str]] = {}
        predecessors = [0] * len(program)
        predecessors[0] = 1
        for pc in range(len(program)):
            for successor in program.successors(pc):
                predecessors[successor] += 1
        self.shared = {
            pc for pc, count in enumerate(predecessors) if count > 1 and not self._short_tail(pc)
        }

    def _short_tail(self, pc: int) -> bool:
        for step in range(_MAX_INLINED_JOIN):
            if pc + step >= len(self.program):
                return False
            insn = self.program[pc + step]
            if insn.is_return:
                return True
            if op.bpf_class(insn.code) == op.JMP:
                return False
        return False

    def function_for(self, pc: int) -> str:
        name = f"_at_{pc}"
        if pc not in self.functions:
            body: list[str] = []
            self.functions[pc] = body
            self.emit(pc, body, 1, 0, top=True)
        return name

    def emit(self, pc: int, out: list[str], indent: int, known_length: int, *, top: bool) -> None:
        """Emit code from `pc` to the returns it reaches; `known_length` is a length the packet
        is already known to have on this path."""
        pad = "    " * indent
        program = self.program
        while True:
            if not top and (pc in self.shared or indent > _MAX_DEPTH):
                out.append(f"{pad}return {self.function_for(pc)}(p, n, A, X, M, meta)")
                return
            top = False
            code, jt, jf, k = program[pc]
            cls = op.bpf_class(code)
            if cls == op.RET:
                out.append(f"{pad}return {'A' if op.bpf_rval(code) == op.A else k}")
                return
            if cls == op.JMP:
                operation = op.bpf_op(code)
                if operation == op.JA:
                    pc = pc + 1 + k
                    continue
                if jt == jf:
                    pc = pc + 1 + jt
                    continue
                operand = "X" if op.bpf_src(code) == op.X else str(k)
                out.append(f"{pad}if {_JUMP[operation].format(v=operand)}:")
                self.emit(pc + 1 + jt, out, indent + 1, known_length, top=False)
                pc = pc + 1 + jf
                continue
            for line in self._statement(code, k, known_length).splitlines():
                out.append(pad + line)
            known_length = max(known_length, self._length_after(code, k))
            pc += 1

    @staticmethod
    def _length_after(code: int, k: int) -> int:
        if op.bpf_class(code) == op.LD and op.bpf_mode(code) == op.ABS:
            offset = op.to_signed32(k)
            return offset + op.SIZE_BYTES[op.bpf_size(code)] if offset >= 0 else 0
        if code == op.LDX | op.B | op.MSH and op.to_signed32(k) >= 0:
            return op.to_signed32(k) + 1
        return 0

    @staticmethod
    def _statement(code: int, k: int, known_length: int) -> str:
        cls, mode = op.bpf_class(code), op.bpf_mode(code)
        if cls == op.LD and mode == op.ABS:
            offset, size = op.to_signed32(k), op.SIZE_BYTES[op.bpf_size(code)]
            if op.SKF_AD_OFF <= offset < 0:
                return f"A = _ancillary({offset - op.SKF_AD_OFF}, A, X, p, meta)"
            if offset < 0:
                return f"A = _load(p, {offset}, {size}, meta)\nif A < 0: return 0"
            check = "" if offset + size <= known_length else f"if n < {offset + size}: return 0\n"
            return check + "A = " + _read(size, offset)
        if cls == op.LD and mode == op.IND:
            size = op.SIZE_BYTES[op.bpf_size(code)]
            return (
                f"o = (X + {k}) & 0xFFFFFFFF\n"
                f"if o + {size} <= n: A = {_read(size, 'o')}\n"
                f"else:\n    A = _load(p, o, {size}, meta)\n    if A < 0: return 0"
            )
        if code == op.LDX | op.B | op.MSH:
            offset = op.to_signed32(k)
            if offset < 0:
                return f"X = _load(p, {offset}, 1, meta)\nif X < 0: return 0\nX = (X & 15) << 2"
            check = "" if offset < known_length else f"if n <= {offset}: return 0\n"
            return f"{check}X = (p[{offset}] & 15) << 2"
        register = "A" if cls == op.LD else "X"
        if cls in (op.LD, op.LDX):
            if mode == op.LEN:
                return f"{register} = n"
            if mode == op.IMM:
                return f"{register} = {k}"
            return f"{register} = M[{k}]"
        if cls == op.ST:
            return f"M[{k}] = A"
        if cls == op.STX:
            return f"M[{k}] = X"
        if cls == op.ALU:
            operation = op.bpf_op(code)
            if operation == op.NEG:
                return "A = -A & 0xFFFFFFFF"
            if op.bpf_src(code) == op.X:
                return _ALU_X[operation]
            return _ALU_K[operation].format(k=k)
        return "X = A" if op.bpf_miscop(code) == op.TAX else "A = X"

    def source(self) -> str:
        body: list[str] = []
        self.emit(0, body, 1, 0, top=True)
        parts = ["def _filter(p, meta=_DEFAULT):", "    n = len(p)", "    A = X = 0"]
        uses_memory = any(insn.code in (op.ST, op.STX) for insn in self.program)
        parts.append("    M = [0] * 16" if uses_memory else "    M = None")
        parts += body
        for pc, lines in sorted(self.functions.items()):
            parts.append(f"def _at_{pc}(p, n, A, X, M, meta):")
            parts += lines
        return "\n".join(parts) + "\n"


def translate(program: Program) -> str:
    """The Python source of `program`'s fast form (for reading and debugging)."""
    return _Translator(program).source()


def compile_filter(program: Program, link: Link = Link.ETHERNET) -> CompiledFilter:
    """A function `f(packet, meta=DEFAULT_METADATA) -> int` equal to interpreter.execute()."""

    def load(packet: bytes, offset: int, size: int, meta: Metadata) -> int:
        try:
            return _Buffer.of(packet, link, meta).load(op.to_signed32(offset), size)
        except _Drop:
            return -1

    def ancillary_value(field: int, a: int, x: int, packet: bytes, meta: Metadata) -> int:
        return ancillary(field, a, x, packet, link, meta)

    namespace: dict[str, object] = {
        "_DEFAULT": DEFAULT_METADATA,
        "_load": load,
        "_ancillary": ancillary_value,
    }
    code = compile(translate(program), f"<bpf program, {len(program)} instructions>", "exec")
    exec(code, namespace)  # noqa: S102 - source generated from integers only, see module docstring
    function = namespace["_filter"]
    assert callable(function)
    return _typed(function)


def _typed(function: Callable[..., object]) -> CompiledFilter:
    return function  # type: ignore[return-value]


__all__ = ["CompiledFilter", "compile_filter", "translate"]
