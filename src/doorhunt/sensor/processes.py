"""The sensor's process table: what it knows about every live process, so every event carries
`process.entity_id`, `process.parent.entity_id` and `process.Ext.ancestry` (Elastic Defend's
names), stable across pid reuse (the id hashes host, boot, pid and start time).

Seeded from /proc at start (`already_running` events); kept current from process events;
enriched from /proc at exec. A process that is gone before /proc can be read is still
recorded with what the event told, marked partial. Bounded: exited processes are kept for a
while (late audit records refer to them) and then dropped, oldest first.
"""

from __future__ import annotations

import functools
import os
import pwd
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

from doorhunt.ecs import entity_id, format_epoch
from doorhunt.host.procfs import Process, read_process, read_stat_numbers

# Environment variables worth keeping with an exec (BPFDOOR.md §3: the shell's triple).
KEPT_ENVIRONMENT = (
    "HOME",
    "HISTFILE",
    "MYSQL_HISTFILE",
    "TERM",
    "LD_PRELOAD",
    "SSH_CONNECTION",
    "SUDO_USER",
    "PWD",
)
MAX_ANCESTRY = 20
MAX_EXITED = 20_000
MAX_LIVE = 200_000


@dataclass(slots=True)
class ProcessEntry:
    pid: int
    ppid: int
    start_ticks: int | None
    entity_id: str
    parent_entity_id: str | None
    executable: str | None = None
    args: tuple[str, ...] = ()
    name: str = ""
    working_directory: str | None = None
    uid: int | None = None
    euid: int | None = None
    environment: tuple[str, ...] = ()
    ancestry: tuple[str, ...] = ()
    start: float | None = None  # seconds since the epoch
    partial: bool = False
    exited: bool = False
    exit_code: int | None = None
    fields: dict[str, object] | None = None  # the ECS process fields, built once per change

    def changed(self) -> None:
        self.fields = None


@dataclass(frozen=True, slots=True)
class ExecView:
    """What the sensor reads of a process right after exec: only what changes at exec."""

    ppid: int
    start_ticks: int
    comm: str
    executable: str | None
    args: tuple[str, ...]
    environment: tuple[str, ...]
    working_directory: str | None


def _small(path: str, limit: int = 1 << 20) -> bytes | None:
    """Up to `limit` bytes of a /proc file, or None when it cannot be opened or read.

    Read in 16 KiB steps: asking os.read for 1 MiB at once allocates (and the kernel maps and
    unmaps) a 1 MiB buffer per call, which at thousands of execs a second costs more than
    the reads. A /proc file returns less than asked only at its end."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        chunks: list[bytes] = []
        size = 0
        while size < limit:
            wanted = min(16384, limit - size)
            chunk = os.read(descriptor, wanted)
            chunks.append(chunk)
            size += len(chunk)
            if len(chunk) < wanted:
                break
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(descriptor)


def read_exec_view(pid: int, proc: str = "/proc") -> ExecView | None:
    """A lean read of /proc/PID after exec (about 14 syscalls, no status: uid is tracked from
    events), or None when the process is gone; an exec storm makes this the sensor's hot path."""
    base = f"{proc}/{pid}"
    stat = _small(f"{base}/stat", 4096)
    if not stat:
        return None
    comm, _, rest = stat.partition(b" (")[2].rpartition(b") ")
    fields = rest.split()
    if len(fields) < 20:
        return None
    try:
        executable: str | None = os.readlink(f"{base}/exe")
    except OSError:
        executable = None
    try:
        cwd: str | None = os.readlink(f"{base}/cwd")
    except OSError:
        cwd = None
    arguments = _small(f"{base}/cmdline") or b""
    environ = _small(f"{base}/environ") or b""
    wanted = tuple(
        entry
        for entry in environ.decode("utf-8", "surrogateescape").split("\0")
        if entry.split("=", 1)[0] in KEPT_ENVIRONMENT and "=" in entry
    )
    args = arguments.rstrip(b"\0").decode("utf-8", "surrogateescape").split("\0")
    return ExecView(
        int(fields[1]),
        int(fields[19]),
        comm.decode("utf-8", "surrogateescape"),
        executable,
        tuple(a for a in args if a or len(args) > 1) if arguments else (),
        wanted,
        cwd,
    )


