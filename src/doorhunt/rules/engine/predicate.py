"""Conditions compiled to Python functions of one document, for the streaming engine.

Each step's condition becomes the source of one Python function (kept in `source` for
debugging) in which `and`/`or`/`not` are Python's own, field reads are calls to a getter
shared by every rule reading that path, and the common leaves (a field against a literal, a
list or patterns) test a plain string inline and fall back to the general rule for arrays,
numbers and missing values. The semantics are those of values.py.
"""

from __future__ import annotations

import dataclasses
import itertools
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from doorhunt.rules.engine import nodes as n
from doorhunt.rules.engine import values as v
from doorhunt.rules.engine.values import Value

Document = Mapping[str, object]
Getter = Callable[[Document], object]
Evaluator = Callable[[Document], list[Value]]


class Predicate(Protocol):
    """A compiled condition; `cache` is the per-event field cache (see `slot`)."""

    def __call__(self, doc: Document, cache: dict[int, object] | None = None, /) -> bool: ...


_OPS: Final[Mapping[str, Callable[[Any, Any], bool]]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_FLIP: Final = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

# -- field getters ------------------------------------------------------------------------------

_GETTERS: dict[tuple[str, ...], Getter] = {}
# Every path read gets a number: its slot in the per-event cache of raw field values that
# the dispatcher and all predicates share (most rules read host.os.type, event.type, ...).
_SLOTS: dict[tuple[str, ...], int] = {}
FieldCache = dict[int, object]


def slot(path: Sequence[str]) -> int:
    key = tuple(path)
    found = _SLOTS.get(key)
    if found is None:
        found = len(_SLOTS)
        _SLOTS[key] = found
    return found


_MEMO: dict[object, int] = {}
MEMO_THRESHOLD = 1.5


def memo_key(expr: n.Expr) -> int:
    """The cache number of a test, the same for every test written the same way."""
    signature = _signature(expr)
    found = _MEMO.get(signature)
    if found is None:
        found = -1 - len(_MEMO)
        _MEMO[signature] = found
    return found


def _signature(node: object) -> object:
    """A node without its source span, hashable: equal for equal tests."""
    if isinstance(node, tuple):
        return tuple(_signature(item) for item in node)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        fields = (
            (f.name, _signature(getattr(node, f.name)))
            for f in dataclasses.fields(node)
            if f.name != "span"
        )
        return (type(node).__name__, *fields)
    return (type(node).__name__, node)


def _put(cache: FieldCache, key: int, value: object) -> object:
    cache[key] = value
    return value


def getter(path: Sequence[str]) -> Getter:
    """A function returning the raw value at `path` (None, a scalar, a list or an object).

    Nested objects are walked inline; an array of objects along the path takes the general
    resolver. Dotted keys are expanded before (StreamingEngine.process)."""
    key = tuple(path)
    found = _GETTERS.get(key)
    if found is not None:
        return found
    lines = ["def get(doc):", "    o = doc"]
    for depth, part in enumerate(key):
        last = depth == len(key) - 1
        lines.append(f"    o = o.get({part!r})")
        if last:
            lines.append("    return o")
        else:
            lines.append("    if o.__class__ is not dict:")
            lines.append("        return _resolve(doc, PATH) if o.__class__ is list else None")
    namespace: dict[str, object] = {"_resolve": v.resolve, "PATH": key}
    exec("\n".join(lines), namespace)  # noqa: S102 - source built from quoted path parts only
    function: Getter = namespace["get"]  # type: ignore[assignment]
    _GETTERS[key] = function
    return function


# -- runtime helpers: the general case of each leaf ----------------------------------------------


def _scalars(raw: object) -> list[Value]:
    return v.scalars(raw)


def _kw_eq(raw: object, literal: str) -> bool:
    if raw.__class__ is list:
        if literal in raw:
            return True
        if all(x.__class__ is str for x in raw):
            return False
    return any(v.keyword(x) == literal for x in v.scalars(raw))


def _kw_eq_ci(raw: object, literal: str) -> bool:
    return any(v.fold(v.keyword(x)) == literal for x in v.scalars(raw))


def _kw_in(raw: object, texts: frozenset[str], numbers: frozenset[float]) -> bool:
    if raw.__class__ is list and not numbers and all(x.__class__ is str for x in raw):
        return not texts.isdisjoint(raw)
    for x in v.scalars(raw):
        if v.keyword(x) in texts:
            return True
        if numbers and v.numeric(x) in numbers:
            return True
    return False


def _kw_in_ci(raw: object, texts: frozenset[str], numbers: frozenset[float]) -> bool:
    for x in v.scalars(raw):
        if v.fold(v.keyword(x)) in texts:
            return True
        if numbers and v.numeric(x) in numbers:
            return True
    return False


def _num_cmp(raw: object, op: Callable[[object, object], bool], literal: float) -> bool:
    for x in v.scalars(raw):
        number = v.numeric(x)
        if number is not None and op(number, literal):
            return True
    return False


def _kw_cmp(raw: object, op: Callable[[object, object], bool], literal: str) -> bool:
    return any(op(v.keyword(x), literal) for x in v.scalars(raw))


def _match_any(raw: object, test: Callable[[str], bool]) -> bool:
    return any(test(v.keyword(x)) for x in v.scalars(raw))


def _is_null(raw: object) -> bool:
    if raw is None:
        return True
    return not v.scalars(raw)


def _values_cmp(
    found: Iterable[Value], op: Callable[[object, object], bool], literal: Value
) -> bool:
    return any(compare_value(x, op, literal) for x in found)


def compare_value(x: Value, op: Callable[[object, object], bool], literal: Value) -> bool:
    """One value against a literal: numbers numerically, otherwise by keyword form."""
    if isinstance(literal, bool):
        return bool(op(v.keyword(x), "true" if literal else "false"))
    if isinstance(literal, int | float):
        number = v.numeric(x)
        return number is not None and bool(op(number, float(literal)))
    return bool(op(v.keyword(x), literal))


def _any_true(found: Iterable[Value]) -> bool:
    return any(x is True or (x.__class__ is str and x == "true") for x in found)


# -- functions ------------------------------------------------------------------------------------


def _text(x: Value) -> str:
    return v.keyword(x)


def _int(x: Value) -> int | None:
    number = v.number_of(x)
    if number is None:
        return None
    return int(number)


def call(name: str, args: Sequence[Value], insensitive: bool) -> Value | None:
    """One function application to scalar arguments (None is null). Function reference:
    reference/query-languages/eql/eql-function-ref."""
    if name in ("add", "subtract", "multiply", "divide", "modulo"):
        left, right = v.number_of(args[0]), v.number_of(args[1])
        if left is None or right is None:
            return None
        op = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "modulo": "%"}[name]
        return v.finite(v.arithmetic(op, left, right))
    if name == "between":
        greedy = len(args) > 3 and args[3] is True
        return v.between(_text(args[0]), _text(args[1]), _text(args[2]), greedy, insensitive)
    if name == "cidrMatch":
        networks = [v.parse_network(_text(a)) for a in args[1:]]
        return v.ip_in(_text(args[0]), networks)
    if name == "concat":
        return "".join(_text(a) for a in args)
    if name in ("endsWith", "startsWith", "stringContains"):
        source, sub = _text(args[0]), _text(args[1])
        if insensitive:
            source, sub = v.fold(source), v.fold(sub)
        if name == "endsWith":
            return source.endswith(sub)
        if name == "startsWith":
            return source.startswith(sub)
        # stringContains("x", "") is false (function reference, "empty strings").
        return bool(sub) and sub in source
    if name == "indexOf":
        start = _int(args[2]) if len(args) > 2 else 0
        if len(args) > 2 and start is None:
            return None
        return v.index_of(_text(args[0]), _text(args[1]), start, insensitive)
    if name == "length":
        return len(_text(args[0]))
    if name == "number":
        base = args[1] if len(args) > 1 else None
        return v.to_number(_text(args[0]), base if isinstance(base, int) else None)
    if name == "string":
        return v.to_text(args[0])
    if name == "substring":
        text = _text(args[0])
        start = _int(args[1])
        end = _int(args[2]) if len(args) > 2 else None
        if start is None or (len(args) > 2 and end is None):
            return None
        return text[start:end]
    raise ValueError(f"unknown function {name}")


