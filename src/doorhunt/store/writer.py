"""Appending ECS documents to the store: buffered in memory, published as a segment per flush.

`append` encodes the document in the caller's thread (JSON, hot columns) and buffers it; a
background thread publishes the buffer every `flush_interval` seconds as one immutable segment
per UTC day (docs/store.md, "Writing"). A `kill -9` loses only the buffer: at most one flush
interval of documents. When the disk fails, batches are kept and retried, up to `max_pending`
documents; beyond that the oldest are dropped and counted, so the sensor never blocks.
"""

from __future__ import annotations

import array
import io
import itertools
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
import pyarrow.parquet as pq

from doorhunt.store.columns import (
    COLUMNS,
    DOCUMENT_COLUMNS,
    UnencodableDocument,
    encode_document,
    extract_row,
    microseconds,
    nested,
    timestamp_text,
    without_surrogates,
)
from doorhunt.store.errors import StoreAccessError, StoreLockedError
from doorhunt.store.locks import FileLock, lock_holder
from doorhunt.store.segments import (
    FORMAT_KEY,
    FORMAT_VERSION,
    SEGMENTS_DIRECTORY,
    publish,
    segment_name,
    stale_temporaries,
    temporary_path,
)

if TYPE_CHECKING:
    from doorhunt.store.store import Retention, Store

log = logging.getLogger("doorhunt.store")

ROW_GROUP_ROWS: Final = 65_536
# A flush is started early when this many documents are buffered, so memory stays bounded
# however fast documents arrive (about 60 MB of JSON at 600 bytes a document).
BATCH_ROWS: Final = 100_000
DEFAULT_MAX_PENDING: Final = 1_000_000
_DAY_MICROSECONDS: Final = 86_400_000_000
# Low-cardinality columns; dictionary-encoding the others (doc, command lines) only costs time.
_DICTIONARY_COLUMNS: Final = [
    "host_name",
    "host_id",
    "event_kind",
    "event_category",
    "event_type",
    "event_action",
    "event_dataset",
    "event_outcome",
    "process_name",
    "process_executable",
    "user_name",
    "user_id",
    "rule_id",
    "rule_name",
]

_ARROW_TYPES: Final[Mapping[str, pa.DataType]] = {
    "timestamp": pa.timestamp("us", tz="UTC"),
    "string": pa.string(),
    "long": pa.int64(),
    "strings": pa.list_(pa.string()),
}
SCHEMA: Final = pa.schema(
    [pa.field(column.name, _ARROW_TYPES[column.type]) for column in COLUMNS],
    metadata={FORMAT_KEY: FORMAT_VERSION},
)

# A document as compact JSON (orjson's output: one line, valid UTF-8).
_Row = bytes


@dataclass(frozen=True, slots=True)
class WriterStats:
    """What a writer has done since it was opened (the sensor reports these)."""

    written: int  # documents in published segments
    dropped: int  # documents lost: unencodable, or over max_pending while the disk failed
    pending: int  # documents buffered or waiting for a retry
    segments: int  # segments published
    errors: int  # failed flushes
    last_error: str | None