@functools.lru_cache(maxsize=4096)
def _user_name(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except (KeyError, OverflowError):
        return None


class ProcessTable:
    def __init__(
        self, host_id: str, boot_id: str, boot_time: float | None, proc: str = "/proc"
    ) -> None:
        self.host_id, self.boot_id, self.boot_time, self.proc = host_id, boot_id, boot_time, proc
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.live: dict[int, ProcessEntry] = {}
        self.exited: OrderedDict[str, ProcessEntry] = OrderedDict()
        self.evicted = 0

    def _id(self, pid: int, ticks: int | None, fallback: float) -> str:
        if ticks is None:
            # No start time readable: the event's time stands in (still unique per pid use).
            return entity_id(self.host_id, pid, int(fallback * 1000), boot_id=self.boot_id + "~")
        return entity_id(self.host_id, pid, ticks, boot_id=self.boot_id)

    def current_entity_id(self, pid: int) -> str | None:
        """The entity id of whatever process holds `pid` now, None if none does."""
        numbers = read_stat_numbers(pid, self.proc)
        if numbers is None:
            return None
        return entity_id(self.host_id, pid, numbers.start_ticks, boot_id=self.boot_id)

    def _start(self, ticks: int | None) -> float | None:
        if ticks is None or self.boot_time is None:
            return None
        return self.boot_time + ticks / self.ticks

    def _from_record(self, record: Process, parent: ProcessEntry | None) -> ProcessEntry:
        environment = record.environment() or {}
        entry = ProcessEntry(
            pid=record.pid,
            ppid=record.ppid,
            start_ticks=record.start_ticks,
            entity_id=self._id(record.pid, record.start_ticks, 0.0),
            parent_entity_id=parent.entity_id if parent else None,
            executable=record.exe if isinstance(record.exe, str) else None,
            args=record.argv if isinstance(record.argv, tuple) else (),
            name=record.comm,
            working_directory=record.cwd if isinstance(record.cwd, str) else None,
            uid=record.uid if isinstance(record.uid, int) else None,
            euid=record.euid if isinstance(record.euid, int) else None,
            environment=tuple(
                f"{key}={environment[key]}" for key in KEPT_ENVIRONMENT if key in environment
            ),
            start=self._start(record.start_ticks),
        )
        entry.ancestry = self._ancestry(parent)
        return entry

    def _ancestry(self, parent: ProcessEntry | None) -> tuple[str, ...]:
        if parent is None:
            return ()
        return (parent.entity_id, *parent.ancestry)[:MAX_ANCESTRY]

    def seed(self) -> Iterator[ProcessEntry]:
        """Every running process, parents before children (`already_running`)."""
        records = {}
        for name in os.listdir(self.proc):
            if name.isdigit():
                record = read_process(int(name), self.proc)
                if record is not None:
                    records[record.pid] = record
        done: set[int] = set()

        def add(pid: int) -> Iterator[ProcessEntry]:
            if pid in done or pid not in records:
                return
            done.add(pid)
            record = records[pid]
            if record.ppid in records and record.ppid not in done:
                yield from add(record.ppid)
            entry = self._from_record(record, self.live.get(record.ppid))
            self.live[pid] = entry
            yield entry

        for pid in sorted(records):
            yield from add(pid)

    def get(self, pid: int) -> ProcessEntry | None:
        return self.live.get(pid)

    def runs(self, path: str) -> bool:
        """Whether a live process runs the executable at `path` (a self-deleting implant)."""
        return any(
            entry.executable and entry.executable.removesuffix(" (deleted)") == path
            for entry in list(self.live.values())
        )

    def fork(self, pid: int, ppid: int, timestamp: float) -> ProcessEntry:
        parent = self.live.get(ppid)
        numbers = read_stat_numbers(pid, self.proc)
        ticks = numbers.start_ticks if numbers else None
        entry = ProcessEntry(
            pid=pid,
            ppid=ppid,
            start_ticks=ticks,
            entity_id=self._id(pid, ticks, timestamp),
            parent_entity_id=parent.entity_id if parent else None,
            executable=parent.executable if parent else None,
            args=parent.args if parent else (),
            name=parent.name if parent else "",
            working_directory=parent.working_directory if parent else None,
            uid=parent.uid if parent else None,
            euid=parent.euid if parent else None,
            environment=parent.environment if parent else (),
            start=self._start(ticks) or timestamp,
            partial=ticks is None,
        )
        entry.ancestry = self._ancestry(parent)
        self._add(entry)
        return entry

    def exec(self, pid: int, timestamp: float) -> ProcessEntry:
        """Re-read the process after exec; keeps its identity (same pid, same start)."""
        known = self.live.get(pid)
        view = read_exec_view(pid, self.proc)
        if known is None:
            ticks = view.start_ticks if view else None
            parent = self.live.get(view.ppid) if view else None
            known = ProcessEntry(
                pid,
                view.ppid if view else 0,
                ticks,
                self._id(pid, ticks, timestamp),
                parent.entity_id if parent else None,
                start=self._start(ticks) or timestamp,
            )
            known.ancestry = self._ancestry(parent)
            self._add(known)
        known.changed()
        if view is None:
            # Gone already: what ran is unknown (its name too).
            known.partial, known.executable, known.args = True, None, ()
            return known
        known.executable = view.executable
        known.args = view.args
        known.name = view.comm
        known.environment = view.environment
        known.working_directory = view.working_directory
        # A zombie (exited before it could be read) has no exe link and no arguments left.
        known.partial = view.executable is None
        return known

    def exit(self, pid: int, code: int | None) -> ProcessEntry | None:
        entry = self.live.pop(pid, None)
        if entry is None:
            return None
        entry.exited, entry.exit_code = True, code
        entry.changed()
        self.exited[entry.entity_id] = entry
        while len(self.exited) > MAX_EXITED:
            self.exited.popitem(last=False)
            self.evicted += 1
        return entry

    def _add(self, entry: ProcessEntry) -> None:
        self.live[entry.pid] = entry
        if len(self.live) > MAX_LIVE:
            # Exit events were lost: drop the entries whose pid no longer exists.
            for pid in [p for p in self.live if not os.path.exists(f"{self.proc}/{p}")]:
                del self.live[pid]
                self.evicted += 1

    def process_fields(self, entry: ProcessEntry) -> dict[str, object]:
        """ECS `process.*` (and `user.*`) for an entry; cached until the entry changes (the
        documents share it: nothing may change it in place)."""
        if entry.fields is None:
            entry.fields = self._process_fields(entry)
        return entry.fields

    def _process_fields(self, entry: ProcessEntry) -> dict[str, object]:
        fields: dict[str, object] = {"pid": entry.pid, "entity_id": entry.entity_id}
        if entry.executable:
            executable = entry.executable
            fields["executable"] = executable
            fields["name"] = executable.rsplit("/", 1)[-1].removesuffix(" (deleted)")
        elif entry.name:
            fields["name"] = entry.name
        if entry.args:
            fields["args"] = list(entry.args)
            fields["args_count"] = len(entry.args)
            fields["command_line"] = " ".join(entry.args)
        if entry.working_directory:
            fields["working_directory"] = entry.working_directory
        if entry.start:
            fields["start"] = format_epoch(entry.start)
        if entry.environment:
            fields["env_vars"] = list(entry.environment)
        if entry.uid is not None:
            fields["user"] = {"id": str(entry.uid)}
            name = _user_name(entry.uid)
            if name:
                fields["user"]["name"] = name  # type: ignore[index]
        parent = self.live.get(entry.ppid)
        parent_fields: dict[str, object] = {"pid": entry.ppid}
        if entry.parent_entity_id:
            parent_fields["entity_id"] = entry.parent_entity_id
        if parent is not None:
            if parent.executable:
                parent_fields["executable"] = parent.executable
            parent_fields["name"] = (parent.executable or parent.name).rsplit("/", 1)[-1]
        fields["parent"] = parent_fields
        fields["Ext"] = {"ancestry": list(entry.ancestry)}
        if entry.exit_code is not None:
            fields["exit_code"] = entry.exit_code
        return fields


__all__ = ["KEPT_ENVIRONMENT", "ProcessEntry", "ProcessTable"]
