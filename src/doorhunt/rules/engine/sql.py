"""Hunts: a compiled rule as one DuckDB SELECT over the embedded store (or any relation of
the same shape), with the same results as the streaming engine. Design: docs/eql.md, "SQL
hunts".

Every statement starts with the same CTEs (_Statement): the rows in the time window that may
match a step (a prefilter on hot columns), each step's condition evaluated on the hot columns
alone where they decide it (`cer`) or on the fields read from the JSON document (`unc`), and
the matching rows in order (`flg`). Per step, `keyed` gives its rows with their join keys.
Sequences chain one ASOF join per positive step (`q<j>`); samples select each key's first
candidates in SQL and choose the events in Python (match_sample, as the streaming engine).
"""

# ruff: noqa: S608 - this module is a SQL compiler: every value it writes goes through quote()
# or ident(), and the statements it builds are SELECTs only.
from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Final, Literal

import orjson

from doorhunt.rules.engine import nodes as n
from doorhunt.rules.engine import values as v
from doorhunt.rules.engine.compiler import CompiledRule, CompiledStep, KeyValue
from doorhunt.rules.engine.dispatch import constraints
from doorhunt.rules.engine.errors import EqlError
from doorhunt.rules.engine.streaming import Match, match_sample

if TYPE_CHECKING:
    import duckdb

    from doorhunt.store.reader import StoreReader

ColumnType = Literal["string", "long", "strings"]

_SCALAR_TYPES: Final = "('VARCHAR', 'BIGINT', 'UBIGINT', 'DOUBLE', 'BOOLEAN')"
_EMPTY: Final = "[]::VARCHAR[]"


@dataclass(frozen=True, slots=True)
class Relation:
    """What a hunt reads: one row per event with @timestamp as a TIMESTAMPTZ column, the
    document as JSON text, and optional hot columns (ECS field -> column name and type)
    used only to prefilter. The store's view `events` is STORE_RELATION (store/columns.py)."""

    name: str = "events"
    timestamp: str = "timestamp"
    document: str = "doc"
    columns: Mapping[str, tuple[str, ColumnType]] = field(default_factory=dict)
    # Columns that order events of the same @timestamp (after the timestamp). Without any,
    # the document text does, and every document must be read (see docs/eql.md, "SQL").
    tiebreak: tuple[str, ...] = ()


def store_relation() -> Relation:
    """The embedded store's view `events` (docs/store.md, "Columns")."""
    from doorhunt.store.columns import COLUMNS  # noqa: PLC0415 - keeps the store out of streaming

    hot: dict[str, tuple[str, ColumnType]] = {}
    for column in COLUMNS:
        if column.field and column.type in ("string", "long", "strings"):
            hot[column.field] = (column.name, column.type)
    # Ties: the flush that stored the event first (about arrival order), then its ids.
    tiebreak = ("ingested", "event_id", "process_entity_id", "event_action")
    return Relation("events", "timestamp", "doc", hot, tiebreak)


# -- SQL text helpers ---------------------------------------------------------------------------


def quote(text: str) -> str:
    """A SQL string literal (DuckDB: standard strings, backslash is not special)."""
    if "\x00" in text:
        raise EqlError("NUL characters cannot be used in SQL hunts")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise EqlError("lone surrogates cannot be used in SQL hunts") from None
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _json_path(path: Sequence[str]) -> str:
    for part in path:
        if '"' in part or "\\" in part:
            raise EqlError(f"field name {'.'.join(path)!r} cannot be read by a SQL hunt")
    return "$" + "".join(f'."{part}"' for part in path)


def _list(items: Sequence[str]) -> str:
    return "[" + ", ".join(quote(i) for i in items) + "]::VARCHAR[]"


def _num(expr: str) -> str:
    """The numeric form of keyword text (values.numeric), as DOUBLE or NULL."""
    return (
        f"(CASE WHEN regexp_full_match({expr}, {quote(v.NUMBER_PATTERN)}) "
        f"THEN TRY_CAST({expr} AS DOUBLE) END)"
    )


def _is_int(expr: str) -> str:
    return f"regexp_full_match({expr}, {quote(v.INTEGER_PATTERN)})"


def _is_num(expr: str) -> str:
    return f"regexp_full_match({expr}, {quote(v.NUMBER_PATTERN)})"


def _float_text(expr: str) -> str:
    return f"(CASE WHEN isfinite({expr}) THEN CAST({expr} AS VARCHAR) END)"


def _bool_text(condition: str) -> str:
    return f"(CASE WHEN {condition} THEN 'true' ELSE 'false' END)"


_EXISTS = "len(list_filter({values}, lambda {var}: {test})) > 0"

# -- field values from JSON ----------------------------------------------------------------------


def _field_values(json_value: str) -> str:
    """VARCHAR[] of the keyword forms of the scalars in a JSON value (values.scalars):
    arrays flattened (two levels), objects and nulls dropped."""
    element = (
        "CASE WHEN json_type(e2) IN " + _SCALAR_TYPES + " THEN json_extract_string(e2, '$') END"
    )
    inner = (
        "CASE json_type(e1) WHEN 'ARRAY' THEN list_transform(json_extract(e1, '$[*]'), "
        f"lambda e2: {element}) WHEN 'OBJECT' THEN {_EMPTY} WHEN 'NULL' THEN {_EMPTY} "
        "ELSE [json_extract_string(e1, '$')] END"
    )
    array = (
        f"list_filter(flatten(list_transform(json_extract({json_value}, '$[*]'), "
        f"lambda e1: {inner})), lambda s: s IS NOT NULL)"
    )
    return (
        f"(CASE WHEN {json_value} IS NULL THEN {_EMPTY} "
        f"WHEN json_type({json_value}) = 'ARRAY' THEN {array} "
        f"WHEN json_type({json_value}) IN {_SCALAR_TYPES} "
        f"THEN [json_extract_string({json_value}, '$')] ELSE {_EMPTY} END)"
    )


def _field_pairs(json_value: str) -> str:
    """Like _field_values, as a list of {c: keyword form, r: JSON of the value}, one per
    keyword form: the values of a join key field."""
    one = (
        "CASE WHEN json_type(e1) IN " + _SCALAR_TYPES + " THEN "
        "{'c': json_extract_string(e1, '$'), 'r': e1::VARCHAR} END"
    )
    two = (
        "CASE WHEN json_type(e2) IN " + _SCALAR_TYPES + " THEN "
        "{'c': json_extract_string(e2, '$'), 'r': e2::VARCHAR} END"
    )
    inner = (
        "CASE json_type(e1) WHEN 'ARRAY' THEN list_transform(json_extract(e1, '$[*]'), "
        f"lambda e2: {two}) ELSE [{one}] END"
    )
    array = (
        f"list_filter(flatten(list_transform(json_extract({json_value}, '$[*]'), "
        f"lambda e1: {inner})), lambda p: p IS NOT NULL)"
    )
    single = f"[{{'c': json_extract_string({json_value}, '$'), 'r': {json_value}::VARCHAR}}]"
    pairs = (
        f"(CASE WHEN {json_value} IS NULL THEN NULL "
        f"WHEN json_type({json_value}) = 'ARRAY' THEN {array} "
        f"WHEN json_type({json_value}) IN {_SCALAR_TYPES} THEN {single} END)"
    )
    # Values with the same keyword form (5 and "5") are one key value: the first reports it.
    first = (
        "list_filter(ps, lambda p, i: list_position(list_transform(ps, lambda q: q.c), p.c) = i)"
    )
    return _let(f"coalesce({pairs}, [])", "ps", first)


