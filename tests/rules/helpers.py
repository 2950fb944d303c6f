"""Running a query through every engine over the same documents.

Documents are stored in an in-memory DuckDB table shaped as the store's view `events` (hot
columns from store/columns.py plus the JSON document), and streamed in the order a hunt
orders them: @timestamp, then the document's JSON text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

import duckdb
import orjson

from doorhunt.rules.engine import (
    CompiledRule,
    Match,
    Relation,
    StreamingEngine,
    compile_rule,
    run_hunt,
    store_relation,
)
from doorhunt.rules.engine.values import timestamp_us
from doorhunt.store.columns import COLUMNS, DOCUMENT_COLUMNS, DUCKDB_TYPES, extract_row, nested

BASE = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
Outcome = list[tuple[tuple[str, ...], tuple[object, ...]]]


def stamp(seconds: float) -> str:
    moment = BASE + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def doc(
    ident: str, seconds: float, category: str | list[str] | None = "process", **fields: object
) -> dict[str, object]:
    """A document with event.id `ident` at BASE + seconds; `a__b=1` sets a.b."""
    document: dict[str, object] = {"@timestamp": stamp(seconds), "event": {"id": ident}}
    if category is not None:
        event = document["event"]
        assert isinstance(event, dict)
        event["category"] = category if isinstance(category, list) else [category]
    for name, value in fields.items():
        target = document
        parts = name.split("__")
        for part in parts[:-1]:
            child = target.setdefault(part, {})
            assert isinstance(child, dict)
            target = child
        target[parts[-1]] = value
    return document


def encoded(document: Mapping[str, object]) -> str:
    return orjson.dumps(nested(document)).decode()


def ordered(documents: Iterable[Mapping[str, object]]) -> list[Mapping[str, object]]:
    """The order a hunt reads documents in (timestamp, then JSON text)."""
    return sorted(documents, key=lambda d: (timestamp_us(d.get("@timestamp")) or 0, encoded(d)))


def hunt_relation() -> Relation:
    """The store's columns, with ties in @timestamp broken by `seq_`, the order the
    streaming engine sees the documents in (`ordered`)."""
    return dataclasses.replace(store_relation(), tiebreak=("seq_",))


def load_table(
    connection: duckdb.DuckDBPyConnection, documents: Sequence[Mapping[str, object]]
) -> None:
    columns = ", ".join(f'"{c.name}" {DUCKDB_TYPES[c.type]}' for c in COLUMNS)
    connection.execute(f"CREATE OR REPLACE TABLE events ({columns}, seq_ BIGINT)")
    names = [c.name for c in DOCUMENT_COLUMNS]
    rows = []
    for position, given in enumerate(ordered(documents)):
        # As the store's writer does: dotted keys expanded, so JSON paths find every field.
        document = nested(given)
        values = dict(zip(names, extract_row(document), strict=True))
        micros = timestamp_us(document.get("@timestamp")) or 0
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
        values["timestamp"] = moment
        values["ingested"] = moment
        values["doc"] = encoded(document)
        rows.append([*(values.get(c.name) for c in COLUMNS), position])
    if rows:
        placeholders = ", ".join("?" for _ in range(len(COLUMNS) + 1))
        connection.executemany(f"INSERT INTO events VALUES ({placeholders})", rows)


def outcome(matches: Iterable[Match]) -> Outcome:
    """Matches as (event ids, join keys), sorted: comparable across engines."""
    found = []
    for match in matches:
        ids = tuple(str(_event_id(e)) for e in match.events)
        found.append((ids, tuple(match.join_keys)))
    return sorted(found, key=repr)


def _event_id(document: Mapping[str, object]) -> object:
    event = document.get("event")
    return event.get("id") if isinstance(event, Mapping) else None


def streaming(
    rule: CompiledRule, documents: Iterable[Mapping[str, object]], **options: object
) -> list[Match]:
    engine = StreamingEngine([rule], **options)  # type: ignore[arg-type]
    return engine.run(ordered(documents))


def hunt(rule: CompiledRule, documents: Sequence[Mapping[str, object]]) -> list[Match]:
    connection = duckdb.connect()
    try:
        load_table(connection, documents)
        return run_hunt(connection, rule, relation=hunt_relation())
    finally:
        connection.close()


def both(query: str, documents: Sequence[Mapping[str, object]]) -> Outcome:
    """The outcome of `query`, asserting the streaming and SQL engines agree on it."""
    rule = compile_rule(query)
    stream = outcome(streaming(rule, documents))
    sql = outcome(hunt(rule, documents))
    assert stream == sql, f"streaming {stream} != sql {sql} for {query}"
    return stream


def ids(query: str, documents: Sequence[Mapping[str, object]]) -> list[tuple[str, ...]]:
    """The event ids of each match (both engines agreeing), sorted."""
    return sorted(found for found, _ in both(query, documents))
