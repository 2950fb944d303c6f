"""Controller addresses in strings: what is kept, with what confidence, and the noise dropped."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doorhunt.sample.network import MAX_INDICATORS, find_network_indicators
from doorhunt.sample.strings import JoinedStrings, TextString


def found(*values: str, stack: bool = False) -> dict[str, tuple[str, str, str]]:
    strings = [
        TextString(v, "stack", address=0x1000) if stack else TextString(v, "file", 100 * i)
        for i, v in enumerate(values)
    ]
    return {
        i.value: (i.kind, i.scope, i.confidence.value)
        for i in find_network_indicators(JoinedStrings.of(strings))
    }


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("192.0.2.77:8443", "192.0.2.77:8443", ("ipv4", "documentation", "high")),
        ("45.33.32.156", "45.33.32.156", ("ipv4", "global", "medium")),
        ("ping 45.33.32.156 -c 1", "45.33.32.156", ("ipv4", "global", "low")),
        ("10.20.30.40:22", "10.20.30.40:22", ("ipv4", "private", "high")),
        ("[2001:db8::77]:443", "[2001:db8::77]:443", ("ipv6", "documentation", "high")),
        ("2a00:1450:4001:82b::200e", "2a00:1450:4001:82b::200e", ("ipv6", "global", "medium")),
        (
            "update.example.invalid:443",
            "update.example.invalid:443",
            ("domain", "reserved", "high"),
        ),
        ("cdn.badexample.xyz", "cdn.badexample.xyz", ("domain", "public", "medium")),
        (
            "connect to beacon.evil-site.com now",
            "beacon.evil-site.com",
            ("domain", "public", "low"),
        ),
        (
            "http://203.0.113.9:8080/gate.php",
            "http://203.0.113.9:8080/gate.php",
            ("ipv4", "documentation", "high"),
        ),
        ("panel.evil.ws:8443", "panel.evil.ws:8443", ("domain", "public", "high")),
    ],
)
def test_addresses_are_kept_with_their_scope_and_confidence(
    text: str, value: str, expected: tuple[str, str, str]
) -> None:
    assert found(text) == {value: expected}


@pytest.mark.parametrize(
    "text",
    [
        "1.2.3.4",  # a version
        "GNU C 12.2.0.1",
        "version 2.6.32.1",
        "Linux 5.10.0.21 SMP",
        "01.02.03.04",
        "127.0.0.1",
        "127.0.0.1:8080",
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.251",
        "::1",
        "1.3.6.1.4.1.311.2.1.4",  # an OID
        "libssl.so.3",
        "libc.so.6",
        "setup.py",
        "README.md",
        "parser.cc:812",  # a source position, not a host and port
        "glibc.malloc.top_pad",
        "os.name",
        "keyedit.delsig.invalid",
        "bug-coreutils@gnu.org",
        "https://www.gnu.org/licenses/gpl.html",
        "see https://github.com/foo/bar",
        "e.g. 192.0.2.1 or 2001:db8::1",  # documentation addresses inside text
        "12:34:56",
        "00:11:22:33:44:55",
        "std::vector<a::b>",
        "Foo.Bar.com",
        "/usr/share/foo.com",
    ],
)
def test_noise_is_dropped(text: str) -> None:
    assert found(text) == {}


def test_a_stack_built_address_is_one_step_surer() -> None:
    assert found("beacon.evil-site.com", stack=True) == {
        "beacon.evil-site.com": ("domain", "public", "high")
    }


def test_places_point_at_the_address_and_repeats_are_merged() -> None:
    strings = [
        TextString("c2=198.51.100.7", "file", 1000),
        TextString("198.51.100.7:53", "file", 2000),
        TextString("198.51.100.7:53", "file", 3000),
    ]
    indicators = {i.value: i for i in find_network_indicators(JoinedStrings.of(strings))}
    assert [p.offset for p in indicators["198.51.100.7:53"].places] == [2000, 3000]
    assert "198.51.100.7" not in indicators  # documentation range inside text: an example


def test_long_dotted_text_is_read_in_linear_time() -> None:
    text = "a." * 200_000 + "com " + "1." * 100_000 + ":" * 50_000
    started = time.process_time()
    find_network_indicators(JoinedStrings.of([TextString(text, "file", 0)]))
    assert time.process_time() - started < 5


@settings(max_examples=200)
@given(st.lists(st.text(alphabet="0123456789abcdefx.:[]/-@_ %ABC", max_size=80), max_size=30))
def test_any_strings_give_bounded_well_formed_indicators(values: list[str]) -> None:
    strings = [TextString(v, "file", 100 * i) for i, v in enumerate(values) if v]
    indicators = find_network_indicators(JoinedStrings.of(strings))
    assert len(indicators) <= MAX_INDICATORS
    for indicator in indicators:
        assert indicator.port is None or 0 < indicator.port < 65536
        assert indicator.places and indicator.kind in ("ipv4", "ipv6", "domain")
        indicator.to_json()
