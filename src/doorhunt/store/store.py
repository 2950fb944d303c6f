"""The store: a directory of Parquet segments, written by one process, read by any number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from doorhunt.store.errors import StoreAccessError
from doorhunt.store.locks import lock_holder
from doorhunt.store.writer import DEFAULT_MAX_PENDING, StoreWriter

if TYPE_CHECKING:
    from doorhunt.store.maintenance import CompactionResult, PruneResult
    from doorhunt.store.reader import StoreInfo, StoreReader

# Reading and compacting need DuckDB (~30 MiB resident once imported); a process that only
# writes (a sweep saving its result) imports it only when it reads or compacts.


@dataclass(frozen=True, slots=True)
class Retention:
    """How much the store keeps: at most `max_bytes` of segments, none older than `max_age`."""

    max_bytes: int | None = None
    max_age: timedelta | None = None


class Store:
    """The embedded event store at `directory` (usually `data_directory() / "store"`)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def __repr__(self) -> str:
        return f"Store({str(self.directory)!r})"

    def create(self) -> None:
        """Make the directory (owner-only: it holds everything the sensor saw)."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as error:
            raise StoreAccessError(
                f"cannot create the store: {error.strerror or error}", location=str(self.directory)
            ) from None

    def writer(
        self,
        *,
        flush_interval: float = 1.0,
        exclusive: bool = True,
        max_pending: int = DEFAULT_MAX_PENDING,
        compact_interval: float | None = 60.0,
        retention: Retention | None = None,
        wait_when_full: bool = False,
    ) -> StoreWriter:
        """A writer. `exclusive` (the default) takes the writer lock and fails with
        StoreLockedError while another process holds it; `doorhunt ingest` writes beside a
        running sensor with `exclusive=False` (segment names never collide). The exclusive
        writer compacts every `compact_interval` seconds and applies `retention`. When more
        than `max_pending` documents wait for the disk, new ones are dropped and counted (the
        sensor must never block), or with `wait_when_full` the caller waits (an ingest)."""
        return StoreWriter(
            self,
            flush_interval=flush_interval,
            exclusive=exclusive,
            max_pending=max_pending,
            compact_interval=compact_interval if exclusive else None,
            retention=retention if exclusive else None,
            wait_when_full=wait_when_full,
        )

    def reader(self, *, threads: int = 2) -> StoreReader:
        from doorhunt.store.reader import StoreReader  # noqa: PLC0415 (DuckDB on demand)

        return StoreReader(self, threads=threads)

    def info(self) -> StoreInfo:
        with self.reader() as reader:
            return reader.info()

    def compact(self, *, full: bool = False, wait: float = 60.0) -> CompactionResult:
        from doorhunt.store.maintenance import compact  # noqa: PLC0415 (DuckDB on demand)

        return compact(self.directory, full=full, wait=wait)

    def prune(
        self, *, max_bytes: int | None = None, max_age: timedelta | None = None, wait: float = 60.0
    ) -> PruneResult:
        from doorhunt.store.maintenance import prune  # noqa: PLC0415 (DuckDB on demand)

        return prune(self.directory, max_bytes=max_bytes, max_age=max_age, wait=wait)

    @property
    def writer_pid(self) -> int | None:
        """The pid of the process holding the writer lock, if any."""
        return lock_holder(self.directory / "writer.lock")


__all__ = ["Retention", "Store"]