# -- IP addresses -----------------------------------------------------------------------------

_OCTET: Final = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4: Final = rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}"


def _ipv4_int(text: str) -> str:
    parts = [f"TRY_CAST(string_split({text}, '.')[{i}] AS UHUGEINT)" for i in range(1, 5)]
    return f"({parts[0]} * 16777216 + {parts[1]} * 65536 + {parts[2]} * 256 + {parts[3]})"


def _let(value: str, var: str, body: str) -> str:
    """`body` with `var` bound to `value`, evaluated once (DuckDB has no LET)."""
    return f"list_transform([{value}], lambda {var}: {body})[1]"


def _ipv6_int(text: str) -> str:
    """The 128-bit value of an IPv6 address as Python's ipaddress reads it, or NULL: at most
    one `::`, groups of 1-4 hex digits, an optional dotted IPv4 tail, 8 groups in all."""
    # sd: the sides of `::`; hd, tl: their groups; gs: all written groups; xs: gs with a
    # dotted IPv4 tail turned into two groups.
    head = "(CASE WHEN sd[1] = '' THEN []::VARCHAR[] ELSE string_split(sd[1], ':') END)"
    tail = (
        "(CASE WHEN len(sd) = 2 AND sd[2] <> '' THEN string_split(sd[2], ':') "
        "ELSE []::VARCHAR[] END)"
    )
    v4_value = _ipv4_int("gs[len(gs)]")
    v4_groups = (
        f"[printf('%x', ({v4_value} // 65536)::BIGINT), printf('%x', ({v4_value} % 65536)::BIGINT)]"
    )
    dotted = "(len(gs) > 0 AND contains(gs[len(gs)], '.'))"
    expanded = (
        f"(CASE WHEN NOT {dotted} THEN gs "
        # The IPv4 part must end the address: not before a trailing `::`.
        "WHEN len(sd) = 2 AND len(tl) = 0 THEN NULL "
        f"WHEN regexp_full_match(gs[len(gs)], {quote(_IPV4)}) "
        f"THEN list_concat(gs[1:len(gs) - 1], {v4_groups}) END)"
    )
    value = (
        "list_reduce(list_transform(list_concat(xs[1:hn], list_transform(range(8 - len(xs)), "
        "lambda z: '0'), xs[hn + 1:]), lambda g, i: TRY_CAST(('0x' || g) AS UHUGEINT) * "
        "(1::UHUGEINT << (16 * (8 - i))::UHUGEINT)), lambda a, b: a + b)"
    )
    checked = (
        "(CASE WHEN xs IS NULL THEN NULL "
        "WHEN len(list_filter(xs, lambda g: NOT regexp_full_match(g, '[0-9a-fA-F]{1,4}'))) > 0 "
        "THEN NULL WHEN len(sd) = 2 AND len(xs) > 7 THEN NULL "
        f"WHEN len(sd) = 1 AND len(xs) <> 8 THEN NULL ELSE {value} END)"
    )
    with_hn = _let("(CASE WHEN len(sd) = 2 THEN len(hd) ELSE 8 END)", "hn", checked)
    with_xs = _let(expanded, "xs", with_hn)
    with_gs = _let("list_concat(hd, tl)", "gs", with_xs)
    with_sides = _let(tail, "tl", with_gs)
    body = _let(head, "hd", with_sides)
    return _let(
        f"string_split({text}, '::')", "sd", f"(CASE WHEN len(sd) > 2 THEN NULL ELSE {body} END)"
    )


def _cidr_test(text: str, networks: Sequence[v.Network]) -> str:
    # CASE, not AND/OR: DuckDB evaluates a CASE branch only for the rows that reach it, and
    # the IPv6 arithmetic is costly to run on every IPv4 address.
    v4 = [net for net in networks if net.version == 4]
    v6 = [net for net in networks if net.version == 6]
    branches: list[str] = []
    if v4:
        ranges = " OR ".join(
            f"x4 BETWEEN {int(net.network_address)} AND {int(net.broadcast_address)}" for net in v4
        )
        branches.append(
            f"WHEN regexp_full_match({text}, {quote(_IPV4)}) "
            f"THEN coalesce({_let(_ipv4_int(text), 'x4', ranges)}, false)"
        )
    if v6:
        ranges = " OR ".join(
            f"x6 BETWEEN {int(net.network_address)}::UHUGEINT AND "
            f"{int(net.broadcast_address)}::UHUGEINT"
            for net in v6
        )
        branches.append(
            f"WHEN contains({text}, ':') AND NOT contains({text}, '%') "
            f"THEN coalesce({_let(_ipv6_int(text), 'x6', ranges)}, false)"
        )
    return f"(CASE {' '.join(branches)} ELSE false END)" if branches else "false"


# -- the expression compiler ---------------------------------------------------------------------


# Conjunctions and disjunctions as CASE: in a projection DuckDB evaluates every term of AND
# and OR on every row, but a CASE branch only on the rows that reach it, so costly tests
# (patterns, cidrMatch) run only where the cheaper ones before them hold. The same as AND
# and OR here, since every condition the compiler writes is TRUE or FALSE, never NULL.
def _all(terms: Sequence[str]) -> str:
    if len(terms) == 1:
        return terms[0]
    return f"(CASE WHEN {terms[0]} THEN {_all(terms[1:])} ELSE false END)"


def _any(terms: Sequence[str]) -> str:
    if len(terms) == 1:
        return terms[0]
    return f"(CASE WHEN {terms[0]} THEN true ELSE {_any(terms[1:])} END)"


