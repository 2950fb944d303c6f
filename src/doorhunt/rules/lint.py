"""The rule linter: every check a rule file must pass before it ships (docs/rules.md, "The
linter's checks").

Each check is a generator function `(rule) -> Iterator[LintIssue]` listed in `CHECKS`, after
capa's linter (one check, one concern); `lint_rules` adds the checks that look across rules
(ids and names used twice) and reports files that did not load at all.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from doorhunt.ecs import load_schema, validate
from doorhunt.rules.engine import nodes as n
from doorhunt.rules.pack import RISK_BANDS, Rule, RuleError, check_examples, query_fields
from doorhunt.rules.pack.examples import example_documents
from doorhunt.rules.pack.model import query_steps

Level = Literal["error", "warning"]

# MITRE ATT&CK Enterprise tactics (attack.mitre.org/tactics/enterprise/): id -> name.
ATTACK_TACTICS: Final = {
    "TA0043": "Reconnaissance",
    "TA0042": "Resource Development",
    "TA0001": "Initial Access",
    "TA0002": "Execution",
    "TA0003": "Persistence",
    "TA0004": "Privilege Escalation",
    "TA0005": "Defense Evasion",
    "TA0006": "Credential Access",
    "TA0007": "Discovery",
    "TA0008": "Lateral Movement",
    "TA0009": "Collection",
    "TA0011": "Command and Control",
    "TA0010": "Exfiltration",
    "TA0040": "Impact",
}
ATTACK_FRAMEWORK: Final = "MITRE ATT&CK"
_TACTIC_ID: Final = re.compile(r"TA\d{4}")
_TECHNIQUE_ID: Final = re.compile(r"T\d{4}")
_SUBTECHNIQUE_ID: Final = re.compile(r"T\d{4}\.\d{3}")
_ATTACK_URL: Final = re.compile(
    r"https://attack\.mitre\.org/(?:tactics/(TA\d{4})|techniques/(T\d{4})(?:/(\d{3}))?)/"
)
_BEHAVIOUR: Final = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")
_HANGUL: Final = re.compile(r"[\uac00-\ud7a3]")

# The event.action values a query may compare: what doorhunt's producers emit, and what Elastic
# Defend emits on Linux, so that the pack runs on both.
DOORHUNT_ACTIONS: Final = frozenset(
    {
        # the sensor's process events (docs/sensor.md, sensor/mapping.py)
        "already_running", "fork", "exec", "end", "uid_change", "gid_change",
        "session_id_change", "name_change", "ptrace",
        # the sensor's and audit ingest's syscall events (docs/ingest.md)
        "memfd_create", "load_module", "timestomp", "socket_opened", "filter_attached",
        "connection_attempted", "connection_accepted",
        # fanotify and audit file events (docs/sensor.md, docs/ingest.md)
        "creation", "deletion", "rename", "modification",
        # other producers: sensor status, sweep findings, sample and YARA documents
        "sensor_status", "sweep_finding", "sample_analysis", "yara_match", "yara_scan",
    }
)  # fmt: skip
# Elastic Defend on Linux (BPFDOOR.md §7).
DEFEND_ACTIONS: Final = frozenset(
    {
        "fork", "exec", "end", "session_id_change", "uid_change", "gid_change", "memfd_create",
        "ptrace", "load_module", "creation", "deletion", "rename", "modification",
        "connection_attempted", "connection_accepted", "disconnect_received",
    }
)  # fmt: skip
KNOWN_ACTIONS: Final = DOORHUNT_ACTIONS | DEFEND_ACTIONS


@dataclass(frozen=True, slots=True)
class LintIssue:
    """One finding of the linter about one rule (or about a file that did not load)."""

    rule: Rule | None
    level: Level
    code: str
    message: str
    location: str

    def __str__(self) -> str:
        return f"{self.location}: {self.level}: {self.code}: {self.message}"

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule.id if self.rule else None,
            "level": self.level,
            "code": self.code,
            "message": self.message,
            "location": self.location,
        }


def _issue(rule: Rule, level: Level, code: str, message: str, line: int | None = None) -> LintIssue:
    location = f"{rule.path}:{line}" if line else str(rule.path)
    return LintIssue(rule, level, code, message, location)


def tactic_file_prefix(tactic: str) -> str:
    """`Command and Control` -> `command_and_control`."""
    return re.sub(r"[^a-z0-9]+", "_", tactic.lower()).strip("_")


# -- the checks ---------------------------------------------------------------------------------


def check_file_name(rule: Rule) -> Iterator[LintIssue]:
    """`<tactic>_<behaviour>.toml`, the tactic of the first ATT&CK mapping in snake case."""
    if rule.path.suffix != ".toml":
        yield _issue(rule, "error", "file-name", "a rule file's name ends in .toml")
    tactic = rule.tactic
    if tactic is None:
        return
    prefix = tactic_file_prefix(tactic) + "_"
    stem = rule.path.stem
    if not stem.startswith(prefix) or not _BEHAVIOUR.fullmatch(stem[len(prefix) :]):
        yield _issue(
            rule,
            "error",
            "file-name",
            f"file name {rule.path.name!r} should be {prefix}<behaviour>.toml "
            f"(first tactic {tactic!r}; behaviour in lower-case snake case)",
        )


def check_id(rule: Rule) -> Iterator[LintIssue]:
    try:
        parsed = uuid.UUID(rule.id)
    except ValueError:
        yield _issue(rule, "error", "id", f"id {rule.id!r} is not a UUID")
        return
    if str(parsed) != rule.id:
        yield _issue(rule, "error", "id", f"id {rule.id!r} is not in canonical form ({parsed})")
    if parsed.int == 0:
        yield _issue(rule, "error", "id", "id is the nil UUID")


def check_severity(rule: Rule) -> Iterator[LintIssue]:
    """risk_score within Kibana's band for the severity."""
    low, high = RISK_BANDS[rule.severity]
    if not low <= rule.risk_score <= high:
        yield _issue(
            rule,
            "error",
            "severity",
            f"risk_score {rule.risk_score} is outside {low}-{high}, the band of severity "
            f"{rule.severity!r}",
        )


