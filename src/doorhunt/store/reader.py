"""Reading the store with DuckDB while writers and compaction change it underneath.

Each query lists the segments afresh (so documents published a moment ago are seen), reads
only the segments whose names overlap the time window, and copes with the two things that
can happen meanwhile: a segment deleted by compaction or pruning (list again and retry) and a
segment that turns out to be damaged (set it aside with a warning and retry without it).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, Final

import duckdb
import orjson

from doorhunt.store.columns import BY_FIELD, COLUMNS, DUCKDB_TYPES, Column, microseconds
from doorhunt.store.errors import StoreQueryError
from doorhunt.store.locks import lock_holder
from doorhunt.store.segments import (
    CORRUPT_DIRECTORY,
    SEGMENTS_DIRECTORY,
    Segment,
    SegmentCatalog,
    SegmentSet,
    SkippedSegment,
)

if TYPE_CHECKING:
    from doorhunt.store.store import Store

log = logging.getLogger("doorhunt.store")

# A field name as ECS spells it (letters, digits, `_`, `@`, `-`, dots between segments).
_FIELD: Final = re.compile(r"@?[A-Za-z0-9_][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_@][A-Za-z0-9_\-]*)*")
# Errors in the query itself, never in the data: no segment is to blame.
_QUERY_ERRORS: Final = (
    duckdb.ParserException,
    duckdb.BinderException,
    duckdb.CatalogException,
    duckdb.SyntaxException,
    duckdb.PermissionException,
    duckdb.NotImplementedException,
)
_MAX_ATTEMPTS: Final = 8


@dataclass(frozen=True, slots=True)
class DaySummary:
    day: str
    segments: int
    events: int
    bytes: int


@dataclass(frozen=True, slots=True)
class StoreInfo:
    """What the store holds, from segment names and footers (no data is read)."""

    directory: Path
    segments: int
    events: int
    bytes: int
    first: datetime | None
    last: datetime | None
    days: tuple[DaySummary, ...]
    skipped: tuple[SkippedSegment, ...]
    superseded: int  # segments replaced by compaction, not yet deleted
    corrupt: int  # segments compaction moved to corrupt/
    writer_pid: int | None

    def to_json(self) -> dict[str, object]:
        return {
            "directory": str(self.directory),
            "segments": self.segments,
            "events": self.events,
            "bytes": self.bytes,
            "first": _iso(self.first),
            "last": _iso(self.last),
            "days": [
                {"day": d.day, "segments": d.segments, "events": d.events, "bytes": d.bytes}
                for d in self.days
            ],
            "skipped": [{"path": str(s.path), "reason": s.reason} for s in self.skipped],
            "superseded": self.superseded,
            "corrupt": self.corrupt,
            "writer_pid": self.writer_pid,
        }


@dataclass(frozen=True, slots=True)
class Filter:
    """A WHERE clause over the segment columns and its parameters."""

    sql: str
    parameters: tuple[object, ...]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class StoreReader:
    """Queries over the store; any number may run in any processes, beside one writer.

    Thread-safe: each call uses its own DuckDB cursor.
    """

    def __init__(self, store: Store, *, threads: int = 2) -> None:
        self.store = store
        self._catalog = SegmentCatalog(store.directory)
        self._database = duckdb.connect(":memory:", config={"threads": threads})
        # A reader runs SQL that callers write (hunts, the UI): it may read the store and
        # nothing else on this machine, and cannot undo that.
        allowed = str((store.directory / SEGMENTS_DIRECTORY).resolve()) + "/"
        self._database.execute("SET GLOBAL TimeZone = 'UTC'")
        self._database.execute("SET allowed_directories = [?]", [allowed])
        self._database.execute("SET enable_external_access = false")
        self._database.execute("SET autoinstall_known_extensions = false")
        self._database.execute("SET autoload_known_extensions = false")
        self._database.execute("SET lock_configuration = true")
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._database.close()

    def __enter__(self) -> StoreReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- what is there ---------------------------------------------------------------------

    def segments(self) -> SegmentSet:
        """The segments a query would read now."""
        return self._catalog.snapshot()

    def info(self) -> StoreInfo:
        snapshot = self._catalog.snapshot()
        visible = snapshot.visible
        days = []
        for day, group in groupby(visible, key=lambda segment: segment.day):
            members = list(group)
            days.append(
                DaySummary(
                    day,
                    len(members),
                    sum(s.rows for s in members),
                    sum(s.size for s in members),
                )
            )
        corrupt_directory = self.store.directory / CORRUPT_DIRECTORY
        corrupt = len(list(corrupt_directory.iterdir())) if corrupt_directory.is_dir() else 0
        return StoreInfo(
            directory=self.store.directory,
            segments=len(visible),
            events=sum(segment.rows for segment in visible),
            bytes=sum(segment.size for segment in visible),
            first=min((s.first_time for s in visible), default=None),
            last=max((s.last_time for s in visible), default=None),
            days=tuple(days),
            skipped=snapshot.skipped,
            superseded=len(snapshot.superseded),
            corrupt=corrupt,
            writer_pid=lock_holder(self.store.directory / "writer.lock"),
        )

    # -- the triage query --------------------------------------------------------------------

    def events(
        self,
        *,
        host: str | None = None,
        category: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        where: Sequence[tuple[str, str]] = (),
        limit: int = 100,
        newest_first: bool = True,
    ) -> list[dict[str, object]]:
        """Documents matching every filter, sorted by @timestamp (newest first by default).

        `since` is inclusive and `until` exclusive. `where` pairs are (ECS field, value):
        exact, case-sensitive matches; `*` in the value matches any run of characters; a
        field holding an array matches when any element does (Elasticsearch's semantics).
        """
        if limit <= 0:
            return []
        condition = build_filter(
            host=host, category=category, action=action, since=since, until=until, where=where
        )
        since_us = None if since is None else microseconds(since)
        until_us = None if until is None else microseconds(until)
        days = sorted(
            {segment.day for segment in self._catalog.snapshot().between(since_us, until_us)},
            reverse=newest_first,
        )
        direction = "DESC" if newest_first else "ASC"
        found: list[str] = []
        for day in days:
            remaining = limit - len(found)

            def pick(snapshot: SegmentSet, day: str = day) -> list[Segment]:
                return [s for s in snapshot.between(since_us, until_us) if s.day == day]

            def sql(paths: list[str], remaining: int = remaining) -> tuple[str, list[object]]:
                return (
                    f"SELECT doc FROM read_parquet(?, union_by_name = true) WHERE {condition.sql}"  # noqa: S608
                    f' ORDER BY "timestamp" {direction} LIMIT {int(remaining)}',
                    [paths, *condition.parameters],
                )

            rows = self._run(pick, sql)
            found.extend(str(row[0]) for row in rows)
            if len(found) >= limit:
                break
        return [_load(doc) for doc in found[:limit]]

    def count(
        self,
        *,
        host: str | None = None,
        category: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        where: Sequence[tuple[str, str]] = (),
    ) -> int:
        """How many documents match the filters of `events`."""
        condition = build_filter(
            host=host, category=category, action=action, since=since, until=until, where=where
        )
        since_us = None if since is None else microseconds(since)
        until_us = None if until is None else microseconds(until)

        def pick(snapshot: SegmentSet) -> list[Segment]:
            return snapshot.between(since_us, until_us)

        def sql(paths: list[str]) -> tuple[str, list[object]]:
            return (
                f"SELECT count(*) FROM read_parquet(?, union_by_name = true) WHERE {condition.sql}",  # noqa: S608
                [paths, *condition.parameters],
            )

        rows = self._run(pick, sql)
        return int(rows[0][0]) if rows else 0  # type: ignore[call-overload]

    # -- SQL ----------------------------------------------------------------------------------

    def sql(self, query: str, parameters: Sequence[object] = ()) -> list[tuple[object, ...]]:
        """Run one SELECT over the view `events` (columns: docs/store.md, "Columns")."""
        return self.sql_with_columns(query, parameters)[1]

    def sql_with_columns(
        self, query: str, parameters: Sequence[object] = ()
    ) -> tuple[list[str], list[tuple[object, ...]]]:
        """Like `sql`, with the names of the result's columns."""
        self._check_select(query)
        names: list[str] = []

        def pick(snapshot: SegmentSet) -> list[Segment]:
            return list(snapshot.visible)

        def run(cursor: duckdb.DuckDBPyConnection, paths: list[str]) -> list[tuple[object, ...]]:
            cursor.execute(_view_sql(paths))
            cursor.execute(query, list(parameters))
            names[:] = [column[0] for column in cursor.description or ()]
            return cursor.fetchall()

        rows = self._run_with(pick, run, allow_empty=True)
        return names, rows

    def _check_select(self, query: str) -> None:
        try:
            statements = self._database.extract_statements(query)
        except duckdb.Error as error:
            raise StoreQueryError(_first_line(error), location="sql") from None
        if len(statements) != 1:
            raise StoreQueryError(f"expected one statement, got {len(statements)}", location="sql")
        if statements[0].type != duckdb.StatementType.SELECT:
            raise StoreQueryError(
                f"only SELECT queries are allowed, got {statements[0].type.name}", location="sql"
            )

    # -- running, with retries -----------------------------------------------------------------

    def _run(
        self,
        pick: Callable[[SegmentSet], list[Segment]],
        sql: Callable[[list[str]], tuple[str, list[object]]],
    ) -> list[tuple[object, ...]]:
        def run(cursor: duckdb.DuckDBPyConnection, paths: list[str]) -> list[tuple[object, ...]]:
            text, parameters = sql(paths)
            return cursor.execute(text, parameters).fetchall()

        return self._run_with(pick, run, allow_empty=False)

    def _run_with(
        self,
        pick: Callable[[SegmentSet], list[Segment]],
        run: Callable[[duckdb.DuckDBPyConnection, list[str]], list[tuple[object, ...]]],
        *,
        allow_empty: bool,
    ) -> list[tuple[object, ...]]:
        for _ in range(_MAX_ATTEMPTS):
            segments = pick(self._catalog.snapshot())
            if not segments and not allow_empty:
                return []
            paths = [str(segment.path) for segment in segments]
            with self._lock:
                cursor = self._database.cursor()
            try:
                return run(cursor, paths)
            except _QUERY_ERRORS as error:
                raise StoreQueryError(_first_line(error), location="sql") from None
            except duckdb.Error as error:
                if any(not segment.path.exists() for segment in segments):
                    continue  # compacted or pruned meanwhile: list again
                if not self._set_aside_damaged(segments):
                    raise StoreQueryError(_first_line(error), location="sql") from None
            finally:
                cursor.close()
        raise StoreQueryError(
            f"the store kept changing during {_MAX_ATTEMPTS} attempts; try again",
            location=str(self.store.directory),
        )

    def _set_aside_damaged(self, segments: list[Segment]) -> bool:
        """Read every column of each segment; quarantine the ones that fail. True if any did."""
        found = False
        probe = ", ".join(f'sum(hash("{column.name}"))' for column in COLUMNS)
        for segment in segments:
            with self._lock:
                cursor = self._database.cursor()
            try:
                cursor.execute(f"SELECT {probe} FROM read_parquet(?)", [str(segment.path)])  # noqa: S608
                cursor.fetchall()
            except duckdb.IOException:
                if segment.path.exists():
                    self._catalog.quarantine(segment.path, "unreadable")
                    found = True
            except duckdb.Error as error:
                self._catalog.quarantine(segment.path, f"damaged data: {_first_line(error)}")
                found = True
            finally:
                cursor.close()
        return found


def _view_sql(paths: list[str]) -> str:
    if not paths:
        columns = ", ".join(
            f'NULL::{DUCKDB_TYPES[column.type]} AS "{column.name}"' for column in COLUMNS
        )
        return f"CREATE OR REPLACE TEMP VIEW events AS SELECT {columns} LIMIT 0"
    listing = ", ".join("'" + path.replace("'", "''") + "'" for path in paths)
    return (
        "CREATE OR REPLACE TEMP VIEW events AS "  # noqa: S608
        f"SELECT * FROM read_parquet([{listing}], union_by_name = true)"
    )


def build_filter(
    *,
    host: str | None = None,
    category: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    where: Sequence[tuple[str, str]] = (),
) -> Filter:
    """The SQL condition for the filters of `StoreReader.events`."""
    parts: list[str] = []
    parameters: list[object] = []
    pairs = list(where)
    if host is not None:
        pairs.insert(0, ("host.name", host))
    if category is not None:
        pairs.insert(0, ("event.category", category))
    if action is not None:
        pairs.insert(0, ("event.action", action))
    for moment, operator in ((since, ">="), (until, "<")):
        if moment is not None:
            if moment.tzinfo is None:
                raise StoreQueryError(
                    "times must carry a time zone",
                    location="since" if operator == ">=" else "until",
                )
            parts.append(f'"timestamp" {operator} ?')
            parameters.append(moment)
    for field, value in pairs:
        sql, values = _field_condition(field, value)
        parts.append(sql)
        parameters.extend(values)
    return Filter(" AND ".join(parts) or "true", tuple(parameters))


def _field_condition(field: str, value: str) -> tuple[str, list[object]]:
    if not _FIELD.fullmatch(field):
        raise StoreQueryError(f"not a field name: {field!r}", location="query")
    pattern = _like_pattern(value) if "*" in value else None
    column = BY_FIELD.get(field)
    if column is not None:
        return _column_condition(column, field, value, pattern)
    path = "$" + "".join(f'."{segment}"' for segment in field.split("."))
    scalar = f"json_extract_string(doc, '{path}')"
    elements = f"json_extract_string(doc, '{path}[*]')"
    if pattern is None:
        return f"({scalar} = ? OR list_contains({elements}, ?))", [value, value]
    return (
        f"({scalar} LIKE ? ESCAPE '\\' OR "
        f"len(list_filter({elements}, lambda v: v LIKE ? ESCAPE '\\')) > 0)",
        [pattern, pattern],
    )


def _column_condition(
    column: Column, field: str, value: str, pattern: str | None
) -> tuple[str, list[object]]:
    name = f'"{column.name}"'
    if column.type == "long":
        try:
            number = int(value)
        except ValueError:
            raise StoreQueryError(
                f"{field} holds integers, got {value!r}", location="query"
            ) from None
        return f"{name} = ?", [number]
    if column.type == "strings":
        if pattern is None:
            return f"list_contains({name}, ?)", [value]
        return f"len(list_filter({name}, lambda v: v LIKE ? ESCAPE '\\')) > 0", [pattern]
    if pattern is None:
        return f"{name} = ?", [value]
    return f"{name} LIKE ? ESCAPE '\\'", [pattern]


def _like_pattern(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def _load(doc: str) -> dict[str, object]:
    loaded = orjson.loads(doc)
    return loaded if isinstance(loaded, dict) else {"doc": loaded}


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


__all__ = ["DaySummary", "Filter", "StoreInfo", "StoreReader", "build_filter"]
