"""The incident report (`doorhunt report`): what the data directory knows about a set of hosts
in a time window, gathered into one model that the HTML, PDF and JSON outputs render.

    report = gather_report(data_directory(), host="web-1", since=parse_moment("7d"))
    Path("report.html").write_text(render_html(report), encoding="utf-8")

It reads, for the hosts in scope: each host's latest sweep (verdict, findings, evidence), the
detection alerts grouped by rule (severity, ATT&CK, the rule pack's triage note), the process
trees of alerted processes, a timeline of the alerts, their source events and the events of
those trees, the socket filters explained by `doorhunt bpf`, and the files the quarantine
holds. Every read is bounded (the MAX_* constants here and in the incident_* modules); what a
bound leaves out is said in the report's notes, never dropped silently.
"""

# ruff: noqa: S608 - SQL here is assembled from constant text and build_filter's conditions;
# values are always bound parameters.
from __future__ import annotations

import errno
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from doorhunt import __version__
from doorhunt.i18n import Catalog
from doorhunt.report.fields import count_where, documents_where, epoch_moment, text_field
from doorhunt.report.incident_alerts import (
    SEVERITY_RANK,
    alert_groups,
    alert_severity,
    severity_rank,
)
from doorhunt.report.incident_evidence import FileCollector, FilterCollector, quarantined_files
from doorhunt.report.incident_model import (
    FileEvidence,
    HostSummary,
    HostSweep,
    IncidentReport,
    ReportScope,
    worst_verdict,
)
from doorhunt.report.incident_sweeps import (
    SweepFileError,
    latest_files,
    read_sweep_file,
    store_sweep,
    sweep_files,
    verdict_text,
)
from doorhunt.report.incident_timeline import event_detail, timeline
from doorhunt.report.incident_trees import (
    DRAWN_NODES,
    MAX_TREES,
    TREE_NODES,
    focus_candidates,
    process_trees,
    select_nodes,
    tree_view,
)
from doorhunt.rules.pack import Rule, RuleError, load_rules
from doorhunt.store import Store, StoreAccessError, StoreReader
from doorhunt.store.reader import Filter, build_filter

MAX_HOSTS: Final = 200  # hosts whose sweeps are looked up
MAX_ALERTS: Final = 5_000  # alert documents read
# Detection alerts; the sweep's findings are alerts too, shown with their sweep instead.
ALERT_CONDITION: Final = "event_kind = 'alert' AND event_action IS DISTINCT FROM 'sweep_finding'"
NOTES: Final = Catalog(
    {
        "no_data_directory": {
            "en": "The data directory {path} does not exist: nothing has been stored there.",
            "ko": "데이터 디렉터리 {path} 가 없습니다. 저장된 데이터가 없습니다.",
        },
        "skipped_segments": {
            "en": "{count} damaged store segments were skipped: events may be missing "
            "(see `doorhunt store info`).",
            "ko": "손상된 저장소 세그먼트 {count}개를 건너뛰었습니다. 일부 이벤트가 빠졌을 수 "
            "있습니다 (`doorhunt store info` 참고).",
        },
        "too_many_hosts": {
            "en": "{count} hosts are in scope; sweeps were looked up for the first {limit} "
            "(use --host).",
            "ko": "범위 안의 호스트가 {count}대입니다. 처음 {limit}대의 점검 결과만 "
            "조회했습니다 (--host 사용).",
        },
        "alerts_limited": {
            "en": "{total} alerts are in scope; the report reads the first {limit}.",
            "ko": "범위 안의 경보가 {total}건입니다. 보고서는 처음 {limit}건만 읽었습니다.",
        },
        "sweep_unreadable": {
            "en": "Sweep result {path} could not be read: {reason}",
            "ko": "점검 결과 파일 {path} 를 읽을 수 없습니다: {reason}",
        },
        "quarantine_unreadable": {
            "en": "Quarantine record {path} could not be read: {reason}",
            "ko": "격리 기록 {path} 를 읽을 수 없습니다: {reason}",
        },
        "rules_unavailable": {
            "en": "The rule pack could not be loaded ({reason}): triage notes are missing.",
            "ko": "규칙 팩을 불러오지 못했습니다 ({reason}). 대응 가이드가 빠져 있습니다.",
        },
        "trees_limited": {
            "en": "{count} more alerted processes have no tree drawn (the report draws {limit}).",
            "ko": "경보가 발생한 프로세스 {count}개는 트리를 그리지 않았습니다 (최대 {limit}개).",
        },
        "tree_truncated": {
            "en": "The process tree of {name} has more than {limit} processes: "
            "only those read are shown.",
            "ko": "{name}의 프로세스 트리는 프로세스가 {limit}개를 넘어, 읽은 부분만 표시합니다.",
        },
        "filters_limited": {
            "en": "{count} more socket filters are not explained (the report explains {limit}).",
            "ko": "소켓 필터 {count}개는 해석하지 않았습니다 (최대 {limit}개).",
        },
        "files_limited": {
            "en": "{count} more files are not listed.",
            "ko": "파일 {count}개는 목록에서 생략했습니다.",
        },
    }
)