def check_content(rule: Rule) -> Iterator[LintIssue]:
    """What an analyst needs beside the query: false positives, references, tags."""
    if not rule.false_positives:
        yield _issue(rule, "warning", "required", "no false_positives: say what else matches")
    if not rule.references:
        yield _issue(rule, "warning", "required", "no references")
    if not rule.tags:
        yield _issue(rule, "warning", "required", "no tags")
    if len(rule.description.split()) < 8:
        yield _issue(
            rule, "warning", "required", "the description is a few words; say why it matters"
        )


def check_triage(rule: Rule) -> Iterator[LintIssue]:
    for language in ("en", "ko"):
        if not rule.triage.get(language, "").strip():
            yield _issue(rule, "error", "triage", f"no triage note in {language!r}")
    korean = rule.triage.get("ko", "")
    if korean.strip() and not _HANGUL.search(korean):
        yield _issue(rule, "warning", "triage", "the 'ko' triage note has no Korean text")
    if not rule.name_ko:
        yield _issue(rule, "warning", "triage", "no name_ko: `--lang ko` shows the English name")


def check_attack(rule: Rule) -> Iterator[LintIssue]:
    """Well-formed ATT&CK ids, names that match them, and references that point at them."""
    if not rule.techniques:
        yield _issue(rule, "warning", "attack", "no ATT&CK technique in the mapping")
    for entry in rule.threat:
        if entry.get("framework") != ATTACK_FRAMEWORK:
            yield _issue(rule, "error", "attack", f"framework must be {ATTACK_FRAMEWORK!r}")
        tactic = entry.get("tactic")
        if isinstance(tactic, dict):
            yield from _check_tactic(rule, tactic)
        for technique in _tables(entry.get("technique")):
            yield from _check_entry(rule, technique, _TECHNIQUE_ID, "technique")
            for sub in _tables(technique.get("subtechnique")):
                yield from _check_entry(rule, sub, _SUBTECHNIQUE_ID, "sub-technique")
                if not str(sub.get("id", "")).startswith(f"{technique.get('id')}."):
                    yield _issue(
                        rule,
                        "error",
                        "attack",
                        f"sub-technique {sub.get('id')} is not under technique {technique.get('id')}",
                    )