class StoreWriter:
    """Buffers documents and publishes them as segments; thread-safe. Use as a context manager
    or call `close()`, which flushes."""

    def __init__(
        self,
        store: Store,
        *,
        flush_interval: float = 1.0,
        exclusive: bool = True,
        max_pending: int = DEFAULT_MAX_PENDING,
        compact_interval: float | None = 60.0,
        retention: Retention | None = None,
        wait_when_full: bool = False,
    ) -> None:
        if flush_interval <= 0:
            raise ValueError(f"flush_interval must be positive, got {flush_interval}")
        self.store = store
        self.flush_interval = flush_interval
        self.max_pending = max_pending
        self.wait_when_full = wait_when_full
        self._lock = threading.Lock()  # the buffer and counters
        self._io_lock = threading.Lock()  # one flush at a time
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._rows: list[_Row] = []
        self._retry: list[list[_Row]] = []
        self._retry_count = 0
        self._written = 0
        self._dropped = 0
        self._segments = 0
        self._errors = 0
        self._last_error: str | None = None
        self._closed = False
        self._writer_lock: FileLock | None = None
        store.create()
        if exclusive:
            self._writer_lock = FileLock(store.directory / "writer.lock")
            if not self._writer_lock.acquire():
                holder = lock_holder(store.directory / "writer.lock")
                who = f"process {holder}" if holder and holder > 0 else "another process"
                raise StoreLockedError(
                    f"the store is being written by {who}; one writer at a time "
                    "(stop it, or use another --data directory)",
                    location=str(store.directory),
                )
            for leftover in stale_temporaries(store.directory):
                leftover.unlink(missing_ok=True)
        self._flusher = threading.Thread(
            target=self._flush_loop, name="doorhunt-store-flush", daemon=True
        )
        self._flusher.start()
        self._maintainer: threading.Thread | None = None
        if compact_interval or retention is not None:
            self._maintainer = threading.Thread(
                target=self._maintenance_loop,
                args=(compact_interval or 60.0, retention),
                name="doorhunt-store-maintenance",
                daemon=True,
            )
            self._maintainer.start()

    # -- the public face -------------------------------------------------------------------

    def append(self, document: Mapping[str, object]) -> None:
        """Buffer one ECS document (nested objects or dotted keys)."""
        row = self._encode(document)
        if row is None:
            with self._lock:
                self._check_open()
                self._dropped += 1
            return
        self._take([row])

    def write(self, document: Mapping[str, object]) -> None:
        """The same as `append` (the sensor's sinks all have `write`)."""
        self.append(document)

    def extend(self, documents: Iterable[Mapping[str, object]]) -> None:
        """Buffer many documents; cheaper per document than `append`."""
        batch: list[_Row] = []
        dumps = orjson.dumps
        for document in documents:
            try:
                # `_encode`'s common case, written out: this loop is the ingest's hot path.
                if "." in "".join(document):
                    raise TypeError
                batch.append(dumps(document))
            except TypeError:
                row = self._encode(document)
                if row is None:
                    with self._lock:
                        self._dropped += 1
                    continue
                batch.append(row)
            if len(batch) >= 4096:
                self._take(batch)
                batch = []
        if batch:
            self._take(batch)

    def flush(self) -> None:
        """Publish everything buffered now (returns when it is on disk, or has failed)."""
        self._flush_once()

    def close(self) -> None:
        """Flush, stop the background threads and release the writer lock. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stopping.set()
        self._wake.set()
        self._flusher.join()
        if self._maintainer is not None:
            self._maintainer.join()
        try:
            # An ingest must hear that its last documents did not reach the disk.
            self._flush_once(raise_errors=self.wait_when_full)
        finally:
            if self._writer_lock is not None:
                self._writer_lock.release()

    @property
    def stats(self) -> WriterStats:
        with self._lock:
            return WriterStats(
                written=self._written,
                dropped=self._dropped,
                pending=len(self._rows) + self._retry_count,
                segments=self._segments,
                errors=self._errors,
                last_error=self._last_error,
            )

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- encoding ------------------------------------------------------------------------------

    @staticmethod
    def _encode(document: Mapping[str, object]) -> _Row | None:
        # Top-level keys with dots ({"process.pid": 1}, as the bulk API takes them) are stored
        # as nested objects, so one JSON path finds a field however it was spelled. Only the
        # top level is looked at: this runs for every document, and producers that nest do so
        # all the way down (doorhunt's own; `doorhunt ingest` nests everything it reads).
        try:
            dotted = "." in "".join(document)
        except TypeError:
            dotted = True  # non-string keys: encode_document's careful path
        try:
            if dotted:
                return encode_document(nested(document))
            return orjson.dumps(document)
        except TypeError:
            pass  # lone surrogates, odd types: the careful path below
        try:
            return encode_document(nested(document))
        except UnencodableDocument as error:
            log.warning("document dropped: it cannot be written as JSON: %s", error)
            return None

    def _take(self, batch: list[_Row]) -> None:
        with self._lock:
            self._check_open()
            if not self.wait_when_full:
                room = self.max_pending - len(self._rows) - self._retry_count
                if room < len(batch):
                    self._dropped += len(batch) - max(room, 0)
                    batch = batch[: max(room, 0)]
            self._rows.extend(batch)
            buffered = len(self._rows)
            if buffered >= BATCH_ROWS:
                self._wake.set()
        if self.wait_when_full and buffered >= 2 * BATCH_ROWS:
            # The flush thread fell behind: the caller waits for the disk instead of losing
            # documents (an ingest can wait; the sensor must not, so it drops).
            self._flush_once(raise_errors=True)

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("the store writer is closed")

    # -- flushing ------------------------------------------------------------------------------

    def _flush_loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            if self._stopping.is_set():
                break
            try:
                self._flush_once()
            except Exception:  # a bug must not silently stop all future flushes
                log.exception("store flush failed")

    def _flush_once(self, *, raise_errors: bool = False) -> None:
        with self._io_lock:
            with self._lock:
                rows, self._rows = self._rows, []
                batches = [*self._retry, rows] if rows else list(self._retry)
                self._retry, self._retry_count = [], 0
            failed: list[list[_Row]] = []
            for batch in batches:
                if not batch:
                    continue
                try:
                    published = self._publish(batch)
                except OSError as error:
                    failed.append(batch)
                    message = f"{error.strerror or error}" + (
                        f": {error.filename}" if error.filename else ""
                    )
                    with self._lock:
                        self._errors += 1
                        if message != self._last_error:
                            log.error("cannot write to the store (will retry): %s", message)
                        self._last_error = message
                    continue
                with self._lock:
                    self._written += len(batch)
                    self._segments += published
            with self._lock:
                self._retry = failed + self._retry
                self._retry_count = sum(len(batch) for batch in self._retry)
                if failed and raise_errors:
                    raise StoreAccessError(
                        f"cannot write to the store: {self._last_error}",
                        location=str(self.store.directory),
                    )
                while self._retry and self._retry_count + len(self._rows) > self.max_pending:
                    oldest = self._retry.pop(0)
                    self._retry_count -= len(oldest)
                    self._dropped += len(oldest)

    def _publish(self, batch: list[_Row]) -> int:
        """Write `batch` as one segment per UTC day; returns the number of segments."""
        # Not sorted: documents mostly arrive in time order, the segment's name bounds its
        # times, and compaction sorts; moving every document costs as much as parsing them.
        table = build_table(batch, datetime.now(UTC))
        first, last = _bounds(table)
        count = 0
        for day in range(first // _DAY_MICROSECONDS, last // _DAY_MICROSECONDS + 1):
            part = table
            if first // _DAY_MICROSECONDS != last // _DAY_MICROSECONDS:
                micros = table.column("timestamp").cast(pa.int64())
                start = pa.scalar(day * _DAY_MICROSECONDS, pa.int64())
                end = pa.scalar((day + 1) * _DAY_MICROSECONDS, pa.int64())
                part = table.filter(pc.and_(pc.greater_equal(micros, start), pc.less(micros, end)))
                if part.num_rows == 0:
                    continue
            write_segment(self.store.directory, part, kind="w")
            count += 1
        return count

    # -- maintenance ---------------------------------------------------------------------------

    def _maintenance_loop(self, interval: float, retention: Retention | None) -> None:
        # DuckDB (compaction) is loaded only by a writer that maintains the store.
        from doorhunt.store.maintenance import compact, prune  # noqa: PLC0415

        while not self._stopping.wait(interval):
            try:
                compact(self.store.directory, wait=0.0, min_age=interval)
                if retention is not None:
                    prune(
                        self.store.directory,
                        max_bytes=retention.max_bytes,
                        max_age=retention.max_age,
                        wait=0.0,
                    )
            except Exception as error:  # maintenance is best effort; writing goes on
                log.warning("store maintenance failed: %s", error)


def build_table(batch: Sequence[bytes], ingested: datetime) -> pa.Table:
    """The Arrow table of a batch of JSON documents, in the segment schema, sorted by time.

    Arrow's JSON reader pulls the hot columns out in C++, on other cores and without the GIL;
    a chunk it refuses (a field of an unexpected type, an epoch-number @timestamp) is read
    document by document in Python instead, with the same result.
    """
    parts = []
    for start in range(0, len(batch), _FAST_CHUNK):
        chunk = batch[start : start + _FAST_CHUNK]
        try:
            parts.append(_columns_fast(chunk))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            parts.append(_columns_slow(chunk))
    table = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    micros = pc.fill_null(
        table.column("timestamp").cast(pa.int64()), pa.scalar(microseconds(ingested), pa.int64())
    )
    arrays: dict[str, Any] = {name: table.column(name) for name in table.column_names}
    arrays["timestamp"] = micros.cast(_ARROW_TYPES["timestamp"])
    arrays["ingested"] = pa.array([microseconds(ingested)] * len(batch), pa.int64()).cast(
        _ARROW_TYPES["timestamp"]
    )
    arrays["doc"] = _strings(batch)
    return pa.table([arrays[column.name] for column in COLUMNS], schema=SCHEMA)


# Big enough that Arrow's reader runs at full speed, small enough that one odd document
# sends only this many to the slow path.
_FAST_CHUNK: Final = 16_384


def _json_schema() -> pa.Schema:
    """The hot fields as the nested structure Arrow's JSON reader fills in."""
    tree: dict[str, object] = {}
    for column in DOCUMENT_COLUMNS:
        node = tree
        *parents, leaf = column.path
        for part in parents:
            child = node.setdefault(part, {})
            assert isinstance(child, dict)
            node = child
        node[leaf] = _ARROW_TYPES[column.type]
    tree["@timestamp"] = pa.string()

    def build(node: dict[str, object]) -> list[pa.Field[Any]]:
        return [
            pa.field(name, pa.struct(build(value)) if isinstance(value, dict) else value)
            for name, value in node.items()
        ]

    return pa.schema(build(tree))