class SqlCompiler:
    """Compiles the conditions of one rule's steps to SQL: over columns `f<i>` holding each
    field's values read from the JSON document, or (`hot`) straight over hot columns, for
    rows where those are known to hold the field's whole value."""

    def __init__(self, relation: Relation, *, hot: bool = False) -> None:
        self.relation = relation
        self.hot = hot
        self.paths: list[tuple[str, ...]] = []
        self._variables = itertools.count()

    def variable(self) -> str:
        """A fresh lambda parameter name (lambdas nest, so each needs its own)."""
        return f"v{next(self._variables)}"

    def field_column(self, path: tuple[str, ...]) -> str:
        if path not in self.paths:
            self.paths.append(path)
        if not self.hot:
            return f"f{self.paths.index(path)}"
        return self.field_column_hot(path)

    def field_column_hot(self, path: tuple[str, ...]) -> str:
        """The field's values read from its hot column (exact where the column is set)."""
        name, kind = self.relation.columns[".".join(path)]
        if kind == "string":
            return f"[{ident(name)}]"
        if kind == "long":
            return f"[CAST({ident(name)} AS VARCHAR)]"
        return f"coalesce({ident(name)}, []::VARCHAR[])"

    # -- conditions ------------------------------------------------------------------------------

    def step_condition(self, step: CompiledStep) -> str:
        category = step.step.query.category
        categories = self.field_column(("event", "category")) if category is not None else ""
        condition = self.cond(step.step.query.condition)
        if category is None:
            return condition
        return _all([f"list_contains({categories}, {quote(category)})", condition])

    def cond(self, expr: n.Expr) -> str:
        if isinstance(expr, n.Literal):
            return "TRUE" if expr.value is True else "FALSE"
        if isinstance(expr, n.And):
            return _all([self.cond(t) for t in expr.terms])
        if isinstance(expr, n.Or):
            return _any([self.cond(t) for t in expr.terms])
        if isinstance(expr, n.Not):
            return f"(NOT {self.cond(expr.term)})"
        if isinstance(expr, n.IsNull):
            return f"(len({self.values(expr.value)}) = 0)"
        if isinstance(expr, n.Compare):
            return self.compare(expr)
        if isinstance(expr, n.InList):
            return self.in_list(expr)
        if isinstance(expr, n.Pattern):
            return self.pattern(expr)
        return f"list_contains({self.values(expr)}, 'true')"

    def compare(self, expr: n.Compare) -> str:
        op, left, right = expr.op, expr.left, expr.right
        if n.fields_of(left) and not n.fields_of(right):
            subject, constant = left, right
        else:
            flip = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
            subject, constant, op = right, left, flip[op]  # type: ignore[assignment]
        literals = _constant(constant)
        negate = op == "!="
        if not literals:
            return "TRUE" if negate else "FALSE"
        literal = literals[0]
        sql_op = "=" if op in ("==", "!=") else op
        values = self.values(subject)
        var = self.variable()
        if isinstance(literal, bool):
            test = f"{var} {sql_op} {quote('true' if literal else 'false')}"
        elif isinstance(literal, int | float):
            test = f"{_num(var)} {sql_op} {float(literal)!r}::DOUBLE"
        else:
            test = f"{var} {sql_op} {quote(literal)}"
        if sql_op == "=" and not isinstance(literal, int | float):
            code = f"list_contains({values}, {quote(v.keyword(literal))})"
        else:
            code = "(" + _EXISTS.format(values=values, var=var, test=test) + ")"
        return f"(NOT {code})" if negate else code

    def in_list(self, expr: n.InList) -> str:
        texts: list[str] = []
        numbers: list[float] = []
        for item in expr.items:
            value = item.value
            if value is None:
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                numbers.append(float(value))
            else:
                text = v.keyword(value)
                texts.append(v.fold(text) if expr.insensitive else text)
        values = self.values(expr.value)
        if expr.insensitive:
            var = self.variable()
            values_for_text = f"list_transform({values}, lambda {var}: lower({var}))"
        else:
            values_for_text = values
        tests = []
        if texts:
            tests.append(f"list_has_any({values_for_text}, {_list(sorted(set(texts)))})")
        if numbers:
            var = self.variable()
            listed = ", ".join(f"{x!r}::DOUBLE" for x in sorted(set(numbers)))
            tests.append(
                "("
                + _EXISTS.format(values=values, var=var, test=f"{_num(var)} IN ({listed})")
                + ")"
            )
        return "(" + " OR ".join(tests) + ")" if tests else "FALSE"

    def pattern(self, expr: n.Pattern) -> str:
        values = self.values(expr.value)
        var = self.variable()
        subject = f"lower({var})" if expr.insensitive else var
        tests: list[str] = []
        if expr.kind == "like":
            exact: list[str] = []
            for pattern in expr.patterns:
                tokens = v.wildcard_tokens(v.fold(pattern) if expr.insensitive else pattern)
                if all(kind == "text" for kind, _ in tokens):
                    exact.append("".join(text for _, text in tokens))
                else:
                    tests.append(f"{subject} LIKE {quote(v.wildcard_like(tokens))} ESCAPE '\\'")
            if exact:
                tests.append(f"{subject} IN ({', '.join(quote(e) for e in sorted(set(exact)))})")
        else:
            for pattern in expr.patterns:
                regex = "(?s)" + v.lucene_regex(pattern, expr.insensitive)
                tests.append(f"regexp_full_match({var}, {quote(regex)})")
        return "(" + _EXISTS.format(values=values, var=var, test=" OR ".join(tests)) + ")"

    # -- values ----------------------------------------------------------------------------------

    def values(self, expr: n.Expr) -> str:
        """A VARCHAR[] expression: the keyword forms of the expression's values."""
        if isinstance(expr, n.Literal):
            if expr.value is None:
                return _EMPTY
            return _list([v.keyword(expr.value)])
        if isinstance(expr, n.Field):
            return self.field_column(expr.path)
        if isinstance(expr, n.Arith):
            name = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "%": "modulo"}
            return self.call(n.Call(name[expr.op], (expr.left, expr.right), False, expr.span))
        if isinstance(expr, n.Negate):
            return self.call(n.Call("subtract", (n.Literal(0), expr.operand), False, expr.span))
        if isinstance(expr, n.Call):
            return self.call(expr)
        return f"[{_bool_text(self.cond(expr))}]"

    def call(self, expr: n.Call) -> str:
        if not any(n.fields_of(a) for a in expr.args):
            folded = _constant(expr)
            return _list([v.keyword(x) for x in folded]) if folded else _EMPTY
        args: list[str] = []
        loops: list[tuple[str, str]] = []
        for index, arg in enumerate(expr.args):
            if isinstance(arg, n.Literal):
                if arg.value is None:
                    if expr.name == "number" and index == 1:
                        args.append("NULL")
                        continue
                    return _EMPTY
                args.append(quote(v.keyword(arg.value)))
            else:
                var = self.variable()
                loops.append((var, self.values(arg)))
                args.append(var)
        body = _sql_call(expr.name, args, expr.insensitive, expr.args)
        result = f"[{body}]"
        for var, source in reversed(loops):
            result = f"flatten(list_transform({source}, lambda {var}: {result}))"
        var = self.variable()
        return f"list_filter({result}, lambda {var}: {var} IS NOT NULL)"


def _constant(expr: n.Expr) -> list[v.Value]:
    from doorhunt.rules.engine.predicate import compile_values  # noqa: PLC0415

    return compile_values(expr)({})


def _int_arg(text: str) -> str:
    return (
        f"(CASE WHEN {_is_int(text)} THEN TRY_CAST({text} AS HUGEINT) WHEN {_is_num(text)} "
        f"THEN TRY_CAST(trunc(TRY_CAST({text} AS DOUBLE)) AS HUGEINT) END)"
    )


