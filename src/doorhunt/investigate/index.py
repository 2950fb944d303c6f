"""What the overview, alert and explore pages need from the whole store, kept per segment.

Alerts, sweep verdicts and socket events are few, but their severity, verdict and filter sit
in the JSON document, and reading `doc` for rows scattered over a segment decompresses all
of it: 0.3-0.5 s per day of 630,000 events here, too slow to do per page view. Segments never
change (docs/store.md), so each is summarised once: those rows with the fields the pages
show, event counts per hour and category, per host, per user and per executable. The summary
of a segment is dropped when compaction or retention removes the segment, and the segment
that replaced it is summarised in its turn.

A web server refreshes the index in a background thread; the first refresh over a large
store takes a few seconds (measured: 5 s for 4.4 M events on 2 cores), later ones only read
the segments that appeared meanwhile. Large segments are summarised in a short-lived child
process: DuckDB keeps the memory it used to decompress a day's documents (measured: 590 MB
resident after one 630,000-event segment, against 105 MB before), and a process that exits
gives it back, so a long-running server stays small.
"""

# ruff: noqa: S608 - the SQL here is constant text; segment paths are bound parameters.
from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final, TypeVar

import orjson

from doorhunt.investigate.events import REF_SQL, EventRow, iso, listing_select, rows_from
from doorhunt.store import Store, StoreQueryError, StoreReader
from doorhunt.store.segments import Segment

log = logging.getLogger("doorhunt.investigate")
_K = TypeVar("_K")

SEVERITIES: Final = ("low", "medium", "high", "critical")
# Segments with more rows than this are summarised in a child process (see above).
ISOLATE_ROWS: Final = 100_000
SOCKET_ACTIONS: Final = ("socket_opened", "filter_attached")
# Actions whose process is worth counting as "this executable ran here".
PROCESS_START_ACTIONS: Final = ("exec", "already_running")
_USER_ACTIONS: Final = ("exec", "already_running", "uid_change", "gid_change", "session_id_change")
# Firewall changes (the network page): these programs run, or their rule files written.
# BPFDoor opens the firewall for its bind shell with iptables (BPFDOOR.md §1).
FIREWALL_PROGRAMS: Final = (
    "iptables",
    "ip6tables",
    "iptables-restore",
    "ip6tables-restore",
    "iptables-legacy",
    "iptables-nft",
    "nft",
    "ufw",
    "firewall-cmd",
)
FIREWALL_FILES: Final = ("/etc/iptables", "/etc/nftables", "/etc/sysconfig/iptables")

_SCALARS: Final = (
    "$.doorhunt.alert.severity",
    "$.doorhunt.finding.severity",
    "$.event.risk_score",
    "$.event.severity",
    "$.doorhunt.alert.status",
    "$.message",
    "$.rule.category",
    "$.doorhunt.sweep.verdict",
    "$.doorhunt.sweep.score",
    "$.doorhunt.sweep.complete",
    "$.doorhunt.sweep.findings",
    "$.doorhunt.finding.check",
    "$.doorhunt.finding.score",
)
_OBJECTS: Final = (
    "$.doorhunt.alert.entity_ids",
    "$.doorhunt.alert.source_event_ids",
    "$.threat.tactic.name",
    "$.threat.technique.id",
    "$.doorhunt.sweep.gaps",
    "$.doorhunt.bpf",
    "$.doorhunt.socket",
    "$.doorhunt.alert.response",
)


def _paths(paths: Iterable[str]) -> str:
    return "[" + ", ".join(f"'{path}'" for path in paths) + "]"


def _listed(words: Iterable[str]) -> str:
    return "(" + ", ".join(f"'{word}'" for word in words) + ")"