class ReportError(StoreAccessError):
    """The data directory cannot be read (the location names it)."""


def _check_readable(data: Path, store_directory: Path) -> None:
    """Raise ReportError when the store exists but cannot be read (wrong type, no access)."""
    for path in (data, store_directory, store_directory / "segments"):
        try:
            is_directory = path.is_dir()
            exists = is_directory or path.exists()
        except OSError as error:
            raise ReportError(error.strerror or str(error), location=str(path)) from None
        if not exists:
            return
        if not is_directory:
            raise ReportError(os.strerror(errno.ENOTDIR), location=str(path))
        if not os.access(path, os.R_OK | os.X_OK):
            raise ReportError(os.strerror(errno.EACCES), location=str(path))


# -- hosts --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _HostRow:
    name: str
    events: int
    alerts: int
    first: datetime | None
    last: datetime | None


def _host_rows(reader: StoreReader, window: Filter) -> list[_HostRow]:
    rows = reader.sql(
        "SELECT host_name, count(*), count(*) FILTER (WHERE " + ALERT_CONDITION + "), "
        f'min("timestamp"), max("timestamp") FROM events WHERE {window.sql} '
        "GROUP BY host_name ORDER BY host_name NULLS LAST",
        list(window.parameters),
    )
    found = []
    for name, events, alerts, first, last in rows:
        found.append(
            _HostRow(
                name if isinstance(name, str) else "",
                events if isinstance(events, int) else 0,
                alerts if isinstance(alerts, int) else 0,
                first if isinstance(first, datetime) else None,
                last if isinstance(last, datetime) else None,
            )
        )
    return found


# -- sweeps -------------------------------------------------------------------------------------


def _sweeps(
    reader: StoreReader,
    data: Path,
    hosts: Sequence[str],
    *,
    host: str | None,
    since: datetime | None,
    until: datetime | None,
    language: str,
    filters: FilterCollector,
    notes: list[str],
) -> tuple[list[HostSweep], list[dict[str, object]]]:
    """Each host's latest sweep (the JSON file, or the store's record when it is newer), and
    the stored findings of those sweeps."""
    files = latest_files(sweep_files(data / "sweeps"), host=host, since=since, until=until)
    names = sorted(set(hosts) | set(files))
    if len(names) > MAX_HOSTS:
        notes.append(NOTES.text("too_many_hosts", language, count=len(names), limit=MAX_HOSTS))
        names = names[:MAX_HOSTS]
    sweeps: list[HostSweep] = []
    finding_docs: list[dict[str, object]] = []
    for name in names:
        stored = None
        if name in hosts:
            stored = store_sweep(
                reader, name, since=since, until=until, language=language, filters=filters
            )
            if stored is not None:
                finding_docs.extend(stored[1])
        from_file = None
        item = files.get(name.replace("/", "_"))
        if item is not None:
            try:
                from_file = read_sweep_file(item, language, filters)
            except SweepFileError as error:
                notes.append(
                    NOTES.text("sweep_unreadable", language, path=str(item.path), reason=error)
                )
        candidates = [sweep for sweep in (from_file, stored[0] if stored else None) if sweep]
        if candidates:
            # The newest; on a tie the file, which holds more (details, visibility notes).
            sweeps.append(
                max(
                    candidates,
                    key=lambda s: (
                        s.taken_at or datetime.min.replace(tzinfo=UTC),
                        s.source != "store",
                    ),
                )
            )
    return sweeps, finding_docs


# -- evidence -----------------------------------------------------------------------------------


def _sweep_files_evidence(sweeps: Iterable[HostSweep], files: FileCollector) -> None:
    for sweep in sweeps:
        for finding in sweep.findings:
            path = finding.evidence.get("path")
            if not isinstance(path, str):
                continue
            evidence = finding.evidence
            size, uid, mode = evidence.get("size"), evidence.get("uid"), evidence.get("mode")
            digest = evidence.get("sha256")
            files.add(
                FileEvidence(
                    path=path,
                    host=sweep.host,
                    source="sweep",
                    sha256=digest if isinstance(digest, str) else None,
                    size=size if isinstance(size, int) and not isinstance(size, bool) else None,
                    mode=mode if isinstance(mode, str) else None,
                    uid=uid if isinstance(uid, int) and not isinstance(uid, bool) else None,
                    modified=epoch_moment(evidence.get("mtime")),
                    note=finding.title,
                )
            )


# -- the report ---------------------------------------------------------------------------------


def _rules(rules: Sequence[Rule] | None, language: str, notes: list[str]) -> dict[str, Rule]:
    if rules is None:
        try:
            rules = load_rules()
        except RuleError as error:
            notes.append(NOTES.text("rules_unavailable", language, reason=str(error)))
            return {}
    return {rule.id: rule for rule in rules}