def _sql_call(name: str, args: Sequence[str], insensitive: bool, nodes: Sequence[n.Expr]) -> str:
    """One function application to keyword-text arguments, as VARCHAR (NULL is null);
    the SQL twin of predicate.call."""
    if name in ("add", "subtract", "multiply", "divide", "modulo"):
        a, b = args
        ia, ib = f"TRY_CAST({a} AS HUGEINT)", f"TRY_CAST({b} AS HUGEINT)"
        fa, fb = f"TRY_CAST({a} AS DOUBLE)", f"TRY_CAST({b} AS DOUBLE)"
        if name in ("add", "subtract", "multiply"):
            op = {"add": "+", "subtract": "-", "multiply": "*"}[name]
            integer = f"CAST(TRY({ia} {op} {ib}) AS VARCHAR)"
            floating = _float_text(f"({fa} {op} {fb})")
        elif name == "divide":
            sign = f"(CASE WHEN ({ia} < 0) <> ({ib} < 0) THEN -1 ELSE 1 END)"
            integer = f"CAST((abs({ia}) // NULLIF(abs({ib}), 0)) * {sign} AS VARCHAR)"
            floating = _float_text(f"({fa} / NULLIF({fb}, 0))")
        else:
            sign = f"(CASE WHEN {ia} < 0 THEN -1 ELSE 1 END)"
            integer = f"CAST((abs({ia}) % NULLIF(abs({ib}), 0)) * {sign} AS VARCHAR)"
            floating = _float_text(f"fmod({fa}, NULLIF({fb}, 0))")
        return (
            f"(CASE WHEN {_is_int(a)} AND {_is_int(b)} THEN {integer} "
            f"WHEN {_is_num(a)} AND {_is_num(b)} THEN {floating} END)"
        )
    folded = [f"lower({a})" if insensitive else a for a in args]
    if name == "length":
        return f"CAST(length({args[0]}) AS VARCHAR)"
    if name == "startsWith":
        return _bool_text(f"starts_with({folded[0]}, {folded[1]})")
    if name == "endsWith":
        return _bool_text(f"ends_with({folded[0]}, {folded[1]})")
    if name == "stringContains":
        return _bool_text(f"({folded[1]} <> '' AND contains({folded[0]}, {folded[1]}))")
    if name == "concat":
        return "(" + " || ".join(args) + ")"
    if name == "string":
        return args[0]
    if name == "indexOf":
        hay, needle = folded[0], folded[1]
        start = "0" if len(args) < 3 else _int_arg(args[2])
        position = f"greatest({start}, 0)"
        found = f"instr(substr({hay}, ({position} + 1)::BIGINT), {needle})"
        return (
            f"(CASE WHEN {start} IS NULL OR {position} > length({hay}) THEN NULL "
            f"WHEN {found} = 0 THEN NULL ELSE CAST({found} - 1 + {position} AS VARCHAR) END)"
        )
    if name == "substring":
        text = args[0]
        size = f"length({text})"

        def norm(index: str) -> str:
            return (
                f"(CASE WHEN {index} < 0 THEN greatest({size} + {index}, 0) "
                f"ELSE least({index}, {size}) END)"
            )

        start = _int_arg(args[1])
        end = _int_arg(args[2]) if len(args) > 2 else size
        s, e = norm(start), norm(end)
        return (
            f"(CASE WHEN {start} IS NULL OR {end} IS NULL THEN NULL ELSE "
            f"substr({text}, ({s} + 1)::BIGINT, greatest({e} - {s}, 0)::BIGINT) END)"
        )
    if name == "between":
        source, left, right = args[0], folded[1], folded[2]
        hay = folded[0]
        greedy = len(nodes) > 3 and isinstance(nodes[3], n.Literal) and nodes[3].value is True
        first = f"instr({hay}, {left})"
        start = f"({first} - 1 + length({left}))"
        if greedy:
            reversed_at = f"instr(reverse({hay}), reverse({right}))"
            end = (
                f"(CASE WHEN {right} = '' THEN length({hay}) WHEN {reversed_at} = 0 THEN -1 "
                f"ELSE length({hay}) - {reversed_at} - length({right}) + 1 END)"
            )
        else:
            after = f"instr(substr({hay}, ({start} + 1)::BIGINT), {right})"
            end = f"(CASE WHEN {after} = 0 THEN -1 ELSE {start} + {after} - 1 END)"
        return (
            f"(CASE WHEN {first} = 0 THEN '' WHEN {end} < {start} THEN '' "
            f"ELSE substr({source}, ({start} + 1)::BIGINT, ({end} - {start})::BIGINT) END)"
        )
    if name == "number":
        return _sql_number(args[0], nodes[1] if len(nodes) > 1 else None)
    if name == "cidrMatch":
        networks = []
        for node in nodes[1:]:
            assert isinstance(node, n.Literal) and isinstance(node.value, str)
            networks.append(v.parse_network(node.value))
        return _bool_text(_cidr_test(args[0], networks))
    raise EqlError(f"function {name} cannot be run by a SQL hunt")


def _sql_number(text: str, base_node: n.Expr | None) -> str:
    base = base_node.value if isinstance(base_node, n.Literal) else None
    if base not in (None, 10, 16):
        raise EqlError(f"number() with base {base} cannot be run by a SQL hunt (only 10 and 16)")
    stripped = f"trim({text}, ' \t\n\r' || chr(11) || chr(12))"
    sign = f"(CASE WHEN starts_with({stripped}, '-') THEN -1 ELSE 1 END)"
    body = f"ltrim({stripped}, '+-')"
    single_sign = f"regexp_full_match({stripped}, '[+-]?[^+-].*')"
    hex_body = f"substr({body}, 3)"
    is_hex = f"lower(substr({body}, 1, 2)) = '0x'"
    hex_value = (
        f"(CASE WHEN regexp_full_match({hex_body}, '[0-9a-fA-F]{{1,15}}') THEN "
        f"CAST(TRY_CAST(('0x' || {hex_body}) AS BIGINT) * {sign} AS VARCHAR) END)"
    )
    plain_hex = (
        f"(CASE WHEN regexp_full_match({body}, '[0-9a-fA-F]{{1,15}}') THEN "
        f"CAST(TRY_CAST(('0x' || {body}) AS BIGINT) * {sign} AS VARCHAR) END)"
    )
    decimal = (
        f"(CASE WHEN {_is_int(body)} THEN CAST(TRY_CAST({body} AS HUGEINT) * {sign} AS VARCHAR) "
        f"WHEN {_is_num(body)} THEN {_float_text(f'(TRY_CAST({body} AS DOUBLE) * {sign})')} END)"
    )
    if base == 16:
        chosen = f"(CASE WHEN {is_hex} THEN {hex_value} ELSE {plain_hex} END)"
    elif base == 10:
        chosen = decimal
    else:
        chosen = f"(CASE WHEN {is_hex} THEN {hex_value} ELSE {decimal} END)"
    return f"(CASE WHEN {stripped} = '' OR NOT {single_sign} THEN NULL ELSE {chosen} END)"


# -- prefilter on hot columns -----------------------------------------------------------------


def _safe_text(text: str) -> bool:
    """Whether only a string can have this keyword form: a `strings` hot column keeps the
    string elements of a mixed array, so it could miss a number or boolean's text."""
    return text not in ("true", "false") and v.NUMBER_RE.fullmatch(text) is None


def prefilter(step: CompiledStep, relation: Relation) -> str:
    """A condition on hot columns that every row matching the step satisfies.

    A `string` column is NULL unless the document holds a single string there (store/
    columns.py), so `col IN (...) OR col IS NULL` never drops a row the step matches. Every
    term is such a disjunction on one column, so the condition is never NULL, and DuckDB
    evaluates each term inside its scan."""
    parts: list[str] = []
    category = step.step.query.category
    column = relation.columns.get("event.category")
    if category is not None and column is not None and _safe_text(category):
        name, kind = column
        if kind == "strings":
            parts.append(
                f"(list_contains({ident(name)}, {quote(category)}) OR {ident(name)} IS NULL)"
            )
        elif kind == "string":
            parts.append(f"({ident(name)} = {quote(category)} OR {ident(name)} IS NULL)")
    for (path, insensitive), constraint in constraints(step.step.query.condition).items():
        column = relation.columns.get(".".join(path))
        if column is None:
            continue
        name, kind = column
        column_sql = ident(name)
        allowed = constraint.exact
        listed = ", ".join(quote(a) for a in sorted(allowed))
        if kind == "string":
            # Case-insensitive constraints hold case folded (dispatch.Constraint).
            probe = f"lower({column_sql})" if insensitive else column_sql
            tests = [f"{probe} IN ({listed})"] if allowed else []
            tests += [f"starts_with({probe}, {quote(a)})" for a in sorted(constraint.prefixes)]
            tests += [f"ends_with({probe}, {quote(a)})" for a in sorted(constraint.suffixes)]
            parts.append(f"({' OR '.join(tests)} OR {column_sql} IS NULL)")
        elif (
            kind == "strings"
            and allowed
            and not constraint.prefixes
            and not constraint.suffixes
            and all(_safe_text(a) for a in allowed)
        ):
            probe = (
                f"list_transform({column_sql}, lambda c: lower(c))" if insensitive else column_sql
            )
            parts.append(f"(list_has_any({probe}, [{listed}]) OR {column_sql} IS NULL)")
    return "(" + " AND ".join(parts) + ")" if parts else "TRUE"


