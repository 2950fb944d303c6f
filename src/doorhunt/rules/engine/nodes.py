"""The engine's syntax tree: what a query means, independent of how it is run.

The `eql` package's own tree folds distinctions Elasticsearch makes (`like` and `like~` both
become `wildcard`, `in~` becomes `in`, `startsWith~` loses its `~`), so the parser builds
this tree from eql's grammar instead (parser.py). Every node keeps its source span for
located errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal as TypingLiteral

Scalar = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Span:
    """Where a node is in the query text: 1-based line and column, end exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


NO_SPAN = Span(1, 1, 1, 2)


@dataclass(frozen=True, slots=True)
class Literal:
    value: Scalar
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Field:
    """A field reference; `optional` is the `?field` form."""

    path: tuple[str, ...]
    optional: bool = False
    span: Span = NO_SPAN

    @property
    def name(self) -> str:
        return ".".join(self.path)


CompareOp = TypingLiteral["==", "!=", "<", "<=", ">", ">="]
ArithOp = TypingLiteral["+", "-", "*", "/", "%"]
PatternKind = TypingLiteral["like", "regex"]


@dataclass(frozen=True, slots=True)
class Compare:
    op: CompareOp
    left: Expr
    right: Expr
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class InList:
    """`x in (...)`, `x in~ (...)`; `not in` is Not(InList)."""

    value: Expr
    items: tuple[Literal, ...]
    insensitive: bool
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Pattern:
    """`like`, `like~`, `regex`, `regex~` and `:` (which is `like~`) against literal patterns."""

    value: Expr
    kind: PatternKind
    insensitive: bool
    patterns: tuple[str, ...]
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Call:
    """A function call; `name` is the canonical (Elasticsearch documentation) spelling."""

    name: str
    args: tuple[Expr, ...]
    insensitive: bool = False
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Arith:
    op: ArithOp
    left: Expr
    right: Expr
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Expr
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class IsNull:
    """`x == null`; `x != null` is Not(IsNull)."""

    value: Expr
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class And:
    terms: tuple[Expr, ...]
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Or:
    terms: tuple[Expr, ...]
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Not:
    term: Expr
    span: Span = NO_SPAN


Expr = (
    Literal | Field | Compare | InList | Pattern | Call | Arith | Negate | IsNull | And | Or | Not
)


@dataclass(frozen=True, slots=True)
class EventQuery:
    """`category where condition`; category None is `any`."""

    category: str | None
    condition: Expr
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Step:
    """One bracketed query of a sequence or sample, with its join keys (shared keys first)."""

    query: EventQuery
    keys: tuple[Field, ...] = ()
    missing: bool = False
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Sequence:
    steps: tuple[Step, ...]
    until: Step | None = None
    maxspan_us: int | None = None
    span: Span = NO_SPAN

    @property
    def positive(self) -> tuple[int, ...]:
        """Indexes of the steps that must match (not `![...]`)."""
        return tuple(i for i, step in enumerate(self.steps) if not step.missing)


@dataclass(frozen=True, slots=True)
class Sample:
    steps: tuple[Step, ...]
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Pipe:
    name: TypingLiteral["head", "tail"]
    count: int
    span: Span = NO_SPAN


Body = EventQuery | Sequence | Sample


@dataclass(frozen=True, slots=True)
class Query:
    body: Body
    pipes: tuple[Pipe, ...] = ()

    @property
    def kind(self) -> TypingLiteral["event", "sequence", "sample"]:
        if isinstance(self.body, Sequence):
            return "sequence"
        if isinstance(self.body, Sample):
            return "sample"
        return "event"

    @property
    def steps(self) -> tuple[Step, ...]:
        """The queries events are matched against, in order (an event query is one step)."""
        if isinstance(self.body, EventQuery):
            return (Step(self.body),)
        return self.body.steps


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct subexpressions of `expr`."""
    if isinstance(expr, Compare | Arith):
        return (expr.left, expr.right)
    if isinstance(expr, InList | Pattern | IsNull):
        return (expr.value,)
    if isinstance(expr, Call):
        return expr.args
    if isinstance(expr, Negate):
        return (expr.operand,)
    if isinstance(expr, And | Or):
        return expr.terms
    if isinstance(expr, Not):
        return (expr.term,)
    return ()


def fields_of(expr: Expr) -> list[Field]:
    """Every field `expr` reads, in order of appearance."""
    if isinstance(expr, Field):
        return [expr]
    found: list[Field] = []
    for child in children(expr):
        found.extend(fields_of(child))
    return found


__all__ = [
    "NO_SPAN",
    "And",
    "Arith",
    "ArithOp",
    "Body",
    "Call",
    "Compare",
    "CompareOp",
    "EventQuery",
    "Expr",
    "Field",
    "InList",
    "IsNull",
    "Literal",
    "Negate",
    "Not",
    "Or",
    "Pattern",
    "PatternKind",
    "Pipe",
    "Query",
    "Sample",
    "Scalar",
    "Sequence",
    "Span",
    "Step",
    "children",
    "fields_of",
]