_PARSE_OPTIONS: Final = pj.ParseOptions(
    explicit_schema=_json_schema(), unexpected_field_behavior="ignore"
)


def _columns_fast(chunk: Sequence[bytes]) -> pa.Table:
    parsed = pj.read_json(
        io.BytesIO(b"\n".join(chunk)),
        parse_options=_PARSE_OPTIONS,
        # One thread: the other core is the producer's (the sensor, or the ingest loop).
        read_options=pj.ReadOptions(block_size=1 << 26, use_threads=False),
    )
    if parsed.num_rows != len(chunk):
        raise pa.ArrowInvalid("a document spans lines")  # cannot happen with orjson; be sure
    arrays: dict[str, Any] = {
        "timestamp": pc.cast(parsed.column("@timestamp"), _ARROW_TYPES["timestamp"])
    }
    for column in DOCUMENT_COLUMNS:
        top, *rest = column.path
        values: Any = parsed.column(top)
        for part in rest:
            values = pc.struct_field(values, part)
        arrays[column.name] = values
    return pa.table(arrays)


def _columns_slow(chunk: Sequence[bytes]) -> pa.Table:
    documents = [orjson.loads(raw) for raw in chunk]
    rows = [extract_row(document) for document in documents]
    texts = [timestamp_text(document.get("@timestamp")) for document in documents]
    arrays: dict[str, Any] = {"timestamp": _timestamps(texts)}
    for index, column in enumerate(DOCUMENT_COLUMNS):
        arrays[column.name] = _array([row[index] for row in rows], _ARROW_TYPES[column.type])
    return pa.table(arrays)


