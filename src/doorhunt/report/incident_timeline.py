"""The incident report's timeline: the alerts, the sweeps, the events that raised the alerts and
the events of the drawn trees' processes, each with the one detail that says most about it."""

# values are always bound parameters.
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from doorhunt.ecs import get_field
from doorhunt.i18n import Catalog
from doorhunt.report.fields import (
    count_where,
    documents_where,
    int_field,
    process_of,
    text_field,
    texts_field,
    timestamp_of,
)
from doorhunt.report.incident_alerts import NEVER, alert_severity, destination
from doorhunt.report.incident_model import ProcessTreeView, TimelineEntry
from doorhunt.report.incident_sweeps import verdict_text
from doorhunt.store import StoreReader
from doorhunt.store.reader import Filter

MAX_TIMELINE: Final = 400
MAX_SOURCE_IDS: Final = 2_000
MAX_SWEEP_EVENTS: Final = 100
NOT_ALERT: Final = "event_kind IS DISTINCT FROM 'alert'"

DETAILS: Final = Catalog(
    {
        "sweep": {
            "en": "sweep verdict: {verdict} (score {score}/100, {findings} findings)",
            "ko": "점검 판정: {verdict} (점수 {score}/100, 발견 사항 {findings}건)",
        },
        "filter": {
            "en": "socket filter attached: class {filter_class}, {instructions} instructions",
            "ko": "소켓 필터 부착: 분류 {filter_class}, 명령어 {instructions}개",
        },
        "renamed": {"en": "{old} renamed to {new}", "ko": "{old} → {new} 이름 변경"},
        "name_change": {
            "en": "process name changed from {old}",
            "ko": "프로세스 이름 변경 (이전: {old})",
        },
    }
)


def event_detail(doc: Mapping[str, object], language: str) -> str:
    """The one line that says most about an event, by what kind of event it is."""
    action = text_field(doc, "event.action")
    if text_field(doc, "event.kind") == "alert":
        return text_field(doc, "rule.name") or text_field(doc, "message") or ""
    if action == "sweep_completed":
        verdict = text_field(doc, "doorhunt.sweep.verdict") or "?"
        return DETAILS.text(
            "sweep",
            language,
            verdict=verdict_text(verdict, language),
            score=int_field(doc, "doorhunt.sweep.score") or 0,
            findings=int_field(doc, "doorhunt.sweep.findings") or 0,
        )
    if action == "filter_attached" and get_field(doc, "doorhunt.bpf") is not None:
        return DETAILS.text(
            "filter",
            language,
            filter_class=text_field(doc, "doorhunt.bpf.class") or "?",
            instructions=int_field(doc, "doorhunt.bpf.instructions") or "?",
        )
    original = text_field(doc, "file.Ext.original.path")
    path = text_field(doc, "file.path")
    if original and path:
        return DETAILS.text("renamed", language, old=original, new=path)
    previous = text_field(doc, "doorhunt.process.previous_name")
    if action == "name_change" and previous:
        return DETAILS.text("name_change", language, old=previous)
    command = text_field(doc, "process.command_line") or " ".join(texts_field(doc, "process.args"))
    if action in ("exec", "fork", "already_running", "start") and command:
        return command
    if path:
        return path
    target = destination(doc)
    if target:
        return f"-> {target}"
    family = text_field(doc, "doorhunt.socket.family")
    if family:
        protocol = int_field(doc, "doorhunt.socket.protocol")
        kind = text_field(doc, "doorhunt.socket.type") or "?"
        return f"socket {family}/{kind}" + (f" protocol {protocol:#06x}" if protocol else "")
    source = text_field(doc, "source.ip")
    if source:
        port = int_field(doc, "source.port")
        return f"<- {source}" + (f":{port}" if port is not None else "")
    return command or text_field(doc, "message") or ""


def _entry(doc: Mapping[str, object], kind: str, language: str) -> TimelineEntry:
    severity = None
    if kind == "alert":
        severity = alert_severity(doc, None)
    elif kind == "sweep":
        verdict = text_field(doc, "doorhunt.sweep.verdict")
        severity = {"compromised": "critical", "suspicious": "medium"}.get(verdict or "")
    return TimelineEntry(
        time=timestamp_of(doc),
        host=text_field(doc, "host.name"),
        kind=kind,
        action=text_field(doc, "event.action"),
        categories=texts_field(doc, "event.category"),
        process=process_of(doc),
        detail=event_detail(doc, language),
        severity=severity,
        event_id=text_field(doc, "event.id"),
    )


def timeline(
    reader: StoreReader,
    window: Filter,
    alerts: Sequence[Mapping[str, object]],
    trees: Sequence[ProcessTreeView],
    language: str,
) -> tuple[list[TimelineEntry], int]:
    """Alerts, sweeps, the alerts' source events and the events of the drawn trees' processes,
    oldest first, at most MAX_TIMELINE (alerts and sweeps first, then source events, then the
    trees' events); and how many were left out."""
    chosen: list[tuple[int, Mapping[str, object], str]] = [(0, doc, "alert") for doc in alerts]
    sweeps = documents_where(
        reader,
        f"{window.sql} AND event_action = 'sweep_completed'",
        window.parameters,
        limit=MAX_SWEEP_EVENTS,
        order="DESC",
    )
    chosen += [(0, doc, "sweep") for doc in sweeps]
    source_ids = list(
        dict.fromkeys(
            identifier
            for doc in alerts
            for identifier in texts_field(doc, "doorhunt.alert.source_event_ids")
        )
    )[:MAX_SOURCE_IDS]
    if source_ids:
        sources = documents_where(
            reader,
            f"list_contains(?, event_id) AND {NOT_ALERT}",
            [source_ids],
            limit=MAX_SOURCE_IDS,
            order="ASC",
        )
        chosen += [(1, doc, "source") for doc in sources]
    entities = sorted({row.process.entity_id for tree in trees for row in tree.rows})
    tree_total = tree_fetched = 0
    if entities:
        condition = f"{window.sql} AND list_contains(?, process_entity_id) AND {NOT_ALERT}"
        parameters = [*window.parameters, entities]
        tree_total = count_where(reader, condition, parameters)
        events = documents_where(reader, condition, parameters, limit=MAX_TIMELINE, order="ASC")
        tree_fetched = len(events)
        chosen += [(2, doc, "event") for doc in events]
    seen: set[object] = set()
    unique: list[tuple[int, Mapping[str, object], str]] = []
    for priority, doc, kind in chosen:
        identity = text_field(doc, "event.id") or (
            doc.get("@timestamp"),
            text_field(doc, "event.action"),
            text_field(doc, "process.entity_id"),
            text_field(doc, "rule.id"),
        )
        key = (kind == "alert", identity)
        if key in seen:
            continue
        seen.add(key)
        unique.append((priority, doc, kind))
    unique.sort(key=lambda item: (item[0], timestamp_of(item[1]) or NEVER))
    shown = unique[:MAX_TIMELINE]
    omitted = len(unique) - len(shown) + max(tree_total - tree_fetched, 0)
    entries = [_entry(doc, kind, language) for _, doc, kind in shown]
    entries.sort(key=lambda entry: (entry.time or NEVER, entry.kind != "alert"))
    return entries, omitted


__all__ = ["DETAILS", "MAX_TIMELINE", "event_detail", "timeline"]