def _check_tactic(rule: Rule, tactic: dict[str, object]) -> Iterator[LintIssue]:
    tactic_id = str(tactic.get("id"))
    if not _TACTIC_ID.fullmatch(tactic_id):
        yield _issue(
            rule, "error", "attack", f"tactic id {tactic_id!r} is not TA followed by 4 digits"
        )
        return
    known = ATTACK_TACTICS.get(tactic_id)
    if known is None:
        yield _issue(rule, "error", "attack", f"{tactic_id} is not an ATT&CK Enterprise tactic")
    elif tactic.get("name") != known:
        yield _issue(
            rule, "error", "attack", f"tactic {tactic_id} is {known!r}, not {tactic.get('name')!r}"
        )
    expected = attack_url(tactic_id)
    if tactic.get("reference") != expected:
        yield _issue(
            rule, "error", "attack", f"tactic {tactic_id}'s reference should be {expected}"
        )


def _check_entry(
    rule: Rule, entry: dict[str, object], pattern: re.Pattern[str], what: str
) -> Iterator[LintIssue]:
    entry_id = str(entry.get("id"))
    if not pattern.fullmatch(entry_id):
        yield _issue(rule, "error", "attack", f"{what} id {entry_id!r} is not well-formed")
        return
    expected = attack_url(entry_id)
    if entry.get("reference") != expected:
        yield _issue(rule, "error", "attack", f"{what} {entry_id}'s reference should be {expected}")


def attack_url(attack_id: str) -> str:
    """The attack.mitre.org page of a tactic, technique or sub-technique id."""
    if attack_id.startswith("TA"):
        return f"https://attack.mitre.org/tactics/{attack_id}/"
    return f"https://attack.mitre.org/techniques/{attack_id.replace('.', '/')}/"


def check_references(rule: Rule) -> Iterator[LintIssue]:
    """attack.mitre.org references name an id the rule maps."""
    mapped = set(rule.techniques) | {
        str(tactic.get("id"))
        for entry in rule.threat
        if isinstance(tactic := entry.get("tactic"), dict)
    }
    for reference in rule.references:
        if "attack.mitre.org" not in reference:
            if not reference.startswith("https://"):
                yield _issue(rule, "warning", "reference", f"reference {reference!r} is not https")
            continue
        found = _ATTACK_URL.fullmatch(reference)
        if found is None:
            yield _issue(rule, "error", "reference", f"malformed ATT&CK reference {reference!r}")
            continue
        tactic, technique, sub = found.groups()
        attack_id = tactic or (f"{technique}.{sub}" if sub else technique)
        if attack_id not in mapped:
            yield _issue(
                rule,
                "error",
                "reference",
                f"reference {reference} names {attack_id}, which the threat mapping lacks",
            )


def check_fields(rule: Rule) -> Iterator[LintIssue]:
    """Every field the query reads is in ECS 9.4.0 or a documented doorhunt extension."""
    schema = load_schema()
    for name in query_fields(rule.compiled):
        if name in schema:
            continue
        if schema.has_children(name):
            message = f"{name} is an object, not a field"
        else:
            message = (
                f"unknown field {name}: neither in ECS {schema.version} nor a doorhunt extension"
            )
        yield _issue(rule, "error", "field", message, rule.query_line)


def check_actions(rule: Rule) -> Iterator[LintIssue]:
    """event.action values compared in the query are ones doorhunt or Elastic Defend emits."""
    for step in query_steps(rule.compiled):
        for value, is_pattern in _action_literals(step.query.condition):
            if is_pattern:
                matcher = _wildcard(value)
                if any(matcher.fullmatch(action) for action in KNOWN_ACTIONS):
                    continue
            elif value in KNOWN_ACTIONS:
                continue
            yield _issue(
                rule,
                "error",
                "action",
                f"event.action {value!r} is emitted neither by doorhunt nor by Elastic Defend",
                rule.query_line,
            )


