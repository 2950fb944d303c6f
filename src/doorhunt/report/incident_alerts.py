"""Detection alerts for the incident report: each alert's severity, and the alerts grouped by
rule with their ATT&CK mapping and the rule pack's triage note."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Final

from doorhunt.ecs import get_field
from doorhunt.report.fields import int_field, process_of, text_field, texts_field, timestamp_of
from doorhunt.report.incident_evidence import FileCollector, FilterCollector, link_of
from doorhunt.report.incident_model import AlertEntry, AlertGroup, Attack, FileEvidence
from doorhunt.rules.pack import Rule

MAX_ALERTS_SHOWN: Final = 50  # alerts listed under each rule
SEVERITY_RANK: Final[Mapping[str, int]] = {"low": 0, "medium": 1, "high": 2, "critical": 3}
# event.severity of doorhunt's alerts (rules/alerts.py: SEVERITY_LEVEL), the other way round.
_SEVERITY_OF_LEVEL: Final = {1: "low", 2: "medium", 3: "high", 4: "critical"}
NEVER: Final = datetime.max.replace(tzinfo=UTC)  # sorts after every real time


def alert_severity(doc: Mapping[str, object], rule: Rule | None) -> str:
    """An alert's severity: doorhunt's own field, else event.severity 1-4, else the rule's."""
    named = text_field(doc, "doorhunt.alert.severity") or text_field(doc, "kibana.alert.severity")
    if named is not None and named in SEVERITY_RANK:
        return named
    level = int_field(doc, "event.severity")
    if level in _SEVERITY_OF_LEVEL:
        return _SEVERITY_OF_LEVEL[level]
    return rule.severity if rule is not None else "medium"


def severity_rank(severity: str | None) -> int:
    return SEVERITY_RANK.get(severity or "", -1)


def _attack_from_rule(rule: Rule) -> tuple[tuple[Attack, ...], tuple[Attack, ...]]:
    tactics: list[Attack] = []
    techniques: list[Attack] = []
    for threat in rule.threat:
        tactic = threat.get("tactic")
        if isinstance(tactic, Mapping) and isinstance(tactic.get("id"), str):
            tactics.append(Attack(str(tactic["id"]), str(tactic.get("name", ""))))
        for technique in _tables(threat.get("technique")):
            techniques.append(Attack(str(technique.get("id")), str(technique.get("name", ""))))
            for sub in _tables(technique.get("subtechnique")):
                name = f"{technique.get('name', '')}: {sub.get('name', '')}".strip(": ")
                techniques.append(Attack(str(sub.get("id")), name))
    return tuple(dict.fromkeys(tactics)), tuple(dict.fromkeys(techniques))


def _tables(value: object) -> list[Mapping[str, object]]:
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, Mapping)]
    return []


def _pairs(doc: Mapping[str, object], prefix: str) -> list[Attack]:
    ids = texts_field(doc, f"{prefix}.id")
    names = texts_field(doc, f"{prefix}.name")
    return [
        Attack(item, names[index] if index < len(names) else "") for index, item in enumerate(ids)
    ]


def _attack_from_alert(doc: Mapping[str, object]) -> tuple[tuple[Attack, ...], tuple[Attack, ...]]:
    """ECS `threat.*` (parallel arrays, as rules/alerts.py writes them)."""
    tactics = _pairs(doc, "threat.tactic")
    techniques = _pairs(doc, "threat.technique") + _pairs(doc, "threat.technique.subtechnique")
    return tuple(dict.fromkeys(tactics)), tuple(dict.fromkeys(techniques))


def _response(doc: Mapping[str, object]) -> tuple[str, ...]:
    found = []
    for action in _tables(get_field(doc, "doorhunt.alert.response"))[:10]:
        parts = [str(action.get(key)) for key in ("action", "target") if action.get(key)]
        outcome = action.get("outcome")
        text = " ".join(parts) + (f": {outcome}" if outcome else "")
        reason = action.get("reason")
        found.append(f"{text} ({reason})" if reason else text)
    return tuple(found)


def destination(doc: Mapping[str, object]) -> str | None:
    address = text_field(doc, "destination.ip")
    if address is None:
        return None
    port = int_field(doc, "destination.port")
    return f"{address}:{port}" if port is not None else address


