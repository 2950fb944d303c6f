"""Conformance cases: one condition, one document, the Elasticsearch answer.

Each case runs through the streaming engine and the SQL engine (helpers.both asserts they
agree) and is checked against what Elasticsearch does, with the reason. Sources: the EQL
syntax reference (reference/query-languages/eql/eql-syntax) and function reference
(eql-function-ref); `!=` and `not` follow QL's translation to a bool `must_not` query, which
matches documents without the field.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.rules.helpers import both, doc


@dataclass(frozen=True)
class Case:
    condition: str
    fields: dict[str, object]
    expected: bool
    why: str

    def __str__(self) -> str:
        return f"{self.condition} on {self.fields}"


def f(**fields: object) -> dict[str, object]:
    return fields


CASES = [
    # -- equality and case --------------------------------------------------------------------
    Case('process.name == "bash"', f(process__name="bash"), True, "== equal"),
    Case('process.name == "bash"', f(process__name="BASH"), False, "== is case-sensitive"),
    Case(
        'process.name == "bash"', f(process__name=["sh", "bash"]), True, "arrays match any element"
    ),
    Case('process.name == "bash"', f(), False, "a missing field matches no term"),
    Case('process.name == "bash"', f(process__name=None), False, "null is no value"),
    Case('process.name == "ba*"', f(process__name="bash"), False, "== does not expand wildcards"),
    Case('process.name == "ba*"', f(process__name="ba*"), True, "* is literal for =="),
    Case('process.name != "bash"', f(process__name="sh"), True, "!= not equal"),
    Case('process.name != "bash"', f(process__name="bash"), False, "!= is not(==)"),
    Case('process.name != "bash"', f(), True, "must_not matches documents without the field"),
    Case('process.name != "bash"', f(process__name=["sh", "bash"]), False, "no element may equal"),
    Case('not process.name == "bash"', f(), True, "not is must_not"),
    # -- : like like~ ------------------------------------------------------------------------------
    Case('process.name : "BASH"', f(process__name="bash"), True, ": is case-insensitive"),
    Case('process.name : "ba*"', f(process__name="BASH"), True, ": supports * (case-insensitive)"),
    Case('process.name : "b?sh"', f(process__name="bash"), True, "? matches one character"),
    Case('process.name : "b?h"', f(process__name="bash"), False, "? matches exactly one"),
    Case('process.name : "bash*"', f(process__name="bash"), True, "* matches zero characters"),
    Case('process.name : ("x", "b*")', f(process__name="bash"), True, ": takes a list"),
    Case('process.name : "bash"', f(process__name=["sh", "BASH"]), True, "any element"),
    Case('process.name like "Ba*"', f(process__name="bash"), False, "like is case-sensitive"),
    Case('process.name like~ "Ba*"', f(process__name="bash"), True, "like~ is case-insensitive"),
    Case('process.name like ("x*", "?ash")', f(process__name="bash"), True, "like takes a list"),
    Case('process.name like "é?"', f(process__name="éa"), True, "? is one character, not byte"),
    Case('process.name : "ÉA"', f(process__name="éa"), True, "case folding beyond ASCII"),
    Case(
        'process.command_line : "*\\\\x*"',
        f(process__command_line="a\\x41"),
        True,
        "no escape in EQL wildcards: \\\\ is a literal backslash",
    ),
    Case(
        'process.command_line : "*\\\\x*"',
        f(process__command_line="ax41"),
        False,
        "the backslash must be there",
    ),
    Case(
        'process.command_line like "*%_*"',
        f(process__command_line="a%_b"),
        True,
        "% and _ are not wildcards in EQL",
    ),
    Case(
        'process.command_line like "*%_*"',
        f(process__command_line="ab"),
        False,
        "% and _ are literal",
    ),
    Case('process.pid : "12*"', f(process__pid=123), True, "a number is matched by its text"),
    # -- regex --------------------------------------------------------------------------------------
    Case('process.name regex "ba.h"', f(process__name="bash"), True, "regex full match"),
    Case('process.name regex "as"', f(process__name="bash"), False, "regex is anchored"),
    Case('process.name regex "BA.H"', f(process__name="bash"), False, "regex is case-sensitive"),
    Case('process.name regex~ "BA.H"', f(process__name="bash"), True, "regex~ ignores ASCII case"),
    Case(
        'process.name regex~ "É"',
        f(process__name="é"),
        False,
        "regex~ is ASCII-only (Lucene ASCII_CASE_INSENSITIVE)",
    ),
    Case('process.name regex """\\w+\\.pid"""', f(process__name="run_1.pid"), True, "\\w class"),
    Case('process.name regex "[a-c]+h"', f(process__name="bah"), True, "character ranges"),
    Case('process.name regex "a.b"', f(process__name="a\nb"), True, ". matches newlines"),
    Case('process.name regex ("x", "b.*")', f(process__name="bash"), True, "regex takes a list"),
    Case('process.name regex "ba\\"sh\\""', f(process__name="bash"), True, '"quoted" literal'),
    # -- in ----------------------------------------------------------------------------------------
    Case('process.name in ("bash", "sh")', f(process__name="sh"), True, "in"),
    Case('process.name in ("bash", "sh")', f(process__name="SH"), False, "in is case-sensitive"),
    Case('process.name in~ ("bash", "sh")', f(process__name="SH"), True, "in~"),
    Case('process.name not in ("bash", "sh")', f(process__name="zsh"), True, "not in"),
    Case('process.name not in ("bash", "sh")', f(), True, "not in matches missing fields"),
    Case('process.name not in~ ("bash")', f(process__name="BASH"), False, "not in~"),
    Case('process.args in ("-c")', f(process__args=["bash", "-c"]), True, "in, any element"),
    Case("process.pid in (1, 5)", f(process__pid=5), True, "numbers in lists"),
    Case("process.pid in (1, 5)", f(process__pid="5"), True, "numeric strings are coerced"),
    Case('process.name in ("a", null)', f(), False, "null in a list matches nothing"),
    # -- numbers and ordering --------------------------------------------------------------------
    Case("process.pid == 5", f(process__pid=5), True, "numeric equality"),
    Case("process.pid == 5", f(process__pid="5"), True, "a numeric string is coerced"),
    Case("process.pid == 5", f(process__pid=5.0), True, "5.0 equals 5"),
    Case('process.pid == "5"', f(process__pid=5), True, "a number's keyword form is its text"),
    Case("process.pid > 4", f(process__pid=5), True, ">"),
    Case("process.pid < 4", f(process__pid=[1, 10]), True, "ranges match any element"),
    Case("process.pid >= 5", f(process__pid="x"), False, "non-numbers are not numbers"),
    Case("4 < process.pid", f(process__pid=5), True, "literal on the left"),
    Case('process.name > "b"', f(process__name="c"), True, "strings order lexicographically"),
    Case('process.name > "b"', f(process__name="B"), False, "case-sensitive order"),
    Case("process.interactive == true", f(process__interactive=True), True, "booleans"),
    Case("process.interactive == false", f(process__interactive=True), False, "booleans"),
    Case("process.interactive", f(process__interactive=True), True, "a boolean field as condition"),
    # -- null and optional fields ------------------------------------------------------------------
    Case("process.name == null", f(), True, "missing is null"),
    Case("process.name == null", f(process__name=None), True, "null is null"),
    Case("process.name == null", f(process__name=[]), True, "an empty array has no value"),
    Case("process.name == null", f(process__name="x"), False, "a value is not null"),
    Case("process.name != null", f(process__name="x"), True, "exists"),
    Case("?process.name != null", f(), False, "optional field, missing"),
    Case('?user.foo == "x"', f(user__foo="x"), True, "optional field, present"),
    Case('process.name == "bash"', f(**{"process.name": "bash"}), True, "dotted keys are paths"),
    # -- arithmetic ---------------------------------------------------------------------------------
    Case("process.args_count + 1 == 5", f(process__args_count=4), True, "+"),
    Case(
        "(4 / process.args_count) == 1",
        f(process__args_count=3),
        True,
        "integer division rounds down (the syntax reference's example)",
    ),
    Case("(4.0 / process.args_count) == 1", f(process__args_count=3), False, "float division"),
    Case("process.args_count % 3 == 1", f(process__args_count=4), True, "%"),
    Case("-process.args_count < 0", f(process__args_count=4), True, "negation"),
    Case("process.args_count * 2 > 7", f(process__args_count="4"), True, "coerced numbers"),
    Case("process.args_count + 1 == 5", f(), False, "arithmetic on null is null"),
    Case("not (process.args_count + 1 == 5)", f(), True, "not of a null comparison"),
    # -- functions (examples of the function reference) ---------------------------------------------
    Case("length(process.name) == 12", f(process__name="regsvr32.exe"), True, "length"),
    Case("length(process.args) == 2", f(process__args=["a", "bb"]), True, "functions: any element"),
    Case(
        'startsWith(process.name, "regsvr32")', f(process__name="regsvr32.exe"), True, "startsWith"
    ),
    Case(
        'startsWith(process.name, "Regsvr32")',
        f(process__name="regsvr32.exe"),
        False,
        "startsWith is case-sensitive",
    ),
    Case(
        'startsWith~(process.name, "Regsvr32")',
        f(process__name="regsvr32.exe"),
        True,
        "startsWith~",
    ),
    Case(
        'STARTSWITH(process.name, "reg")',
        f(process__name="regsvr32.exe"),
        True,
        "function names in any letter case",
    ),
    Case('endsWith(file.name, ".exe")', f(file__name="regsvr32.exe"), True, "endsWith"),
    Case('endsWith~(file.name, ".EXE")', f(file__name="regsvr32.exe"), True, "endsWith~"),
    Case(
        'stringContains(process.command_line, "regsvr32")',
        f(process__command_line="start regsvr32.exe"),
        True,
        "stringContains",
    ),
    Case(
        'stringcontains(process.command_line, "Regsvr32")',
        f(process__command_line="start regsvr32.exe"),
        False,
        "stringContains, lower case",
    ),
    Case(
        'stringContains~(process.command_line, "Regsvr32")',
        f(process__command_line="start regsvr32.exe"),
        True,
        "stringContains~",
    ),
    Case(
        'stringContains(process.command_line, "")',
        f(process__command_line="x"),
        False,
        "the empty string is not contained",
    ),
    Case('indexOf(url.domain, "d") == 3', f(url__domain="subdomain.example.com"), True, "indexOf"),
    Case(
        'indexOf(url.domain, "D") == null',
        f(url__domain="subdomain.example.com"),
        True,
        "indexOf: not found is null",
    ),
    Case(
        'indexOf~(url.domain, "D") == 3',
        f(url__domain="subdomain.example.com"),
        True,
        "indexOf~ (the reference's example of 4 is a typo: d is at 3)",
    ),
    Case(
        'indexOf(url.domain, ".", 10) == 17',
        f(url__domain="subdomain.example.com"),
        True,
        "indexOf with a start",
    ),
    Case(
        'indexOf(url.domain, ".", -6) == 9',
        f(url__domain="subdomain.example.com"),
        True,
        "negative starts are 0",
    ),
    Case(
        'indexOf(url.domain, "", 10) == 10',
        f(url__domain="subdomain.example.com"),
        True,
        "the empty string is found at the start",
    ),
    Case(
        'indexOf(url.domain, ".", 30) == null',
        f(url__domain="subdomain.example.com"),
        True,
        "a start past the end is null",
    ),
    Case(
        'substring(process.command_line, 6) == "regsvr32.exe"',
        f(process__command_line="start regsvr32.exe"),
        True,
        "substring",
    ),
    Case(
        'substring(process.command_line, -4, -1) == ".ex"',
        f(process__command_line="start regsvr32.exe"),
        True,
        "negative offsets",
    ),
    Case(
        'substring(process.command_line, 6, 14) == "regsvr32"',
        f(process__command_line="start regsvr32.exe"),
        True,
        "substring with an end",
    ),
    Case(
        'between(file.path, "System32\\\\", ".exe") == "cmd"',
        f(file__path="C:\\Windows\\System32\\cmd.exe"),
        True,
        "between",
    ),
    Case(
        'between(file.path, "system32\\\\", ".exe") == ""',
        f(file__path="C:\\Windows\\System32\\cmd.exe"),
        True,
        "between is case-sensitive",
    ),
    Case(
        'between~(file.path, "system32\\\\", ".exe") == "cmd"',
        f(file__path="C:\\Windows\\System32\\cmd.exe"),
        True,
        "between~",
    ),
    Case(
        'between(file.path, "\\\\", "\\\\", true) == "Windows\\\\System32"',
        f(file__path="C:\\Windows\\System32\\cmd.exe"),
        True,
        "greedy between",
    ),
    Case(
        'between(file.path, "\\\\", "\\\\", false) == "Windows"',
        f(file__path="C:\\Windows\\System32\\cmd.exe"),
        True,
        "non-greedy between",
    ),
    Case(
        'concat(process.name, " ", 42) == "regsvr32.exe 42"',
        f(process__name="regsvr32.exe"),
        True,
        "concat",
    ),
    Case("concat(process.name, null) == null", f(process__name="x"), True, "concat with null"),
    Case('string(process.pid) == "42"', f(process__pid=42), True, "string"),
    Case("number(process.title) == 1337", f(process__title="  +1337  "), True, "number"),
    Case(
        "number(process.title) == 3735928559",
        f(process__title="0xdeadbeef"),
        True,
        "0x is hexadecimal",
    ),
    Case("number(process.title, 16) == 3735928559", f(process__title="deadbeef"), True, "base 16"),
    Case("number(process.title) == 42.5", f(process__title="42.5"), True, "floats"),
    Case("number(process.title) == null", f(process__title="x1"), True, "not a number"),
    Case("add(process.args_count, 0.5) == 4.5", f(process__args_count=4), True, "add"),
    Case("subtract(process.args_count, 6) == 4", f(process__args_count=10), True, "subtract"),
    Case("multiply(process.args_count, 0.25) == 0.5", f(process__args_count=2), True, "multiply"),
    Case("divide(process.args_count, 3) == 1", f(process__args_count=4), True, "divide"),
    Case(
        "divide(process.args_count, 0) == null",
        f(process__args_count=4),
        True,
        "division by zero is null here (an error in Elasticsearch)",
    ),
    Case("modulo(process.args_count, -6) == 4", f(process__args_count=10), True, "modulo"),
    Case(
        "modulo(-10, process.args_count) == -4",
        f(process__args_count=-6),
        True,
        "modulo keeps the dividend's sign",
    ),
    Case(
        'cidrMatch(source.ip, "192.168.0.0/16")', f(source__ip="192.168.152.12"), True, "cidrMatch"
    ),
    Case(
        'cidrMatch(source.ip, "10.0.0.0/8", "10.128.0.0/9")',
        f(source__ip="192.168.152.12"),
        False,
        "cidrMatch, no block",
    ),
    Case('cidrmatch(source.ip, "fe80::/10")', f(source__ip="fe80::1"), True, "IPv6, lower case"),
    Case('cidrMatch(source.ip, "::1")', f(source__ip="::1"), True, "a single address"),
    Case('cidrMatch(source.ip, "0.0.0.0/0")', f(source__ip="::1"), False, "versions differ"),
    Case('cidrMatch(source.ip, "0.0.0.0/0")', f(source__ip="not an ip"), False, "not an IP"),
    Case(
        'cidrMatch(source.ip, "::ffff:0:0/96")',
        f(source__ip="::ffff:1.2.3.4"),
        True,
        "embedded IPv4",
    ),
    Case(
        'cidrMatch(source.ip, "10.0.0.0/8")',
        f(source__ip=["1.1.1.1", "10.1.1.1"]),
        True,
        "any element",
    ),
    Case('not cidrMatch(destination.ip, "10.0.0.0/8")', f(), True, "not of null is true"),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conformance(case: Case) -> None:
    document = doc("e1", 0, None, **case.fields)
    matched = both(f"any where {case.condition}", [document]) != []
    assert matched is case.expected, case.why


def test_event_category_filters_on_any_element() -> None:
    documents = [
        doc("p", 0, "process"),
        doc("pn", 1, ["network", "process"]),
        doc("f", 2, "file"),
        doc("none", 3, None),
        # Not the shape ECS writes, but Elasticsearch flattens it: hunts read the document.
        doc("nested", 4, [["process"]]),
        doc("text", 5, category=None, event__category="process"),
    ]
    expected = [(("nested",), ()), (("p",), ()), (("pn",), ()), (("text",), ())]
    assert both("process where true", documents) == expected
    assert both('any where event.type != "x" and event.category == "process"', documents) == (
        expected
    )
    assert len(both("any where true", documents)) == 6
    # The category is a term: case-sensitive.
    assert both("Process where true", documents) == []
