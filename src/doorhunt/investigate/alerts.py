"""Alerts as analysts triage them: filtered, grouped by rule or host, with their status.

The alerts come from the segment index (rules' alerts and sweep findings alike); their
status from the triage database, since the stored documents stay as written (`open`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

from doorhunt.investigate.events import iso
from doorhunt.investigate.index import SEVERITIES, AlertRecord, SegmentIndex
from doorhunt.investigate.triage import STATUSES, TriageDatabase

GroupBy = Literal["rule", "host"]
SortBy = Literal["time", "severity"]
GROUPS: Final = ("rule", "host")
SORTS: Final = ("time", "severity")
_RANK: Final = {severity: rank for rank, severity in enumerate(SEVERITIES)}


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """Which alerts: each set empty means any; times are [since, until)."""

    statuses: frozenset[str] = frozenset()
    severities: frozenset[str] = frozenset()
    rules: frozenset[str] = frozenset()  # rule names or ids
    hosts: frozenset[str] = frozenset()
    since: datetime | None = None
    until: datetime | None = None
    entity: str | None = None  # alerts about this process (or naming it among their entities)

    def matches(self, alert: AlertRecord, status: str) -> bool:
        if self.statuses and status not in self.statuses:
            return False
        if self.severities and alert.severity not in self.severities:
            return False
        if self.rules and not ({alert.rule_name, alert.rule_id} & self.rules):
            return False
        if self.hosts and alert.host not in self.hosts:
            return False
        if self.since is not None and alert.timestamp < self.since:
            return False
        if self.until is not None and alert.timestamp >= self.until:
            return False
        return self.entity is None or (
            alert.process_entity_id == self.entity or self.entity in alert.entity_ids
        )


@dataclass(frozen=True, slots=True)
class AlertView:
    """An alert and its triage status."""

    alert: AlertRecord
    status: str

    def to_json(self) -> dict[str, object]:
        return {**self.alert.to_json(), "status": self.status}


@dataclass(frozen=True, slots=True)
class AlertGroup:
    """The alerts of one rule or one host."""

    key: str
    label: str
    count: int
    open: int
    severity: str  # the highest
    newest: datetime
    severities: Mapping[str, int]
    spread: int  # distinct hosts of a rule's group, distinct rules of a host's

    def to_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "label": self.label,
            "count": self.count,
            "open": self.open,
            "severity": self.severity,
            "newest": iso(self.newest),
            "severities": dict(self.severities),
            "spread": self.spread,
        }


@dataclass(slots=True)
class AlertListing:
    total: int
    alerts: list[AlertView]
    groups: list[AlertGroup]
    by_severity: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    rules: list[str] = field(default_factory=list)  # every rule with an alert (for a filter)

    def to_json(self) -> dict[str, object]:
        return {
            "total": self.total,
            "alerts": [view.to_json() for view in self.alerts],
            "groups": [group.to_json() for group in self.groups],
            "by_severity": self.by_severity,
            "by_status": self.by_status,
            "rules": self.rules,
        }


def with_status(alerts: Iterable[AlertRecord], statuses: Mapping[str, str]) -> list[AlertView]:
    return [AlertView(alert, statuses.get(alert.ref, "open")) for alert in alerts]


def list_alerts(
    index: SegmentIndex,
    triage: TriageDatabase,
    selection: AlertFilter = AlertFilter(),  # frozen: a shared default is safe
    *,
    group_by: GroupBy | None = None,
    sort: SortBy = "time",
    limit: int = 100,
    offset: int = 0,
) -> AlertListing:
    """The alerts `selection` picks, newest (or most severe) first, a page of them, their
    counts by severity and status, and their groups when asked."""
    statuses = triage.statuses()
    every = with_status(index.alerts(), statuses)
    chosen = [view for view in every if selection.matches(view.alert, view.status)]
    if sort == "severity":
        chosen.sort(
            key=lambda view: (-_RANK[view.alert.severity], -view.alert.timestamp.timestamp())
        )
    by_severity = Counter(view.alert.severity for view in chosen)
    by_status = Counter(view.status for view in chosen)
    groups = group_alerts(chosen, group_by) if group_by else []
    return AlertListing(
        total=len(chosen),
        alerts=chosen[offset : offset + limit],
        groups=groups,
        by_severity={severity: by_severity.get(severity, 0) for severity in SEVERITIES},
        by_status={status: by_status.get(status, 0) for status in STATUSES},
        rules=sorted(
            {name for view in every if (name := view.alert.rule_name or view.alert.rule_id)}
        ),
    )


def group_alerts(views: Iterable[AlertView], group_by: GroupBy) -> list[AlertGroup]:
    """Groups by rule (name, else id) or host, the most severe and newest first."""
    members: dict[str, list[AlertView]] = {}
    for view in views:
        alert = view.alert
        key = (alert.rule_name or alert.rule_id or "") if group_by == "rule" else (alert.host or "")
        members.setdefault(key, []).append(view)
    groups = []
    for key, items in members.items():
        severities = Counter(view.alert.severity for view in items)
        spread = {
            (view.alert.host if group_by == "rule" else view.alert.rule_name or view.alert.rule_id)
            for view in items
        }
        groups.append(
            AlertGroup(
                key=key,
                label=key,
                count=len(items),
                open=sum(1 for view in items if view.status == "open"),
                severity=max(severities, key=lambda severity: _RANK[severity]),
                newest=max(view.alert.timestamp for view in items),
                severities={s: severities.get(s, 0) for s in SEVERITIES},
                spread=len(spread),
            )
        )
    groups.sort(key=lambda group: (-_RANK[group.severity], -group.newest.timestamp()))
    return groups


def find_alert(index: SegmentIndex, ref: str) -> AlertRecord | None:
    return next((alert for alert in index.alerts() if alert.ref == ref), None)


def alerts_by_entity(
    index: SegmentIndex, triage: TriageDatabase, entities: Iterable[str]
) -> dict[str, list[AlertView]]:
    """Alerts about each of `entities` (its process, or among its entity ids)."""
    wanted = set(entities)
    found: dict[str, list[AlertView]] = {}
    for view in with_status(index.alerts(), triage.statuses()):
        alert = view.alert
        named = {alert.process_entity_id, *alert.entity_ids} & wanted
        for entity in named:
            if entity is not None:
                found.setdefault(entity, []).append(view)
    return found


__all__ = [
    "GROUPS",
    "SORTS",
    "AlertFilter",
    "AlertGroup",
    "AlertListing",
    "AlertView",
    "GroupBy",
    "SortBy",
    "alerts_by_entity",
    "find_alert",
    "group_alerts",
    "list_alerts",
    "with_status",
]
