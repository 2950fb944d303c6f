"""The columns of a segment: hot ECS fields as typed columns, plus the whole document as JSON.

Queries filter and sort on the hot columns, which Parquet stores with min/max statistics per
row group, so a query for one host in one hour reads a few row groups; every other field is
read from `doc` only for the rows a query returns. The list here is the contract of the SQL
view `events` (docs/store.md, "Columns").
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

import orjson

ColumnType = Literal["timestamp", "string", "long", "strings"]


@dataclass(frozen=True, slots=True)
class Column:
    """One hot column: its SQL name, the ECS field it holds, and its type."""

    name: str
    field: str
    type: ColumnType

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.field.split("."))


# `timestamp` and `ingested` are set by the writer; the others are copied from the document
# when the document holds a value of the column's type there (anything else stays in `doc`).
COLUMNS: Final[tuple[Column, ...]] = (
    Column("timestamp", "@timestamp", "timestamp"),
    Column("ingested", "", "timestamp"),
    Column("host_name", "host.name", "string"),
    Column("host_id", "host.id", "string"),
    Column("event_kind", "event.kind", "string"),
    Column("event_category", "event.category", "strings"),
    Column("event_type", "event.type", "strings"),
    Column("event_action", "event.action", "string"),
    Column("event_dataset", "event.dataset", "string"),
    Column("event_outcome", "event.outcome", "string"),
    Column("event_id", "event.id", "string"),
    Column("process_entity_id", "process.entity_id", "string"),
    Column("process_pid", "process.pid", "long"),
    Column("process_name", "process.name", "string"),
    Column("process_executable", "process.executable", "string"),
    Column("process_command_line", "process.command_line", "string"),
    Column("process_parent_entity_id", "process.parent.entity_id", "string"),
    Column("process_parent_pid", "process.parent.pid", "long"),
    Column("user_name", "user.name", "string"),
    Column("user_id", "user.id", "string"),
    Column("source_ip", "source.ip", "string"),
    Column("source_port", "source.port", "long"),
    Column("destination_ip", "destination.ip", "string"),
    Column("destination_port", "destination.port", "long"),
    Column("file_path", "file.path", "string"),
    Column("rule_id", "rule.id", "string"),
    Column("rule_name", "rule.name", "string"),
    Column("doc", "", "string"),
)

COLUMN_NAMES: Final = tuple(column.name for column in COLUMNS)
# Columns copied from the document (not timestamp, ingested, doc).
DOCUMENT_COLUMNS: Final = tuple(
    column for column in COLUMNS if column.field and column.name != "timestamp"
)
BY_FIELD: Final[Mapping[str, Column]] = {column.field: column for column in COLUMNS if column.field}

DUCKDB_TYPES: Final[Mapping[ColumnType, str]] = {
    "timestamp": "TIMESTAMPTZ",
    "string": "VARCHAR",
    "long": "BIGINT",
    "strings": "VARCHAR[]",
}

_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

# The form ecs.format_timestamp writes (and Elastic Defend): parsed by Arrow without Python.
_CANONICAL_TIMESTAMP: Final = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z")


class UnencodableDocument(ValueError):
    """A document that cannot be written as JSON even after escaping (a cycle, say)."""


def column_value(column: Column, value: object) -> object:
    """`value` if it has the column's type, else None (the document keeps it either way).

    The reference for `extract_row`, which does the same for all columns at once, faster.
    """
    if column.type == "string":
        return value if type(value) is str else None
    if column.type == "long":
        return value if type(value) is int and _INT64_MIN <= value <= _INT64_MAX else None
    if column.type == "strings":
        if type(value) is str:
            return [value]
        if type(value) is list:
            return [item for item in value if type(item) is str] or None
    return None


def _text(value: object) -> str | None:
    return value if type(value) is str else None


def _long(value: object) -> int | None:
    return value if type(value) is int and _INT64_MIN <= value <= _INT64_MAX else None


def _texts(value: object) -> list[str] | None:
    if type(value) is str:
        return [value]
    if type(value) is list:
        return [item for item in value if type(item) is str] or None
    return None


_NONE: Final[Mapping[str, object]] = {}


def _object(value: object) -> Mapping[str, object]:
    return value if type(value) is dict else _NONE


def extract_row(document: Mapping[str, object]) -> tuple[object, ...]:
    """The values of DOCUMENT_COLUMNS, in order, from a nested document.

    Written out by hand because the writer calls it for every document; a test holds it to
    `column_value` over COLUMNS.
    """
    host = _object(document.get("host"))
    event = _object(document.get("event"))
    process = _object(document.get("process"))
    parent = _object(process.get("parent"))
    user = _object(document.get("user"))
    source = _object(document.get("source"))
    destination = _object(document.get("destination"))
    rule = _object(document.get("rule"))
    return (
        _text(host.get("name")),
        _text(host.get("id")),
        _text(event.get("kind")),
        _texts(event.get("category")),
        _texts(event.get("type")),
        _text(event.get("action")),
        _text(event.get("dataset")),
        _text(event.get("outcome")),
        _text(event.get("id")),
        _text(process.get("entity_id")),
        _long(process.get("pid")),
        _text(process.get("name")),
        _text(process.get("executable")),
        _text(process.get("command_line")),
        _text(parent.get("entity_id")),
        _long(parent.get("pid")),
        _text(user.get("name")),
        _text(user.get("id")),
        _text(source.get("ip")),
        _long(source.get("port")),
        _text(destination.get("ip")),
        _long(destination.get("port")),
        _text(_object(document.get("file")).get("path")),
        _text(rule.get("id")),
        _text(rule.get("name")),
    )


def without_surrogates(value: object) -> object:
    """A column value Arrow accepts: lone surrogates written as `\\xNN`, as in `doc`."""
    if type(value) is str:
        return _escape_surrogates(value)
    if type(value) is list:
        return [_escape_surrogates(item) for item in value]
    return value


def timestamp_text(value: object) -> str | None:
    """@timestamp as an RFC 3339 UTC string Arrow can parse, or None when it is not a date.

    ECS dates are ISO 8601 strings or epoch milliseconds (ecs/validate.py accepts both).
    """
    if type(value) is str and _CANONICAL_TIMESTAMP.fullmatch(value):
        return value
    moment: datetime | None = None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)  # ECS dates without an offset are UTC
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value) or abs(value) > 253402300799999:  # year 9999
            return None
        moment = datetime.fromtimestamp(value / 1000, UTC)
    if moment is None:
        return None
    try:
        utc = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def microseconds(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware")
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_microseconds(value: int) -> datetime:
    return datetime.fromtimestamp(value // 1_000_000, UTC).replace(microsecond=value % 1_000_000)


def nested(document: Mapping[str, object]) -> dict[str, object]:
    """The document with dotted keys expanded into objects, as Elasticsearch reads them.

    The store keeps one spelling so that JSON paths in queries find every field; documents
    without dotted keys (all of doorhunt's own) are returned as they are, not copied.
    """
    if not _has_dotted_key(document, 0):
        return document if isinstance(document, dict) else dict(document)
    expanded: dict[str, object] = {}
    for key, value in document.items():
        child = nested(value) if isinstance(value, Mapping) else value
        if isinstance(key, str) and "." in key and all(key.split(".")):
            *parents, last = key.split(".")
            target = expanded
            for part in parents:
                existing = target.get(part)
                if not isinstance(existing, dict):
                    existing = {}
                    target[part] = existing
                target = existing
            _merge_into(target, last, child)
        else:
            _merge_into(expanded, key, child)
    return expanded


def _merge_into(target: dict[str, object], key: object, value: object) -> None:
    existing = target.get(key)  # type: ignore[call-overload]
    if isinstance(existing, dict) and isinstance(value, dict):
        for child_key, child in value.items():
            _merge_into(existing, child_key, child)
    else:
        target[key] = value  # type: ignore[index]


def _has_dotted_key(document: Mapping[Any, object], depth: int) -> bool:
    if depth > 32:
        return False
    for key, value in document.items():
        if type(key) is str and "." in key:
            return True
        if isinstance(value, Mapping) and _has_dotted_key(value, depth + 1):
            return True
    return False


def encode_document(document: Mapping[str, object]) -> bytes:
    """The document as compact UTF-8 JSON that DuckDB's JSON reader accepts.

    Text from undecodable bytes (lone surrogates, as `surrogateescape` makes them) cannot be
    UTF-8; each such byte is written as the four characters `\\xNN`, the form the terminal view
    shows. Non-string keys become strings; other objects their `str`.
    """
    try:
        return orjson.dumps(document)
    except TypeError:
        pass
    try:
        return orjson.dumps(_sanitized(document, 0))
    except (TypeError, RecursionError) as error:
        raise UnencodableDocument(str(error)) from None


def _sanitized(value: object, depth: int) -> object:
    if depth > 64:
        raise UnencodableDocument("nested deeper than 64 levels (a cycle?)")
    if isinstance(value, str):
        return _escape_surrogates(value)
    if isinstance(value, Mapping):
        return {_key(key): _sanitized(child, depth + 1) for key, child in value.items()}
    if isinstance(value, list | tuple):
        return [_sanitized(child, depth + 1) for child in value]
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        return value if _INT64_MIN <= value <= 2**64 - 1 else str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return _escape_surrogates(str(value))


def _key(key: object) -> str:
    return _escape_surrogates(key if isinstance(key, str) else str(key))


def has_surrogate(text: str) -> bool:
    """Whether `text` holds a lone surrogate, which UTF-8 (and so Arrow and JSON) cannot carry."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _escape_surrogates(text: str) -> str:
    if not has_surrogate(text):
        return text
    out = []
    for char in text:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # surrogateescape's stand-in for byte code - 0xDC00
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


__all__ = [
    "BY_FIELD",
    "COLUMNS",
    "COLUMN_NAMES",
    "DOCUMENT_COLUMNS",
    "DUCKDB_TYPES",
    "Column",
    "UnencodableDocument",
    "column_value",
    "encode_document",
    "extract_row",
    "from_microseconds",
    "has_surrogate",
    "microseconds",
    "nested",
    "timestamp_text",
    "without_surrogates",
]
