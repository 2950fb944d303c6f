"""Explore, as Kibana Security has it: hosts (and one host's page), network, users; and the
overview that opens the UI.

Fleet-wide counts come from the segment index; a page's listings are bounded SQL over hot
columns within a time range (the default: the last day of stored events).
"""

# ruff: noqa: S608 - conditions are built by sqltext (literals) from parameters checked there.
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from doorhunt.investigate.alerts import AlertFilter, list_alerts
from doorhunt.investigate.events import EventRow, iso, page_sql, rows_from
from doorhunt.investigate.index import (
    FIREWALL_PROGRAMS,
    SEVERITIES,
    VOLUME_BUCKET_US,
    SegmentIndex,
    Tally,
)
from doorhunt.investigate.sockets import host_sockets
from doorhunt.investigate.sqltext import column_is, time_bounds
from doorhunt.investigate.sweeps import SweepArchive
from doorhunt.investigate.timeline import choose_width
from doorhunt.investigate.triage import TriageDatabase
from doorhunt.store import StoreReader
from doorhunt.store.columns import from_microseconds, microseconds

VERDICT_RANK: Final = {"compromised": 4, "suspicious": 3, "degraded": 2, "clean": 1}
# The bind shell's port range (BPFDOOR.md §1): listeners there are shown first.
BIND_SHELL_PORTS: Final = range(42391, 43391)
LIST_LIMIT: Final = 200


@dataclass(frozen=True, slots=True)
class Window:
    since: datetime
    until: datetime

    def to_json(self) -> dict[str, object]:
        return {"since": iso(self.since), "until": iso(self.until)}


def default_window(
    reader: StoreReader, since: datetime | None, until: datetime | None, *, days: float = 1.0
) -> Window:
    """The range asked for, completed with the last `days` of stored events."""
    if since is not None and until is not None:
        return Window(since, until)
    info = reader.info()
    last = info.last or datetime.now(UTC)
    end = until or last + timedelta(microseconds=1)
    return Window(since or end - timedelta(days=days), end)


def _where(host: str | None, window: Window, *extra: str) -> str:
    parts = [*time_bounds(window.since, window.until), *extra]
    if host is not None:
        parts.append(column_is("host_name", host))
    return " AND ".join(parts)


def _rows(reader: StoreReader, where: str, limit: int = LIST_LIMIT) -> list[EventRow]:
    """The newest rows matching `where` (literal conditions only), a few actions among many."""
    return rows_from(reader.sql(page_sql(where, "timestamp", "desc", limit, 0, selective=True)))


def _tally_json(tally: Tally) -> dict[str, object]:
    return {"count": tally.count, "first": iso(tally.first), "last": iso(tally.last)}


# -- overview -----------------------------------------------------------------------------------