_NOTABLE_SQL: Final = f"""
SELECT {REF_SQL} AS ref, "timestamp", host_name, host_id, event_kind, event_action,
       event_category, rule_id, rule_name, process_entity_id, process_pid, process_name,
       process_executable, process_command_line, user_name, file_path, source_ip,
       destination_ip, destination_port,
       json_extract_string(doc, {_paths(_SCALARS)}) AS scalars,
       json_extract(doc, {_paths(_OBJECTS)}) AS objects
FROM read_parquet(?)
WHERE event_kind = 'alert' OR event_action IN ('sweep_completed', 'socket_opened',
                                               'filter_attached')
"""
VOLUME_BUCKET_US: Final = 600_000_000  # event counts are kept per 10 minutes
_VOLUME_SQL: Final = f"""
SELECT epoch_us(time_bucket(INTERVAL {VOLUME_BUCKET_US} MICROSECONDS, "timestamp",
                            TIMESTAMPTZ '1970-01-01 00:00:00+00')) AS bucket,
       coalesce(event_category[1], 'other') AS category, count(*)
FROM read_parquet(?) GROUP BY ALL
"""
_HOSTS_SQL: Final = """
SELECT host_name, count(*), min("timestamp"), max("timestamp")
FROM read_parquet(?) WHERE host_name IS NOT NULL GROUP BY ALL
"""
_USERS_SQL: Final = """
SELECT host_name, user_name, user_id, count(*), min("timestamp"), max("timestamp")
FROM read_parquet(?) WHERE user_name IS NOT NULL OR user_id IS NOT NULL GROUP BY ALL
"""
_UNNAMED_USERS_SQL: Final = f"""
SELECT count(*) FROM read_parquet(?)
WHERE user_name IS NULL AND user_id IS NULL AND event_action IN {_listed(_USER_ACTIONS)}
"""
# The sensor writes the user under process.user (as process_fields does), not user.*.
_PROCESS_USERS_SQL: Final = f"""
SELECT host_name, json_extract_string(doc, '$.process.user.name'),
       json_extract_string(doc, '$.process.user.id'), count(*), min("timestamp"), max("timestamp")
FROM read_parquet(?)
WHERE user_name IS NULL AND user_id IS NULL AND event_action IN {_listed(_USER_ACTIONS)}
GROUP BY ALL HAVING count(*) > 0
"""
_FIREWALL_FILE_SQL: Final = " OR ".join(f"starts_with(file_path, '{p}')" for p in FIREWALL_FILES)
_FIREWALL_SQL: Final = f"""
SELECT {listing_select()} FROM read_parquet(?)
WHERE (event_action IN {_listed(PROCESS_START_ACTIONS)} AND process_name IN {_listed(FIREWALL_PROGRAMS)})
   OR (file_path IS NOT NULL AND ({_FIREWALL_FILE_SQL}))
"""
_EXECUTABLES_SQL: Final = f"""
SELECT host_name, coalesce(process_executable, process_name), count(*), min("timestamp"),
       max("timestamp"), any_value(process_entity_id)
FROM read_parquet(?)
WHERE event_action IN {_listed(PROCESS_START_ACTIONS)}
  AND coalesce(process_executable, process_name) IS NOT NULL
GROUP BY host_name, coalesce(process_executable, process_name)
"""


