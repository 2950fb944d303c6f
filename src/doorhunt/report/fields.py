"""Reading stored documents for the report: the documents a condition selects, and typed
reads of their fields. Anyone may have written them (an ingested NDJSON file, an old version
of doorhunt): a field of the wrong type reads as absent, never as a crash."""

# ruff: noqa: S608 - the conditions are build_filter's and the report's constant text; values
# are always bound parameters.
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import orjson

from doorhunt.ecs import get_field
from doorhunt.report.incident_model import ProcessRef
from doorhunt.store import StoreReader


def text_field(document: Mapping[str, object], name: str) -> str | None:
    value = get_field(document, name)
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and isinstance(value[0], str):
        return value[0]  # ECS lets any field hold an array
    return None


def int_field(document: Mapping[str, object], name: str) -> int | None:
    value = get_field(document, name)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def texts_field(document: Mapping[str, object], name: str) -> tuple[str, ...]:
    value = get_field(document, name)
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str))
    return ()


def moment(value: object) -> datetime | None:
    """An aware datetime from an ECS date (ISO 8601 or epoch milliseconds) or a datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def epoch_moment(value: object) -> datetime | None:
    """An aware datetime from seconds since the epoch (file times in sweep evidence)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def documents_where(
    reader: StoreReader, condition: str, parameters: Sequence[object], *, limit: int, order: str
) -> list[dict[str, object]]:
    rows = reader.sql(
        f'SELECT doc FROM events WHERE {condition} ORDER BY "timestamp" {order} LIMIT {int(limit)}',
        list(parameters),
    )
    return [load_document(row[0]) for row in rows]


def count_where(reader: StoreReader, condition: str, parameters: Sequence[object]) -> int:
    rows = reader.sql(f"SELECT count(*) FROM events WHERE {condition}", list(parameters))
    value = rows[0][0] if rows else 0
    return value if isinstance(value, int) else 0


def load_document(text: object) -> dict[str, object]:
    """A stored document (the store's `doc` column) as a dict; never raises."""
    try:
        loaded = orjson.loads(text if isinstance(text, bytes | str) else str(text))
    except orjson.JSONDecodeError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def timestamp_of(document: Mapping[str, object]) -> datetime | None:
    return moment(document.get("@timestamp"))


def process_of(document: Mapping[str, object]) -> ProcessRef | None:
    """The document's `process.*`, or None when it names no process."""
    pid = int_field(document, "process.pid")
    name = text_field(document, "process.name")
    executable = text_field(document, "process.executable")
    command_line = text_field(document, "process.command_line")
    if command_line is None:
        args = texts_field(document, "process.args")
        command_line = " ".join(args) if args else None
    entity = text_field(document, "process.entity_id")
    user = text_field(document, "user.name") or text_field(document, "process.user.name")
    if user is None:
        user_id = text_field(document, "user.id") or text_field(document, "process.user.id")
        user = f"uid {user_id}" if user_id is not None else None
    if pid is None and name is None and executable is None and entity is None:
        return None
    return ProcessRef(pid, name, executable, command_line, entity, user)


__all__ = [
    "count_where",
    "documents_where",
    "epoch_moment",
    "int_field",
    "load_document",
    "moment",
    "process_of",
    "text_field",
    "texts_field",
    "timestamp_of",
]
