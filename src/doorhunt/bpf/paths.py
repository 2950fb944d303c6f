"""Symbolic execution: every path through a program that can end in a non-zero return.

A classic program is loop-free (jumps only go forward), so its control flow is a DAG and each
accepting path is a conjunction of branch conditions on symbolic values (expr.py). Paths can be
exponential in number, so the search
  * follows only edges from which a non-zero return is reachable,
  * drops a branch as soon as its condition contradicts what the path already assumed
    (bit-level facts about packet bytes, value ranges, excluded values),
  * lists paths exhaustively up to `max_paths`, then keeps only paths that cover a branch
    outcome no listed path covers yet: every comparison that can lead to acceptance still
    appears in some listed path, whatever the program's shape,
  * stops after `max_steps` symbolic instructions and says so (`complete=False`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from doorhunt.bpf import opcodes as op
from doorhunt.bpf.expr import (
    ZERO,
    Ancillary,
    Binary,
    Concrete,
    Const,
    Expr,
    Length,
    Load,
    Opaque,
    Space,
    binary,
    split_sum,
)
from doorhunt.bpf.interpreter import U32, Link
from doorhunt.bpf.program import Program

MAX_REFUTATIONS = 16


class Relation(StrEnum):
    EQ = "=="
    NE = "!="
    GT = ">"
    LE = "<="
    GE = ">="
    LT = "<"
    ANY_BIT = "&"  # jset taken: left & right != 0
    NO_BIT = "!&"  # jset not taken: left & right == 0

    def negated(self) -> Relation:
        return _NEGATION[self]

    def holds(self, left: int, right: int) -> bool:
        if self is Relation.EQ:
            return left == right
        if self is Relation.NE:
            return left != right
        if self is Relation.GT:
            return left > right
        if self is Relation.LE:
            return left <= right
        if self is Relation.GE:
            return left >= right
        if self is Relation.LT:
            return left < right
        if self is Relation.ANY_BIT:
            return left & right != 0
        return left & right == 0


_NEGATION = {
    Relation.EQ: Relation.NE,
    Relation.NE: Relation.EQ,
    Relation.GT: Relation.LE,
    Relation.LE: Relation.GT,
    Relation.GE: Relation.LT,
    Relation.LT: Relation.GE,
    Relation.ANY_BIT: Relation.NO_BIT,
    Relation.NO_BIT: Relation.ANY_BIT,
}
_JUMP_RELATION = {
    op.JEQ: Relation.EQ,
    op.JGT: Relation.GT,
    op.JGE: Relation.GE,
    op.JSET: Relation.ANY_BIT,
}


@dataclass(frozen=True, slots=True)
class Condition:
    """`left relation right`, assumed at instruction `pc` (a branch, or a division by X)."""

    pc: int
    left: Expr
    relation: Relation
    right: Expr

    def holds(self, packet: Concrete) -> bool:
        return self.relation.holds(self.left.evaluate(packet), self.right.evaluate(packet))

    def __str__(self) -> str:
        return f"{self.left} {self.relation} {self.right}"


@dataclass(frozen=True, slots=True)
class Path:
    """One way through the program to a non-zero return."""

    instructions: tuple[int, ...]
    conditions: tuple[Condition, ...]
    loads: tuple[Load, ...]  # every packet load on the way; each must be inside the packet
    result: Expr  # the return value: the number of bytes the socket keeps
    facts: Facts = field(compare=False, repr=False)  # what the conditions imply, combined


@dataclass(frozen=True, slots=True)
class PathAnalysis:
    program: Program
    link: Link
    paths: tuple[Path, ...]
    exhaustive: bool  # every accepting path is listed
    complete: bool  # False: the step budget ran out; some comparisons may be missing
    steps: int


# --- facts a path has assumed, for pruning contradictions --------------------------------

ByteKey = tuple[Space, tuple[Expr, ...], int]


@functools.lru_cache(maxsize=65536)
def _byte_keys(load: Load) -> tuple[ByteKey, ...]:
    terms, base = split_sum(load.address)
    return tuple((load.space, terms, (base + i) & U32) for i in range(load.size))


@dataclass(slots=True)
class Facts:
    """What a path has assumed: known bits of packet bytes, and ranges and excluded values of
    expressions. Incomplete by design (it only has to catch the contradictions that compiled
    filters produce); a path it cannot refute is kept."""

    bits: dict[ByteKey, tuple[int, int]] = field(default_factory=dict)  # byte → (ones, zeros)
    ranges: dict[Expr, tuple[int, int]] = field(default_factory=dict)
    excluded: dict[Expr, frozenset[int]] = field(default_factory=dict)
    # `load & mask != 0` with several bits in mask: re-checked whenever bits become known.
    some_bit_set: tuple[tuple[Load, int], ...] = ()

    def copy(self) -> Facts:
        return Facts(dict(self.bits), dict(self.ranges), dict(self.excluded), self.some_bit_set)

    def assume(self, left: Expr, relation: Relation, right: Expr) -> bool:
        """Add `left relation right`; False when it contradicts what is known."""
        if isinstance(left, Const) and isinstance(right, Const):
            return relation.holds(left.value, right.value)
        if not isinstance(right, Const):
            return True  # a relation between two unknowns: nothing cheap to check
        value = right.value
        load, mask = masked_load(left)
        if relation is Relation.EQ:
            if load is not None and not self._set_bits(load, mask, value & mask, mask & ~value):
                return False
            if load is not None and value & ~mask:
                return False
            return self._narrow(left, value, value) and value not in self.excluded.get(left, ())
        if relation is Relation.NE:
            low, high = self.bounds(left)
            if low == high == value:
                return False
            self.excluded[left] = self.excluded.get(left, frozenset()) | {value}
            return True
        if relation in (Relation.GT, Relation.GE, Relation.LE, Relation.LT):
            low, high = {
                Relation.GT: (value + 1, U32),
                Relation.GE: (value, U32),
                Relation.LE: (0, value),
                Relation.LT: (0, value - 1),
            }[relation]
            return low <= high and self._narrow(left, low, high)
        if relation is Relation.NO_BIT:
            if load is None:
                return True
            return self._set_bits(load, mask, 0, value & mask)
        # ANY_BIT
        if load is None:
            return True
        _, zeros = self.known_bits(load)
        if value & mask & ~zeros == 0:
            return False
        if (value & mask).bit_count() == 1:
            return self._set_bits(load, mask, value & mask, 0)
        self.some_bit_set += ((load, value & mask),)
        return True

    def known_bits(self, load: Load) -> tuple[int, int]:
        ones = zeros = 0
        for key in _byte_keys(load):
            byte_ones, byte_zeros = self.bits.get(key, (0, 0))
            ones, zeros = (ones << 8) | byte_ones, (zeros << 8) | byte_zeros
        return ones, zeros

    def _set_bits(self, load: Load, mask: int, ones: int, zeros: int) -> bool:
        for index, key in enumerate(_byte_keys(load)):
            shift = 8 * (load.size - 1 - index)
            if not (mask >> shift) & 0xFF:
                continue
            old_ones, old_zeros = self.bits.get(key, (0, 0))
            new_ones = old_ones | (ones >> shift) & 0xFF
            new_zeros = old_zeros | (zeros >> shift) & 0xFF
            if new_ones & new_zeros:
                return False
            self.bits[key] = (new_ones, new_zeros)
        for other, wanted in self.some_bit_set:
            if wanted & ~self.known_bits(other)[1] == 0:
                return False
        return self._range_fits_bits(load)

    def bounds(self, expr: Expr) -> tuple[int, int]:
        low, high = self.ranges.get(expr, (0, U32))
        if isinstance(expr, Load):
            ones, zeros = self.known_bits(expr)
            width = (1 << (8 * expr.size)) - 1
            low, high = max(low, ones), min(high, width & ~zeros)
        return low, high

    def _narrow(self, expr: Expr, low: int, high: int) -> bool:
        old_low, old_high = self.ranges.get(expr, (0, U32))
        low, high = max(low, old_low), min(high, old_high)
        if low > high:
            return False
        self.ranges[expr] = (low, high)
        known_low, known_high = self.bounds(expr)
        return known_low <= known_high

    def _range_fits_bits(self, load: Load) -> bool:
        low, high = self.bounds(load)
        return low <= high


def _normalized(left: Expr, relation: Relation, right: Expr) -> tuple[Expr, Relation, Expr]:
    """Move invertible constant arithmetic to the right of an (in)equality, so that
    `(L - 0x7255) == 0` (unoptimised libpcap code) reads as `L == 0x7255`."""
    if relation not in (Relation.EQ, Relation.NE) or not isinstance(right, Const):
        return left, relation, right
    while isinstance(left, Binary) and isinstance(left.right, Const):
        constant = left.right.value
        if left.operation == op.ADD:
            right = Const((right.value - constant) & U32)
        elif left.operation == op.SUB:
            right = Const((right.value + constant) & U32)
        elif left.operation == op.XOR:
            right = Const(right.value ^ constant)
        else:
            break
        left = left.left
    return left, relation, right


def masked_load(expr: Expr) -> tuple[Load | None, int]:
    """`L` or `L & m` (m constant) as (L, m); anything else as (None, all ones)."""
    if isinstance(expr, Load):
        return expr, (1 << (8 * expr.size)) - 1
    if (
        isinstance(expr, Binary)
        and expr.operation == op.AND
        and isinstance(expr.left, Load)
        and isinstance(expr.right, Const)
    ):
        return expr.left, expr.right.value & ((1 << (8 * expr.left.size)) - 1)
    return None, U32


# --- the search ----------------------------------------------------------------------------

Cons = tuple[object, "Cons"] | None


@dataclass(slots=True)
class _State:
    pc: int
    a: Expr
    x: Expr
    memory: tuple[Expr, ...]
    facts: Facts
    instructions: Cons = None
    conditions: Cons = None
    loads: Cons = None
    edges: int = 0  # bit set of branch outcomes taken


def _unwind(chain: Cons) -> tuple[Any, ...]:
    """The items of a cons chain, oldest first (chains make branching O(1))."""
    items: list[object] = []
    while chain is not None:
        items.append(chain[0])
        chain = chain[1]
    return tuple(reversed(items))


class _Search:
    def __init__(self, program: Program, link: Link, max_paths: int, max_steps: int) -> None:
        self.program, self.link = program, link
        self.max_paths, self.max_steps = max_paths, max_steps
        size = len(program)
        # may_accept[pc]: some return reachable from pc can be non-zero.
        self.may_accept = [False] * size
        # reach[pc]: bit set of branch outcomes (2*pc, 2*pc+1) reachable from pc on the way to
        # an accepting return.
        self.reach = [0] * size
        for pc in range(size - 1, -1, -1):
            insn = program[pc]
            if insn.is_return:
                self.may_accept[pc] = insn.code == op.RET | op.A or insn.k != 0
                continue
            successors = program.successors(pc)
            self.may_accept[pc] = any(self.may_accept[s] for s in successors)
            reach = 0
            if insn.is_conditional_jump and insn.jt != insn.jf:
                for outcome, target in ((0, pc + 1 + insn.jt), (1, pc + 1 + insn.jf)):
                    if self.may_accept[target]:
                        reach |= (1 << (2 * pc + outcome)) | self.reach[target]
            else:
                for target in successors:
                    reach |= self.reach[target]
            self.reach[pc] = reach
        self.covered = 0
        self.refutations: dict[int, int] = {}
        self.paths: list[Path] = []
        self.steps = 0
        self.exhaustive = True
        self.complete = True

    def run(self) -> PathAnalysis:
        if self.may_accept[0]:
            memory = tuple(ZERO for _ in range(op.MEMWORDS))
            stack = [_State(0, ZERO, ZERO, memory, Facts())]
            while stack:
                if self.steps > self.max_steps:
                    self.complete = self.exhaustive = False
                    break
                self._advance(stack.pop(), stack)
        return PathAnalysis(
            self.program, self.link, tuple(self.paths), self.exhaustive, self.complete, self.steps
        )

    def _wanted(self, edge: int, target: int, taken: int) -> bool:
        """Follow `edge`? Always while listing every path; in covering mode only if the path
        (with `taken`, its outcomes so far) can still add an outcome no listed path has."""
        if not self.may_accept[target]:
            return False
        if len(self.paths) < self.max_paths:
            return True
        self.exhaustive = False
        return bool(((1 << edge) | self.reach[target] | taken) & ~self.covered)

    def _refuted(self, edge: int) -> None:
        """An outcome the path's facts rule out. In covering mode an outcome refuted again and
        again is likely infeasible on every path: stop looking for it, so the search ends."""
        if len(self.paths) < self.max_paths:
            return
        self.refutations[edge] = self.refutations.get(edge, 0) + 1
        if self.refutations[edge] >= MAX_REFUTATIONS:
            self.covered |= 1 << edge

    def _load(self, k: int, size: int) -> Load | None:
        """The load at constant offset `k` (as the kernel reads it), or None when it always
        fails."""
        offset = op.to_signed32(k)
        if offset >= 0:
            return Load(Space.PACKET, Const(offset), size)
        if offset >= op.SKF_NET_OFF:
            return Load(
                Space.PACKET, Const(self.link.network_offset + offset - op.SKF_NET_OFF), size
            )
        if offset >= op.SKF_LL_OFF:
            if self.link is Link.ETHERNET:
                return Load(Space.PACKET, Const(offset - op.SKF_LL_OFF), size)
            return Load(Space.LINK, Const(offset - op.SKF_LL_OFF), size)
        return None

    def _advance(self, state: _State, stack: list[_State]) -> None:
        program = self.program
        while True:
            self.steps += 1
            pc = state.pc
            state.instructions = (pc, state.instructions)
            code, jt, jf, k = program[pc]
            cls = op.bpf_class(code)
            if cls == op.RET:
                result = state.a if op.bpf_rval(code) == op.A else Const(k)
                if isinstance(result, Const) and result.value == 0:
                    return
                if not isinstance(result, Const):
                    if not state.facts.assume(result, Relation.NE, ZERO):
                        return
                    state.conditions = (Condition(pc, result, Relation.NE, ZERO), state.conditions)
                self._record(state, result)
                return
            if cls == op.JMP:
                operation = op.bpf_op(code)
                if operation == op.JA:
                    state.pc = pc + 1 + k
                    continue
                if jt == jf:
                    state.pc = pc + 1 + jt
                    continue
                left, relation, right = _normalized(
                    state.a,
                    _JUMP_RELATION[operation],
                    state.x if op.bpf_src(code) == op.X else Const(k),
                )
                outcomes = [
                    (2 * pc + outcome, target, rel)
                    for outcome, target, rel in (
                        (1, pc + 1 + jf, relation.negated()),
                        (0, pc + 1 + jt, relation),
                    )
                    if self._wanted(2 * pc + outcome, target, state.edges)
                ]
                branches = []
                for index, (edge, target, rel) in enumerate(outcomes):
                    # The last outcome inherits the facts; the others need their own copy.
                    facts = state.facts if index == len(outcomes) - 1 else state.facts.copy()
                    if not facts.assume(left, rel, right):
                        self._refuted(edge)
                        continue
                    branches.append(
                        _State(
                            target,
                            state.a,
                            state.x,
                            state.memory,
                            facts,
                            state.instructions,
                            (Condition(pc, left, rel, right), state.conditions),
                            state.loads,
                            state.edges | (1 << edge),
                        )
                    )
                stack.extend(branches)
                return
            if not self._step(state, code, k):
                return
            state.pc = pc + 1

    def _step(self, state: _State, code: int, k: int) -> bool:
        """Execute one non-branch instruction symbolically; False when the path always drops."""
        cls, mode = op.bpf_class(code), op.bpf_mode(code)
        if cls == op.LD and mode == op.ABS:
            offset = op.to_signed32(k)
            if op.SKF_AD_OFF <= offset < 0:
                state.a = self._ancillary(offset - op.SKF_AD_OFF, state)
                return True
            load = self._load(k, op.SIZE_BYTES[op.bpf_size(code)])
            if load is None:
                return False
            state.a = load
            state.loads = (load, state.loads)
        elif cls == op.LD and mode == op.IND:
            address = binary(op.ADD, state.x, Const(k))
            size = op.SIZE_BYTES[op.bpf_size(code)]
            if isinstance(address, Const):
                load = self._load(address.value, size)
                if load is None:
                    return False
            else:
                load = Load(Space.PACKET, address, size)
            state.a = load
            state.loads = (load, state.loads)
        elif code == op.LDX | op.B | op.MSH:
            load = self._load(k, 1)
            if load is None:
                return False
            state.x = binary(op.LSH, binary(op.AND, load, Const(0x0F)), Const(2))
            state.loads = (load, state.loads)
        elif cls in (op.LD, op.LDX):
            value: Expr
            if mode == op.LEN:
                value = Length()
            elif mode == op.IMM:
                value = Const(k)
            else:
                value = state.memory[k]
            if cls == op.LD:
                state.a = value
            else:
                state.x = value
        elif cls in (op.ST, op.STX):
            memory = list(state.memory)
            memory[k] = state.a if cls == op.ST else state.x
            state.memory = tuple(memory)
        elif cls == op.ALU:
            operation = op.bpf_op(code)
            operand = state.x if op.bpf_src(code) == op.X else Const(k)
            if operation in (op.DIV, op.MOD) and op.bpf_src(code) == op.X:
                if not state.facts.assume(state.x, Relation.NE, ZERO):
                    return False
                if not isinstance(state.x, Const):
                    state.conditions = (
                        Condition(state.pc, state.x, Relation.NE, ZERO),
                        state.conditions,
                    )
            state.a = binary(operation, state.a, operand)
        elif op.bpf_miscop(code) == op.TAX:
            state.x = state.a
        else:
            state.a = state.x
        return True

    def _ancillary(self, field: int, state: _State) -> Expr:
        if field == 40:  # SKF_AD_ALU_XOR_X
            return binary(op.XOR, state.a, state.x)
        if field in (12, 16):  # netlink attribute search at offset A for type X
            return Opaque("nlattr", state.pc)
        return Ancillary(field)

    def _record(self, state: _State, result: Expr) -> None:
        if len(self.paths) >= self.max_paths and not state.edges & ~self.covered:
            return
        self.covered |= state.edges
        self.paths.append(
            Path(
                instructions=_unwind(state.instructions),
                conditions=_unwind(state.conditions),
                loads=_unwind(state.loads),
                result=result,
                facts=state.facts,
            )
        )


def explore(
    program: Program,
    link: Link = Link.ETHERNET,
    *,
    max_paths: int = 256,
    max_steps: int = 200_000,
) -> PathAnalysis:
    """The accepting paths of `program` as it runs on a socket of kind `link`."""
    return _Search(program, link, max_paths, max_steps).run()


__all__ = ["Condition", "Path", "PathAnalysis", "Relation", "explore"]