def volume(
    index: SegmentIndex, since: datetime, until: datetime, *, buckets: int = 72
) -> dict[str, object]:
    """Events per bucket and first event.category over [since, until), from the index (whole
    10-minute buckets)."""
    width = max(choose_width(since, until, buckets), timedelta(microseconds=VOLUME_BUCKET_US))
    step = int(width.total_seconds() * 1_000_000)
    since_us, until_us = microseconds(since), microseconds(until)
    grouped: dict[int, Counter[str]] = {}
    for (bucket, category), count in index.volume().items():
        if since_us - VOLUME_BUCKET_US < bucket < until_us:
            grouped.setdefault(bucket // step * step, Counter())[category] += count
    return {
        "bucket_seconds": width.total_seconds(),
        "buckets": [
            {"start": iso(from_microseconds(start)), "counts": dict(counts)}
            for start, counts in sorted(grouped.items())
        ],
    }


def overview(reader: StoreReader, index: SegmentIndex, triage: TriageDatabase) -> dict[str, object]:
    """Per-host verdicts from the latest sweeps, open alerts by severity and rule, event
    volume over the stored range."""
    info = reader.info()
    latest = index.latest_sweeps()
    hosts = index.hosts()
    verdicts = Counter(sweep.verdict for sweep in latest.values())
    listing = list_alerts(index, triage, AlertFilter(statuses=frozenset({"open"})), group_by="rule")
    last = info.last or datetime.now(UTC)
    first = info.first or last - timedelta(days=1)
    return {
        "store": {
            "events": info.events,
            "first": iso(info.first),
            "last": iso(info.last),
            "segments": info.segments,
            "skipped": len(info.skipped),
        },
        "hosts": len(hosts),
        "verdicts": {verdict: verdicts.get(verdict, 0) for verdict in VERDICT_RANK},
        "unswept": sorted(set(hosts) - set(latest)),
        "sweeps": [
            sweep.to_json()
            for sweep in sorted(
                latest.values(),
                key=lambda s: (-VERDICT_RANK.get(s.verdict, 0), s.host or ""),
            )
        ],
        "open_alerts": listing.total,
        "open_by_severity": listing.by_severity,
        "open_by_rule": [group.to_json() for group in listing.groups[:20]],
        "volume": volume(index, first, last + timedelta(microseconds=1)),
    }


# -- hosts --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HostSummary:
    name: str
    events: int
    first: datetime | None
    last: datetime | None
    verdict: str | None
    swept_at: datetime | None
    score: int | None
    open_alerts: int
    severity: str | None  # the highest of its open alerts

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "events": self.events,
            "first": iso(self.first),
            "last": iso(self.last),
            "verdict": self.verdict,
            "swept_at": iso(self.swept_at),
            "score": self.score,
            "open_alerts": self.open_alerts,
            "severity": self.severity,
        }


def host_list(index: SegmentIndex, triage: TriageDatabase) -> list[HostSummary]:
    """Every host the store knows, worst first: verdict, then open alerts."""
    latest = index.latest_sweeps()
    listing = list_alerts(
        index, triage, AlertFilter(statuses=frozenset({"open"})), group_by="host", limit=0
    )
    groups = {group.key: group for group in listing.groups}
    names = set(index.hosts()) | set(latest) | {name for name in groups if name}
    tallies = index.hosts()
    summaries = []
    for name in names:
        tally = tallies.get(name)
        sweep = latest.get(name)
        group = groups.get(name)
        summaries.append(
            HostSummary(
                name=name,
                events=tally.count if tally else 0,
                first=tally.first if tally else None,
                last=tally.last if tally else None,
                verdict=sweep.verdict if sweep else None,
                swept_at=sweep.timestamp if sweep else None,
                score=sweep.score if sweep else None,
                open_alerts=group.count if group else 0,
                severity=group.severity if group else None,
            )
        )
    rank = {severity: index for index, severity in enumerate(SEVERITIES)}
    summaries.sort(
        key=lambda h: (
            -VERDICT_RANK.get(h.verdict or "", 0),
            -rank.get(h.severity or "", -1),
            -h.open_alerts,
            h.name,
        )
    )
    return summaries


def _uncommon(
    executables: Mapping[tuple[str, str], tuple[Tally, str | None]], host: str
) -> list[dict[str, object]]:
    """Executables of this host that at most one other host runs, rarest first: an implant
    under a daemon's name still has its own path (BPFDOOR.md §1, /dev/shm)."""
    hosts_of: dict[str, set[str]] = {}
    for name, executable in executables:
        hosts_of.setdefault(executable, set()).add(name)
    fleet = len({name for name, _ in executables})
    found = []
    for (name, executable), (tally, entity) in executables.items():
        if name != host:
            continue
        spread = len(hosts_of[executable])
        if fleet > 2 and spread > 2:
            continue
        found.append(
            {
                "executable": executable,
                "hosts": spread,
                "entity_id": entity,
                **_tally_json(tally),
            }
        )
    found.sort(key=lambda item: (item["hosts"], item["count"], item["executable"]))
    return found[:LIST_LIMIT]


