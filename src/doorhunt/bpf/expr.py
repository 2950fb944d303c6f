"""Symbolic values of the A and X registers: expressions over packet bytes and metadata."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from doorhunt.bpf import opcodes as op
from doorhunt.bpf.interpreter import U32, Link, Metadata, _Buffer, _Drop, alu, ancillary


class Space(StrEnum):
    """What a load's address counts from."""

    PACKET = "pkt"  # the filter's offset 0 (network-relative loads are folded into this)
    LINK = "ll"  # the link header when it lies before offset 0 (Link.IP with SKF_LL_OFF)


class Expr:
    """Base of the expression nodes; all are immutable and hashable."""

    __slots__ = ()

    def evaluate(self, packet: Concrete) -> int:
        raise NotImplementedError

    def loads(self) -> Iterator[Load]:
        return iter(())


@dataclass(frozen=True, slots=True)
class Const(Expr):
    value: int

    def evaluate(self, packet: Concrete) -> int:
        return self.value

    def __str__(self) -> str:
        return f"{self.value:#x}" if self.value > 9 else str(self.value)


@dataclass(frozen=True, slots=True)
class Load(Expr):
    """`size` bytes, big-endian, at `address` (itself an expression) in `space`."""

    space: Space
    address: Expr
    size: int
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Expressions nest deeply and are dictionary keys on hot paths: hash once.
        object.__setattr__(self, "_hash", hash((Load, self.space, self.address, self.size)))

    def __hash__(self) -> int:
        return self._hash

    def evaluate(self, packet: Concrete) -> int:
        return packet.load(self.space, self.address.evaluate(packet), self.size)

    def loads(self) -> Iterator[Load]:
        yield from self.address.loads()
        yield self

    def __str__(self) -> str:
        return f"{self.space}[{self.address}:{self.size}]"


@dataclass(frozen=True, slots=True)
class Ancillary(Expr):
    """A metadata field that depends on nothing but the packet's metadata (SKF_AD_*)."""

    field: int

    def evaluate(self, packet: Concrete) -> int:
        return ancillary(self.field, 0, 0, packet.data, packet.link, packet.meta)

    def __str__(self) -> str:
        return f"#{op.ANCILLARY[self.field][1]}"


@dataclass(frozen=True, slots=True)
class Length(Expr):
    """skb->len: the packet's length from the filter's offset 0."""

    def evaluate(self, packet: Concrete) -> int:
        return len(packet.data)

    def __str__(self) -> str:
        return "len"


@dataclass(frozen=True, slots=True)
class Opaque(Expr):
    """A value the analysis does not model (netlink attribute search on a computed offset)."""

    label: str
    pc: int

    def evaluate(self, packet: Concrete) -> int:
        raise Unmodelled(self.label)

    def __str__(self) -> str:
        return f"<{self.label}@{self.pc}>"


@dataclass(frozen=True, slots=True)
class Binary(Expr):
    operation: int  # an ALU operation from opcodes (ADD, AND, ...)
    left: Expr
    right: Expr
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((Binary, self.operation, self.left, self.right)))

    def __hash__(self) -> int:
        return self._hash

    def evaluate(self, packet: Concrete) -> int:
        return alu(self.operation, self.left.evaluate(packet), self.right.evaluate(packet))

    def loads(self) -> Iterator[Load]:
        yield from self.left.loads()
        yield from self.right.loads()

    def __str__(self) -> str:
        if self.operation == op.NEG:
            return f"-({self.left})"
        return f"({self.left} {SYMBOLS[self.operation]} {self.right})"


SYMBOLS = {
    op.ADD: "+",
    op.SUB: "-",
    op.MUL: "*",
    op.DIV: "/",
    op.MOD: "%",
    op.AND: "&",
    op.OR: "|",
    op.XOR: "^",
    op.LSH: "<<",
    op.RSH: ">>",
}


class Unmodelled(Exception):
    """Evaluation reached an Opaque value."""


@dataclass(frozen=True, slots=True)
class Concrete:
    """A concrete packet to evaluate expressions on; raises OutOfBounds for a failed load."""

    data: bytes
    link: Link
    meta: Metadata

    def load(self, space: Space, address: int, size: int) -> int:
        buffer = _Buffer.of(self.data, self.link, self.meta)
        try:
            if space is Space.PACKET:
                return buffer.load(op.to_signed32(address), size)
            return buffer.load(op.SKF_LL_OFF + address, size)
        except _Drop:
            raise OutOfBounds(space, address, size) from None


class OutOfBounds(Exception):
    def __init__(self, space: Space, address: int, size: int) -> None:
        super().__init__(f"{space}[{address}:{size}] is outside the packet")
        self.space, self.address, self.size = space, address, size


