"""Events as the investigation pages list them.

A listing reads only the store's hot columns (docs/store.md, "Columns"): the JSON document
of an event is read when someone opens it, because reading `doc` for rows scattered over a
segment decompresses the whole column (measured: 1.2-1.8 s for the alerts of 4.4 M events,
against 20 ms for their hot columns).

Every event has a reference, `ref`: its time in microseconds since the epoch and 16 hex
digits of an MD5 over its identifying hot columns, `1746057600123456-9f2c...`. It is stable
(segments are immutable and compaction copies rows verbatim), computable in SQL for a page
of rows and in Python from a document, and it finds the event again with one row-group read:
the time narrows the search to the segment and row group that hold it.
"""

# ruff: noqa: S608 - SQL here is assembled from the constant column names below; values are
# always bound parameters.
from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import orjson

from doorhunt.ecs import flatten, get_field
from doorhunt.investigate.errors import InvestigationError
from doorhunt.investigate.sqltext import column_is
from doorhunt.store import StoreReader
from doorhunt.store.columns import (
    BY_FIELD,
    DOCUMENT_COLUMNS,
    extract_row,
    from_microseconds,
    microseconds,
    timestamp_text,
)

# The hot fields a listing shows, in the order the timeline offers them.
LISTING_FIELDS: Final = (
    "@timestamp",
    "host.name",
    "event.kind",
    "event.category",
    "event.action",
    "event.id",
    "event.dataset",
    "event.outcome",
    "process.entity_id",
    "process.pid",
    "process.name",
    "process.executable",
    "process.command_line",
    "process.parent.entity_id",
    "process.parent.pid",
    "user.name",
    "user.id",
    "source.ip",
    "source.port",
    "destination.ip",
    "destination.port",
    "file.path",
    "rule.id",
    "rule.name",
)
FIELD_COLUMNS: Final[Mapping[str, str]] = {
    field: ("timestamp" if field == "@timestamp" else BY_FIELD[field].name)
    for field in LISTING_FIELDS
}
# The columns whose values tell two events at the same microsecond apart.
_KEY_COLUMNS: Final = (
    "event_id",
    "host_name",
    "event_kind",
    "event_action",
    "process_entity_id",
    "process_pid",
    "process_command_line",
    "file_path",
    "rule_id",
    "user_name",
    "source_ip",
    "source_port",
    "destination_ip",
    "destination_port",
)
_SEPARATOR: Final = "\x1f"
KEY_SQL: Final = (
    "substr(md5(concat_ws(chr(31), "
    + ", ".join(f"coalesce(CAST(\"{column}\" AS VARCHAR), '')" for column in _KEY_COLUMNS)
    + ")), 1, 16)"
)
REF_SQL: Final = f"(CAST(epoch_us(\"timestamp\") AS VARCHAR) || '-' || {KEY_SQL})"
# Every listed field but the time, which `listing_select` puts second.
LISTING_SQL: Final = ", ".join(f'"{FIELD_COLUMNS[field]}"' for field in LISTING_FIELDS[1:])
_REF: Final = re.compile(r"(-?\d{1,19})-([0-9a-f]{16})")
_COLUMN_INDEX: Final = {column.name: index for index, column in enumerate(DOCUMENT_COLUMNS)}


def iso(moment: datetime | None) -> str | None:
    """ECS's form of a time: UTC, microseconds, `Z`. (Written out: strftime was a third of
    the time to answer a 5,000-process tree.)"""
    if moment is None:
        return None
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
        f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}Z"
    )


@dataclass(frozen=True, slots=True)
class EventRow:
    """One event of a listing: its reference, time and hot fields (ECS name -> value)."""

    ref: str
    timestamp: datetime
    fields: Mapping[str, object]

    @property
    def summary(self) -> str:
        return summary(self.fields)

    def to_json(self) -> dict[str, object]:
        fields = dict(self.fields)
        fields["@timestamp"] = iso(self.timestamp)
        return {"ref": self.ref, "fields": fields, "summary": self.summary}


