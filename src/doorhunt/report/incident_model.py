"""What an incident report says, as data: gathered once (incident.py), then rendered as HTML,
PDF or JSON. Host-derived strings are kept exactly as stored; renderers make them safe to show.
Texts that depend on the reader's language (verdicts, rule titles, explanations) are in the
report's language."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from doorhunt.investigate.tree import ProcessNode
from doorhunt.report.process_svg import ProcessGraph

VERDICT_ORDER = ("compromised", "suspicious", "degraded", "clean")


@dataclass(frozen=True, slots=True)
class ProcessRef:
    """A process as an alert, a finding or an event names it."""

    pid: int | None = None
    name: str | None = None
    executable: str | None = None
    command_line: str | None = None
    entity_id: str | None = None
    user: str | None = None


@dataclass(frozen=True, slots=True)
class Attack:
    """A MITRE ATT&CK tactic or technique."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class SweepFinding:
    check: str
    check_name: str  # what the check looks for, in the report's language
    severity: str
    score: int
    title: str  # as the sweep stored it (in English for stored sweeps)
    detail: str | None
    process: ProcessRef | None
    evidence: Mapping[str, object]
    techniques: tuple[Attack, ...]
    filter_key: str | None  # the FilterEvidence explaining this finding's socket filter


@dataclass(frozen=True, slots=True)
class HostSweep:
    """A host's latest sweep in the report's window."""

    host: str
    taken_at: datetime | None
    verdict: str  # compromised, suspicious, clean, degraded
    verdict_text: str
    score: int
    complete: bool
    gaps: tuple[str, ...]
    notes: tuple[str, ...]
    findings: tuple[SweepFinding, ...]
    source: str  # the sweep JSON file, or "store" when only the event store had it
    processes: int | None = None
    packet_sockets: int | None = None


@dataclass(frozen=True, slots=True)
class HostSummary:
    name: str
    events: int
    alerts: int
    first: datetime | None
    last: datetime | None
    verdict: str | None  # of the latest sweep, if any
    verdict_text: str | None


@dataclass(frozen=True, slots=True)
class AlertEntry:
    time: datetime | None
    host: str | None
    severity: str
    status: str | None
    process: ProcessRef | None
    file_path: str | None
    destination: str | None
    event_id: str | None
    source_event_ids: tuple[str, ...]
    response: tuple[str, ...]  # what `sensor --prevent` did: "kill_process pid 42: done"


@dataclass(frozen=True, slots=True)
class AlertGroup:
    """The alerts of one rule."""

    rule_id: str
    title: str
    name: str  # the rule's name as stored (English)
    description: str
    severity: str
    risk_score: float | None
    count: int
    hosts: tuple[str, ...]
    first: datetime | None
    last: datetime | None
    tactics: tuple[Attack, ...]
    techniques: tuple[Attack, ...]
    triage: str
    references: tuple[str, ...]
    alerts: tuple[AlertEntry, ...]  # the first ones, oldest first
    in_pack: bool  # the rule was found in the loaded rules (triage note from it)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    time: datetime | None
    host: str | None
    kind: str  # alert, sweep, source (an alert's source event), event (in an alerted tree)
    action: str | None
    categories: tuple[str, ...]
    process: ProcessRef | None
    detail: str
    severity: str | None
    event_id: str | None


@dataclass(frozen=True, slots=True)
class ProcessRow:
    """A drawn process of a tree, with what the picture cannot hold."""

    process: ProcessNode  # as doorhunt.investigate.tree read it
    parent_pid: int | None
    focus: bool


@dataclass(frozen=True, slots=True)
class ProcessTreeView:
    focus: str
    host: str | None
    title: str
    graph: ProcessGraph
    rows: tuple[ProcessRow, ...]
    total: int  # processes in the tree as read (up to the reader's bound)
    truncated: bool  # the tree had more processes than were read


@dataclass(frozen=True, slots=True)
class MagicValue:
    protocol: str
    offset: int
    size: int
    hex: str
    known: tuple[str, ...]  # notes of published magics these bytes match


@dataclass(frozen=True, slots=True)
class FilterEvidence:
    """A socket filter seen in a finding or an alert, explained by `doorhunt bpf`."""

    key: str
    bytecode: str
    link: str
    instructions: int | None
    filter_class: str | None
    suspicious: bool | None
    score: int | None
    summary: str
    reasons: tuple[str, ...]
    magic: tuple[MagicValue, ...]
    protocols: tuple[str, ...]
    disassembly: str
    error: str | None  # why the bytes could not be explained
    seen: tuple[str, ...]  # "web-1 pid 4120 (sweep)"


@dataclass(frozen=True, slots=True)
class FileEvidence:
    path: str
    host: str | None
    source: str  # quarantine, sweep, alert
    sha256: str | None
    size: int | None
    mode: str | None
    uid: int | None
    modified: datetime | None
    note: str | None


@dataclass(frozen=True, slots=True)
class ReportScope:
    data_directory: str
    host: str | None
    since: datetime | None
    until: datetime | None
    hosts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IncidentReport:
    generated_at: datetime
    language: str
    version: str
    scope: ReportScope
    verdict: str | None  # the worst verdict of the hosts' latest sweeps; None: no sweep
    verdict_text: str | None
    events: int  # events in scope
    alerts: int  # detection alerts in scope (sweep findings are in `sweeps`)
    alerts_by_severity: Mapping[str, int]
    hosts: tuple[HostSummary, ...]
    sweeps: tuple[HostSweep, ...]
    alert_groups: tuple[AlertGroup, ...]
    timeline: tuple[TimelineEntry, ...]
    timeline_omitted: int
    trees: tuple[ProcessTreeView, ...]
    filters: tuple[FilterEvidence, ...]
    files: tuple[FileEvidence, ...]
    notes: tuple[str, ...]  # what the report could not read or show, in its language
    skipped_segments: int = 0  # damaged store segments the queries left out

    @property
    def empty(self) -> bool:
        return not (self.events or self.sweeps or self.files)

    def to_json(self) -> dict[str, object]:
        document = jsonable(self)
        assert isinstance(document, dict)
        document["empty"] = self.empty
        return document


def jsonable(value: object) -> object:
    """Dataclasses, datetimes, enums and mappings as JSON values."""
    if isinstance(value, ProcessGraph):
        return value.to_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: jsonable(getattr(value, field.name)) for field in dataclasses.fields(value)
        }
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


def worst_verdict(verdicts: list[str]) -> str | None:
    known = [verdict for verdict in verdicts if verdict in VERDICT_ORDER]
    return min(known, key=VERDICT_ORDER.index) if known else None


__all__ = [
    "VERDICT_ORDER",
    "AlertEntry",
    "AlertGroup",
    "Attack",
    "FileEvidence",
    "FilterEvidence",
    "HostSummary",
    "HostSweep",
    "IncidentReport",
    "MagicValue",
    "ProcessRef",
    "ProcessRow",
    "ProcessTreeView",
    "ReportScope",
    "SweepFinding",
    "TimelineEntry",
    "jsonable",
    "worst_verdict",
]