def _strings(batch: Sequence[bytes]) -> pa.Array[Any]:
    """A string array over the JSON bytes without a Python object per element."""
    offsets = array.array("q", itertools.accumulate(map(len, batch), initial=0))
    return pa.Array.from_buffers(
        pa.large_string(), len(batch), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(batch))]
    ).cast(pa.string())


def _timestamps(texts: list[str | None]) -> pa.Array[Any]:
    target = _ARROW_TYPES["timestamp"]
    try:
        return pc.cast(pa.array(texts, pa.string()), target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # Arrow's ISO 8601 parser is strict (odd offsets); Python is not.
        values = []
        for text in texts:
            parsed = None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))
            values.append(None if parsed is None else microseconds(parsed))
        return pa.array(values, pa.int64()).cast(target)


def _array(values: list[object], kind: pa.DataType) -> pa.Array[Any]:
    try:
        return pa.array(values, kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
        # Lone surrogates (undecodable bytes) cannot be Arrow strings; `doc` keeps them escaped.
        return pa.array([without_surrogates(value) for value in values], kind)


def _bounds(table: pa.Table) -> tuple[int, int]:
    micros = table.column("timestamp").cast(pa.int64())
    bounds: Mapping[str, object] = pc.min_max(micros).as_py()  # type: ignore[assignment]
    return int(bounds["min"]), int(bounds["max"])  # type: ignore[call-overload]


def write_segment(root: Path, table: pa.Table, *, kind: str) -> Path:
    """Publish `table` (one UTC day, sorted) as a segment file; returns its path."""
    first, last = _bounds(table)
    day = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=first)).strftime("%Y-%m-%d")
    directory = root / SEGMENTS_DIRECTORY / day
    final = directory / segment_name(kind, first, last, table.num_rows)  # type: ignore[arg-type]
    temporary = temporary_path(final)
    for attempt in (1, 2):
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            pq.write_table(
                table,
                str(temporary),
                compression="zstd",
                row_group_size=ROW_GROUP_ROWS,
                use_dictionary=_DICTIONARY_COLUMNS,  # type: ignore[arg-type]
            )
            publish(temporary, final)
            return final
        except FileNotFoundError:
            # Pruning removed the day's empty directory between mkdir and write: once more.
            temporary.unlink(missing_ok=True)
            if attempt == 2:
                raise
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    raise AssertionError("unreachable")


__all__ = ["SCHEMA", "StoreWriter", "WriterStats", "build_table", "write_segment"]