def severity_of(
    alert_severity: str | None, finding_severity: str | None, risk_score: float | None
) -> str:
    """low/medium/high/critical: the alert's own word, else the finding's, else from the risk
    score in Elastic's bands (0-21 low, 22-47 medium, 48-73 high, 74-100 critical)."""
    for word in (alert_severity, finding_severity):
        if word is not None and word.lower() in SEVERITIES:
            return word.lower()
    if risk_score is None:
        return "low"
    if risk_score >= 74:
        return "critical"
    if risk_score >= 48:
        return "high"
    if risk_score >= 22:
        return "medium"
    return "low"


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """An alert (a rule's or a sweep finding) with what listings and grouping need."""

    ref: str
    timestamp: datetime
    host: str | None
    rule_id: str | None
    rule_name: str | None
    severity: str
    risk_score: float | None
    source: str  # "rule" or "sweep"
    category: tuple[str, ...]
    action: str | None
    message: str | None
    process_entity_id: str | None
    process_pid: int | None
    process_name: str | None
    process_executable: str | None
    command_line: str | None
    user: str | None
    file_path: str | None
    destination: str | None
    entity_ids: tuple[str, ...]
    source_event_ids: tuple[str, ...]
    tactics: tuple[str, ...]
    techniques: tuple[str, ...]
    response: tuple[Mapping[str, object], ...]

    def to_json(self) -> dict[str, object]:
        return {
            "ref": self.ref,
            "@timestamp": iso(self.timestamp),
            "host": self.host,
            "rule": {"id": self.rule_id, "name": self.rule_name},
            "severity": self.severity,
            "risk_score": self.risk_score,
            "source": self.source,
            "category": list(self.category),
            "action": self.action,
            "message": self.message,
            "process": {
                "entity_id": self.process_entity_id,
                "pid": self.process_pid,
                "name": self.process_name,
                "executable": self.process_executable,
                "command_line": self.command_line,
            },
            "user": self.user,
            "file": self.file_path,
            "destination": self.destination,
            "entity_ids": list(self.entity_ids),
            "source_event_ids": list(self.source_event_ids),
            "tactics": list(self.tactics),
            "techniques": list(self.techniques),
            "response": list(self.response),
        }


@dataclass(frozen=True, slots=True)
class SweepRecord:
    """One `sweep_completed` event: a host's verdict at one moment."""

    ref: str
    timestamp: datetime
    host: str | None
    host_id: str | None
    verdict: str
    score: int | None
    complete: bool | None
    findings: int | None
    gaps: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "ref": self.ref,
            "@timestamp": iso(self.timestamp),
            "host": self.host,
            "host_id": self.host_id,
            "verdict": self.verdict,
            "score": self.score,
            "complete": self.complete,
            "findings": self.findings,
            "gaps": list(self.gaps),
        }


@dataclass(frozen=True, slots=True)
class SocketRecord:
    """A packet or raw socket someone opened or filtered, from the sensor or a sweep."""

    ref: str
    timestamp: datetime
    host: str | None
    source: str  # "sensor" (socket_opened, filter_attached) or "sweep" (a finding)
    action: str | None
    process_entity_id: str | None
    process_pid: int | None
    process_name: str | None
    process_executable: str | None
    socket: Mapping[str, object]  # doorhunt.socket.*
    bpf: Mapping[str, object] | None  # doorhunt.bpf.* when a filter is known


@dataclass(frozen=True, slots=True)
class Tally:
    """How many events, and the first and last of them."""

    count: int
    first: datetime
    last: datetime

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.count + other.count, min(self.first, other.first), max(self.last, other.last)
        )


@dataclass(slots=True)
class SegmentSummary:
    """What one segment holds, as far as the pages need it."""

    alerts: list[AlertRecord] = field(default_factory=list)
    sweeps: list[SweepRecord] = field(default_factory=list)
    sockets: list[SocketRecord] = field(default_factory=list)
    # (start of a 10-minute bucket in µs since the epoch, first event.category) -> events
    volume: Counter[tuple[int, str]] = field(default_factory=Counter)
    hosts: dict[str, Tally] = field(default_factory=dict)
    users: dict[tuple[str, str, str], Tally] = field(default_factory=dict)  # host, name, id
    # (host, executable) -> tally and one entity id that ran it
    executables: dict[tuple[str, str], tuple[Tally, str | None]] = field(default_factory=dict)
    firewall: list[EventRow] = field(default_factory=list)  # firewall changes (see above)


def _json_list(value: object) -> list[object]:
    if value is None:
        return []
    loaded = orjson.loads(value) if isinstance(value, str | bytes) else value
    if isinstance(loaded, list):
        return loaded
    return [] if loaded is None else [loaded]