@dataclass(frozen=True, slots=True)
class EventDetail:
    """One event whole: the stored document and every field of it by dotted name."""

    ref: str
    timestamp: datetime
    document: Mapping[str, object]

    @property
    def fields(self) -> dict[str, object]:
        try:
            return flatten(self.document)
        except (ValueError, TypeError):
            return {"doc": self.document}

    def to_json(self) -> dict[str, object]:
        return {
            "ref": self.ref,
            "@timestamp": iso(self.timestamp),
            "document": self.document,
            "fields": self.fields,
            "summary": summary({name: get_field(self.document, name) for name in LISTING_FIELDS}),
        }


def parse_ref(text: str, *, parameter: str = "ref") -> tuple[datetime, str]:
    """(time, key) of an event reference; InvestigationError if it is not one."""
    match = _REF.fullmatch(text)
    if match is None:
        raise InvestigationError(
            f"expected an event reference such as 1746057600123456-0123456789abcdef, got "
            f"{text[:80]!r}",
            location=parameter,
        )
    try:
        moment = from_microseconds(int(match.group(1)))
    except (OverflowError, ValueError, OSError):
        raise InvestigationError(
            "the reference's time is out of range", location=parameter
        ) from None
    return moment, match.group(2)


def event_ref(document: Mapping[str, object], timestamp_us: int | None = None) -> str | None:
    """The reference of a stored document, as REF_SQL computes it from its row; None when the
    document has no readable @timestamp (the store then used its write time, unknown here)."""
    if timestamp_us is None:
        text = timestamp_text(document.get("@timestamp"))
        if text is None:
            return None
        timestamp_us = microseconds(datetime.fromisoformat(text))
    row = extract_row(document)
    parts = []
    for column in _KEY_COLUMNS:
        value = row[_COLUMN_INDEX[column]]
        parts.append("" if value is None else str(value))
    digest = hashlib.md5(_SEPARATOR.join(parts).encode("utf-8"), usedforsecurity=False)
    return f"{timestamp_us}-{digest.hexdigest()[:16]}"


def rows_from(result: Sequence[tuple[object, ...]]) -> list[EventRow]:
    """EventRows from `SELECT {REF_SQL}, {LISTING_SQL} ...` rows."""
    rows = []
    for record in result:
        ref, moment, *values = record
        fields = {
            field: value
            for field, value in zip(LISTING_FIELDS[1:], values, strict=True)
            if value is not None
        }
        assert isinstance(moment, datetime)
        rows.append(EventRow(str(ref), moment, fields))
    return rows


def listing_select() -> str:
    """The select list that `rows_from` reads: reference, time, then LISTING_FIELDS."""
    return f'{REF_SQL} AS ref, "timestamp", {LISTING_SQL}'


def page_sql(
    where: str, column: str, order: str, limit: int, offset: int, *, selective: bool = False
) -> str:
    """A page of listing rows (`rows_from` reads them) matching `where`, sorted by `column`
    ("asc" or "desc"). Sorted by time and not `selective`, the cut-off time of the page is
    found first from the time column alone, and the other columns are read only for rows
    past it: over segments sorted by host, a time range is spread over every row group
    (docs/store.md), and this reads 36 ms instead of 85 ms for the newest 100 of a day's
    630,000 events. A `selective` condition (few matches) is better evaluated once."""
    direction = "ASC" if order == "asc" else "DESC"
    ties = f'"host_name" {direction}, "event_id" {direction}, "process_entity_id" {direction}'
    page = f"LIMIT {int(limit)} OFFSET {int(offset)}"
    if column == "timestamp" and not selective:
        edge, bound = ("max", "<=") if order == "asc" else ("min", ">=")
        cutoff = (
            f'SELECT {edge}("timestamp") FROM (SELECT "timestamp" FROM events WHERE {where} '
            f'ORDER BY "timestamp" {direction} LIMIT {int(limit) + int(offset)})'
        )
        return (
            f"SELECT {listing_select()} FROM (SELECT * FROM events WHERE {where} "
            f'AND "timestamp" {bound} ({cutoff}) ORDER BY "timestamp" {direction}, {ties} {page})'
        )
    return (
        f"SELECT {listing_select()} FROM (SELECT * FROM events WHERE {where} "
        f'ORDER BY "{column}" {direction} NULLS LAST, "timestamp" {direction}, {ties} {page})'
    )