ZERO = Const(0)


def binary(operation: int, left: Expr, right: Expr) -> Expr:
    """Build `left op right`, folded and in a canonical form so equal values compare equal."""
    if isinstance(left, Const) and isinstance(right, Const):
        if operation in (op.DIV, op.MOD) and right.value == 0:
            return Binary(operation, left, right)
        return Const(alu(operation, left.value, right.value))
    if operation == op.NEG:
        return Binary(op.NEG, left, ZERO)
    if operation in (op.ADD, op.SUB) and isinstance(right, Const):
        constant = right.value if operation == op.ADD else -right.value
        terms, base = split_sum(left)
        return make_sum(terms, base + constant)
    if operation == op.ADD:
        left_terms, left_const = split_sum(left)
        right_terms, right_const = split_sum(right)
        return make_sum(left_terms + right_terms, left_const + right_const)
    if isinstance(right, Const):
        value = right.value
        if (
            (operation in (op.OR, op.XOR, op.LSH, op.RSH) and value == 0)
            or (operation == op.AND and value == U32)
            or (operation in (op.MUL, op.DIV) and value == 1)
        ):
            return left
        if (operation == op.AND and value == 0) or (operation == op.MUL and value == 0):
            return ZERO
        if operation == op.AND and isinstance(left, Load) and value >= (1 << (8 * left.size)) - 1:
            return left
    if operation in (op.ADD, op.MUL, op.AND, op.OR, op.XOR) and isinstance(left, Const):
        return binary(operation, right, left)
    return Binary(operation, left, right)


def split_sum(expr: Expr) -> tuple[tuple[Expr, ...], int]:
    """`expr` as terms + constant (mod 2**32)."""
    if isinstance(expr, Const):
        return (), expr.value
    if isinstance(expr, Binary) and expr.operation == op.ADD:
        left_terms, left_const = split_sum(expr.left)
        right_terms, right_const = split_sum(expr.right)
        return left_terms + right_terms, (left_const + right_const) & U32
    return (expr,), 0


def make_sum(terms: tuple[Expr, ...], constant: int) -> Expr:
    constant &= U32
    ordered = sorted(terms, key=hash)  # any fixed order makes equal sums equal trees
    if not ordered:
        return Const(constant)
    result: Expr = ordered[0]
    for term in ordered[1:]:
        result = Binary(op.ADD, result, term)
    return Binary(op.ADD, result, Const(constant)) if constant else result


def single_load(expr: Expr) -> Load | None:
    """The one packet load `expr` depends on, if it depends on exactly one and nothing else
    that varies (metadata, length)."""
    found: Load | None = None

    def walk(node: Expr) -> bool:
        nonlocal found
        if isinstance(node, Const):
            return True
        if isinstance(node, Load):
            if found is not None and found != node:
                return False
            found = node
            return True
        if isinstance(node, Binary):
            return walk(node.left) and walk(node.right)
        return False

    return found if walk(expr) else None


def substitute(expr: Expr, target: Load, value: int) -> Expr:
    """`expr` with `target` replaced by a constant (for solving one load at a time)."""
    if expr == target:
        return Const(value)
    if isinstance(expr, Binary):
        return binary(
            expr.operation,
            substitute(expr.left, target, value),
            substitute(expr.right, target, value),
        )
    return expr


@functools.lru_cache(maxsize=4096)
def as_function_of_byte(expr: Expr) -> tuple[Load, tuple[int, ...]] | None:
    """For an expression of one byte load: the load and the expression's value for each of the
    256 byte values. Lets the analysis recognise a computation by what it does (for example
    `4*(b & 0xf)` however it is written) instead of by its instruction sequence."""
    load = single_load(expr)
    if load is None or load.size != 1:
        return None
    try:
        return load, tuple(_table(expr, load))
    except _Drop:
        return None


_BYTES = list(range(256))


def _table(expr: Expr, load: Load) -> list[int]:
    """`expr` evaluated for every value of `load`, one ALU operation over all 256 at a time."""
    if expr == load:
        return _BYTES
    if isinstance(expr, Const):
        return [expr.value] * 256
    assert isinstance(expr, Binary)  # single_load() admits only these three
    left, right = _table(expr.left, load), _table(expr.right, load)
    return [alu(expr.operation, a, b) for a, b in zip(left, right, strict=True)]


IHL_TABLE = tuple((byte & 0x0F) * 4 for byte in range(256))  # IPv4 header length in bytes
DATA_OFFSET_TABLE = tuple((byte >> 4) * 4 for byte in range(256))  # TCP header length in bytes
