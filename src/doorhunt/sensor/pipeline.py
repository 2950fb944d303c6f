"""The sensor: sources in threads, one bounded queue, sinks.

  proc connector ─┐
  audit netlink ──┼─> ECS documents ─> queue (bounded) ─> writer thread ─> sinks
  fanotify ───────┘                      (full: dropped, counted)     (store, NDJSON, ES)

Each source thread reads its kernel socket, keeps the process table current (the proc thread
alone changes it) and builds documents; the writer thread alone touches the sinks, and flushes
them every `flush_interval`. Every loss is counted — kernel buffer overflows (`lost`), a full
queue (`dropped`) — and reported in the periodic `sensor_status` event and at exit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import select
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Protocol

from doorhunt.ecs import host_fields
from doorhunt.host.procfs import boot_time
from doorhunt.sensor.audit_events import AuditSource
from doorhunt.sensor.fanotify import FanotifyError, FanotifyWatch
from doorhunt.sensor.mapping import file_document, process_document, status_document
from doorhunt.sensor.proc_connector import ProcConnector, ProcEvent, ProcEventKind
from doorhunt.sensor.processes import ProcessTable
from doorhunt.store.columns import encode_document

log = logging.getLogger(__name__)

DEFAULT_WATCH = (
    "/dev/shm",
    "/run",
    "/var/run",
    "/tmp",
    "/var/tmp",
    "/etc",
    "/etc/cron.d",
    "/etc/systemd/system",
    "/etc/sysconfig",
    "/etc/init.d",
)
POLL_SECONDS = 0.25
MODIFICATION_INTERVAL = 10.0
WRITE_PAUSE = 0.05


class Readable(Protocol):
    def fileno(self) -> int: ...


class Processor(Protocol):
    """Turns each written document into further documents (the rules' alerts)."""

    def process(self, document: Mapping[str, object]) -> list[dict[str, object]]: ...

    def flush(self) -> list[dict[str, object]]:
        """What waits only for time to pass, at the end of the stream."""
        ...


class Sink(Protocol):
    def write(self, document: Mapping[str, object]) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


class NdjsonSink:
    """One JSON document per line on a stream (standard output for `--ndjson`)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream  # binary: the documents are UTF-8 already; no text layer between

    def write(self, document: Mapping[str, object]) -> None:
        # Undecodable host bytes are written as \xNN, as the store writes them.
        self.stream.write(encode_document(document) + b"\n")

    def flush(self) -> None:
        self.stream.flush()

    def close(self) -> None:
        self.flush()


@dataclass(slots=True)
class Counters:
    events: int = 0
    dropped: int = 0
    derived: int = 0  # documents the processors made (alerts)
    by_source: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SensorOptions:
    audit: bool = True
    fanotify: bool = True
    watch: Sequence[str] = DEFAULT_WATCH
    queue_size: int = 50_000  # ~150 MB of documents at worst: the RSS target bounds it
    flush_interval: float = 1.0
    status_interval: float = 60.0


class Sensor:
    def __init__(
        self,
        sinks: Sequence[Sink],
        options: SensorOptions = SensorOptions(),
        host: Mapping[str, object] | None = None,
    ) -> None:
        self.sinks = list(sinks)
        self.options = options
        self.host = dict(host or host_fields())
        boot = self.host.get("boot")
        boot_id = str(boot.get("id", "")) if isinstance(boot, dict) else ""
        self.table = ProcessTable(str(self.host.get("id", "")), boot_id, boot_time())
        self.queue: queue.Queue[Mapping[str, object]] = queue.Queue(options.queue_size)
        self.counters = Counters()
        self.stopping = threading.Event()
        self.sources_closed = threading.Event()  # nothing more will be queued
        self.threads: list[threading.Thread] = []
        self.writer: threading.Thread | None = None
        self.sources: list[str] = []
        self.problems: list[str] = []
        self.connector: ProcConnector | None = None
        self.audit: AuditSource | None = None
        self.watch: FanotifyWatch | None = None
        self.processors: list[Processor] = []
        self.pid = os.getpid()
        self.id_prefix = os.urandom(8).hex() + "-"
        self.sequence = 0
        self.modified: dict[str, float] = {}

    # -- output ----------------------------------------------------------------------------

    def emit(self, document: Mapping[str, object], source: str) -> None:
        try:
            self.queue.put_nowait(document)
        except queue.Full:
            self.counters.dropped += 1
            return
        self.counters.by_source[source] = self.counters.by_source.get(source, 0) + 1

    def _writer(self) -> None:
        """Drain the queue in batches every WRITE_PAUSE: waking on every document would make
        the source and writer threads trade the GIL thousands of times a second."""
        next_flush = time.monotonic() + self.options.flush_interval
        next_status = time.monotonic() + self.options.status_interval
        while True:
            stopping = self.sources_closed.is_set()
            while True:
                try:
                    document = self.queue.get_nowait()
                except queue.Empty:
                    break
                self._write(document)
            now = time.monotonic()
            if now >= next_status:
                self._write(status_document(self.host, self.totals(), self.sources))
                next_status = now + self.options.status_interval
            if stopping and self.queue.empty():
                for processor in self.processors:
                    for document in processor.flush():
                        self._write(document, derived=True)
            if now >= next_flush or stopping:
                for sink in self.sinks:
                    sink.flush()
                next_flush = now + self.options.flush_interval
            if stopping and self.queue.empty():
                return
            time.sleep(WRITE_PAUSE)

    def _write(self, document: Mapping[str, object], *, derived: bool = False) -> None:
        """Write a source's document and what the processors derive from it; a derived
        document (an alert) is written as it is."""
        documents = [document]
        if derived:
            self.counters.derived += 1
        else:
            event = document.get("event")
            if isinstance(event, dict) and "id" not in event:
                # Unique across runs and hosts, and cheap: a random prefix and a counter.
                self.sequence += 1
                event["id"] = f"{self.id_prefix}{self.sequence:x}"
            for processor in self.processors:
                found = processor.process(document)
                self.counters.derived += len(found)
                documents += found
        for item in documents:
            self.counters.events += 1
            for sink in self.sinks:
                try:
                    sink.write(item)
                except Exception:
                    self.counters.dropped += 1
                    log.exception("sink %s failed", type(sink).__name__)

    def totals(self) -> dict[str, int]:
        lost = self.connector.lost if self.connector else 0
        audit_lost = self.audit.lost if self.audit else 0
        return {
            "events": self.counters.events,
            "alerts": self.counters.derived,
            "dropped": self.counters.dropped,
            "lost": lost + int(audit_lost),
        }

    # -- sources ---------------------------------------------------------------------------

    def _loop(self, name: str, readable: Readable, read: Callable[[], None]) -> None:
        while not self.stopping.is_set():
            try:
                ready, _, _ = select.select([readable], [], [], POLL_SECONDS)
            except (OSError, ValueError):
                return
            if not ready:
                continue
            try:
                read()
            except OSError as error:
                if self.stopping.is_set():
                    return
                log.warning("%s: %s", name, error)
                time.sleep(POLL_SECONDS)

    def _process_loop(self) -> None:
        """Blocking reads with a short timeout (to notice a stop): no select per event."""
        assert self.connector is not None
        while not self.stopping.is_set():
            try:
                events = self.connector.read(POLL_SECONDS)
            except OSError as error:
                if self.stopping.is_set():
                    return
                log.warning("proc connector: %s", error)
                time.sleep(POLL_SECONDS)
                continue
            for event in events:
                self.handle_process_event(event)

    def handle_process_event(self, event: ProcEvent) -> None:
        table, kind, stamp = self.table, event.kind, event.timestamp
        if not event.is_process:
            return  # a thread of a process, not a process
        if kind is ProcEventKind.FORK:
            child = table.fork(event.tgid, event.parent_tgid or 0, stamp)
            self.emit(process_document("fork", child, table, self.host, stamp), "proc")
            return
        if kind is ProcEventKind.EXEC:
            executed = table.exec(event.tgid, stamp)
            self.emit(process_document("exec", executed, table, self.host, stamp), "proc")
            return
        if kind is ProcEventKind.EXIT:
            ended = table.exit(event.tgid, event.exit_code)
            if ended is not None:
                self.emit(process_document("end", ended, table, self.host, stamp), "proc")
                # Thousands of exited entries wait for late events; few get one, so none keeps
                # its built fields (the bulk of an entry's memory).
                ended.changed()
            return
        if kind is ProcEventKind.COMM:
            self._name_change(event)
            return
        entry = table.get(event.tgid)
        if entry is None:
            return
        if kind is ProcEventKind.UID:
            entry.uid, entry.euid = event.real_id, event.effective_id
            entry.changed()
        action = {
            ProcEventKind.UID: "uid_change",
            ProcEventKind.GID: "gid_change",
            ProcEventKind.SID: "session_id_change",
            ProcEventKind.PTRACE: "ptrace",
        }.get(kind)
        if action is not None:
            self.emit(process_document(action, entry, table, self.host, stamp), "proc")

    def _name_change(self, event: ProcEvent) -> None:
        """comm changed: an exec sets it to the new file's name (the event comes just before the
        exec event, and names processes too short-lived for /proc), prctl(PR_SET_NAME) or a
        write to /proc/PID/comm to anything. Only the second kind is an event."""
        entry = self.table.get(event.tgid)
        if entry is None or event.comm is None:
            return
        previous, entry.name = entry.name, event.comm
        entry.changed()
        try:
            executable = os.readlink(f"/proc/{event.tgid}/exe")
        except OSError:
            return
        base = executable.removesuffix(" (deleted)").rsplit("/", 1)[-1]
        if base[:15] == event.comm:
            return  # exec named it after its file
        self.emit(
            process_document(
                "name_change",
                entry,
                self.table,
                self.host,
                event.timestamp,
                {"doorhunt.process.previous_name": previous, "process.name": event.comm},
            ),
            "proc",
        )

    def _read_files(self) -> None:
        assert self.watch is not None
        now = time.time()
        for event in self.watch.read():
            if event.action == "overflow":
                self.counters.dropped += 1
                continue
            if event.pid == self.pid:
                continue  # our own writes (a store or an NDJSON file in a watched directory)
            if event.action == "modification":
                # One modification event per file per interval, as Defend throttles them: a
                # log being appended to is one fact, not one event a write.
                if now - self.modified.get(event.path, 0.0) < MODIFICATION_INTERVAL:
                    continue
                if len(self.modified) > 10_000:
                    self.modified.clear()
                self.modified[event.path] = now
            self.emit(file_document(event, self.table, self.host, now), "fanotify")

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> None:
        for entry in self.table.seed():
            self.emit(
                process_document(
                    "already_running", entry, self.table, self.host, entry.start or time.time()
                ),
                "proc",
            )
        self.connector = ProcConnector()
        self.sources.append("proc_connector")
        proc = threading.Thread(target=self._process_loop, name="proc", daemon=True)
        proc.start()
        self.threads.append(proc)
        if self.options.fanotify:
            try:
                self.watch = FanotifyWatch(self.options.watch)
            except FanotifyError as error:
                self.problems.append(str(error))
            else:
                self.problems += self.watch.skipped
                self.sources.append("fanotify")
                self._thread("fanotify", self.watch, self._read_files)
        if self.options.audit:
            try:
                source = AuditSource(self)
            except Exception as error:
                self.problems.append(f"audit: {error}")
            else:
                self.audit = source
                self.sources.append("audit")
                self._thread("audit", source, source.read)
        self.writer = threading.Thread(target=self._writer, name="writer", daemon=True)
        self.writer.start()

    def _thread(self, name: str, readable: Readable, read: Callable[[], None]) -> None:
        thread = threading.Thread(
            target=self._loop, args=(name, readable, read), name=name, daemon=True
        )
        thread.start()
        self.threads.append(thread)

    def stop(self) -> dict[str, int]:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=10)
        # Closing a source may queue its last documents (audit events still open), so the
        # writer drains only after every source is closed.
        for closable in (self.connector, self.watch, self.audit):
            if closable is not None:
                with contextlib.suppress(OSError):
                    closable.close()
        self.sources_closed.set()
        if self.writer is not None:
            self.writer.join(timeout=30)
        for sink in self.sinks:
            sink.close()
        return self.totals()


__all__ = ["DEFAULT_WATCH", "NdjsonSink", "Sensor", "SensorOptions", "Sink"]