def apply(name: str, arg_values: Sequence[list[Value | None]], insensitive: bool) -> list[Value]:
    """A function over value lists: every combination (arrays match any element); a missing
    argument makes the result null, except number()'s base, which may be null."""
    results: list[Value] = []
    for combination in itertools.product(*arg_values):
        if any(a is None for a in combination) and not (
            name == "number" and all(a is not None for a in combination[:1])
        ):
            continue
        result = call(name, combination, insensitive)  # type: ignore[arg-type]
        if result is not None:
            results.append(result)
    return results


# -- compiler ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    predicate: Predicate
    source: str


class PythonCompiler:
    """Compiles expressions of one step into a predicate (and value evaluators)."""

    def __init__(self) -> None:
        self.namespace: dict[str, object] = {
            "_kw_eq": _kw_eq,
            "_kw_eq_ci": _kw_eq_ci,
            "_kw_in": _kw_in,
            "_kw_in_ci": _kw_in_ci,
            "_num_cmp": _num_cmp,
            "_kw_cmp": _kw_cmp,
            "_match_any": _match_any,
            "_is_null": _is_null,
            "_values_cmp": _values_cmp,
            "_any_true": _any_true,
            "_fold": v.fold,
            "_put": _put,
        }
        self.counter = itertools.count()

    def bind(self, prefix: str, value: object) -> str:
        name = f"{prefix}{next(self.counter)}"
        self.namespace[name] = value
        return name

    def field(self, field: n.Field) -> str:
        """An expression reading the field's raw value through the per-event cache `C`."""
        number = slot(field.path)
        get = self.bind("G", getter(field.path))
        return f"(C[{number}] if {number} in C else C.setdefault({number}, {get}(doc)))"

    # -- conditions ---------------------------------------------------------------------------

    def compile(self, expr: n.Expr) -> CompiledCondition:
        body = self.cond(expr)
        source = (
            f"def predicate(doc, C=None):\n    if C is None:\n        C = {{}}\n    return {body}\n"
        )
        exec(source, self.namespace)  # noqa: S102 - generated from the parsed query only
        predicate: Predicate = self.namespace["predicate"]  # type: ignore[assignment]
        return CompiledCondition(predicate, source)

    def cond(self, expr: n.Expr) -> str:
        if isinstance(expr, n.Literal):
            return repr(expr.value is True)
        if isinstance(expr, n.And):
            # Cheap tests first: `and`/`or` over side-effect-free two-valued tests may be
            # evaluated in any order, and most events fail a cheap equality.
            terms = sorted(expr.terms, key=cost)
            return "(" + " and ".join(self.cond(t) for t in terms) + ")"
        if isinstance(expr, n.Or):
            terms = sorted(expr.terms, key=cost)
            return "(" + " or ".join(self.cond(t) for t in terms) + ")"
        if isinstance(expr, n.Not):
            return f"(not {self.cond(expr.term)})"
        code = self.leaf(expr)
        if _cost(expr) < MEMO_THRESHOLD:
            return code
        # An expensive test (patterns, functions such as cidrMatch over twenty blocks) is
        # often written the same way in many rules: its result is kept in the event's cache
        # under a negative number, so each such test runs once per event.
        number = memo_key(expr)
        return f"(C[{number}] if {number} in C else C.setdefault({number}, {code}))"

    def leaf(self, expr: n.Expr) -> str:
        if isinstance(expr, n.IsNull):
            if isinstance(expr.value, n.Field):
                return f"_is_null({self.field(expr.value)})"
            return f"(not {self.values(expr.value)})"
        if isinstance(expr, n.Compare):
            return self.compare(expr)
        if isinstance(expr, n.InList):
            return self.in_list(expr)
        if isinstance(expr, n.Pattern):
            return self.pattern(expr)
        if isinstance(expr, n.Field):
            return f'_kw_eq({self.field(expr)}, "true")'
        return f"_any_true({self.values(expr)})"

    def compare(self, expr: n.Compare) -> str:
        op, left, right = expr.op, expr.left, expr.right
        if n.fields_of(left) and not n.fields_of(right):
            subject, constant = left, right
        else:
            subject, constant, op = right, left, _FLIP[op]  # type: ignore[assignment]
        literals = self.evaluator(constant)({})
        negate = op == "!="
        test_op = "==" if negate else op
        if not literals:
            # Comparing with a null-valued constant: never true (and `!=` always).
            return "True" if negate else "False"
        literal = literals[0]
        code = self.compare_literal(subject, test_op, literal)
        return f"(not {code})" if negate else code

    def compare_literal(self, subject: n.Expr, op: str, literal: Value) -> str:
        if isinstance(subject, n.Field):
            get = self.field(subject)
            if isinstance(literal, str) and op == "==":
                return (
                    f"(_v == {literal!r} if (_v := {get}).__class__ is str "
                    f"else _kw_eq(_v, {literal!r}))"
                )
            if isinstance(literal, bool):
                text = "true" if literal else "false"
                return f"_kw_cmp({get}, {self.bind('OP', _OPS[op])}, {text!r})"
            if isinstance(literal, int | float):
                return f"_num_cmp({get}, {self.bind('OP', _OPS[op])}, {float(literal)!r})"
            return f"_kw_cmp({get}, {self.bind('OP', _OPS[op])}, {literal!r})"
        return f"_values_cmp({self.values(subject)}, {self.bind('OP', _OPS[op])}, {literal!r})"

    def in_list(self, expr: n.InList) -> str:
        texts: set[str] = set()
        numbers: set[float] = set()
        for item in expr.items:
            value = item.value
            if value is None:
                continue  # null never matches (QL's InProcessor)
            if isinstance(value, int | float) and not isinstance(value, bool):
                numbers.add(float(value))
            else:
                text = v.keyword(value)
                texts.add(v.fold(text) if expr.insensitive else text)
        t = self.bind("T", frozenset(texts))
        nums = self.bind("N", frozenset(numbers))
        general = "_kw_in_ci" if expr.insensitive else "_kw_in"
        if isinstance(expr.value, n.Field):
            get = self.field(expr.value)
            if numbers:
                return f"{general}({get}, {t}, {nums})"
            probe = "_fold(_v)" if expr.insensitive else "_v"
            return (
                f"({probe} in {t} if (_v := {get}).__class__ is str "
                f"else {general}(_v, {t}, {nums}))"
            )
        return f"{general}({self.values(expr.value)}, {t}, {nums})"

    def pattern(self, expr: n.Pattern) -> str:
        test = self.bind("M", pattern_test(expr))
        if isinstance(expr.value, n.Field):
            get = self.field(expr.value)
            return f"({test}(_v) if (_v := {get}).__class__ is str else _match_any(_v, {test}))"
        return f"_match_any({self.values(expr.value)}, {test})"

    # -- values ---------------------------------------------------------------------------------

    def values(self, expr: n.Expr) -> str:
        return f"{self.bind('E', self.evaluator(expr))}(doc)"

    def evaluator(self, expr: n.Expr) -> Evaluator:
        if isinstance(expr, n.Literal):
            constant: list[Value] = [] if expr.value is None else [expr.value]
            return lambda doc: constant
        if isinstance(expr, n.Field):
            get = getter(expr.path)
            return lambda doc: v.scalars(get(doc))
        if isinstance(expr, n.Call):
            return self.call_evaluator(expr)
        if isinstance(expr, n.Arith):
            op_name = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "%": "modulo"}
            return self.call_evaluator(
                n.Call(op_name[expr.op], (expr.left, expr.right), False, expr.span)
            )
        if isinstance(expr, n.Negate):
            return self.call_evaluator(
                n.Call("subtract", (n.Literal(0), expr.operand), False, expr.span)
            )
        condition = self.compile_nested(expr)
        return lambda doc: [condition(doc, None)]

    def cidr_evaluator(self, expr: n.Call) -> Evaluator:
        """cidrMatch with its blocks parsed once (it is common in Elastic's rules)."""
        blocks = [a.value for a in expr.args[1:] if isinstance(a, n.Literal)]
        if any(b is None for b in blocks):
            return lambda doc: []
        ranges = v.network_ranges([v.parse_network(str(b)) for b in blocks])
        test = _cidr_test(ranges)
        source = self.evaluator(expr.args[0])
        return lambda doc: [test(x) for x in source(doc)]

    def compile_nested(self, expr: n.Expr) -> Predicate:
        nested = PythonCompiler()
        return nested.compile(expr).predicate

    def call_evaluator(self, expr: n.Call) -> Evaluator:
        if expr.name == "cidrMatch" and all(isinstance(a, n.Literal) for a in expr.args[1:]):
            return self.cidr_evaluator(expr)
        args = [self.evaluator(a) for a in expr.args]
        name, insensitive = expr.name, expr.insensitive
        number_base = name == "number" and len(args) == 2

        def evaluate(doc: Document) -> list[Value]:
            lists: list[list[Value | None]] = []
            for index, arg in enumerate(args):
                found: list[Value | None] = list(arg(doc))
                if not found:
                    if number_base and index == 1:
                        found = [None]  # number(x, null) uses the default base
                    else:
                        return []
                lists.append(found)
            return apply(name, lists, insensitive)

        if not any(n.fields_of(a) for a in expr.args):
            folded = evaluate({})
            return lambda doc: folded
        return evaluate


