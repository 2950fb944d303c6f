"""Compaction and retention: merging small segments, deleting old ones.

Both run under the store's maintenance lock, in the writer's background thread or from
`doorhunt store compact|prune`, while readers and the writer go on. Compaction never changes
what a query returns: a merged segment names the segments it replaces in its footer, and
appears (by rename) before they are deleted (docs/store.md, "Compaction").
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import duckdb

from doorhunt.store.columns import COLUMN_NAMES, microseconds
from doorhunt.store.errors import StoreBusyError
from doorhunt.store.locks import FileLock
from doorhunt.store.segments import (
    CORRUPT_DIRECTORY,
    FORMAT_KEY,
    FORMAT_VERSION,
    REPLACES_KEY,
    SEGMENTS_DIRECTORY,
    Segment,
    SegmentCatalog,
    publish,
    segment_name,
    stale_temporaries,
    sync_directory,
    temporary_path,
)

log = logging.getLogger("doorhunt.store")

# Size-tiered compaction (as in Cassandra's STCS): segments of similar size merge when a tier
# holds FAN_IN of them, so each event is rewritten about log_FAN_IN(rows) times, not once per
# merge. Tier k holds segments of [TIER_BASE * FAN_IN**k, TIER_BASE * FAN_IN**(k+1)) rows.
FAN_IN: Final = 8
TIER_BASE: Final = 4096
# Segments this large are left alone by automatic compaction (`compact(full=True)` merges all).
MAX_AUTO_ROWS: Final = 4_000_000
ROW_GROUP_ROWS: Final = 65_536


@dataclass(frozen=True, slots=True)
class CompactionResult:
    merged: int  # segments merged away
    written: int  # segments written
    events: int  # events rewritten
    bytes_before: int
    bytes_after: int
    quarantined: int  # damaged segments moved to corrupt/
    removed_superseded: int

    def to_json(self) -> dict[str, object]:
        return {
            "merged": self.merged,
            "written": self.written,
            "events": self.events,
            "bytes_before": self.bytes_before,
            "bytes_after": self.bytes_after,
            "quarantined": self.quarantined,
            "removed_superseded": self.removed_superseded,
        }


@dataclass(frozen=True, slots=True)
class PruneResult:
    removed: int  # segments deleted
    events: int
    bytes: int
    removed_superseded: int

    def to_json(self) -> dict[str, object]:
        return {
            "removed": self.removed,
            "events": self.events,
            "bytes": self.bytes,
            "removed_superseded": self.removed_superseded,
        }


def _maintenance_lock(root: Path, wait: float) -> FileLock:
    lock = FileLock(root / "maintenance.lock")
    if not lock.acquire(timeout=wait):
        raise StoreBusyError(
            f"compaction or pruning is running in another process (waited {wait:g} s)",
            location=str(root),
        )
    return lock


def compact(
    root: Path, *, full: bool = False, wait: float = 60.0, min_age: float = 0.0
) -> CompactionResult:
    """Merge segments of each day into larger ones sorted by host, then time.

    Automatic (the default): size tiers, as above; writer segments younger than `min_age`
    seconds wait for the next round. `full`: each day becomes one segment. Damaged segments
    are moved to corrupt/ (kept as evidence, no longer read).
    """
    if not (root / SEGMENTS_DIRECTORY).is_dir():
        return CompactionResult(0, 0, 0, 0, 0, 0, 0)
    lock = _maintenance_lock(root, wait)
    try:
        catalog = SegmentCatalog(root)
        snapshot = catalog.snapshot()
        quarantined = _move_corrupt(root, [skipped.path for skipped in snapshot.skipped])
        removed = _remove(snapshot.superseded)
        for leftover in stale_temporaries(root):
            leftover.unlink(missing_ok=True)
        by_day: dict[str, list[Segment]] = defaultdict(list)
        for segment in snapshot.visible:
            by_day[segment.day].append(segment)
        now_us = microseconds(datetime.now(UTC))
        merged = written = events = before = after = 0
        for day in sorted(by_day):
            for group in _plan(by_day[day], full=full, now_us=now_us, min_age=min_age):
                try:
                    output = _merge(root, day, group)
                except duckdb.Error as error:
                    # A segment with a sound footer but damaged pages: find it, set it aside,
                    # and merge the rest in the next round.
                    damaged = [segment.path for segment in group if not _readable(segment)]
                    if not damaged:
                        raise
                    log.warning("compaction of %s stopped: %s", day, error)
                    quarantined += _move_corrupt(root, damaged)
                    continue
                merged += len(group)
                written += 1
                events += sum(segment.rows for segment in group)
                before += sum(segment.size for segment in group)
                after += output.stat().st_size
                _remove(group)
        return CompactionResult(merged, written, events, before, after, quarantined, removed)
    finally:
        lock.release()


def _plan(
    segments: list[Segment], *, full: bool, now_us: int, min_age: float
) -> list[list[Segment]]:
    if full:
        if len(segments) > 1 or (segments and segments[0].kind == "w"):
            return [segments]
        return []
    groups: list[list[Segment]] = []
    ready = [
        s for s in segments if s.kind == "w" and (now_us - _mtime_us(s)) >= min_age * 1_000_000
    ]
    # Writer segments (one a second from a busy sensor) are merged as soon as there are two.
    if len(ready) >= 2:
        groups.append(ready)
    tiers: dict[int, list[Segment]] = defaultdict(list)
    for segment in segments:
        if segment.kind == "c" and segment.rows < MAX_AUTO_ROWS:
            tiers[_tier(segment.rows)].append(segment)
    for members in tiers.values():
        if len(members) >= FAN_IN:
            groups.append(members)
    return groups


def _tier(rows: int) -> int:
    tier = 0
    limit = TIER_BASE * FAN_IN
    while rows >= limit:
        tier += 1
        limit *= FAN_IN
    return tier


def _mtime_us(segment: Segment) -> int:
    return segment.mtime_ns // 1000


def _merge(root: Path, day: str, group: Sequence[Segment]) -> Path:
    first = min(segment.first for segment in group)
    last = max(segment.last for segment in group)
    rows = sum(segment.rows for segment in group)
    directory = root / SEGMENTS_DIRECTORY / day
    final = directory / segment_name("c", first, last, rows)
    temporary = temporary_path(final)
    replaces = json.dumps(sorted(segment.name for segment in group))
    metadata = {REPLACES_KEY.decode(): replaces, FORMAT_KEY.decode(): FORMAT_VERSION.decode()}
    options = ", ".join(f"{_quote(key)}: {_quote(value)}" for key, value in metadata.items())
    database = duckdb.connect(":memory:", config={"threads": 2})
    try:
        database.execute("SET TimeZone = 'UTC'")
        # Host first: a host's rows of the day are together, so the row-group statistics skip
        # all other hosts (the triage query names one). Hour first was measured too, at 10 M
        # events: all-hosts hour windows 0.8 -> 0.15 s p95, but one host over a day or a week
        # 0.06 -> 1.2-1.4 s p95 (bench/bench_store.py).
        database.execute(
            f"COPY (SELECT * FROM read_parquet(?, union_by_name = true) "  # noqa: S608
            f'ORDER BY host_name NULLS LAST, "timestamp") '
            f"TO {_quote(str(temporary))} "
            f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS}, "
            f"KV_METADATA {{{options}}})",
            [[str(segment.path) for segment in group]],
        )
        publish(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    finally:
        database.close()
    return final


def _readable(segment: Segment) -> bool:
    probe = ", ".join(f'sum(hash("{name}"))' for name in COLUMN_NAMES)
    database = duckdb.connect(":memory:", config={"threads": 1})
    try:
        database.execute(f"SELECT {probe} FROM read_parquet(?)", [str(segment.path)]).fetchall()  # noqa: S608
    except duckdb.Error:
        return False
    finally:
        database.close()
    return True


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _remove(segments: Sequence[Segment]) -> int:
    directories = set()
    for segment in segments:
        segment.path.unlink(missing_ok=True)
        directories.add(segment.path.parent)
    for directory in directories:
        sync_directory(directory)
    return len(segments)


def _move_corrupt(root: Path, paths: Sequence[Path]) -> int:
    if not paths:
        return 0
    target = root / CORRUPT_DIRECTORY
    target.mkdir(exist_ok=True, mode=0o700)
    moved = 0
    for path in paths:
        destination = target / f"{path.parent.name}-{path.name}"
        try:
            shutil.move(path, destination)
        except FileNotFoundError:
            continue
        log.warning("moved corrupt segment %s to %s", path, destination)
        moved += 1
    return moved


def prune(
    root: Path,
    *,
    max_bytes: int | None = None,
    max_age: timedelta | None = None,
    wait: float = 60.0,
    now: datetime | None = None,
) -> PruneResult:
    """Delete whole segments: those whose newest event is older than `max_age`, then the
    oldest ones until the store is at most `max_bytes` (segment files only)."""
    if not (root / SEGMENTS_DIRECTORY).is_dir():
        return PruneResult(0, 0, 0, 0)
    lock = _maintenance_lock(root, wait)
    try:
        snapshot = SegmentCatalog(root).snapshot()
        removed_superseded = _remove(snapshot.superseded)
        remaining = sorted(snapshot.visible, key=lambda segment: (segment.last, segment.name))
        doomed: list[Segment] = []
        if max_age is not None:
            cutoff = microseconds((now or datetime.now(UTC)) - max_age)
            doomed = [segment for segment in remaining if segment.last < cutoff]
            remaining = [segment for segment in remaining if segment.last >= cutoff]
        if max_bytes is not None:
            total = sum(segment.size for segment in remaining)
            while remaining and total > max_bytes:
                oldest = remaining.pop(0)
                total -= oldest.size
                doomed.append(oldest)
        _remove(doomed)
        _remove_empty_days(root)
        return PruneResult(
            len(doomed),
            sum(segment.rows for segment in doomed),
            sum(segment.size for segment in doomed),
            removed_superseded,
        )
    finally:
        lock.release()


def _remove_empty_days(root: Path) -> None:
    base = root / SEGMENTS_DIRECTORY
    for entry in os.scandir(base):
        if entry.is_dir():
            try:
                os.rmdir(entry.path)  # only succeeds when empty
            except OSError:
                continue


__all__ = ["CompactionResult", "PruneResult", "compact", "prune"]