# -- statements -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HuntPlan:
    """The SQL of one hunt and the shape of its rows: `event` (o_, event), `sequence`
    (events, key values, start, o_), `sample` (key, key values, stage, o_, event).
    `step_rows` holds, per step a matched event can come from (the query's, a sequence's
    positive steps, a sample's steps, in order), a condition its row satisfies (the time
    window and the step's prefilter), for reading the documents the statement leaves out."""

    sql: str
    kind: Literal["event", "sequence", "sample"]
    step_rows: tuple[str, ...] = ("TRUE",)


def plan(
    rule: CompiledRule,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    relation: Relation | None = None,
) -> HuntPlan:
    """The hunt for `rule` over `relation` (the store's view by default) in [since, until)."""
    statement = _Statement(rule, relation or store_relation(), since, until)
    body = rule.query.body
    if isinstance(body, n.Sequence):
        positive = [rule.steps[stage] for stage in body.positive]
        sql = _sequence_sql(statement, body)
        return HuntPlan(sql, "sequence", tuple(statement.rows_of(s) for s in positive))
    if isinstance(body, n.Sample):
        sql = _sample_sql(statement)
        return HuntPlan(sql, "sample", tuple(statement.rows_of(s) for s in rule.steps))
    return HuntPlan(_event_sql(statement), "event", (statement.rows_of(rule.steps[0]),))


def to_sql(
    rule: CompiledRule,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    relation: Relation | None = None,
) -> str:
    """The DuckDB SELECT of a hunt for `rule` over `relation` (the store's view by default)."""
    return plan(rule, since=since, until=until, relation=relation).sql


def _event(alias: str = "") -> str:
    """An event as statements carry it: timestamp, tie-break values, and the document when
    the row read it (NULL for rows decided on hot columns; run_hunt reads those afterwards)."""
    return f"{{'t': {alias}t_, 'b': {alias}bv_, 'd': {alias}d_}}"


def _window(relation: Relation, since: datetime | None, until: datetime | None) -> list[str]:
    parts = []
    for moment, op in ((since, ">="), (until, "<")):
        if moment is not None:
            if moment.tzinfo is None:
                raise EqlError("hunt times must carry a time zone", location="since/until")
            text = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")
            parts.append(f"{ident(relation.timestamp)} {op} TIMESTAMPTZ {quote(text)}")
    return parts


def _hot_leaves_exact(expr: n.Expr, path: tuple[str, ...]) -> bool:
    """Whether every test of `expr` on the field `path` reads the same from a `strings` hot
    column as from the document: equality with texts only a string can have (the column
    drops numbers and booleans from mixed arrays)."""
    if isinstance(expr, n.Field):
        return expr.path != path
    if isinstance(expr, n.Compare):
        field, literal = (
            (expr.left, expr.right) if isinstance(expr.left, n.Field) else (expr.right, expr.left)
        )
        if isinstance(field, n.Field) and field.path == path:
            return (
                expr.op in ("==", "!=")
                and isinstance(literal, n.Literal)
                and isinstance(literal.value, str)
                and _safe_text(literal.value)
            )
    if isinstance(expr, n.InList) and isinstance(expr.value, n.Field) and expr.value.path == path:
        return all(isinstance(item.value, str) and _safe_text(item.value) for item in expr.items)
    if isinstance(expr, n.IsNull) and isinstance(expr.value, n.Field):
        return expr.value.path != path
    return all(_hot_leaves_exact(child, path) for child in n.children(expr))


