"""Shipping documents to Elasticsearch data streams, without losing any during an outage.

`ElasticsearchSink` has the shape of `StoreWriter` (append, extend, flush, close, stats), so
the sensor can fan out to both. A background thread sends a bulk request every
`flush_interval` seconds. A request that fails for a reason that can pass (no connection,
429, 502-504) is retried with back-off; if it still fails the batch is written to the spool
directory and the sink goes offline: new batches go to the spool too (in order), and the
spool is replayed, oldest first, whenever the cluster answers again. Documents the cluster
refuses for good (a mapping conflict) are kept in spool/rejected/ for inspection.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

import orjson

from doorhunt.es.connection import EsConfig
from doorhunt.es.template import TEMPLATE_NAME, index_template, stream_for
from doorhunt.store.columns import UnencodableDocument, encode_document, nested
from doorhunt.store.locks import FileLock
from doorhunt.store.segments import sync_directory

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

log = logging.getLogger("doorhunt.es")

DEFAULT_BATCH: Final = 2000
DEFAULT_MAX_SPOOL_BYTES: Final = 1024**3
RETRY_DELAYS: Final = (0.25, 1.0)  # in-line retries before a batch is spooled
MAX_PROBE_DELAY: Final = 30.0
# Statuses worth trying again (Elasticsearch's bulk docs: 429 when queues are full).
RETRIABLE: Final = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class SinkStats:
    """What a sink has done since it started."""

    sent: int  # documents Elasticsearch accepted
    rejected: int  # documents refused for good (kept in spool/rejected/)
    spooled: int  # documents waiting on disk for the cluster
    dropped: int  # documents lost: the spool was full, or a document could not be encoded
    pending: int  # documents buffered in memory
    errors: int  # failed requests
    online: bool
    last_error: str | None


class _Retry(Exception):
    """A request failed in a way that may pass."""


class ElasticsearchSink:
    """Buffers documents and ships them with the bulk API; thread-safe."""

    def __init__(
        self,
        config: EsConfig,
        *,
        spool_directory: Path,
        flush_interval: float = 1.0,
        batch_size: int = DEFAULT_BATCH,
        max_spool_bytes: int = DEFAULT_MAX_SPOOL_BYTES,
        install_template: bool = True,
        client: Elasticsearch | None = None,
    ) -> None:
        self.config = config
        self.spool_directory = spool_directory
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self.max_spool_bytes = max_spool_bytes
        self._client = client or config.client()
        self._lock = threading.Lock()
        self._io_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._buffer: list[tuple[str, bytes]] = []
        self._sent = self._rejected = self._dropped = self._errors = 0
        self._last_error: str | None = None
        self._online = True
        self._template_ready = not install_template
        self._next_probe = 0.0
        self._probe_delay = 1.0
        self._closed = False
        self._sequence = 0
        spool_directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._spool_lock = FileLock(spool_directory / "replay.lock")
        self._thread = threading.Thread(target=self._loop, name="doorhunt-es-sink", daemon=True)
        self._thread.start()

    # -- the StoreWriter shape ---------------------------------------------------------------

    def append(self, document: Mapping[str, object]) -> None:
        self.extend((document,))

    def write(self, document: Mapping[str, object]) -> None:
        """The same as `append` (the sensor's sinks all have `write`)."""
        self.extend((document,))

    def extend(self, documents: Iterable[Mapping[str, object]]) -> None:
        encoded = []
        dropped = 0
        for document in documents:
            item = self._encode(document)
            if item is None:
                dropped += 1
            else:
                encoded.append(item)
        with self._lock:
            if self._closed:
                raise ValueError("the Elasticsearch sink is closed")
            self._dropped += dropped
            self._buffer.extend(encoded)
            if len(self._buffer) >= self.batch_size:
                self._wake.set()

    def flush(self) -> None:
        """Send (or spool) everything buffered now."""
        self._cycle(final=False)

    def close(self) -> None:
        """Flush what is buffered (to the spool if the cluster is away) and stop."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stopping.set()
        self._wake.set()
        self._thread.join()
        self._cycle(final=True)
        self._spool_lock.release()
        self._client.close()

    @property
    def stats(self) -> SinkStats:
        with self._lock:
            return SinkStats(
                sent=self._sent,
                rejected=self._rejected,
                spooled=self._spooled_documents(),
                dropped=self._dropped,
                pending=len(self._buffer),
                errors=self._errors,
                online=self._online,
                last_error=self._last_error,
            )

    def __enter__(self) -> ElasticsearchSink:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- encoding ------------------------------------------------------------------------------

    def _encode(self, document: Mapping[str, object]) -> tuple[str, bytes] | None:
        stream = stream_for(document, self.config.namespace)
        canonical = dict(nested(document))
        # Data streams hold these as constant_keyword: each document must say where it is.
        canonical["data_stream"] = {
            "type": "logs",
            "dataset": stream.split("-")[1],
            "namespace": self.config.namespace,
        }
        try:
            return stream, encode_document(canonical)
        except UnencodableDocument as error:
            log.warning("document not sent: it cannot be written as JSON: %s", error)
            return None

    # -- the background thread -----------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            if self._stopping.is_set():
                break
            try:
                self._cycle(final=False)
            except Exception:
                log.exception("Elasticsearch sink cycle failed")

    def _cycle(self, *, final: bool) -> None:
        with self._io_lock:
            with self._lock:
                batch, self._buffer = self._buffer, []
            if not self._template_ready:
                self._install_template()
            if self._spool_files() and time.monotonic() >= self._next_probe:
                self._replay()
            for start in range(0, len(batch), self.batch_size):
                chunk = batch[start : start + self.batch_size]
                waiting = not self._online and time.monotonic() < self._next_probe
                if waiting or self._spool_files():
                    self._spool(chunk)  # keep the order: older documents are in the spool
                    continue
                try:
                    self._send_with_retries(chunk, retry=not final)
                except _Retry as error:
                    self._went_offline(str(error))
                    self._spool(chunk)

    def _install_template(self) -> None:
        from elasticsearch import ApiError, TransportError  # noqa: PLC0415 (optional extra)

        body = index_template()
        meta = body["_meta"]
        assert isinstance(meta, dict)
        try:
            try:
                current = self._client.indices.get_index_template(name=TEMPLATE_NAME)
                templates = current.body.get("index_templates", [])
                installed = templates[0]["index_template"].get("_meta", {}) if templates else {}
            except ApiError as error:
                if error.meta.status != 404:
                    raise
                installed = {}
            if installed.get("fingerprint") != meta["fingerprint"]:
                self._client.indices.put_index_template(
                    name=TEMPLATE_NAME,
                    index_patterns=body["index_patterns"],  # type: ignore[arg-type]
                    data_stream=body["data_stream"],  # type: ignore[arg-type]
                    priority=body["priority"],  # type: ignore[arg-type]
                    template=body["template"],  # type: ignore[arg-type]
                    meta=meta,
                )
                log.info("installed index template %s", TEMPLATE_NAME)
            self._template_ready = True
        except ApiError as error:
            if error.meta.status in (401, 403):
                # Writers may lack manage_index_templates; an administrator installs it then.
                log.warning(
                    "cannot install index template %s (%s); sending without it",
                    TEMPLATE_NAME,
                    error.meta.status,
                )
                self._template_ready = True
            else:
                self._note_error(f"index template: {error.meta.status} {error}")
        except TransportError as error:
            self._note_error(f"index template: {error}")

    # -- sending ------------------------------------------------------------------------------

    def _send_with_retries(self, chunk: Sequence[tuple[str, bytes]], *, retry: bool) -> None:
        delays = (*RETRY_DELAYS, None) if retry else (None,)
        pending = list(chunk)
        for delay in delays:
            try:
                pending = self._send(pending)
            except _Retry:
                if delay is None:
                    raise
                time.sleep(delay)
                continue
            if not pending:
                self._came_online()
                return
            if delay is None:
                raise _Retry(f"{len(pending)} documents refused for now (429/5xx)")
            time.sleep(delay)
        raise _Retry("retries exhausted")

    def _send(self, chunk: Sequence[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
        """One bulk request; returns the documents to try again. Raises _Retry when the
        whole request failed in a way that may pass."""
        from elasticsearch import ApiError, TransportError  # noqa: PLC0415 (optional extra)

        lines: list[bytes] = []
        for stream, document in chunk:
            lines.append(orjson.dumps({"create": {"_index": stream}}))
            lines.append(document)
        try:
            response = self._client.bulk(operations=lines)  # type: ignore[arg-type]
        except ApiError as error:
            self._note_error(f"bulk: {error.meta.status} {error}")
            if error.meta.status in RETRIABLE:
                raise _Retry(f"bulk request answered {error.meta.status}") from None
            # The whole request refused (401, 403, 413): keep it, someone must fix the set-up.
            raise _Retry(f"bulk request refused: {error.meta.status} {error}") from None
        except TransportError as error:
            self._note_error(f"bulk: {error}")
            raise _Retry(str(error)) from None
        body: Mapping[str, Any] = response.body
        items = body.get("items") or []
        again: list[tuple[str, bytes]] = []
        rejected: list[tuple[bytes, int, object]] = []
        accepted = 0
        for item, original in zip(items, chunk, strict=False):
            result: Mapping[str, Any] = (
                next(iter(item.values()), {}) if isinstance(item, Mapping) else {}
            )
            status = int(result.get("status", 0)) if isinstance(result, Mapping) else 0
            if 200 <= status < 300:
                accepted += 1
            elif status in RETRIABLE:
                again.append(original)
            else:
                rejected.append((original[1], status, result.get("error")))
        if len(items) < len(chunk):
            again.extend(chunk[len(items) :])  # an answer with fewer items than asked
        with self._lock:
            self._sent += accepted
            self._rejected += len(rejected)
        if rejected:
            self._keep_rejected(rejected)
        return again

    def _keep_rejected(self, rejected: Sequence[tuple[bytes, int, object]]) -> None:
        directory = self.spool_directory / "rejected"
        directory.mkdir(exist_ok=True, mode=0o700)
        lines = [
            b'{"status":%d,"error":%s,"document":%s}'
            % (status, orjson.dumps(error, default=str), document)
            for document, status, error in rejected
        ]
        first = rejected[0]
        log.warning(
            "Elasticsearch refused %d documents (first: %s %s); kept in %s",
            len(rejected),
            first[1],
            orjson.dumps(first[2], default=str).decode()[:300],
            directory,
        )
        with (directory / f"{time.time_ns():020d}-{os.getpid()}.ndjson").open("ab") as handle:
            handle.write(b"\n".join(lines) + b"\n")

    # -- the spool ------------------------------------------------------------------------------

    def _spool_files(self) -> list[Path]:
        try:
            return sorted(
                entry
                for entry in self.spool_directory.iterdir()
                if entry.suffix == ".ndjson" and not entry.name.startswith(".")
            )
        except FileNotFoundError:
            return []

    def _spooled_documents(self) -> int:
        total = 0
        for path in self._spool_files():
            try:
                total += int(path.stem.rsplit("-", 1)[1])
            except (IndexError, ValueError):
                continue
        return total

    def _spool(self, chunk: Sequence[tuple[str, bytes]]) -> None:
        size = sum(path.stat().st_size for path in self._spool_files())
        lines = []
        for stream, document in chunk:
            lines.append(orjson.dumps({"create": {"_index": stream}}))
            lines.append(document)
        data = b"\n".join(lines) + b"\n"
        if size + len(data) > self.max_spool_bytes:
            with self._lock:
                self._dropped += len(chunk)
            log.error(
                "Elasticsearch spool is full (%d bytes): %d documents dropped",
                self.max_spool_bytes,
                len(chunk),
            )
            return
        self._sequence += 1
        # time-pid-sequence-count: sorted names are oldest first; count saves reading.
        name = f"{time.time_ns():020d}-{os.getpid()}-{self._sequence}-{len(chunk)}.ndjson"
        temporary = self.spool_directory / f".{name}"
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(temporary, self.spool_directory / name)
        sync_directory(self.spool_directory)

    def _replay(self) -> None:
        if not self._spool_lock.acquire():
            return  # another process is replaying this spool
        for path in self._spool_files():
            try:
                lines = path.read_bytes().splitlines()
            except FileNotFoundError:
                continue
            chunk = [
                (orjson.loads(action)["create"]["_index"], document)
                for action, document in zip(lines[::2], lines[1::2], strict=False)
            ]
            try:
                self._send_with_retries(chunk, retry=False)
            except _Retry as error:
                self._went_offline(str(error))
                return
            path.unlink(missing_ok=True)
            log.info("replayed %d spooled documents to Elasticsearch", len(chunk))
        self._came_online()

    # -- state -----------------------------------------------------------------------------------

    def _went_offline(self, reason: str) -> None:
        with self._lock:
            if self._online:
                log.warning(
                    "Elasticsearch at %s unreachable (%s): spooling to %s",
                    self.config.display,
                    reason,
                    self.spool_directory,
                )
            self._online = False
        self._next_probe = time.monotonic() + self._probe_delay
        self._probe_delay = min(self._probe_delay * 2, MAX_PROBE_DELAY)

    def _came_online(self) -> None:
        with self._lock:
            if not self._online:
                log.info("Elasticsearch at %s reachable again", self.config.display)
            self._online = True
        self._probe_delay = 1.0
        self._next_probe = 0.0

    def _note_error(self, message: str) -> None:
        with self._lock:
            self._errors += 1
            self._last_error = message


__all__ = ["ElasticsearchSink", "SinkStats"]
