"""Property tests of the Sigma converter: any input gives an outcome, never an exception, and
the EQL it writes matches what Sigma's semantics (as pySigma reads the rule) say it must."""

from __future__ import annotations

import re

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("sigma", reason="pySigma is the `sigma` extra")

from sigma.types import SigmaString, SpecialChars

from doorhunt.rules.engine import StreamingEngine, compile_rule
from doorhunt.rules.sigma import ConversionFailure, ConvertedRule, Converter
from doorhunt.rules.sigma.regex import RegexUnsupported, pcre_to_lucene

CONVERTER = Converter()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcomes_are_sound(outcomes: list[ConvertedRule | ConversionFailure]) -> None:
    for outcome in outcomes:
        if isinstance(outcome, ConvertedRule):
            compile_rule(outcome.query)
        else:
            assert outcome.kind and outcome.reason and "\n" not in outcome.reason


@SETTINGS
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    outcomes_are_sound(CONVERTER.convert_bytes(data, "fuzz.yml"))


SIGMA_KEYS = [
    "title",
    "id",
    "logsource",
    "detection",
    "condition",
    "product",
    "category",
    "service",
    "selection",
    "filter",
    "level",
    "tags",
    "Image",
    "CommandLine|contains",
    "a0",
    "type",
    "keywords",
    "CommandLine|re",
    "Image|endswith|all",
    "action",
    "correlation",
    "DestinationPort|lt",
    "TargetFilename|base64offset|contains",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 70000),
    st.text(max_size=12),
    st.sampled_from(
        [
            "linux",
            "process_creation",
            "auditd",
            "selection",
            "1 of sel*",
            "selection and not filter",
            "EXECVE",
            "all of them",
            "high",
            "global",
        ]
    ),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(SIGMA_KEYS), inner, max_size=5),
    ),
    max_leaves=25,
)


@SETTINGS
@given(st.lists(documents, min_size=1, max_size=3))
def test_arbitrary_yaml_never_raises(docs: list[object]) -> None:
    data = yaml.safe_dump_all(docs).encode()
    outcomes_are_sound(CONVERTER.convert_bytes(data, "fuzz.yml"))


@SETTINGS
@given(
    category=st.sampled_from(["process_creation", "file_event", "network_connection"]),
    field=st.sampled_from(
        [
            "Image",
            "CommandLine",
            "TargetFilename",
            "DestinationPort",
            "DestinationIp",
            "User",
            "Initiated",
            "a0",
        ]
    ),
    modifiers=st.lists(
        st.sampled_from(
            [
                "contains",
                "startswith",
                "endswith",
                "all",
                "re",
                "cased",
                "cidr",
                "exists",
                "windash",
                "base64offset",
                "lt",
                "i",
            ]
        ),
        max_size=3,
        unique=True,
    ),
    values=st.lists(st.text(alphabet="ab*?\\ ./-1", max_size=6), min_size=1, max_size=3),
)
def test_random_detections_convert_or_say_why(
    category: str, field: str, modifiers: list[str], values: list[str]
) -> None:
    key = "|".join([field, *modifiers])
    rule = {
        "title": "fuzz",
        "logsource": {"product": "linux", "category": category},
        "detection": {"sel": {key: values}, "condition": "sel"},
    }
    outcomes_are_sound(CONVERTER.convert_bytes(yaml.safe_dump(rule).encode(), "fuzz.yml"))


# -- string semantics against pySigma's own reading of the value ------------------------------

MODIFIER_WILDCARDS = {
    "": (False, False),
    "contains": (True, True),
    "startswith": (False, True),
    "endswith": (True, False),
}


def sigma_reference(value: str, modifier: str, cased: bool) -> re.Pattern[str]:
    """The value as Sigma means it: pySigma parses escapes and wildcards; the modifier adds
    wildcards; matching is whole-value, case-insensitive unless cased."""
    parsed = SigmaString(value)
    before, after = MODIFIER_WILDCARDS[modifier]
    if before:
        parsed = SpecialChars.WILDCARD_MULTI + parsed
    if after:
        parsed = parsed + SpecialChars.WILDCARD_MULTI
    flags = re.DOTALL | (0 if cased else re.IGNORECASE)
    return re.compile(str(parsed.to_regex().regexp), flags)


@settings(max_examples=300, deadline=None)
@given(
    value=st.text(alphabet="aB*?\\é", min_size=1, max_size=6),
    modifier=st.sampled_from(list(MODIFIER_WILDCARDS)),
    cased=st.booleans(),
    texts=st.lists(st.text(alphabet="aAbB*?\\éÉ", max_size=8), min_size=1, max_size=6),
)
def test_strings_match_as_sigma_says(
    value: str, modifier: str, cased: bool, texts: list[str]
) -> None:
    modifiers = "".join(f"|{m}" for m in (modifier, "cased" if cased else "") if m)
    rule = {
        "title": "strings",
        "logsource": {"product": "linux", "category": "process_creation"},
        "detection": {"sel": {f"CommandLine{modifiers}": value}, "condition": "sel"},
    }
    (outcome,) = CONVERTER.convert_bytes(yaml.safe_dump(rule).encode(), "strings.yml")
    assert isinstance(outcome, ConvertedRule), outcome
    engine = StreamingEngine([compile_rule(outcome.query)])
    reference = sigma_reference(value, modifier, cased)
    for text in texts:
        event = {
            "event": {"category": ["process"], "type": ["start"], "action": "exec"},
            "process": {"command_line": text},
        }
        expected = reference.fullmatch(text) is not None
        assert bool(engine.process(event)) == expected, (value, modifiers, text, outcome.query)


# -- regular expressions against Python's re --------------------------------------------------

PATTERNS = [
    r"(^|/)\.[^./]",
    r"[^/]{3,}$",
    r"(?i)/lib/python3\.([5-9]|[0-9]{2})/",
    r"\s-[FTd]\s",
    r"(?:\s-[^-\s]{0,2}i|\s--inode\s)",
    r"^a|b$",
    r"x(?i:ab)y",
    r"a.b",
    r"(?s)a.b",
    r"^$",
    r"(?m)^ab$",
    r"a{2}b?",
    r"[a-c\d]+\.",
    r"ab\Z",
    r"(a|)b",
    r"[^\S]a",
]


@settings(max_examples=400, deadline=None)
@given(
    pattern=st.sampled_from(PATTERNS),
    text=st.text(alphabet="abcAB./ -\n12iFdT", max_size=12),
)
def test_regex_translation_agrees_with_python(pattern: str, text: str) -> None:
    try:
        translated = pcre_to_lucene(pattern)
    except RegexUnsupported:
        return
    operator = "regex~" if translated.insensitive else "regex"
    from doorhunt.rules.sigma.backend import eql_string

    query = f"any where process.command_line {operator} {eql_string(translated.pattern)}"
    engine = StreamingEngine([compile_rule(query)])
    expected = re.search(pattern, text) is not None
    got = bool(
        engine.process({"event": {"category": ["process"]}, "process": {"command_line": text}})
    )
    assert got == expected, (pattern, text, translated.pattern)