class _Statement:
    """One hunt's statement as it is built: the CTEs every hunt starts with (the rows that
    match some step of the rule, in order, with a flag per step and their join keys), to
    which the hunt's kind adds its own (`keyed`, then its final SELECT in `sql`).

    Rows the hot columns decide are evaluated on the columns alone (`cer`); only the others
    read and parse the JSON document (`src` to `unc`, see _uncertain), since reading `doc`
    is what a hunt over millions of rows spends its time on."""

    def __init__(
        self,
        rule: CompiledRule,
        relation: Relation,
        since: datetime | None,
        until: datetime | None,
    ) -> None:
        self.rule = rule
        self.relation = relation
        # Each distinct step once (`with runs=N` repeats one step object), `until` last.
        self.steps: list[CompiledStep] = []
        for step in (*rule.steps, *([rule.until] if rule.until else [])):
            if all(step is not known for known in self.steps):
                self.steps.append(step)
        self.key_paths: list[tuple[str, ...]] = []
        for step in self.steps:
            for key in step.step.keys:
                if key.path not in self.key_paths:
                    self.key_paths.append(key.path)
        self.window = _window(relation, since, until)
        self.prefilters = [prefilter(step, relation) for step in self.steps]
        # What every row a step matches satisfies: the time window and some step's prefilter.
        self.filters = list(self.window)
        if "TRUE" not in self.prefilters:
            self.filters.append("(" + " OR ".join(self.prefilters) + ")")
        self.ctes = self._matching_rows()
        self._keyed: dict[int, str] = {}

    def flag(self, step: CompiledStep) -> str:
        """The boolean column of rows matching `step`."""
        return f"m{self._index(step)}"

    def keyed(self, step: CompiledStep) -> str:
        """The name of a CTE of the rows matching `step` with their join keys, one row per
        key combination (o_, t_, bv_, d_, key_: the canonical key as JSON text, kr_: the
        key values as JSON texts); added on first use."""
        index = self._index(step)
        name = self._keyed.get(index)
        if name is None:
            name = self._keyed[index] = f"k{index}"
            self.ctes.append(f"{name} AS ({self._keyed_rows(step)})")
        return name

    def sql(self, select: str) -> str:
        return "WITH " + ",\n".join(self.ctes) + "\n" + select

    def rows_of(self, step: CompiledStep) -> str:
        """A condition on the relation that every row matching `step` satisfies."""
        return " AND ".join([*self.window, self.prefilters[self._index(step)]])

    def _index(self, step: CompiledStep) -> int:
        return next(i for i, known in enumerate(self.steps) if known is step)

    def _key_column(self, path: tuple[str, ...]) -> str:
        return f"p{self.key_paths.index(path)}"

    def _matching_rows(self) -> list[str]:
        """cer, src, ext, fld, unc, rows_ and flg (docs/eql.md, "SQL hunts")."""
        relation = self.relation
        table = ident(relation.name)
        filters = self.filters
        stamp = f"epoch_us({ident(relation.timestamp)}) AS t_"
        ties = [f"{ident(c)} AS b{i}_" for i, c in enumerate(relation.tiebreak)]
        tie_columns = [f"b{i}_" for i in range(len(relation.tiebreak))]
        flags = [f"m{i}" for i in range(len(self.steps))]
        keys = [self._key_column(p) for p in self.key_paths]

        json = SqlCompiler(relation)
        json_flags = [
            f"coalesce({json.step_condition(step)}, false) AS m{i}"
            for i, step in enumerate(self.steps)
        ]
        ctes: list[str] = []
        branches: list[str] = []
        uncertain = self._uncertain()
        if uncertain is None:
            document_scans = [" AND ".join(filters) or "TRUE"]
        else:
            hot = SqlCompiler(relation, hot=True)
            hot_flags = [
                f"coalesce({hot.step_condition(step)}, false) AS m{i}"
                if self._hot_columns(step) is not None
                else f"false AS m{i}"
                for i, step in enumerate(self.steps)
            ]
            hot_keys = [f"{self._hot_pairs(p)} AS {self._key_column(p)}" for p in self.key_paths]
            certain = [f"NOT ({test})" for test in uncertain]
            ctes.append(
                "cer AS (SELECT "
                + ", ".join([stamp, *ties, "NULL::VARCHAR AS d_", *hot_flags, *hot_keys])
                + f" FROM {table} WHERE {' AND '.join([*filters, *certain]) or 'TRUE'})"
            )
            branches.append("cer")
            # One scan per reason to read the document, each excluding the earlier ones: a
            # scan decodes `doc` only for rows passing the single-column filters DuckDB
            # evaluates in it (each prefilter's terms), not for every row of the window.
            document_scans = [
                " AND ".join([*self.window, test, *certain[:index]])
                for index, test in enumerate(uncertain)
            ] or ["FALSE"]

        # A field with a `string` or `long` column is read from the document only where the
        # column is NULL (a set column is the field's whole value): converting JSON values
        # is most of what these rows cost besides reading `doc`.
        paths = [*json.paths, *[p for p in self.key_paths if p not in json.paths]]
        hot_columns = {p: c for p in paths if (c := self._single_value_column(p)) is not None}
        cold = [p for p in paths if p not in hot_columns]
        listed = ", ".join(quote(_json_path(p)) for p in cold)
        extract = f"json_extract(d_, [{listed}])" if cold else "[]::JSON[]"

        def from_document(path: tuple[str, ...]) -> str:
            if path in cold:
                return f"j_[{cold.index(path) + 1}]"
            return f"json_extract(d_, {quote(_json_path(path))})"

        def column_or(path: tuple[str, ...], hot: Callable[[], str], general: str) -> str:
            column = hot_columns.get(path)
            if column is None:
                return general
            return f"(CASE WHEN {ident(column)} IS NOT NULL THEN {hot()} ELSE {general} END)"

        field_columns = [
            column_or(p, partial(json.field_column_hot, p), _field_values(from_document(p)))
            + f" AS f{i}"
            for i, p in enumerate(json.paths)
        ]
        key_columns = [
            column_or(p, partial(self._hot_pairs, p), _field_pairs(from_document(p)))
            + f" AS {self._key_column(p)}"
            for p in self.key_paths
        ]
        hot_reads = [ident(c) for c in dict.fromkeys(hot_columns.values())]
        # With a tie-break, matched events' documents are read afterwards (_Documents), so
        # the rows carry no document through the ordering and joins below.
        unc_document = "NULL::VARCHAR AS d_" if relation.tiebreak else "d_"
        read = "SELECT " + ", ".join(
            [stamp, *ties, f"{ident(relation.document)} AS d_", *hot_reads]
        )
        ctes += [
            "src AS ("
            + " UNION ALL ".join(f"{read} FROM {table} WHERE {where}" for where in document_scans)
            + ")",
            f"ext AS (SELECT *, {extract} AS j_ FROM src)",
            "fld AS (SELECT "
            + ", ".join(["t_", *tie_columns, "d_", *field_columns, *key_columns])
            + " FROM ext)",
            "unc AS (SELECT "
            + ", ".join(["t_", *tie_columns, unc_document, *json_flags, *keys])
            + " FROM fld)",
        ]
        branches.append("unc")

        columns = ", ".join(["t_", *tie_columns, "d_", *flags, *keys])
        union = " UNION ALL ".join(f"SELECT {columns} FROM {branch}" for branch in branches)
        order = ", ".join(["t_", *tie_columns] if tie_columns else ["t_", "d_"])
        identity = "[" + ", ".join(f"CAST({c} AS VARCHAR)" for c in tie_columns) + "]::VARCHAR[]"
        ctes.append(f"rows_ AS ({union})")
        ctes.append(
            # Filtered after the ordering: DuckDB pushes a filter below a projection by
            # substituting the columns' expressions, which would evaluate every condition
            # (and read every field) twice; it cannot push it below the window.
            f"flg AS (SELECT * FROM (SELECT *, row_number() OVER (ORDER BY {order}) AS o_, "
            f"{identity} AS bv_ FROM rows_) WHERE {' OR '.join(flags)})"
        )
        return ctes

    def _uncertain(self) -> list[str] | None:
        """The tests of the rows the hot columns may leave undecided: per step that needs
        the document, its prefilter; per hot column a step reads, the step's prefilter and
        that column NULL. The other rows are decided on the columns alone (`cer`). Each test
        is a conjunction of one-column terms, which DuckDB evaluates in the scan. None when
        no row can be decided so."""
        if not self.relation.tiebreak:
            # The documents of `cer` rows are read afterwards by timestamp and tie-break.
            return None
        tests: list[str] = []
        decided = False
        for step, step_prefilter in zip(self.steps, self.prefilters, strict=True):
            needed = self._hot_columns(step)
            if needed is None:
                if step_prefilter == "TRUE":
                    return None
                tests.append(step_prefilter)
                continue
            decided = True
            for column in needed:
                unset = f"{ident(column)} IS NULL"
                tests.append(f"{step_prefilter} AND {unset}" if step_prefilter != "TRUE" else unset)
        return tests if decided else None

    def _hot_columns(self, step: CompiledStep) -> list[str] | None:
        """The hot columns that must be set for `step` to be decided without the document;
        None when it needs the document always."""
        relation = self.relation
        needed: list[str] = []
        condition = step.step.query.condition
        paths = [field.path for field in n.fields_of(condition)]
        if step.category is not None:
            if not _safe_text(step.category):
                return None
            paths.append(("event", "category"))
        key_paths = [key.path for key in step.step.keys]
        for path in [*paths, *key_paths]:
            column = relation.columns.get(".".join(path))
            if column is None:
                return None
            name, kind = column
            if kind == "strings" and (path in key_paths or not _hot_leaves_exact(condition, path)):
                return None
            # A NULL column may hide values of other shapes ([["process"]], 5): those rows
            # read the document.
            if name not in needed:
                needed.append(name)
        return needed

    def _single_value_column(self, path: tuple[str, ...]) -> str | None:
        """The `string` or `long` column of a field: set only when it is the field's whole
        value."""
        column = self.relation.columns.get(".".join(path))
        return column[0] if column is not None and column[1] != "strings" else None

    def _hot_pairs(self, path: tuple[str, ...]) -> str:
        """A key field's pairs (see _field_pairs) from a set `string` or `long` column; none
        where the column cannot give them (no step decided on hot columns reads them)."""
        column = self.relation.columns.get(".".join(path))
        if column is None or column[1] == "strings":
            return "[]::STRUCT(c VARCHAR, r VARCHAR)[]"
        name = ident(column[0])
        if column[1] == "long":
            return f"[{{'c': CAST({name} AS VARCHAR), 'r': CAST({name} AS VARCHAR)}}]"
        return f"[{{'c': {name}, 'r': to_json({name})::VARCHAR}}]"

    def _keyed_rows(self, step: CompiledStep) -> str:
        flag = self.flag(step)
        if not step.step.keys:
            return (
                f"SELECT o_, t_, bv_, d_, '[]' AS key_, []::VARCHAR[] AS kr_ FROM flg WHERE {flag}"
            )
        joins, canonical, raws = [], [], []
        for index, key in enumerate(step.step.keys):
            column = self._key_column(key.path)
            if key.optional:
                # A missing optional key is the key null (EQL syntax, "Optional `by` fields").
                null = "[{'c': NULL::VARCHAR, 'r': NULL::VARCHAR}]"
                column = f"(CASE WHEN len({column}) = 0 THEN {null} ELSE {column} END)"
            joins.append(f"unnest({column}) AS u{index}(e)")
            canonical.append(f"u{index}.e.c")
            raws.append(f"u{index}.e.r")
        # Each field's values are distinct keyword forms, so the combinations are distinct keys.
        return (
            f"SELECT o_, t_, bv_, d_, to_json([{', '.join(canonical)}])::VARCHAR AS key_, "
            f"[{', '.join(raws)}] AS kr_ FROM flg, {', '.join(joins)} WHERE {flag}"
        )


