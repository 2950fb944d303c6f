"""Target parsing: forms, refusals, exclusions, limits, and lazy iteration."""

from __future__ import annotations

import ipaddress
import itertools
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorhunt.scan.targets import (
    MAX_TARGETS,
    Span,
    TargetError,
    TargetSet,
    format_address,
    parse_address,
    parse_list,
    parse_spec,
)


def addresses(*specs: str, exclude: tuple[str, ...] = ()) -> list[str]:
    spans = [span for spec in specs for span in parse_spec(spec, location="t")]
    excluded = [span for spec in exclude for span in parse_spec(spec, location="x", exclusion=True)]
    return [format_address(a) for a in TargetSet(spans, excluded)]


def test_forms() -> None:
    assert addresses("198.18.0.7") == ["198.18.0.7"]
    assert addresses("198.18.0.0/30") == ["198.18.0.1", "198.18.0.2"]
    assert addresses("198.18.0.0/31") == ["198.18.0.0", "198.18.0.1"]  # RFC 3021
    assert addresses("198.18.0.5/32") == ["198.18.0.5"]
    assert addresses("198.18.0.9/29") == [f"198.18.0.{i}" for i in range(9, 15)]  # host bits
    assert addresses("198.18.0.250-198.18.1.1") == [
        "198.18.0.250",
        "198.18.0.251",
        "198.18.0.252",
        "198.18.0.253",
        "198.18.0.254",
        "198.18.0.255",
        "198.18.1.0",
        "198.18.1.1",
    ]
    assert addresses("198.18.0.1-3") == ["198.18.0.1", "198.18.0.2", "198.18.0.3"]


def test_network_and_broadcast_addresses_of_a_range_are_never_targets() -> None:
    found = addresses("198.18.0.0/24", "198.18.1.0/24")
    assert "198.18.0.0" not in found and "198.18.0.255" not in found
    assert "198.18.1.0" not in found and "198.18.1.255" not in found
    assert len(found) == 2 * 254


def test_overlaps_are_scanned_once_and_exclusions_honoured() -> None:
    found = addresses(
        "198.18.0.0/24",
        "198.18.0.10",
        "198.18.0.0/25",
        exclude=("198.18.0.0/26", "198.18.0.200-198.18.0.210", "198.18.0.254"),
    )
    assert len(found) == len(set(found))
    assert found[0] == "198.18.0.64" and "198.18.0.205" not in found
    assert len(found) == 254 - 63 - 11 - 1


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("224.0.0.1", "multicast"),
        ("239.255.255.250/30", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("0.0.0.0", "this network"),
        ("0.1.2.3/24", "this network"),
        ("240.0.0.1", "reserved"),
        ("10.0.0.0/7", "larger than a /8"),
        ("0.0.0.0/0", "larger than a /8"),
        ("10.0.0.0/33", "prefix length"),
        ("10.0.0.0/", "prefix length"),
        ("10.0.0.0/-1", "prefix length"),
        ("10.0.0.0/8/8", "prefix length"),
        ("10.1", "not an IPv4 address"),
        ("010.0.0.1", "not an IPv4 address"),
        ("10.0.0.256", "not an IPv4 address"),
        ("fe80::1", "IPv6"),
        ("2001:db8::/32", "IPv6"),
        ("server.example", "names are not resolved"),
        ("10.0.0.9-10.0.0.1", "ends before it starts"),
        ("10.0.0.1-300", "at most 255"),
        ("1.0.0.0-3.0.0.0", "more addresses than a /8"),
        ("10.0.0.1\x1b[2J", "not an IPv4 address"),
        ("", "empty"),
    ],
)
def test_refusals_are_one_line_with_their_place(spec: str, message: str) -> None:
    with pytest.raises(TargetError, match=message) as caught:
        parse_spec(spec, location="argv")
    text = str(caught.value)
    assert text.startswith("argv: ") and "\n" not in text and "\x1b" not in text


def test_a_slash_8_is_the_limit_for_the_whole_set() -> None:
    assert len(TargetSet(parse_spec("10.0.0.0/8", location="t"))) == MAX_TARGETS - 2
    spans = [*parse_spec("10.0.0.0/8", location="t"), *parse_spec("11.0.0.0/24", location="t")]
    with pytest.raises(TargetError, match="more than a /8"):
        TargetSet(spans)
    excluded = parse_spec("10.0.0.0/16", location="x", exclusion=True)
    assert len(TargetSet(spans, excluded)) == MAX_TARGETS - 2 - 65536 + 1 + 254


def test_exclusions_may_name_anything() -> None:
    assert parse_spec("0.0.0.0/0", location="x", exclusion=True) == [Span(0, 0xFFFFFFFF)]
    assert addresses("198.18.0.0/30", exclude=("0.0.0.0/0",)) == []


def test_target_files_skip_comments_and_name_the_bad_line() -> None:
    data = b"# fleet\n198.18.0.1\n\n198.18.0.8/30, 198.18.0.20  # web\n"
    spans = parse_list(data, name="hosts.txt")
    assert [format_address(a) for a in TargetSet(spans)] == [
        "198.18.0.1",
        "198.18.0.9",
        "198.18.0.10",
        "198.18.0.20",
    ]
    with pytest.raises(TargetError, match=r"^hosts.txt:line 3: 'junk' is not") as caught:
        parse_list(b"198.18.0.1\n\njunk here\n", name="hosts.txt")
    assert "\n" not in str(caught.value)
    with pytest.raises(TargetError, match="not UTF-8"):
        parse_list(b"198.18.0.1\n\xff\xfe\n", name="hosts.txt")


def test_a_slash_8_is_iterated_without_being_held() -> None:
    targets = TargetSet(parse_spec("10.0.0.0/8", location="t"))
    tracemalloc.start()
    try:
        total = sum(1 for _ in itertools.islice(targets, 500_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == 500_000 and peak < 100_000
    assert parse_address("10.255.255.254") in targets
    assert parse_address("10.255.255.255") not in targets and "10.0.0.1" not in targets


@given(st.text(max_size=80))
def test_any_text_is_a_target_or_a_target_error(text: str) -> None:
    try:
        spans = parse_spec(text, location="t")
    except TargetError as error:
        assert "\n" not in str(error)
        return
    for span in spans:
        assert 0 < span.first <= span.last < 0xE0000000
        assert len(span) <= MAX_TARGETS


@given(
    st.integers(0x01000000, 0xDFFFFFFF),
    st.integers(20, 32),
    st.lists(st.tuples(st.integers(0x01000000, 0xDFFFFFFF), st.integers(16, 32)), max_size=4),
)
def test_sets_match_a_brute_force_reading(
    base: int, prefix: int, exclusions: list[tuple[int, int]]
) -> None:
    network = ipaddress.IPv4Network((base, prefix), strict=False)
    excluded = [ipaddress.IPv4Network((a, p), strict=False) for a, p in exclusions]
    targets = TargetSet(
        parse_spec(str(network), location="t"),
        [s for n in excluded for s in parse_spec(str(n), location="x", exclusion=True)],
    )
    hosts = list(network) if prefix > 30 else list(network)[1:-1]  # RFC 3021 for /31, /32
    expected = [int(a) for a in hosts if not any(a in net for net in excluded)]
    assert list(targets) == expected
    assert len(targets) == len(expected)