def _json_object(value: object) -> Mapping[str, object] | None:
    if value is None:
        return None
    loaded = orjson.loads(value) if isinstance(value, str | bytes) else value
    return loaded if isinstance(loaded, dict) else None


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(item) for item in _json_list(value) if item is not None)


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def summarize_segment(reader: StoreReader, segment: Segment) -> SegmentSummary:
    """Read what the pages need from one segment (several small queries, one pass each)."""
    path = str(segment.path)
    summary = SegmentSummary()
    for row in reader.sql(_NOTABLE_SQL, [path]):
        _add_notable(summary, row)
    for bucket, category, count in reader.sql(_VOLUME_SQL, [path]):
        assert isinstance(bucket, int) and isinstance(count, int)
        summary.volume[(bucket, str(category))] += count
    for host, count, first, last in reader.sql(_HOSTS_SQL, [path]):
        assert isinstance(count, int) and isinstance(first, datetime) and isinstance(last, datetime)
        summary.hosts[str(host)] = Tally(count, first, last)
    user_rows = reader.sql(_USERS_SQL, [path])
    unnamed = reader.sql(_UNNAMED_USERS_SQL, [path])
    if unnamed and isinstance(unnamed[0][0], int) and unnamed[0][0] > 0:
        user_rows += reader.sql(_PROCESS_USERS_SQL, [path])
    for host, name, uid, count, first, last in user_rows:
        if name is None and uid is None:
            continue
        assert isinstance(count, int) and isinstance(first, datetime) and isinstance(last, datetime)
        key = (str(host or ""), str(name or ""), str(uid or ""))
        tally = Tally(count, first, last)
        summary.users[key] = summary.users[key] + tally if key in summary.users else tally
    for host, executable, count, first, last, entity in reader.sql(_EXECUTABLES_SQL, [path]):
        assert isinstance(count, int) and isinstance(first, datetime) and isinstance(last, datetime)
        summary.executables[(str(host or ""), str(executable))] = (
            Tally(count, first, last),
            _text(entity),
        )
    summary.firewall.extend(rows_from(reader.sql(_FIREWALL_SQL, [path])))
    return summary


def _add_notable(summary: SegmentSummary, row: tuple[object, ...]) -> None:
    (ref, moment, host, host_id, kind, action, categories, rule_id, rule_name, entity, pid, name,
     executable, command_line, user, file_path, source_ip, destination_ip, destination_port,
     scalars, objects) = row  # fmt: skip
    assert isinstance(moment, datetime)
    values = list(scalars) if isinstance(scalars, list) else [None] * len(_SCALARS)
    (alert_severity, finding_severity, risk_score, event_severity, _status, message,
     rule_category, verdict, sweep_score, complete, findings, check, finding_score) = values  # fmt: skip
    found = list(objects) if isinstance(objects, list) else [None] * len(_OBJECTS)
    entity_ids, source_event_ids, tactics, techniques, gaps, bpf, socket, response = found
    if kind == "alert":
        score = _number(risk_score)
        if score is None:
            score = _number(finding_score)
        destination = None
        if isinstance(destination_ip, str):
            destination = destination_ip + (
                f":{destination_port}" if destination_port is not None else ""
            )
        summary.alerts.append(
            AlertRecord(
                ref=str(ref),
                timestamp=moment,
                host=_text(host),
                rule_id=_text(rule_id) or check,
                rule_name=_text(rule_name),
                severity=severity_of(alert_severity, finding_severity, score),
                risk_score=score,
                source="sweep" if rule_category == "sweep" or action == "sweep_finding" else "rule",
                category=tuple(str(c) for c in categories) if isinstance(categories, list) else (),
                action=_text(action),
                message=message,
                process_entity_id=_text(entity),
                process_pid=_int(pid),
                process_name=_text(name),
                process_executable=_text(executable),
                command_line=_text(command_line),
                user=_text(user),
                file_path=_text(file_path),
                destination=destination,
                entity_ids=_strings(entity_ids),
                source_event_ids=_strings(source_event_ids),
                tactics=_strings(tactics),
                techniques=_strings(techniques),
                response=tuple(r for r in _json_list(response) if isinstance(r, dict)),
            )
        )
        _ = event_severity, source_ip
    if action == "sweep_completed":
        summary.sweeps.append(
            SweepRecord(
                ref=str(ref),
                timestamp=moment,
                host=_text(host),
                host_id=_text(host_id),
                verdict=verdict or "unknown",
                score=None if sweep_score is None else int(_number(sweep_score) or 0),
                complete=None if complete is None else complete == "true",
                findings=None if findings is None else int(_number(findings) or 0),
                gaps=_strings(gaps),
            )
        )
    socket_fields = _json_object(socket)
    # A rule's alert about a socket event repeats the event: the event itself is listed.
    from_sensor = action in SOCKET_ACTIONS and kind != "alert"
    if from_sensor or (action == "sweep_finding" and socket_fields is not None):
        summary.sockets.append(
            SocketRecord(
                ref=str(ref),
                timestamp=moment,
                host=_text(host),
                source="sensor" if from_sensor else "sweep",
                action=_text(action),
                process_entity_id=_text(entity),
                process_pid=_int(pid),
                process_name=_text(name),
                process_executable=_text(executable),
                socket=socket_fields or {},
                bpf=_json_object(bpf),
            )
        )


