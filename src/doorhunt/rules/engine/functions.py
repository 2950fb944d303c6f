"""The EQL functions Elasticsearch supports, with their arity and case-insensitive forms.

Source: the EQL function reference (reference/query-languages/eql/eql-function-ref).
Elasticsearch resolves function names without regard to letter case (its function registry
normalises names), so `cidrmatch` and `CIDRMATCH` are `cidrMatch`; the `eql` package does
not, which is one reason it rejects Elastic's own rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    name: str
    min_args: int
    max_args: int | None
    # `name~(...)` is allowed (the function reference lists a case-insensitive form).
    insensitive: bool = False
    # Argument positions that must be literals (Elasticsearch folds them at planning).
    literal_args: tuple[int, ...] = ()
    # Positions from which every further argument must be a literal.
    literal_from: int | None = None


FUNCTIONS: Final[Mapping[str, FunctionSpec]] = {
    spec.name.lower(): spec
    for spec in (
        FunctionSpec("add", 2, 2),
        FunctionSpec("between", 3, 4, insensitive=True, literal_args=(3,)),
        FunctionSpec("cidrMatch", 2, None, literal_from=1),
        FunctionSpec("concat", 1, None),
        FunctionSpec("divide", 2, 2),
        FunctionSpec("endsWith", 2, 2, insensitive=True),
        FunctionSpec("indexOf", 2, 3, insensitive=True),
        FunctionSpec("length", 1, 1),
        FunctionSpec("modulo", 2, 2),
        FunctionSpec("multiply", 2, 2),
        FunctionSpec("number", 1, 2, literal_args=(1,)),
        FunctionSpec("startsWith", 2, 2, insensitive=True),
        FunctionSpec("string", 1, 1),
        FunctionSpec("stringContains", 2, 2, insensitive=True),
        FunctionSpec("substring", 2, 3),
        FunctionSpec("subtract", 2, 2),
    )
}

# Functions of the `eql` package (Endgame EQL) that Elasticsearch does not have
# (reference/query-languages/eql/eql-syntax, "Differences from Endgame EQL syntax").
ENDGAME_ONLY: Final = frozenset(
    {
        "arraycontains",
        "arraycount",
        "arraysearch",
        "match",
        "matchlite",
        "wildcard",
        "safe",
        "descendantof",
        "childof",
        "eventof",
    }
)

# Functions whose result is a boolean (so a call can stand alone as a condition).
BOOLEAN: Final = frozenset({"cidrMatch", "endsWith", "startsWith", "stringContains"})
NUMERIC: Final = frozenset(
    {"add", "divide", "indexOf", "length", "modulo", "multiply", "number", "subtract"}
)
TEXT: Final = frozenset({"between", "concat", "string", "substring"})

__all__ = ["BOOLEAN", "ENDGAME_ONLY", "FUNCTIONS", "NUMERIC", "TEXT", "FunctionSpec"]