def check_examples_present(rule: Rule) -> Iterator[LintIssue]:
    kinds = {example.expect for example in rule.examples}
    for kind in ("match", "no_match"):
        if kind not in kinds:
            yield _issue(rule, "error", "examples", f"no {kind!r} example")


def check_examples_behave(rule: Rule) -> Iterator[LintIssue]:
    """Every example matches or not as it says, and its events are valid ECS."""
    for result in check_examples(rule):
        if not result.passed:
            yield _issue(
                rule,
                "error",
                "example-fails",
                f"example {result.number} ({result.example.description}): {result.reason}",
                result.example.line,
            )
    for number, example in enumerate(rule.examples, 1):
        for index, document in enumerate(example_documents(rule, number, example), 1):
            problems = validate(document)
            if problems:
                listing = "; ".join(str(problem) for problem in problems[:3])
                yield _issue(
                    rule,
                    "error",
                    "example-ecs",
                    f"example {number} event {index} is not valid ECS: {listing}",
                    example.line,
                )


def check_response(rule: Rule) -> Iterator[LintIssue]:
    """Automatic response belongs to rules sure enough to act on."""
    if rule.response_actions and rule.severity in ("low", "medium"):
        yield _issue(
            rule,
            "warning",
            "response",
            f"response actions on a {rule.severity} rule: prevention acts on every match",
        )


CHECKS: Final[tuple[Callable[[Rule], Iterator[LintIssue]], ...]] = (
    check_file_name,
    check_id,
    check_severity,
    check_content,
    check_triage,
    check_attack,
    check_references,
    check_fields,
    check_actions,
    check_examples_present,
    check_examples_behave,
    check_response,
)


def lint_rule(rule: Rule) -> list[LintIssue]:
    return [issue for check in CHECKS for issue in check(rule)]


def lint_rules(rules: Sequence[Rule], load_errors: Iterable[RuleError] = ()) -> list[LintIssue]:
    """Every issue: files that did not load, each rule's checks, ids and names used twice."""
    issues = [
        LintIssue(None, "error", "load", error.message, error.location or "")
        for error in load_errors
    ]
    ids: dict[str, Rule] = {}
    names: dict[str, Rule] = {}
    for rule in rules:
        issues.extend(lint_rule(rule))
        first = ids.setdefault(rule.id, rule)
        if first is not rule:
            issues.append(_issue(rule, "error", "id", f"id {rule.id} is also used by {first.path}"))
        same = names.setdefault(rule.name.casefold(), rule)
        if same is not rule:
            issues.append(_issue(rule, "warning", "name", f"name is also used by {same.path}"))
    return issues


# -- walking the query ----------------------------------------------------------------------------


def _is_action(expr: n.Expr) -> bool:
    return isinstance(expr, n.Field) and expr.path == ("event", "action")


def _action_literals(expr: n.Expr) -> Iterator[tuple[str, bool]]:
    """(value, is a wildcard pattern) for each literal the query compares event.action with."""
    if isinstance(expr, n.Compare) and expr.op in ("==", "!="):
        for side, other in ((expr.left, expr.right), (expr.right, expr.left)):
            if _is_action(side) and isinstance(other, n.Literal) and isinstance(other.value, str):
                yield other.value, False
    elif isinstance(expr, n.InList) and _is_action(expr.value):
        for item in expr.items:
            if isinstance(item.value, str):
                yield item.value, False
    elif isinstance(expr, n.Pattern) and _is_action(expr.value) and expr.kind == "like":
        for pattern in expr.patterns:
            yield pattern, True
    for child in n.children(expr):
        yield from _action_literals(child)


def _wildcard(pattern: str) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE)


def _tables(value: object) -> list[dict[str, object]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


__all__ = [
    "ATTACK_TACTICS",
    "CHECKS",
    "DEFEND_ACTIONS",
    "DOORHUNT_ACTIONS",
    "KNOWN_ACTIONS",
    "LintIssue",
    "attack_url",
    "lint_rule",
    "lint_rules",
    "tactic_file_prefix",
]