def _cidr_test(ranges: tuple[tuple[int, int, int], ...]) -> Callable[[Value], bool]:
    def test(value: Value) -> bool:
        address = v.ip_value(value if isinstance(value, str) else v.keyword(value))
        if address is None:
            return False
        version, number = address
        return any(version == ver and low <= number <= high for ver, low, high in ranges)

    return test


# Fields most events share a value of (every event of a Linux host has host.os.type
# "linux"): tests on them rarely decide, so they go after equally cheap tests.
_UNSELECTIVE: Final = frozenset(
    {"host.os.type", "host.os.family", "host.os.platform", "host.os.name", "event.type",
     "event.kind", "event.category", "event.outcome", "event.module", "event.dataset",
     "agent.type", "data_stream.dataset", "network.direction", "network.transport"}
)  # fmt: skip


def cost(expr: n.Expr) -> float:
    """A rough cost of evaluating `expr` once, to order the terms of `and` and `or`."""
    base = _cost(expr)
    fields = n.fields_of(expr)
    if fields and all(f.name in _UNSELECTIVE for f in fields):
        return base + 0.75
    if fields and all(f.name == "event.action" for f in fields):
        return base + 0.5
    return base


def _cost(expr: n.Expr) -> float:
    if isinstance(expr, n.Literal):
        return 0.0
    if isinstance(expr, n.Field):
        return 0.0
    if isinstance(expr, n.Not):
        return _cost(expr.term)
    if isinstance(expr, n.And | n.Or):
        return sum(_cost(t) for t in expr.terms)
    if isinstance(expr, n.Call | n.Arith | n.Negate):
        # Function values go through value lists and combinations: the slow path.
        return 8.0 + sum(_cost(c) for c in n.children(expr))
    subjects = sum(_cost(c) for c in n.children(expr))
    if isinstance(expr, n.IsNull | n.InList):
        return 1.0 + subjects
    if isinstance(expr, n.Compare):
        return (1.0 if expr.op == "==" else 2.0) + subjects
    if expr.kind == "regex":
        return 5.0 + len(expr.patterns) + subjects
    wild = sum(1 for p in expr.patterns if "*" in p or "?" in p)
    return 1.5 + 0.2 * wild + subjects


def pattern_test(expr: n.Pattern) -> Callable[[str], bool]:
    """The test of one string for `like`/`:` (wildcards) or `regex` (Lucene syntax)."""
    if expr.kind == "like":
        return v.wildcard_matcher(expr.patterns, expr.insensitive)
    regexes = [v.lucene_regex(p, expr.insensitive) for p in expr.patterns]
    compiled = re.compile("|".join(f"(?:{r})" for r in regexes), re.DOTALL)
    return lambda text: compiled.fullmatch(text) is not None


def compile_condition(expr: n.Expr) -> CompiledCondition:
    return PythonCompiler().compile(expr)


def compile_values(expr: n.Expr) -> Evaluator:
    return PythonCompiler().evaluator(expr)


__all__ = [
    "CompiledCondition",
    "Document",
    "Evaluator",
    "FieldCache",
    "Getter",
    "Predicate",
    "PythonCompiler",
    "apply",
    "call",
    "compare_value",
    "compile_condition",
    "compile_values",
    "cost",
    "getter",
    "pattern_test",
    "slot",
]