def _summarize_in_child(directory: str, paths: list[str]) -> list[SegmentSummary]:
    """A child process's work: its own reader, some segments, then the process ends."""
    wanted = {path: index for index, path in enumerate(paths)}
    found: list[SegmentSummary | None] = [None] * len(paths)
    with Store(Path(directory)).reader(threads=1) as reader:
        for segment in reader.segments().visible:
            index = wanted.get(str(segment.path))
            if index is not None:
                found[index] = summarize_segment(reader, segment)
    missing = [path for path, summary in zip(paths, found, strict=True) if summary is None]
    if missing:
        raise FileNotFoundError(missing[0])
    return [summary for summary in found if summary is not None]


def summarize_isolated(
    reader: StoreReader, segments: list[Segment], *, workers: int = 2
) -> list[SegmentSummary]:
    """summarize_segment for each segment, in fresh processes that exit afterwards (which
    returns the memory DuckDB used); `workers` processes share the segments."""
    if not segments:
        return []
    context = multiprocessing.get_context("spawn")
    workers = max(1, min(workers, len(segments)))
    shares = [segments[index::workers] for index in range(workers)]
    directory = str(reader.store.directory)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [
            pool.submit(_summarize_in_child, directory, [str(s.path) for s in share])
            for share in shares
        ]
        results = [future.result() for future in futures]
    by_path: dict[str, SegmentSummary] = {}
    for share, summaries in zip(shares, results, strict=True):
        for segment, summary in zip(share, summaries, strict=True):
            by_path[str(segment.path)] = summary
    return [by_path[str(segment.path)] for segment in segments]


