"""Segment files on disk: their names, the atomic way they appear, and which ones a query reads.

A segment is an immutable Parquet file under `segments/YYYY-MM-DD/` (the UTC day of all its
events), named `KIND_FIRST_LAST_ROWS_UNIQUE.parquet`: KIND `w` (written by a writer) or `c`
(the result of compaction), FIRST and LAST the microsecond timestamps of its oldest and newest
event, ROWS its number of events. A query picks segments by name alone, with no I/O.

A file appears under its final name only by `rename(2)` of a complete, fsynced temporary file
(`.tmp-PID-NAME`), so a reader sees a segment whole or not at all. A compacted segment lists the
segments it replaces in its Parquet footer (`doorhunt.replaces`): from the moment it appears,
readers ignore those, even if the process that compacted died before deleting them.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final, Literal

import pyarrow.parquet as pq

from doorhunt.store.columns import from_microseconds

log = logging.getLogger("doorhunt.store")

SEGMENTS_DIRECTORY: Final = "segments"
CORRUPT_DIRECTORY: Final = "corrupt"
REPLACES_KEY: Final = b"doorhunt.replaces"
FORMAT_KEY: Final = b"doorhunt.format"
FORMAT_VERSION: Final = b"1"

_NAME: Final = re.compile(r"([wc])_(\d{1,19})_(\d{1,19})_(\d{1,19})_([0-9a-f]{1,40})\.parquet")
_DAY: Final = re.compile(r"\d{4}-\d\d-\d\d")
_TEMPORARY: Final = re.compile(r"\.tmp-(\d+)-.*")
_MAGIC: Final = b"PAR1"

Kind = Literal["w", "c"]


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment file, described by its name (and its size and mtime, for caches)."""

    path: Path
    kind: Kind
    first: int  # microseconds since the epoch
    last: int
    rows: int
    size: int
    mtime_ns: int

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def day(self) -> str:
        return self.path.parent.name

    @property
    def first_time(self) -> datetime:
        return from_microseconds(self.first)

    @property
    def last_time(self) -> datetime:
        return from_microseconds(self.last)


@dataclass(frozen=True, slots=True)
class SkippedSegment:
    """A segment a query does not read, and why (truncated, not Parquet, unreadable)."""

    path: Path
    reason: str


@dataclass(frozen=True, slots=True)
class SegmentSet:
    """What a query reads at one moment: visible segments, newest day last."""

    visible: tuple[Segment, ...]
    superseded: tuple[Segment, ...]  # replaced by a compacted segment, awaiting deletion
    skipped: tuple[SkippedSegment, ...]

    def between(self, since: int | None, until: int | None) -> list[Segment]:
        """Visible segments that may hold events in [since, until) (microseconds)."""
        return [
            segment
            for segment in self.visible
            if (since is None or segment.last >= since) and (until is None or segment.first < until)
        ]


def segment_name(kind: Kind, first: int, last: int, rows: int) -> str:
    unique = f"{os.getpid():x}{os.urandom(6).hex()}"
    return f"{kind}_{first}_{last}_{rows}_{unique}.parquet"


def parse_name(path: Path, size: int = 0, mtime_ns: int = 0) -> Segment | None:
    match = _NAME.fullmatch(path.name)
    if match is None:
        return None
    kind, first, last, rows, _ = match.groups()
    return Segment(path, kind, int(first), int(last), int(rows), size, mtime_ns)  # type: ignore[arg-type]


def temporary_path(final: Path) -> Path:
    return final.with_name(f".tmp-{os.getpid()}-{final.name}")


