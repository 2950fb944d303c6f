"""Ingesting files into a sink (the store's writer, or Elasticsearch): auditd logs and ECS NDJSON.

Bad input is normal input (DESIGN.md, principle 6): lines that are not records, records out
of order, cut-off compressed files and invalid documents are counted and reported with their
location, and ingesting goes on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

import orjson

from doorhunt.ecs import validate
from doorhunt.ingest.auditd import Coalescer, Lineage, parse_line, to_ecs
from doorhunt.ingest.auditd.coalesce import AuditEvent
from doorhunt.ingest.auditd.records import MAX_LINE
from doorhunt.ingest.files import FileDamage, LineStats, order_rotated, read_lines
from doorhunt.store.columns import nested

# The largest ECS document line accepted; Elasticsearch's default http.max_content_length is
# 100 MB for a whole bulk request, and real documents are a few kilobytes.
MAX_DOCUMENT_LINE: Final = 16 * 1024 * 1024
MAX_PROBLEMS: Final = 20
_BATCH: Final = 2048


class DocumentSink(Protocol):
    """Where ingested documents go: `StoreWriter` and `ElasticsearchSink` both are one."""

    def extend(self, documents: Iterable[Mapping[str, object]]) -> None: ...


@dataclass(frozen=True, slots=True)
class IngestProblem:
    location: str  # FILE:line N
    message: str


@dataclass(slots=True)
class IngestReport:
    """What an ingest read, produced and set aside."""

    format: str
    files: list[str] = field(default_factory=list)
    lines: int = 0
    oversized: int = 0  # lines longer than the limit, skipped
    malformed: int = 0  # lines that are not an audit record / not a JSON object
    records: int = 0
    events: int = 0
    incomplete: int = 0  # audit events that ended without EOE
    late: int = 0  # audit records that came after their event had ended
    truncated: int = 0  # audit records over the per-event limit
    unmapped: int = 0  # audit events doorhunt does not turn into documents
    documents: int = 0  # documents handed to the sink
    invalid: int = 0  # ECS documents refused (not stored)
    unknown_fields: int = 0  # ECS documents stored although they hold non-ECS fields
    damage: list[FileDamage] = field(default_factory=list)
    problems: list[IngestProblem] = field(default_factory=list)

    @property
    def degraded(self) -> bool:
        """Whether part of the input could not be read at all (a cut-off file)."""
        return bool(self.damage)

    def problem(self, location: str, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(IngestProblem(location, message))

    def to_json(self) -> dict[str, object]:
        return {
            "format": self.format,
            "files": self.files,
            "lines": self.lines,
            "oversized": self.oversized,
            "malformed": self.malformed,
            "records": self.records,
            "events": self.events,
            "incomplete": self.incomplete,
            "late": self.late,
            "truncated": self.truncated,
            "unmapped": self.unmapped,
            "documents": self.documents,
            "invalid": self.invalid,
            "unknown_fields": self.unknown_fields,
            "damage": [{"file": d.path, "line": d.line, "reason": d.reason} for d in self.damage],
            "problems": [{"location": p.location, "message": p.message} for p in self.problems],
        }


def ingest_auditd(
    paths: Sequence[str],
    sink: DocumentSink,
    *,
    host: Mapping[str, object],
    host_override: bool = False,
) -> IngestReport:
    """Audit logs (raw or ENRICHED, rotated, compressed) into ECS documents.

    `host` is the `host` object for the documents; a record's `node=` name wins over it
    unless `host_override` (the CLI's --host).
    """
    report = IngestReport("auditd", order_rotated(paths))
    coalescer = Coalescer()
    lineages: dict[str, Lineage] = {}
    batch: list[dict[str, object]] = []
    stats = LineStats()

    def emit(events: list[AuditEvent]) -> None:
        for event in events:
            node = event.node
            event_host = dict(host)
            if node and not host_override:
                event_host = {"name": node}
            name = str(event_host.get("name", ""))
            lineage = lineages.get(name)
            if lineage is None:
                lineage = lineages[name] = Lineage(str(event_host.get("id") or name))
            document = to_ecs(event, event_host, lineage=lineage)
            if document is None:
                report.unmapped += 1
                continue
            batch.append(document)
        if len(batch) >= _BATCH:
            _deliver(sink, batch, report)

    for path in report.files:
        for number, line in read_lines(path, max_line=MAX_LINE, stats=stats, damage=report.damage):
            if not line.strip():
                continue
            record = parse_line(line)
            if record is None:
                report.malformed += 1
                report.problem(f"{path}:line {number}", "not an audit record")
                continue
            report.records += 1
            emit(coalescer.add(record))
    emit(coalescer.flush())
    _deliver(sink, batch, report)
    report.lines, report.oversized = stats.lines, stats.oversized
    report.events = coalescer.stats.events
    report.incomplete = coalescer.stats.incomplete
    report.late = coalescer.stats.late
    report.truncated = coalescer.stats.truncated
    return report


def ingest_ecs(
    paths: Sequence[str],
    sink: DocumentSink,
    *,
    host_name: str | None = None,
    strict: bool = False,
) -> IngestReport:
    """ECS NDJSON (one document a line; Elasticsearch hits with `_source` are unwrapped).

    Every document is validated against ECS 9.4.0 and doorhunt's extensions with the core
    fields required. Invalid documents are counted, reported and not stored. Fields outside
    ECS (Elastic Defend's `Endpoint.*`, vendors' own) do not make a document invalid unless
    `strict`: exported Elastic data is full of them.
    """
    report = IngestReport("ecs", list(paths))
    stats = LineStats()
    batch: list[dict[str, object]] = []
    for path in report.files:
        for number, line in read_lines(
            path, max_line=MAX_DOCUMENT_LINE, stats=stats, damage=report.damage
        ):
            if not line.strip():
                continue
            location = f"{path}:line {number}"
            document = _parse_document(line, location, report)
            if document is None:
                continue
            if host_name and not _has_host_name(document):
                host = document.get("host")
                if isinstance(host, dict):
                    host["name"] = host_name
                else:
                    document["host"] = {"name": host_name}
            problems = validate(document, require_core=True)
            unknown = [p for p in problems if p.message.startswith("unknown field")]
            if problems and (strict or len(unknown) < len(problems)):
                report.invalid += 1
                worst = next((p for p in problems if p not in unknown), problems[0])
                report.problem(location, f"not stored: {worst}")
                continue
            if unknown:
                report.unknown_fields += 1
            batch.append(document)
            if len(batch) >= _BATCH:
                _deliver(sink, batch, report)
    _deliver(sink, batch, report)
    report.lines, report.oversized = stats.lines, stats.oversized
    return report


def _parse_document(line: str, location: str, report: IngestReport) -> dict[str, object] | None:
    try:
        document = orjson.loads(line.encode("utf-8", "surrogatepass"))
    except orjson.JSONDecodeError as error:
        report.malformed += 1
        report.problem(location, f"not JSON: {error}")
        return None
    hit = isinstance(document, dict) and ("_index" in document or "_id" in document)
    if hit and isinstance(document.get("_source"), dict):
        document = document["_source"]  # a search hit or an export of one
    if not isinstance(document, dict):
        report.malformed += 1
        report.problem(location, f"expected a JSON object, got {type(document).__name__}")
        return None
    return nested(document)


def _has_host_name(document: Mapping[str, object]) -> bool:
    host = document.get("host")
    if isinstance(host, Mapping) and host.get("name"):
        return True
    return bool(document.get("host.name"))


def _deliver(sink: DocumentSink, batch: list[dict[str, object]], report: IngestReport) -> None:
    if batch:
        sink.extend(batch)
        report.documents += len(batch)
        batch.clear()


__all__ = [
    "MAX_DOCUMENT_LINE",
    "DocumentSink",
    "IngestProblem",
    "IngestReport",
    "ingest_auditd",
    "ingest_ecs",
]
