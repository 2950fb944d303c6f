"""The embedded event store: immutable Parquet segments queried with DuckDB.

Nothing to install or start: the sensor writes while the UI, `hunt` and `events` read from
other processes; a crashed writer loses at most one flush interval; a damaged segment is
skipped with a warning. Design: docs/store.md.

    store = Store(data_directory() / "store")
    with store.writer() as writer:
        writer.append(document)
    with store.reader() as reader:
        reader.events(host="web-1", category="process", since=an_hour_ago)
"""

from __future__ import annotations

from doorhunt.store.columns import COLUMN_NAMES, COLUMNS, Column
from doorhunt.store.errors import (
    StoreAccessError,
    StoreBusyError,
    StoreLockedError,
    StoreQueryError,
)
from doorhunt.store.maintenance import CompactionResult, PruneResult, compact, prune
from doorhunt.store.reader import DaySummary, StoreInfo, StoreReader
from doorhunt.store.segments import SkippedSegment
from doorhunt.store.store import Retention, Store
from doorhunt.store.writer import StoreWriter, WriterStats

__all__ = [
    "COLUMNS",
    "COLUMN_NAMES",
    "Column",
    "CompactionResult",
    "DaySummary",
    "PruneResult",
    "Retention",
    "SkippedSegment",
    "Store",
    "StoreAccessError",
    "StoreBusyError",
    "StoreInfo",
    "StoreLockedError",
    "StoreQueryError",
    "StoreReader",
    "StoreWriter",
    "WriterStats",
    "compact",
    "prune",
]