def host_page(
    reader: StoreReader,
    index: SegmentIndex,
    triage: TriageDatabase,
    archive: SweepArchive,
    host: str,
    window: Window,
    *,
    language: str = "en",
) -> dict[str, object] | None:
    """Everything the host page shows; None when nothing is known about `host`."""
    summaries = {summary.name: summary for summary in host_list(index, triage)}
    summary = summaries.get(host)
    report = archive.latest(host)
    if summary is None and report is None:
        return None
    executables = index.executables()
    processes = sorted(
        (
            {"executable": executable, "entity_id": entity, **_tally_json(tally)}
            for (name, executable), (tally, entity) in executables.items()
            if name == host
        ),
        key=lambda item: (-int(item["count"]), str(item["executable"])),  # type: ignore[call-overload]
    )
    alerts = list_alerts(index, triage, AlertFilter(hosts=frozenset({host})), limit=50)
    findings = [
        view.to_json()
        for view in alerts.alerts
        if view.alert.source == "sweep"
        and (
            summary is None or summary.swept_at is None or view.alert.timestamp == summary.swept_at
        )
    ]
    categories = reader.sql(
        "SELECT coalesce(event_category[1], 'other'), count(*) FROM events WHERE "
        + _where(host, window)
        + " GROUP BY 1 ORDER BY 2 DESC"
    )
    return {
        "host": host,
        "summary": summary.to_json() if summary else None,
        "window": window.to_json(),
        "sweep_report": _report_json(report),
        "findings": findings,
        "sockets": [view.to_json(language) for view in host_sockets(index, archive, host)],
        "processes": processes[:LIST_LIMIT],
        "uncommon_processes": _uncommon(executables, host),
        "alerts": alerts.to_json(),
        "categories": {str(c): int(n) for c, n in categories},  # type: ignore[call-overload]
        "recent": [
            row.to_json()
            for row in rows_from(
                reader.sql(page_sql(_where(host, window), "timestamp", "desc", 50, 0))
            )
        ],
    }


def _report_json(report: Mapping[str, object] | None) -> dict[str, object] | None:
    """The parts of a sweep result the page shows (processes worst first, visibility)."""
    if report is None:
        return None
    processes = report.get("processes")
    findings = report.get("findings")
    return {
        "taken_at": report.get("taken_at"),
        "verdict": report.get("verdict"),
        "score": report.get("score"),
        "visibility": report.get("visibility"),
        "summary": report.get("summary"),
        "processes": processes[:100] if isinstance(processes, list) else [],
        "findings": len(findings) if isinstance(findings, list) else 0,
    }


# -- network ------------------------------------------------------------------------------------