def get_event(reader: StoreReader, ref: str) -> EventDetail | None:
    """The event `ref` names, or None when the store does not hold it (any more)."""
    moment, key = parse_ref(ref)
    rows = reader.sql(
        f'SELECT doc FROM events WHERE "timestamp" = ? AND {KEY_SQL} = ? LIMIT 1', [moment, key]
    )
    if not rows:
        return None
    return EventDetail(ref, moment, _document(rows[0][0]))


def fetch_documents(reader: StoreReader, rows: Sequence[EventRow]) -> dict[str, dict[str, object]]:
    """The documents of a page of rows, by reference (those the store still holds).

    Grouped by host: a host's rows sit in few row groups (docs/store.md), and reading `doc`
    costs a row group each (measured: 35 ms for 50 rows of one host, 270 ms without it)."""
    by_host: dict[str | None, list[datetime]] = {}
    for row in rows:
        host = row.fields.get("host.name")
        by_host.setdefault(host if isinstance(host, str) else None, []).append(row.timestamp)
    found: dict[str, dict[str, object]] = {}
    wanted = {row.ref for row in rows}
    for host, moments in by_host.items():
        result = reader.sql(
            f"SELECT {REF_SQL} AS ref, doc FROM events WHERE {column_is('host_name', host)} "
            'AND "timestamp" BETWEEN ? AND ? AND list_contains(?::TIMESTAMPTZ[], "timestamp")',
            [min(moments), max(moments), sorted(set(moments))],
        )
        found.update({str(ref): _document(doc) for ref, doc in result if ref in wanted})
    return found


def find_rows(reader: StoreReader, refs: Sequence[tuple[str, str | None]]) -> dict[str, EventRow]:
    """The listing rows of events given as (ref, host name or None), by reference."""
    by_host: dict[str | None, list[datetime]] = {}
    for ref, host in refs:
        by_host.setdefault(host, []).append(parse_ref(ref)[0])
    wanted = {ref for ref, _ in refs}
    found: dict[str, EventRow] = {}
    for host, moments in by_host.items():
        host_condition = column_is("host_name", host) if host is not None else "TRUE"
        rows = rows_from(
            reader.sql(
                f"SELECT {listing_select()} FROM events WHERE {host_condition} "
                'AND "timestamp" BETWEEN ? AND ? AND list_contains(?::TIMESTAMPTZ[], "timestamp")',
                [min(moments), max(moments), sorted(set(moments))],
            )
        )
        found.update({row.ref: row for row in rows if row.ref in wanted})
    return found


def _document(doc: object) -> dict[str, object]:
    loaded = orjson.loads(doc if isinstance(doc, str | bytes) else str(doc))
    return loaded if isinstance(loaded, dict) else {"doc": loaded}


def _text(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)


def summary(fields: Mapping[str, object]) -> str:
    """The one fact that says most about an event, by what kind of event it is."""
    for field in ("rule.name", "process.command_line", "file.path"):
        value = fields.get(field)
        if value:
            return _text(value)
    destination = fields.get("destination.ip")
    if destination:
        return f"-> {_text(destination)}:{_text(fields.get('destination.port'))}"
    source = fields.get("source.ip")
    if source:
        return f"<- {_text(source)}:{_text(fields.get('source.port'))}"
    return _text(fields.get("process.name"))


__all__ = [
    "FIELD_COLUMNS",
    "KEY_SQL",
    "LISTING_FIELDS",
    "LISTING_SQL",
    "REF_SQL",
    "EventDetail",
    "EventRow",
    "event_ref",
    "fetch_documents",
    "find_rows",
    "get_event",
    "iso",
    "listing_select",
    "page_sql",
    "parse_ref",
    "rows_from",
    "summary",
]