def _where(doc: Mapping[str, object], source: str) -> str:
    parts = [text_field(doc, "host.name") or "?"]
    pid = int_field(doc, "process.pid")
    if pid is not None:
        parts.append(f"pid {pid}")
    return f"{' '.join(parts)} ({source})"


def alert_groups(
    documents: Sequence[Mapping[str, object]],
    rules: Mapping[str, Rule],
    language: str,
    filters: FilterCollector,
    files: FileCollector,
) -> list[AlertGroup]:
    by_rule: dict[str, list[Mapping[str, object]]] = {}
    for doc in documents:
        key = text_field(doc, "rule.id") or text_field(doc, "rule.name") or "?"
        by_rule.setdefault(key, []).append(doc)
    groups = []
    for rule_id, docs in by_rule.items():
        rule = rules.get(rule_id)
        entries: list[AlertEntry] = []
        for doc in docs:
            filters.add(
                get_field(doc, "doorhunt.bpf.bytecode"),
                link_of(get_field(doc, "doorhunt.bpf.link")),
                _where(doc, "alert"),
            )
            title = rule.title(language) if rule else text_field(doc, "rule.name") or rule_id
            _alert_files(doc, title, files)
            if len(entries) < MAX_ALERTS_SHOWN:
                entries.append(
                    AlertEntry(
                        time=timestamp_of(doc),
                        host=text_field(doc, "host.name"),
                        severity=alert_severity(doc, rule),
                        status=text_field(doc, "doorhunt.alert.status")
                        or text_field(doc, "kibana.alert.workflow_status"),
                        process=process_of(doc),
                        file_path=text_field(doc, "file.path"),
                        destination=destination(doc),
                        event_id=text_field(doc, "event.id"),
                        source_event_ids=texts_field(doc, "doorhunt.alert.source_event_ids"),
                        response=_response(doc),
                    )
                )
        first_doc = docs[0]
        tactics, techniques = (
            _attack_from_rule(rule) if rule is not None else _attack_from_alert(first_doc)
        )
        times = [t for t in (timestamp_of(doc) for doc in docs) if t is not None]
        severities = [alert_severity(doc, rule) for doc in docs]
        references = (
            rule.references if rule is not None else texts_field(first_doc, "rule.reference")
        )
        risk = get_field(first_doc, "event.risk_score")
        groups.append(
            AlertGroup(
                rule_id=rule_id,
                title=rule.title(language)
                if rule
                else text_field(first_doc, "rule.name") or rule_id,
                name=rule.name if rule else text_field(first_doc, "rule.name") or rule_id,
                description=(
                    rule.description.strip()
                    if rule
                    else text_field(first_doc, "rule.description") or ""
                ),
                severity=max(severities, key=severity_rank),
                risk_score=float(risk)
                if isinstance(risk, int | float) and not isinstance(risk, bool)
                else (float(rule.risk_score) if rule else None),
                count=len(docs),
                hosts=tuple(sorted({text_field(doc, "host.name") or "?" for doc in docs})),
                first=min(times, default=None),
                last=max(times, default=None),
                tactics=tactics,
                techniques=techniques,
                triage=rule.triage_text(language).strip() if rule else "",
                references=tuple(references),
                alerts=tuple(entries),
                in_pack=rule is not None,
            )
        )
    groups.sort(key=lambda g: (-severity_rank(g.severity), -g.count, g.first or NEVER, g.rule_id))
    return groups


def _alert_files(doc: Mapping[str, object], title: str, files: FileCollector) -> None:
    host = text_field(doc, "host.name")
    for path_field, hash_field in (
        ("file.path", "file.hash.sha256"),
        ("process.executable", "process.hash.sha256"),
    ):
        path = text_field(doc, path_field)
        if path:
            files.add(
                FileEvidence(
                    path=path,
                    host=host,
                    source="alert",
                    sha256=text_field(doc, hash_field),
                    size=int_field(doc, "file.size") if path_field == "file.path" else None,
                    mode=text_field(doc, "file.mode") if path_field == "file.path" else None,
                    uid=None,
                    modified=None,
                    note=title,
                )
            )


__all__ = [
    "MAX_ALERTS_SHOWN",
    "NEVER",
    "SEVERITY_RANK",
    "alert_groups",
    "alert_severity",
    "destination",
    "severity_rank",
]