def network(
    reader: StoreReader, index: SegmentIndex, host: str | None, window: Window
) -> dict[str, object]:
    """Connections by destination, listeners, raw/packet sockets, firewall changes."""
    where = _where(host, window)
    # Destinations and listeners in one scan of the connections (two groupings of it).
    grouped = reader.sql(
        "SELECT event_action, destination_ip, destination_port, host_name, process_name, "
        'count(*), count(DISTINCT host_name), count(DISTINCT source_ip), min("timestamp"), '
        'max("timestamp"), list(DISTINCT process_name)[1:5] FROM events '
        f"WHERE {where} AND event_action IN ('connection_attempted', 'connection_accepted') "
        "GROUP BY GROUPING SETS ((event_action, destination_ip, destination_port), "
        "(event_action, host_name, destination_port, process_name))"
    )
    destinations = sorted(
        (row for row in grouped if row[0] == "connection_attempted" and row[3] is None),
        key=lambda row: (-int(row[5]), str(row[1]), row[2] or 0),  # type: ignore[call-overload]
    )[:LIST_LIMIT]
    listeners = sorted(
        (row for row in grouped if row[0] == "connection_accepted" and row[3] is not None),
        key=lambda row: (
            not (isinstance(row[2], int) and row[2] in BIND_SHELL_PORTS),
            -int(row[5]),  # type: ignore[call-overload]
        ),
    )[:LIST_LIMIT]
    # Firewall changes are few: the index keeps them (a day's scan took 190 ms over 5 M events).
    firewall = [
        row
        for row in index.firewall()
        if (host is None or row.fields.get("host.name") == host)
        and window.since <= row.timestamp < window.until
    ][:LIST_LIMIT]
    sockets = [
        record
        for record in index.sockets()
        if (host is None or record.host == host) and window.since <= record.timestamp < window.until
    ]
    return {
        "host": host,
        "window": window.to_json(),
        "destinations": [
            {
                "ip": ip,
                "port": port,
                "count": count,
                "hosts": hosts,
                "first": iso(first),  # type: ignore[arg-type]
                "last": iso(last),  # type: ignore[arg-type]
                "processes": processes,
            }
            for _, ip, port, _, _, count, hosts, _, first, last, processes in destinations
        ],
        "listeners": [
            {
                "host": name,
                "port": port,
                "process": process,
                "count": count,
                "sources": sources,
                "first": iso(first),  # type: ignore[arg-type]
                "last": iso(last),  # type: ignore[arg-type]
                "bind_shell_range": isinstance(port, int) and port in BIND_SHELL_PORTS,
            }
            for _, _, port, name, process, count, _, sources, first, last, _ in listeners
        ],
        "sockets": [
            {
                "ref": record.ref,
                "@timestamp": iso(record.timestamp),
                "host": record.host,
                "source": record.source,
                "action": record.action,
                "process": {
                    "pid": record.process_pid,
                    "name": record.process_name,
                    "executable": record.process_executable,
                    "entity_id": record.process_entity_id,
                },
                "socket": dict(record.socket),
                "class": (record.bpf or {}).get("class"),
                "suspicious": (record.bpf or {}).get("suspicious"),
            }
            for record in sockets[:LIST_LIMIT]
        ],
        "firewall": [row.to_json() for row in firewall],
    }


# -- users --------------------------------------------------------------------------------------


def users(
    reader: StoreReader, index: SegmentIndex, host: str | None, window: Window
) -> dict[str, object]:
    """Users seen (and where), sessions, privilege changes."""
    where = _where(host, window)
    seen = []
    for (name, user, uid), tally in index.users().items():
        if host is not None and name != host:
            continue
        if tally.last < window.since or tally.first >= window.until:
            continue
        seen.append({"host": name, "name": user or None, "id": uid or None, **_tally_json(tally)})
    seen.sort(key=lambda item: (-int(item["count"]), str(item["host"]), str(item["name"])))  # type: ignore[call-overload]
    # One scan for both lists: each is a few actions among a day of events.
    found = _rows(
        reader,
        f"{where} AND (event_action IN ('session_id_change', 'uid_change', 'gid_change') OR "
        "(event_action = 'connection_accepted' AND process_name = 'sshd'))",
        2 * LIST_LIMIT,
    )
    privileges = [r for r in found if r.fields.get("event.action") in ("uid_change", "gid_change")]
    sessions = [
        r for r in found if r.fields.get("event.action") not in ("uid_change", "gid_change")
    ]
    return {
        "host": host,
        "window": window.to_json(),
        "users": seen[:LIST_LIMIT],
        "sessions": [row.to_json() for row in sessions[:LIST_LIMIT]],
        "privilege_changes": [row.to_json() for row in privileges[:LIST_LIMIT]],
    }


def hosts_named(index: SegmentIndex) -> Sequence[str]:
    return sorted(index.hosts())


__all__ = [
    "BIND_SHELL_PORTS",
    "FIREWALL_PROGRAMS",
    "HostSummary",
    "Window",
    "default_window",
    "host_list",
    "host_page",
    "hosts_named",
    "network",
    "overview",
    "users",
    "volume",
]
