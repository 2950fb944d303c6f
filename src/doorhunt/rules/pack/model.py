"""What a detection rule is once loaded: the rule file's fields, typed, and its query compiled."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from doorhunt.errors import InputError
from doorhunt.rules.engine import CompiledRule
from doorhunt.rules.engine import nodes as n

Severity = Literal["low", "medium", "high", "critical"]
Expectation = Literal["match", "no_match"]

SEVERITIES: Final[tuple[Severity, ...]] = ("low", "medium", "high", "critical")
# Kibana's risk score bands (security_solution rule schema, `RiskScore`: 0-21 low, 22-47
# medium, 48-73 high, 74-100 critical); the UI's defaults are 21, 47, 73 and 99.
RISK_BANDS: Final[Mapping[Severity, tuple[int, int]]] = {
    "low": (0, 21),
    "medium": (22, 47),
    "high": (48, 73),
    "critical": (74, 100),
}
# What `doorhunt sensor --prevent` can do for a rule (docs/rule-format.md, issue 5).
RESPONSE_ACTIONS: Final = ("kill_process", "quarantine_file")
PACK_RULESET: Final = "doorhunt"
DEFAULT_SUPPRESSION_SECONDS: Final = 300


class RuleError(InputError):
    """A rule file that cannot be used: where (file:line) and what is wrong, on one line."""


@dataclass(frozen=True, slots=True)
class Example:
    """Events a rule must match (`match`) or must not (`no_match`), nested ECS documents."""

    expect: Expectation
    description: str
    events: tuple[dict[str, object], ...]
    line: int | None = None  # of its `[[example]]` header, for messages


@dataclass(frozen=True, slots=True, eq=False)
class Rule:
    """One detection rule. Compared by identity: two loads of a file are two rules."""

    id: str
    name: str
    description: str
    severity: Severity
    risk_score: int
    version: int
    query: str
    references: tuple[str, ...]
    tags: tuple[str, ...]
    false_positives: tuple[str, ...]
    triage: Mapping[str, str]
    threat: tuple[Mapping[str, object], ...]
    response_actions: tuple[str, ...]
    examples: tuple[Example, ...]
    path: Path
    ruleset: str
    compiled: CompiledRule = field(repr=False)
    suppression_seconds: int = DEFAULT_SUPPRESSION_SECONDS
    author: tuple[str, ...] = ()
    license: str = ""
    query_line: int = 1  # where the query starts in the file
    name_ko: str = ""  # the name in Korean, for `--lang ko` (optional)

    @property
    def tactic(self) -> str | None:
        """Name of the first ATT&CK tactic (the one the file is named after)."""
        return _tactic_field(self.threat, "name")

    @property
    def tactic_id(self) -> str | None:
        return _tactic_field(self.threat, "id")

    @property
    def techniques(self) -> tuple[str, ...]:
        """Every ATT&CK technique and sub-technique id, in mapping order."""
        found: list[str] = []
        for entry in self.threat:
            for technique in _tables(entry.get("technique")):
                found.append(str(technique.get("id")))
                found.extend(str(sub.get("id")) for sub in _tables(technique.get("subtechnique")))
        return tuple(found)

    def title(self, language: str) -> str:
        """The name in `language` where the rule has one, else the name."""
        return (self.name_ko if language == "ko" else "") or self.name

    def triage_text(self, language: str) -> str:
        """The triage note in `language`, else in English."""
        return self.triage.get(language) or self.triage.get("en", "")

    def summary_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "severity": self.severity,
            "risk_score": self.risk_score,
            "tactic": self.tactic,
            "techniques": list(self.techniques),
            "kind": self.compiled.kind,
            "ruleset": self.ruleset,
            "path": str(self.path),
        }

    def to_json(self, language: str | None = None) -> dict[str, object]:
        """Everything about the rule; the triage in `language` only when one is given."""
        document = self.summary_json()
        document |= {
            "description": self.description,
            "version": self.version,
            "query": self.query,
            "references": list(self.references),
            "tags": list(self.tags),
            "false_positives": list(self.false_positives),
            "suppression_seconds": self.suppression_seconds,
            "response_actions": list(self.response_actions),
            "threat": [dict(entry) for entry in self.threat],
            "author": list(self.author),
            "license": self.license,
            "examples": [
                {
                    "expect": example.expect,
                    "description": example.description,
                    "events": len(example.events),
                }
                for example in self.examples
            ],
        }
        if self.name_ko:
            document["name_ko"] = self.name_ko
        if language is None:
            document["triage"] = dict(self.triage)
        else:
            document["triage"] = {language: self.triage_text(language)}
        return document


def _tables(value: object) -> list[Mapping[str, object]]:
    if not isinstance(value, list | tuple):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def _tactic_field(threat: tuple[Mapping[str, object], ...], key: str) -> str | None:
    if not threat:
        return None
    tactic = threat[0].get("tactic")
    if not isinstance(tactic, Mapping):
        return None
    value = tactic.get(key)
    return value if isinstance(value, str) else None


def query_steps(compiled: CompiledRule) -> list[n.Step]:
    """Every bracketed query of a rule: its steps, then a sequence's `until`."""
    steps = [*compiled.query.steps]
    body = compiled.query.body
    if isinstance(body, n.Sequence) and body.until is not None:
        steps.append(body.until)
    return steps


def query_fields(compiled: CompiledRule) -> tuple[str, ...]:
    """Every field the query reads (conditions and join keys, `until` included), in order of
    first appearance, walked from the compiled syntax tree."""
    found: dict[str, None] = {}
    for step in query_steps(compiled):
        if step.query.category is not None:
            found.setdefault("event.category", None)  # what `process where` reads
        for reference in (*step.keys, *n.fields_of(step.query.condition)):
            found.setdefault(reference.name, None)
    return tuple(found)


__all__ = [
    "DEFAULT_SUPPRESSION_SECONDS",
    "PACK_RULESET",
    "RESPONSE_ACTIONS",
    "RISK_BANDS",
    "SEVERITIES",
    "Example",
    "Expectation",
    "Rule",
    "RuleError",
    "Severity",
    "query_fields",
    "query_steps",
]