def gather_report(
    data: Path,
    *,
    host: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    language: str = "en",
    rules: Sequence[Rule] | None = None,
    now: datetime | None = None,
) -> IncidentReport:
    """The report over the data directory `data` (its store, sweeps and quarantine).

    Raises ReportError (an InputError) when the store cannot be read and StoreQueryError when
    a time has no zone; an empty or missing store gives an empty report.
    """
    notes: list[str] = []
    store = Store(data / "store")
    _check_readable(data, store.directory)
    if not data.exists():
        notes.append(NOTES.text("no_data_directory", language, path=str(data)))
    by_id = _rules(rules, language, notes)
    filters = FilterCollector(language)
    files = FileCollector()
    window = build_filter(host=host, since=since, until=until)
    try:
        with store.reader() as reader:
            host_rows = _host_rows(reader, window)
            skipped = reader.segments().skipped
            if skipped:
                notes.append(NOTES.text("skipped_segments", language, count=len(skipped)))
            store_hosts = [row.name for row in host_rows if row.name]
            sweeps, finding_docs = _sweeps(
                reader,
                data,
                store_hosts,
                host=host,
                since=since,
                until=until,
                language=language,
                filters=filters,
                notes=notes,
            )
            alert_condition = f"{window.sql} AND {ALERT_CONDITION}"
            alert_total = count_where(reader, alert_condition, window.parameters)
            alert_docs = documents_where(
                reader, alert_condition, window.parameters, limit=MAX_ALERTS, order="ASC"
            )
            if alert_total > len(alert_docs):
                notes.append(
                    NOTES.text("alerts_limited", language, total=alert_total, limit=MAX_ALERTS)
                )
            groups = alert_groups(alert_docs, by_id, language, filters, files)
            candidates = focus_candidates([*alert_docs, *finding_docs])
            trees = process_trees(reader, candidates, language)
            entries, omitted = timeline(reader, window, alert_docs, trees.views, language)
    except OSError as error:
        raise ReportError(error.strerror or str(error), location=str(store.directory)) from None
    _sweep_files_evidence(sweeps, files)
    quarantined, broken = quarantined_files(data / "quarantine", since, until)
    for item in quarantined:
        files.add(item)
    for path, reason in broken:
        notes.append(NOTES.text("quarantine_unreadable", language, path=str(path), reason=reason))
    explained = filters.results()
    if filters.dropped:
        notes.append(
            NOTES.text("filters_limited", language, count=filters.dropped, limit=len(explained))
        )
    if files.dropped:
        notes.append(NOTES.text("files_limited", language, count=files.dropped))
    verdicts = {sweep.host: sweep for sweep in sweeps}
    summaries = [
        HostSummary(
            name=row.name,
            events=row.events,
            alerts=row.alerts,
            first=row.first,
            last=row.last,
            verdict=verdicts[row.name].verdict if row.name in verdicts else None,
            verdict_text=verdicts[row.name].verdict_text if row.name in verdicts else None,
        )
        for row in host_rows
    ]
    in_store = {row.name for row in host_rows}
    summaries += [
        HostSummary(sweep.host, 0, 0, None, None, sweep.verdict, sweep.verdict_text)
        for sweep in sweeps
        if sweep.host not in in_store
    ]
    summaries.sort(key=lambda summary: summary.name)
    verdict = worst_verdict([sweep.verdict for sweep in sweeps])
    for title in trees.truncated:
        notes.append(NOTES.text("tree_truncated", language, name=title, limit=TREE_NODES))
    if trees.left_out:
        notes.append(NOTES.text("trees_limited", language, count=trees.left_out, limit=MAX_TREES))
    by_severity = Counter(
        alert_severity(doc, by_id.get(text_field(doc, "rule.id") or "")) for doc in alert_docs
    )
    return IncidentReport(
        generated_at=(now or datetime.now(UTC)).astimezone(UTC),
        language=language,
        version=__version__,
        scope=ReportScope(
            data_directory=str(data),
            host=host,
            since=since,
            until=until,
            hosts=tuple(summary.name for summary in summaries),
        ),
        verdict=verdict,
        verdict_text=verdict_text(verdict, language) if verdict else None,
        events=sum(row.events for row in host_rows),
        alerts=alert_total,
        alerts_by_severity={
            severity: by_severity[severity]
            for severity in sorted(SEVERITY_RANK, key=severity_rank, reverse=True)
            if by_severity[severity]
        },
        hosts=tuple(summaries),
        sweeps=tuple(sweeps),
        alert_groups=tuple(groups),
        timeline=tuple(entries),
        timeline_omitted=omitted,
        trees=trees.views,
        filters=explained,
        files=files.results(),
        notes=tuple(notes),
        skipped_segments=len(skipped),
    )


__all__ = [
    "DRAWN_NODES",
    "MAX_ALERTS",
    "NOTES",
    "ReportError",
    "event_detail",
    "gather_report",
    "select_nodes",
    "tree_view",
]
