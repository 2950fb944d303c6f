"""The value model's pieces, held to their references: wildcards, Lucene regular expressions,
IP addresses, numbers and timestamps; Python and DuckDB read each the same way."""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime, timedelta

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorhunt.rules.engine import values as v
from doorhunt.rules.engine.sql import _ipv6_int, quote

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:lark")


@pytest.fixture(scope="module")
def connection() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


texts = st.text(alphabet="abAB*?.\\x%_é\n", max_size=8)


@given(pattern=texts, text=texts, insensitive=st.booleans())
def test_wildcard_matcher_is_the_pattern_as_a_regular_expression(
    pattern: str, text: str, insensitive: bool
) -> None:
    folded_pattern = v.fold(pattern) if insensitive else pattern
    regex = v.wildcard_regex(v.wildcard_tokens(folded_pattern))
    expected = re.fullmatch(regex, v.fold(text) if insensitive else text, re.DOTALL) is not None
    assert v.wildcard_matcher([pattern], insensitive)(text) is expected


@given(pattern=texts, text=texts)
def test_wildcards_read_the_same_in_duckdb(
    connection: duckdb.DuckDBPyConnection, pattern: str, text: str
) -> None:
    like = v.wildcard_like(v.wildcard_tokens(pattern))
    found = connection.execute(f"SELECT {quote(text)} LIKE {quote(like)} ESCAPE '\\'").fetchone()
    assert found == (v.wildcard_matcher([pattern], False)(text),)


REGEXES = ["b.*", "BA.H", "[a-c]+h", "\\w+\\.pid", "(sh|bash)", "é.?", "[^a]*", "a{2,3}",
           'x"a.b"', "a*?b", "a+*", "\\.\\*", "[\\]a]b", "[a\\-z]"]  # fmt: skip


@given(
    pattern=st.sampled_from(REGEXES),
    text=st.text(alphabet='abhsBAHé.\n*]-z"x', max_size=6),
    insensitive=st.booleans(),
)
def test_lucene_regexes_read_the_same_in_python_and_duckdb(
    connection: duckdb.DuckDBPyConnection, pattern: str, text: str, insensitive: bool
) -> None:
    translated = v.lucene_regex(pattern, insensitive)
    python = re.fullmatch(translated, text, re.DOTALL) is not None
    found = connection.execute(
        f"SELECT regexp_full_match({quote(text)}, {quote('(?s)' + translated)})"
    ).fetchone()
    assert found == (python,)
    prefix = v.regex_prefix(pattern)
    if python and prefix:
        assert (v.fold(text) if insensitive else text).startswith(
            v.fold(prefix) if insensitive else prefix
        )


def test_lucene_regex_features() -> None:
    assert re.fullmatch(v.lucene_regex('a"b.c"', False), "ab.c")
    assert not re.fullmatch(v.lucene_regex('a"b.c"', False), "abxc")
    assert re.fullmatch(v.lucene_regex("[a-c]+", True), "AbC")
    assert not re.fullmatch(v.lucene_regex("é", True), "É")  # ASCII-only case folding
    for bad in ("a~b", "a&b", "@", "<1-5>", "#", "(a", "[a", "a{2", "*a"):
        with pytest.raises(v.PatternError):
            v.lucene_regex(bad, False)


addresses = st.one_of(
    st.ip_addresses(v=6).map(str),
    st.ip_addresses(v=6).map(lambda a: a.exploded),
    st.ip_addresses(v=4).map(lambda a: f"::ffff:{a}"),
    st.text(alphabet="0123456789abcdefABCDEF:.%", min_size=1, max_size=16),
)


@given(text=addresses)
def test_ipv6_reads_the_same_in_duckdb(connection: duckdb.DuckDBPyConnection, text: str) -> None:
    address = v.parse_ip(text)
    expected = int(address) if address is not None and address.version == 6 else None
    found = connection.execute(f"SELECT {_ipv6_int(quote(text))}").fetchone()
    if ":" in text:
        assert found == (expected,)


@given(address=st.ip_addresses(), prefix=st.integers(0, 128))
def test_ip_ranges_agree_with_ipaddress(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, prefix: int
) -> None:
    network = ipaddress.ip_network(f"{address}/{min(prefix, address.max_prefixlen)}", strict=False)
    ((version, low, high),) = v.network_ranges([network])
    found = v.ip_value(str(address))
    assert found is not None and found[0] == version and low <= found[1] <= high


@given(
    moment=st.datetimes(
        min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    )
)
def test_the_fast_timestamp_path_agrees_with_datetime(moment: datetime) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert v.timestamp_us(text) == (moment - epoch) // timedelta(microseconds=1)
    assert v.timestamp_us(text[:-1] + "+00:00") == v.timestamp_us(text)


def test_timestamps_in_other_forms() -> None:
    assert v.timestamp_us(1_700_000_000_000) == 1_700_000_000_000_000
    assert v.timestamp_us("2025-05-01T12:00:00Z") == v.timestamp_us("2025-05-01T12:00:00.000Z")
    assert v.timestamp_us("2025-05-01T12:00:00") == v.timestamp_us("2025-05-01T12:00:00Z")
    for bad in ("2025-13-01T12:00:00.000Z", "2025-05-01T24:00:00.000Z", "x" * 24, None, True):
        assert v.timestamp_us(bad) is None


@pytest.mark.parametrize(
    ("text", "base", "expected"),
    [
        ("1337", None, 1337),
        ("  +1337  ", None, 1337),
        ("-1337", None, -1337),
        ("42.5", None, 42.5),
        ("0xdeadbeef", None, 3735928559),
        ("0xdeadbeef", 16, 3735928559),
        ("deadbeef", 16, 3735928559),
        ("0x10", 10, None),
        ("+-5", None, None),
        ("", None, None),
        ("1_000", None, None),
        ("١٢", None, None),
        ("0x" + "f" * 16, None, None),
    ],
)
def test_number(text: str, base: int | None, expected: float | None) -> None:
    assert v.to_number(text, base) == expected


def test_keyword_and_numeric_forms() -> None:
    assert [v.keyword(x) for x in ("a", 5, 2.5, True, False)] == ["a", "5", "2.5", "true", "false"]
    assert [v.numeric(x) for x in ("5", " 5", "1e3", "x", True, 7)] == [
        5.0,
        None,
        1000.0,
        None,
        None,
        7.0,
    ]
    assert v.fold("İSTANBUL ΣΑΣ") == "istanbul σασ"  # per code point, as Java and DuckDB


def test_field_values_follow_arrays_dotted_keys_and_objects() -> None:
    document = {"a": [{"b": 1}, {"b": [2, None, {"c": 3}]}], "x.y": "z", "n": None}
    assert v.field_values(document, ("a", "b")) == [1, 2]
    assert v.field_values(document, ("x", "y")) == ["z"]
    assert v.field_values(document, ("n",)) == []
    assert v.expand_dotted({"a.b": 1, "a": {"c": 2}}) == {"a": {"b": 1, "c": 2}}


@pytest.mark.parametrize(
    ("pattern", "prefix"),
    [("/dev/shm/.*", "/dev/shm/"), ("ab+c", "ab"), ("ab+*", "a"), ("ab?", "a"), ("a|b", "")],
)
def test_regex_prefix_stops_where_a_character_may_be_absent(pattern: str, prefix: str) -> None:
    assert v.regex_prefix(pattern) == prefix
