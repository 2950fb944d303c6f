"""Rule matches into alert documents (docs/rule-format.md, "An alert document"), with
suppression: a rule that keeps matching the same process raises one alert per window.

    detector = Detector(rules)
    for document in stream:
        for alert in detector.process(document):   # alert documents, ready for the sinks
            ...
    detector.flush()                               # sequences that wait only for time

The detector runs in one thread (the sensor's writer, or a hunt); it is not thread-safe.
"""

from __future__ import annotations

import copy
import os
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from doorhunt.ecs import get_field
from doorhunt.rules.engine import DEFAULT_MAX_PENDING, Match, StreamingEngine
from doorhunt.rules.engine.values import timestamp_us

if TYPE_CHECKING:
    from doorhunt.rules.pack import Rule

ALERT_DATASET: Final = "doorhunt.alerts"
SEVERITY_LEVEL: Final = {"low": 1, "medium": 2, "high": 3, "critical": 4}
# The parts of the last source event an alert carries, so that it reads on its own (as
# Kibana's alerts copy their source event).
COPIED_FIELD_SETS: Final = (
    "host",
    "process",
    "file",
    "source",
    "destination",
    "network",
    "user",
    "group",
    "container",
)
SUPPRESSION_MEMORY: Final = 100_000  # (rule, entity) pairs remembered for suppression


@dataclass(slots=True)
class DetectorStats:
    matches: int = 0
    alerts: int = 0
    suppressed: int = 0


class Detector:
    """Runs rules on documents one at a time and returns the alerts their matches raise."""

    def __init__(self, rules: Sequence[Rule], *, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        self.rules = tuple(rules)
        self._by_compiled = {id(rule.compiled): rule for rule in self.rules}
        self.engine = StreamingEngine(
            [rule.compiled for rule in self.rules], max_pending=max_pending
        )
        self.stats = DetectorStats()
        self._id_prefix = os.urandom(6).hex()
        # (rule id, entity) -> end of its suppression window, in microseconds of event time.
        self._quiet_until: OrderedDict[tuple[str, str], int] = OrderedDict()

    def process(self, document: Mapping[str, object]) -> list[dict[str, object]]:
        if get_field(document, "event.kind") == "alert":
            return []  # never detect on alerts (ours or ingested ones)
        return self._alerts(self.engine.process(document))

    def flush(self) -> list[dict[str, object]]:
        return self._alerts(self.engine.flush())

    def _alerts(self, matches: list[Match]) -> list[dict[str, object]]:
        alerts = []
        for match in matches:
            self.stats.matches += 1
            rule = self._by_compiled[id(match.rule)]
            if self._suppressed(rule, match):
                self.stats.suppressed += 1
                continue
            self.stats.alerts += 1
            alerts.append(alert_document(rule, match, f"{self._id_prefix}-{self.stats.alerts:x}"))
        return alerts

    def _suppressed(self, rule: Rule, match: Match) -> bool:
        if rule.suppression_seconds <= 0:
            return False
        last = match.events[-1]
        now = timestamp_us(last.get("@timestamp")) or 0
        key = (rule.id, _primary_entity(last))
        quiet_until = self._quiet_until.get(key)
        if quiet_until is not None and now < quiet_until:
            return True
        self._quiet_until[key] = now + rule.suppression_seconds * 1_000_000
        self._quiet_until.move_to_end(key)
        while len(self._quiet_until) > SUPPRESSION_MEMORY:
            self._quiet_until.popitem(last=False)
        return False


def _primary_entity(event: Mapping[str, object]) -> str:
    """What an alert is about: its process, else its host and file."""
    entity = get_field(event, "process.entity_id")
    if isinstance(entity, str) and entity:
        return entity
    return f"{get_field(event, 'host.id')}\0{get_field(event, 'file.path')}"


def alert_document(rule: Rule, match: Match, alert_id: str) -> dict[str, object]:
    last = match.events[-1]
    document: dict[str, object] = {
        key: copy.deepcopy(last[key]) for key in COPIED_FIELD_SETS if key in last
    }
    source_event = last.get("event")
    source = source_event if isinstance(source_event, Mapping) else {}
    document["@timestamp"] = last.get("@timestamp")
    document["ecs"] = last.get("ecs") or {"version": "9.4.0"}
    document["event"] = {
        "kind": "alert",
        "category": source.get("category", []),
        "type": source.get("type", ["info"]),
        "action": source.get("action"),
        "id": alert_id,
        "dataset": ALERT_DATASET,
        "module": "doorhunt",
        "risk_score": float(rule.risk_score),
        "severity": SEVERITY_LEVEL[rule.severity],
    }
    document["rule"] = {
        "id": rule.id,
        "uuid": rule.id,
        "name": rule.name,
        "description": rule.description,
        "version": str(rule.version),
        "ruleset": rule.ruleset,
        **({"reference": rule.references[0]} if rule.references else {}),
    }
    threat = threat_fields(rule.threat)
    if threat:
        document["threat"] = threat
    events = match.events
    entity_ids = []
    for event in events:
        for name in ("process.entity_id", "process.parent.entity_id"):
            value = get_field(event, name)
            if isinstance(value, str) and value not in entity_ids:
                entity_ids.append(value)
    extensions = last.get("doorhunt")
    document["doorhunt"] = {
        **(copy.deepcopy(dict(extensions)) if isinstance(extensions, Mapping) else {}),
        "alert": {
            "severity": rule.severity,
            "status": "open",
            "source_event_ids": [str(get_field(event, "event.id")) for event in events],
            "entity_ids": entity_ids,
        },
    }
    return document


def threat_fields(threats: Sequence[Mapping[str, object]]) -> dict[str, object]:
    """Kibana's nested ATT&CK mapping as ECS `threat.*`: parallel arrays of ids, names and
    references, as ECS defines them (threat.tactic.id is an array, and so on)."""
    tactic: dict[str, list[str]] = {"id": [], "name": [], "reference": []}
    technique: dict[str, list[str]] = {"id": [], "name": [], "reference": []}
    subtechnique: dict[str, list[str]] = {"id": [], "name": [], "reference": []}
    framework = None
    for threat in threats:
        framework = framework or threat.get("framework")
        _collect(tactic, threat.get("tactic"))
        for item in _items(threat.get("technique")):
            _collect(technique, item)
            for sub in _items(item.get("subtechnique")):
                _collect(subtechnique, sub)
    fields: dict[str, object] = {}
    if framework:
        fields["framework"] = framework
    for name, values in (("tactic", tactic), ("technique", technique)):
        if values["id"]:
            fields[name] = {key: value for key, value in values.items() if value}
    if subtechnique["id"]:
        technique_fields = fields.setdefault("technique", {})
        assert isinstance(technique_fields, dict)
        technique_fields["subtechnique"] = {
            key: value for key, value in subtechnique.items() if value
        }
    return fields


def _items(value: object) -> list[Mapping[str, object]]:
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, Mapping)]
    return []


def _collect(into: dict[str, list[str]], item: object) -> None:
    if not isinstance(item, Mapping):
        return
    for key in ("id", "name", "reference"):
        value = item.get(key)
        if isinstance(value, str) and value not in into[key]:
            into[key].append(value)


__all__ = ["ALERT_DATASET", "Detector", "DetectorStats", "alert_document", "threat_fields"]