def _event_sql(statement: _Statement) -> str:
    flag = statement.flag(statement.rule.steps[0])
    pipes = statement.rule.query.pipes
    # One `head` is a LIMIT; other pipes are applied to the matches (_apply_pipes).
    limit = f" LIMIT {int(pipes[0].count)}" if len(pipes) == 1 and pipes[0].name == "head" else ""
    return statement.sql(f"SELECT o_, {_event()} AS e_ FROM flg WHERE {flag} ORDER BY o_{limit}")


def _sequence_sql(statement: _Statement, body: n.Sequence) -> str:
    """The state machine of docs/eql.md, "Sequences without a state machine": one CTE q<j>
    per positive step j, each an ASOF join to the previous one."""
    rule, ctes = statement.rule, statement.ctes
    keyed = [statement.keyed(step) for step in rule.steps]
    until = statement.keyed(rule.until) if rule.until is not None else None
    positive = body.positive
    maxspan = body.maxspan_us
    first = positive[0]
    ctes.append(
        f"q{first} AS (SELECT key_, kr_, o_, t_, t_ AS start_, o_ AS first_, "
        f"[{_event()}] AS es_, false AS doomed_ FROM {keyed[first]})"
    )
    previous = first
    for stage in positive[1:]:
        # prev_: the step's previous event for the key, which took any pending sequence
        # older than itself.
        ctes.append(
            f"c{stage} AS (SELECT *, lag(o_) OVER (PARTITION BY key_ ORDER BY o_) AS prev_ "
            f"FROM {keyed[stage]})"
        )
        voided = [
            f"EXISTS (SELECT 1 FROM {keyed[m]} m WHERE m.key_ = c.key_ AND m.t_ > p.t_ "
            "AND m.t_ < c.t_)"
            for m in range(previous + 1, stage)
            if body.steps[m].missing
        ]
        conditions = ["(c.prev_ IS NULL OR c.prev_ <= p.o_)"]
        if maxspan is not None:
            conditions.append(f"c.t_ - p.start_ <= {int(maxspan)}")
        until_join = ""
        if until is not None:
            until_join = f" ASOF LEFT JOIN {until} u ON c.key_ = u.key_ AND c.o_ > u.o_"
            conditions.append("(u.o_ IS NULL OR u.o_ < p.o_)")
        ctes.append(
            f"q{stage} AS (SELECT c.key_, p.kr_, c.o_, c.t_, p.start_, p.first_, "
            f"list_append(p.es_, {_event('c.')}) AS es_, "
            f"({' OR '.join(['p.doomed_', *voided])}) AS doomed_ "
            f"FROM c{stage} c ASOF JOIN q{previous} p ON c.key_ = p.key_ AND c.o_ > p.o_"
            f"{until_join} WHERE {' AND '.join(conditions)})"
        )
        previous = stage
    last = positive[-1]
    accept = ["NOT q.doomed_", *_leading_and_trailing(statement, body, keyed)]
    return statement.sql(
        f"SELECT q.es_, q.kr_, q.start_, q.o_ FROM q{last} q WHERE {' AND '.join(accept)} "
        "ORDER BY q.first_, q.o_"
    )


def _leading_and_trailing(
    statement: _Statement, body: n.Sequence, keyed: Sequence[str]
) -> list[str]:
    """The final filter for missing steps before the first and after the last positive step
    (TumblingWindow.checkMissingEvents), over the complete sequences `q`."""
    positive = body.positive
    first, last = positive[0], positive[-1]
    leading = [m for m in range(first) if body.steps[m].missing]
    trailing = [m for m in range(last + 1, len(body.steps)) if body.steps[m].missing]
    span = int(body.maxspan_us or 0)
    if leading:
        union = " UNION ALL ".join(f"SELECT key_, t_ FROM {keyed[m]}" for m in leading)
        statement.ctes.append(f"lead AS ({union})")
        last_leading = "(SELECT max(m.t_) FROM lead m WHERE m.key_ = q.key_ AND m.t_ < q.start_)"
    if trailing:
        union = " UNION ALL ".join(f"SELECT key_, t_ FROM {keyed[m]}" for m in trailing)
        statement.ctes.append(f"trail AS ({union})")
        first_trailing = "(SELECT min(m.t_) FROM trail m WHERE m.key_ = q.key_ AND m.t_ > q.t_)"
    if leading and trailing:
        return [
            f"({last_leading} IS NULL OR {first_trailing} IS NULL OR "
            f"{first_trailing} - {last_leading} > {span})"
        ]
    if leading:
        return [f"({last_leading} IS NULL OR q.t_ - {last_leading} > {span})"]
    if trailing:
        return [f"({first_trailing} IS NULL OR {first_trailing} - q.start_ > {span})"]
    return []


def _sample_sql(statement: _Statement) -> str:
    """Each key's first N candidates per step (N steps), for keys with candidates for every
    step; the events are chosen in Python (_samples), as the streaming engine does."""
    rule, ctes = statement.rule, statement.ctes
    size = len(rule.steps)
    candidates = " UNION ALL ".join(
        f"SELECT {stage} AS stage_, key_, kr_, o_, {_event()} AS e_ FROM {statement.keyed(step)}"
        for stage, step in enumerate(rule.steps)
    )
    ctes.append(f"cand AS ({candidates})")
    ctes.append(
        "firstn AS (SELECT * FROM cand QUALIFY row_number() OVER "
        f"(PARTITION BY key_, stage_ ORDER BY o_) <= {size})"
    )
    ctes.append(
        f"complete AS (SELECT key_ FROM firstn GROUP BY key_ HAVING count(DISTINCT stage_) = {size})"
    )
    return statement.sql(
        "SELECT f.key_, f.kr_, f.stage_, f.o_, f.e_ FROM firstn f "
        "WHERE f.key_ IN (SELECT key_ FROM complete) ORDER BY f.key_, f.o_, f.stage_"
    )


