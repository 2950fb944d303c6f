"""Parsing: Elasticsearch's syntax and rules, and errors that say where."""

from __future__ import annotations

import pytest

from doorhunt.errors import InputError
from doorhunt.rules.engine import EqlError, compile_rule
from doorhunt.rules.engine import nodes as n
from doorhunt.rules.engine.parser import parse_query


def error_of(query: str, **options: object) -> EqlError:
    with pytest.raises(EqlError) as caught:
        compile_rule(query, **options)  # type: ignore[arg-type]
    return caught.value


def test_errors_carry_file_line_column_and_a_caret() -> None:
    error = error_of('process where\n  process.name = "x"', location="rules/a.toml", first_line=10)
    assert isinstance(error, InputError)
    assert error.location == "rules/a.toml:11:16"
    assert str(error).splitlines() == [
        "rules/a.toml:11:16: invalid syntax: compare with == instead of =",
        '  process.name = "x"',
        "               ^",
    ]
    moved = error.at("elsewhere.toml")
    assert moved.location == "elsewhere.toml:11:16"


def test_syntax_errors_point_at_the_token() -> None:
    error = error_of("process where process.name == ")
    assert error.line == 1
    assert "unexpected end of query" in error.message
    error = error_of('process where process.name == "x" and and')
    assert error.column == 39
    assert error.caret is not None and error.caret.endswith("^^^")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("process where process.name == 'x'", "double quotes"),
        ('process where process.name == ?"x"', "double quotes"),
        ("process where process.name == process.executable", "comparisons against fields"),
        ("process where length(process.name) == length(process.executable)", "against fields"),
        ('process where process.name in ("a", process.executable)', "must be literals"),
        ('process where wildcard(process.name, "a*")', "Endgame EQL"),
        ('process where arrayContains(process.args, "a")', "Endgame EQL"),
        ("process where nosuch(process.name)", "unknown function nosuch"),
        ("process where length~(process.name) > 1", "no case-insensitive form"),
        ("process where startsWith(process.name)", "startsWith takes 2 arguments"),
        ('process where cidrMatch(source.ip, "300.0.0.0/8")', "not a CIDR block"),
        ("process where cidrMatch(source.ip, source.address)", "must be a literal"),
        ('process where process.name regex "a~b"', "not supported"),
        ('process where process.name regex "(a"', "missing )"),
        ('process where process.args[0] == "a"', "array indexes"),
        ('process where "x"', "expected a condition"),
        ("process where length(process.name)", "does not return a boolean"),
        ('process where process.name == "a" | count', "pipe count is not supported"),
        ('process where process.name == "a" | head -1', "positive integer"),
        ("join [process where true] [file where true]", "join is not supported"),
        ("process where descendant of [process where true]", "lineage"),
        ("sequence [process where true]", "at least two steps"),
        ("sequence with maxspan=1s by host.id [a where true] [b where true]", "[by] before [with]"),
        ("sequence with maxspan=1.5s [a where true] [b where true]", "decimal time interval"),
        ("sequence with maxspan=5 [a where true] [b where true]", "no time unit"),
        ("sequence with maxspan=5y [a where true] [b where true]", "unrecognized time unit"),
        ("sequence with maxspan=0s [a where true] [b where true]", "positive maxspan"),
        ("sequence [a where true] ![b where true]", "`with maxspan` is mandatory"),
        ("sequence with maxspan=1s ![a where true] ![b where true]", "not a missing event"),
        ("sequence by a [x where true] by b [y where true]", "inconsistent number of join keys"),
        ("sequence [x where true] by length(a) [y where true] by b", "join keys must be fields"),
        ("sequence [x where true] with runs=101 [y where true]", "between 1 and 100"),
        ("sequence [x where true] [y where true] fork", None),
        ("sample by a [x where true]", "at least two steps"),
        ("sample [x where true] [y where true]", "join keys"),
        ('process where process.name == "\\q"', "unexpected character"),
        ("where true", None),
    ],
)
def test_what_elasticsearch_rejects_is_rejected(query: str, message: str | None) -> None:
    error = error_of(query)
    if message is not None:
        assert message in error.message, error.message
    assert error.line is not None and error.column is not None


def test_strings_escapes_and_raw_strings() -> None:
    tree = parse_query(
        'any where a == "t\\tn\\nq\\"b\\\\u\\u{41}\\u{1F600}" and b == """raw \\ "quote" ok"""'
    )
    condition = tree.body.condition  # type: ignore[union-attr]
    assert isinstance(condition, n.And)
    first, second = condition.terms
    assert isinstance(first, n.Compare) and isinstance(first.right, n.Literal)
    assert first.right.value == 't\tn\nq"b\\uA\U0001f600'
    assert isinstance(second, n.Compare) and isinstance(second.right, n.Literal)
    assert second.right.value == 'raw \\ "quote" ok'


def test_operators_keep_their_case_sensitivity() -> None:
    tree = parse_query(
        'any where a : "x" and a like "x" and a like~ "x" and a regex "x" and a regex~ "x" '
        'and a in ("x") and a in~ ("x") and a not in~ ("x")'
    )
    condition = tree.body.condition  # type: ignore[union-attr]
    assert isinstance(condition, n.And)
    kinds = []
    for term in condition.terms:
        inner = term.term if isinstance(term, n.Not) else term
        assert isinstance(inner, n.Pattern | n.InList)
        name = inner.kind if isinstance(inner, n.Pattern) else "in"
        kinds.append((name, inner.insensitive, isinstance(term, n.Not)))
    assert kinds == [
        ("like", True, False),
        ("like", False, False),
        ("like", True, False),
        ("regex", False, False),
        ("regex", True, False),
        ("in", False, False),
        ("in", True, False),
        ("in", True, True),
    ]


def test_function_names_resolve_in_any_case() -> None:
    for spelling in ("cidrMatch", "cidrmatch", "CIDRMATCH", "CidrMatch"):
        tree = parse_query(f'any where {spelling}(source.ip, "10.0.0.0/8")')
        call = tree.body.condition  # type: ignore[union-attr]
        assert isinstance(call, n.Call) and call.name == "cidrMatch"


def test_sequences_expand_runs_and_join_shared_keys_first() -> None:
    tree = parse_query(
        "sequence by host.id with maxspan=2m [process where true] by process.pid with runs=2 "
        "[network where true] by ?process.pid until [process where false] by process.pid"
    )
    body = tree.body
    assert isinstance(body, n.Sequence)
    assert body.maxspan_us == 120_000_000
    assert len(body.steps) == 3
    assert body.steps[0] is body.steps[1]
    assert [k.name for k in body.steps[2].keys] == ["host.id", "process.pid"]
    assert body.steps[2].keys[1].optional
    assert body.until is not None and [k.name for k in body.until.keys] == [
        "host.id",
        "process.pid",
    ]


def test_optional_fields_and_escaped_names() -> None:
    tree = parse_query("any where ?`my-field`.x == 1 and `a b` == 2")
    condition = tree.body.condition  # type: ignore[union-attr]
    assert isinstance(condition, n.And)
    first = condition.terms[0]
    assert isinstance(first, n.Compare) and isinstance(first.left, n.Field)
    assert first.left.path == ("my-field", "x") and first.left.optional


def test_compiled_rules_name_themselves() -> None:
    rule = compile_rule('process where process.name == "a"')
    assert rule.name == 'process where process.name == "a"'
    assert rule.kind == "event"
    assert compile_rule("process where true", name="n").name == "n"