def publish(temporary: Path, final: Path) -> None:
    """Make a complete temporary file appear under its final name, durably."""
    descriptor = os.open(temporary, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.rename(temporary, final)
    sync_directory(final.parent)


def sync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems cannot sync a directory; the rename is still atomic
    finally:
        os.close(descriptor)


def iter_segment_files(root: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """Every file under segments/DAY/ whose name is a segment name, with its stat."""
    base = root / SEGMENTS_DIRECTORY
    try:
        days = sorted(entry.name for entry in os.scandir(base) if _DAY.fullmatch(entry.name))
    except FileNotFoundError:
        return
    for day in days:
        try:
            entries = list(os.scandir(base / day))
        except (FileNotFoundError, NotADirectoryError):
            continue  # pruned meanwhile
        for entry in entries:
            if _NAME.fullmatch(entry.name):
                try:
                    yield Path(entry.path), entry.stat()
                except FileNotFoundError:
                    continue  # deleted by compaction meanwhile


def stale_temporaries(root: Path) -> list[Path]:
    """Temporary files left by writers or compactions that died (their pid is gone)."""
    base = root / SEGMENTS_DIRECTORY
    found = []
    for directory, _, files in os.walk(base):
        for name in files:
            match = _TEMPORARY.fullmatch(name)
            if match and not _alive(int(match.group(1))):
                found.append(Path(directory) / name)
    return found


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OverflowError, ValueError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class _Footer:
    rows: int
    replaces: tuple[str, ...]


class SegmentCatalog:
    """Lists segments and checks their footers, caching what it learnt per file version.

    A reader or writer keeps one for its life, so each file's footer is read once however
    many queries run. Thread-safe.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._footers: dict[tuple[str, int, int], _Footer | str] = {}
        self._quarantined: dict[str, str] = {}
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def quarantine(self, path: Path, reason: str) -> None:
        """Stop reading `path` in this process (a query failed on it)."""
        with self._lock:
            self._quarantined[str(path)] = reason
        self._warn(path, reason)

    def snapshot(self) -> SegmentSet:
        segments = []
        skipped = []
        replaced: set[str] = set()
        for path, status in iter_segment_files(self.root):
            segment = parse_name(path, status.st_size, status.st_mtime_ns)
            if segment is None:
                continue
            footer = self._footer(segment)
            if isinstance(footer, str):
                skipped.append(SkippedSegment(path, footer))
                continue
            replaced.update(f"{segment.day}/{name}" for name in footer.replaces)
            segments.append(segment)
        visible = []
        superseded = []
        for segment in segments:
            if f"{segment.day}/{segment.name}" in replaced:
                superseded.append(segment)
            else:
                visible.append(segment)
        visible.sort(key=lambda segment: (segment.day, segment.first, segment.name))
        return SegmentSet(tuple(visible), tuple(superseded), tuple(skipped))

    def _footer(self, segment: Segment) -> _Footer | str:
        key = (str(segment.path), segment.size, segment.mtime_ns)
        with self._lock:
            quarantined = self._quarantined.get(str(segment.path))
            cached = self._footers.get(key)
        if quarantined is not None:
            return quarantined
        if cached is None:
            cached = read_footer(segment)
            with self._lock:
                self._footers[key] = cached
        if isinstance(cached, str):
            self._warn(segment.path, cached)
        return cached

    def _warn(self, path: Path, reason: str) -> None:
        with self._lock:
            if str(path) in self._warned:
                return
            self._warned.add(str(path))
        log.warning("skipping corrupt segment %s: %s", path, reason)


def read_footer(segment: Segment) -> _Footer | str:
    """The footer facts of a segment, or why it cannot be read (a short reason)."""
    if segment.first > segment.last:
        return "its name says it ends before it starts"
    try:
        with segment.path.open("rb") as handle:
            head = handle.read(4)
            if segment.size < 12 or head != _MAGIC:
                return f"not a Parquet file (expected PAR1 at byte 0, got {head!r})"
            handle.seek(-8, os.SEEK_END)
            tail = handle.read(8)
    except OSError as error:
        return f"cannot be read: {error.strerror or error}"
    if tail[4:] != _MAGIC:
        return f"truncated (no PAR1 at the end, got {tail[4:]!r})"
    footer_length = int.from_bytes(tail[:4], "little")
    if footer_length + 12 > segment.size:
        return f"footer length {footer_length} is larger than the file ({segment.size} bytes)"
    try:
        metadata = pq.read_metadata(segment.path)
    except Exception as error:  # pyarrow raises many types for a damaged footer
        return f"damaged footer: {type(error).__name__}: {error}"
    if metadata.num_rows != segment.rows:
        return f"holds {metadata.num_rows} rows, its name says {segment.rows}"
    replaces: tuple[str, ...] = ()
    raw = (metadata.metadata or {}).get(REPLACES_KEY)
    if raw is not None:
        try:
            names = json.loads(raw)
        except ValueError:
            return "damaged footer: doorhunt.replaces is not JSON"
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            return "damaged footer: doorhunt.replaces is not a list of names"
        replaces = tuple(names)
    return _Footer(metadata.num_rows, replaces)


def total_bytes(segments: Iterable[Segment]) -> int:
    return sum(segment.size for segment in segments)


__all__ = [
    "CORRUPT_DIRECTORY",
    "FORMAT_KEY",
    "FORMAT_VERSION",
    "REPLACES_KEY",
    "SEGMENTS_DIRECTORY",
    "Segment",
    "SegmentCatalog",
    "SegmentSet",
    "SkippedSegment",
    "iter_segment_files",
    "parse_name",
    "publish",
    "read_footer",
    "segment_name",
    "stale_temporaries",
    "sync_directory",
    "temporary_path",
    "total_bytes",
]
