"""libpcap expressions in strings: which are candidates, how tcpdump compiles them, and that a
sample can never make tcpdump look up a name."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doorhunt.bpf.examples import EXAMPLES
from doorhunt.sample import expressions
from doorhunt.sample.expressions import (
    MAX_EXPRESSIONS,
    compile_expression,
    compile_expressions,
    find_expressions,
    is_candidate,
)
from doorhunt.sample.filters import best_explanation
from doorhunt.sample.strings import JoinedStrings, TextString
from tests.conftest import require_tool

CLASSIC = "(udp[8:2]=0x7255) or (icmp[8:2]=0x7255) or (tcp[((tcp[12]&0xf0)>>2):2]=0x5293)"


@pytest.mark.parametrize(
    "text",
    [
        CLASSIC,
        "udp[8:2] == 0x5571",
        "tcp[tcpflags] & tcp-syn != 0",
        "udp port 53",
        "host 192.0.2.1 and tcp port 22",
        "not (port 22 or port 53)",
        "ip[6:2] & 0x1fff = 0 and icmp[0] = 8",
    ],
)
def test_filter_expressions_are_candidates(text: str) -> None:
    assert is_candidate(text)


@pytest.mark.parametrize(
    "text",
    [
        "port not found",  # English: a word that is no keyword
        "host key algorithms",
        "host evil.example.com and port 22",  # names a host: tcpdump would resolve it
        "tcp port ssh",  # a service name: looked up too
        "udp[8:2]=%d",  # a printf template
        "ip fou del port PORT [ local IFADDR ]",
        "args.ip[0] >= iend",
        "udp",  # too short to say anything
        "hello[1] = 2",
    ],
)
def test_text_that_is_no_expression_or_names_something_is_not_a_candidate(text: str) -> None:
    assert not is_candidate(text)


def test_candidates_are_found_among_many_strings_once_each() -> None:
    strings = [TextString(f"message {n}", "file", n * 20) for n in range(100)]
    strings += [TextString(CLASSIC, "file", 5000), TextString(CLASSIC, "file", 9000)]
    found = find_expressions(JoinedStrings.of(strings))
    assert [(s.value, s.offset) for s in found] == [(CLASSIC, 5000)]


def test_tcpdump_compiles_the_classic_expression_to_a_bpfdoor_filter() -> None:
    tcpdump = require_tool("tcpdump")
    program, error = compile_expression(CLASSIC, tcpdump)
    assert error is None and program is not None
    assert best_explanation(program).classification.filter_class.value == "bpfdoor"
    reference = best_explanation(EXAMPLES["bpfdoor-classic"].build()).classification
    assert {m.value for m in best_explanation(program).classification.magic} == {
        m.value for m in reference.magic
    }


def test_tcpdump_refusals_timeouts_and_garbage_are_errors(tmp_path: Path) -> None:
    tcpdump = require_tool("tcpdump")
    program, error = compile_expression("udp[8:2] = = 1", tcpdump)
    assert program is None and error and "syntax error" in error
    garbage = tmp_path / "tcpdump"
    garbage.write_text("#!/bin/sh\necho 'not a program'\n")
    garbage.chmod(0o755)
    program, error = compile_expression("udp port 53", str(garbage))
    assert program is None and error and error.startswith("tcpdump's output unreadable")


def test_a_slow_tcpdump_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    slow = tmp_path / "tcpdump"
    slow.write_text("#!/bin/sh\nexec sleep 30\n")
    slow.chmod(0o755)
    monkeypatch.setattr(expressions, "COMPILE_TIMEOUT_SECONDS", 0.3)
    compile_expression.cache_clear()
    program, error = compile_expression("udp port 5353", str(slow))
    assert program is None and error == "tcpdump did not finish in 0.3 s"


def test_names_never_reach_tcpdump(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("tcpdump must not run")

    monkeypatch.setattr(subprocess, "run", refuse)
    strings = [TextString("host c2.attacker.example and port 22", "file", 0)]
    assert find_expressions(JoinedStrings.of(strings)) == []


def test_without_tcpdump_every_candidate_is_reported_as_text() -> None:
    strings = [TextString(CLASSIC, "file", 10)]
    [result] = compile_expressions(find_expressions(JoinedStrings.of(strings)), None)
    assert result.program is None and result.error == "tcpdump is not installed"
    assert result.to_json() == {
        "expression": CLASSIC,
        "place": {"origin": "file", "offset": 10},
        "compiled": False,
        "instructions": None,
        "error": "tcpdump is not installed",
    }


@settings(max_examples=300)
@given(st.text(alphabet="udptcpiohsnra []()=&|!<>0123456789x:.-%", max_size=120))
def test_any_text_is_judged_without_error(text: str) -> None:
    is_candidate(text)
    found = find_expressions(JoinedStrings.of([TextString(text, "file", 0)] if text else []))
    assert len(found) <= MAX_EXPRESSIONS