class SegmentIndex:
    """Summaries of every visible segment, refreshed as segments come and go. Thread-safe.

    Segments of more than `isolate_rows` rows are summarised in a child process (None: never).
    """

    def __init__(self, reader: StoreReader, *, isolate_rows: int | None = ISOLATE_ROWS) -> None:
        self.reader = reader
        self.isolate_rows = isolate_rows
        self._summaries: dict[str, SegmentSummary] = {}
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()
        self._ready = threading.Event()
        self.refreshed_at = 0.0
        self.last_error: str | None = None

    def refresh(self) -> bool:
        """Summarise new segments and forget vanished ones; True when anything changed."""
        with self._refreshing:
            changed = False
            for _ in range(3):
                visible = self.reader.segments().visible
                current = self._summaries
                summaries: dict[str, SegmentSummary] = {}
                try:
                    new = [segment for segment in visible if _key(segment) not in current]
                    for segment in new:
                        if not segment.path.exists():
                            raise FileNotFoundError(segment.path)
                    large = [s for s in new if self._isolated(s)]
                    isolated = summarize_isolated(self.reader, large)
                    made = dict(zip(map(_key, large), isolated, strict=True))
                    for segment in new:
                        if not self._isolated(segment):
                            made[_key(segment)] = summarize_segment(self.reader, segment)
                    for segment in visible:
                        key = _key(segment)
                        summaries[key] = current.get(key) or made[key]
                    changed = changed or bool(new)
                except (FileNotFoundError, StoreQueryError) as error:
                    # Compaction or retention removed a segment meanwhile: list again.
                    self.last_error = str(error)
                    log.debug("index refresh retried: %s", error)
                    continue
                changed = changed or len(summaries) != len(current)
                with self._lock:
                    self._summaries = summaries
                self.refreshed_at = time.monotonic()
                self.last_error = None
                self._ready.set()
                return changed
            self._ready.set()
            return changed

    def _isolated(self, segment: Segment) -> bool:
        return self.isolate_rows is not None and segment.rows > self.isolate_rows

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Until the first refresh finished (a server's background thread does it)."""
        return self._ready.wait(timeout)

    def ensure_fresh(self, max_age: float = 2.0) -> None:
        """Refresh unless done in the last `max_age` seconds (callers without a thread)."""
        if time.monotonic() - self.refreshed_at > max_age:
            self.refresh()

    def summaries(self) -> list[SegmentSummary]:
        with self._lock:
            return list(self._summaries.values())

    # -- merged views ---------------------------------------------------------------------------

    def alerts(self) -> list[AlertRecord]:
        """Every alert, newest first."""
        found = [alert for summary in self.summaries() for alert in summary.alerts]
        found.sort(key=lambda alert: alert.timestamp, reverse=True)
        return found

    def sweeps(self) -> list[SweepRecord]:
        """Every sweep, newest first."""
        found = [sweep for summary in self.summaries() for sweep in summary.sweeps]
        found.sort(key=lambda sweep: sweep.timestamp, reverse=True)
        return found

    def latest_sweeps(self) -> dict[str, SweepRecord]:
        """The newest sweep of each host."""
        latest: dict[str, SweepRecord] = {}
        for sweep in self.sweeps():
            if sweep.host is not None and sweep.host not in latest:
                latest[sweep.host] = sweep
        return latest

    def sockets(self) -> list[SocketRecord]:
        found = [socket for summary in self.summaries() for socket in summary.sockets]
        found.sort(key=lambda socket: socket.timestamp, reverse=True)
        return found

    def firewall(self) -> list[EventRow]:
        """Every firewall change (FIREWALL_PROGRAMS run, FIREWALL_FILES written), newest first."""
        found = [row for summary in self.summaries() for row in summary.firewall]
        found.sort(key=lambda row: row.timestamp, reverse=True)
        return found

    def volume(self) -> Counter[tuple[int, str]]:
        total: Counter[tuple[int, str]] = Counter()
        for summary in self.summaries():
            total.update(summary.volume)
        return total

    def hosts(self) -> dict[str, Tally]:
        return _merge(summary.hosts for summary in self.summaries())

    def users(self) -> dict[tuple[str, str, str], Tally]:
        return _merge(summary.users for summary in self.summaries())

    def executables(self) -> dict[tuple[str, str], tuple[Tally, str | None]]:
        merged: dict[tuple[str, str], tuple[Tally, str | None]] = {}
        for summary in self.summaries():
            for key, (tally, entity) in summary.executables.items():
                known = merged.get(key)
                if known is None:
                    merged[key] = (tally, entity)
                else:
                    merged[key] = (known[0] + tally, known[1] or entity)
        return merged


def _merge(parts: Iterable[Mapping[_K, Tally]]) -> dict[_K, Tally]:
    merged: dict[_K, Tally] = {}
    for part in parts:
        for key, tally in part.items():
            known = merged.get(key)
            merged[key] = tally if known is None else known + tally
    return merged


def _key(segment: Segment) -> str:
    return f"{segment.day}/{segment.name}:{segment.size}"


__all__ = [
    "FIREWALL_FILES",
    "FIREWALL_PROGRAMS",
    "PROCESS_START_ACTIONS",
    "SEVERITIES",
    "SOCKET_ACTIONS",
    "VOLUME_BUCKET_US",
    "AlertRecord",
    "SegmentIndex",
    "SegmentSummary",
    "SocketRecord",
    "SweepRecord",
    "Tally",
    "severity_of",
    "summarize_isolated",
    "summarize_segment",
]
