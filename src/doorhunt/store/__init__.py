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

import importlib
from typing import TYPE_CHECKING

from doorhunt.store.columns import COLUMN_NAMES, COLUMNS, Column
from doorhunt.store.errors import (
    StoreAccessError,
    StoreBusyError,
    StoreLockedError,
    StoreQueryError,
)
from doorhunt.store.segments import SkippedSegment
from doorhunt.store.store import Retention, Store
from doorhunt.store.writer import StoreWriter, WriterStats

if TYPE_CHECKING:
    from doorhunt.store.maintenance import CompactionResult, PruneResult, compact, prune
    from doorhunt.store.reader import DaySummary, StoreInfo, StoreReader

# The reading and compacting halves import DuckDB (~30 MiB resident): loaded on first use, so
# a process that only writes (a sweep saving its result) stays small.
_ON_DEMAND = {
    "CompactionResult": "maintenance",
    "PruneResult": "maintenance",
    "compact": "maintenance",
    "prune": "maintenance",
    "DaySummary": "reader",
    "StoreInfo": "reader",
    "StoreReader": "reader",
}


def __getattr__(name: str) -> object:
    module = _ON_DEMAND.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"doorhunt.store.{module}"), name)


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