# -- running --------------------------------------------------------------------------------------


def run_hunt(
    source: StoreReader | duckdb.DuckDBPyConnection,
    rule: CompiledRule,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    relation: Relation | None = None,
) -> list[Match]:
    """Every match of `rule` in the store (a StoreReader) or a DuckDB connection holding a
    relation of the same shape (`relation`, default: the store's columns over `events`).
    Pipes (`head`, `tail`) are applied to the matches in order of their first event."""
    relation = relation or store_relation()
    hunt = plan(rule, since=since, until=until, relation=relation)
    rows = _execute(source, hunt.sql)
    documents = _Documents(source, relation, hunt.step_rows)
    for row in rows:
        # Rows: event (o_, e_); sequence (es_, kr_, start_, o_); sample (key_, kr_, stage_,
        # o_, e_).
        if hunt.kind == "sequence":
            for step, event in enumerate(_rows(row[0])):
                documents.need(step, event)
        else:
            documents.need(_int(row[2]) if hunt.kind == "sample" else 0, row[-1])
    documents.fetch()
    matches: list[Match]
    if hunt.kind == "event":
        matches = [Match(rule, (documents.load(event),)) for _, event in rows]
    elif hunt.kind == "sequence":
        matches = [
            Match(rule, tuple(documents.load(e) for e in _rows(events)), _keys(raws))
            for events, raws, _, _ in rows
        ]
    else:
        matches = _samples(rule, rows, documents)
    return _apply_pipes(rule, matches)


class _Documents:
    """The documents of matched events: carried by the hunt when it read them, else read
    afterwards by timestamp and tie-break values among the rows the conditions of the steps
    they matched (`step_rows`) admit.

    Two stored events with the same timestamp and tie-break values are told apart no
    further: both are the same event to the hunt."""

    def __init__(self, source: object, relation: Relation, step_rows: Sequence[str]) -> None:
        self.source = source
        self.relation = relation
        self.step_rows = step_rows
        self.wanted: list[set[tuple[int, tuple[object, ...]]]] = [set() for _ in step_rows]
        self.found: dict[tuple[int, tuple[object, ...]], str] = {}

    @staticmethod
    def _identity(event: object) -> tuple[int, tuple[object, ...]]:
        if not isinstance(event, dict):
            raise TypeError(f"expected an event struct, got {type(event).__name__}")
        return _int(event["t"]), tuple(_rows(event["b"]))

    def need(self, step: int, event: object) -> None:
        """`event`, matched by the step `step_rows[step]` describes, needs its document."""
        if isinstance(event, dict) and event.get("d") is None:
            self.wanted[step].add(self._identity(event))

    def fetch(self) -> None:
        """Read the wanted documents in one query: each query decodes every page of `doc`
        that holds a row it may return, and events of a common step lie in every page."""
        wanted: set[tuple[int, tuple[object, ...]]] = set().union(*self.wanted)
        if not wanted:
            return
        conditions = [rows for rows, step in zip(self.step_rows, self.wanted, strict=True) if step]
        rows = " OR ".join(f"({c or 'TRUE'})" for c in dict.fromkeys(conditions))
        relation = self.relation
        stamps = sorted({t for t, _ in wanted})
        ties = ", ".join(f"CAST({ident(c)} AS VARCHAR)" for c in relation.tiebreak)
        for start in range(0, len(stamps), 200_000):
            listed = ", ".join(str(t) for t in stamps[start : start + 200_000])
            # DuckDB decodes `doc` only for the rows that pass the filters it evaluates in the
            # scan, which one step's prefilter terms are and a long list of timestamps is
            # not: without them, 100 matches among 10 M stored events cost a scan of every
            # document.
            sql = (
                f"SELECT epoch_us({ident(relation.timestamp)}), [{ties}]::VARCHAR[], "
                f"{ident(relation.document)} FROM {ident(relation.name)} "
                f"WHERE ({rows}) AND {ident(relation.timestamp)} IN "
                f"(SELECT make_timestamptz(w) FROM (SELECT unnest([{listed}]::BIGINT[]) AS w))"
            )
            for stamp, ties_found, doc in _execute(self.source, sql):
                key = (_int(stamp), tuple(_rows(ties_found)))
                if key in wanted:
                    text = str(doc)
                    known = self.found.get(key)
                    if known is None or text < known:
                        self.found[key] = text

    def load(self, event: object) -> dict[str, object]:
        if isinstance(event, dict) and event.get("d") is not None:
            return _load(event["d"])
        doc = self.found.get(self._identity(event))
        if doc is None:
            raise EqlError("a matched event was not found again in the store (it changed "
                           "during the hunt?); run the hunt again")  # fmt: skip
        return _load(doc)


def _execute(source: object, sql: str) -> list[tuple[object, ...]]:
    from doorhunt.store.reader import StoreReader  # noqa: PLC0415 - DuckDB only for hunts

    if isinstance(source, StoreReader):
        return source.sql(sql)
    execute = getattr(source, "execute", None)
    if execute is None:
        raise TypeError("run_hunt needs a StoreReader or a DuckDB connection")
    result = execute(sql)
    rows: list[tuple[object, ...]] = result.fetchall()
    return rows


def _rows(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


def _int(value: object) -> int:
    if isinstance(value, int):
        return value
    raise TypeError(f"expected an integer column, got {type(value).__name__}")


def _load(doc: object) -> dict[str, object]:
    loaded = orjson.loads(doc if isinstance(doc, str | bytes) else str(doc))
    return loaded if isinstance(loaded, dict) else {"doc": loaded}


def _keys(raws: object) -> tuple[KeyValue, ...]:
    if not isinstance(raws, list):
        return ()
    out: list[KeyValue] = []
    for raw in raws:
        value = None if raw is None else orjson.loads(raw)
        out.append(value if isinstance(value, str | int | float | bool) else None)
    return tuple(out)


def _samples(
    rule: CompiledRule, rows: Sequence[tuple[object, ...]], documents: _Documents
) -> list[Match]:
    """Replay the streaming sample runtime over each key's first candidates, in order."""
    size = len(rule.steps)
    found: list[tuple[int, Match]] = []
    for _, group in itertools.groupby(rows, key=lambda row: row[0]):
        members = list(group)
        lists: list[list[dict[str, object]]] = [[] for _ in range(size)]
        loaded: dict[object, dict[str, object]] = {}
        key_values = _keys(members[0][1])
        for ordinal, events in itertools.groupby(members, key=lambda row: row[3]):
            for _, _, stage, _, event in events:
                document = loaded.setdefault(ordinal, documents.load(event))
                lists[_int(stage)].append(document)
            chosen = match_sample(lists)
            if chosen is not None:
                found.append((_int(ordinal), Match(rule, tuple(chosen), key_values)))
                break
    found.sort(key=lambda item: item[0])
    return [match for _, match in found]


def _apply_pipes(rule: CompiledRule, matches: list[Match]) -> list[Match]:
    for pipe in rule.query.pipes:
        matches = matches[: pipe.count] if pipe.name == "head" else matches[-pipe.count :]
    return matches


__all__ = [
    "HuntPlan",
    "Relation",
    "SqlCompiler",
    "plan",
    "prefilter",
    "quote",
    "run_hunt",
    "store_relation",
    "to_sql",
]
