"""Processes as /proc shows them, read exactly and defensively.

Every field that cannot be read is an `Unreadable` with the reason (permission, hidepid), never an
empty value that would look clean (Volatility's absent-value markers). A process that exits while
it is being read is skipped. Names, arguments and paths are kept as the kernel gives them:
decoded with surrogateescape, so odd bytes survive to the JSON evidence.
"""

from __future__ import annotations

import errno
import os
import platform
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PF_KTHREAD = 0x00200000  # include/linux/sched.h: "I am a kernel thread"
MAX_FILE = 4 * 1024 * 1024  # cmdline/environ are bounded by ARG_MAX (2 MiB); be generous
MAX_FDS = 65536

# Syscalls a listener blocks in, by architecture (arch/x86/entry/syscalls/syscall_64.tbl,
# include/uapi/asm-generic/unistd.h for arm64).
WAIT_SYSCALLS = {
    "x86_64": {
        0: "read",
        7: "poll",
        23: "select",
        35: "nanosleep",
        45: "recvfrom",
        47: "recvmsg",
        61: "wait4",
        202: "futex",
        230: "clock_nanosleep",
        232: "epoll_wait",
        270: "pselect6",
        271: "ppoll",
        281: "epoll_pwait",
        299: "recvmmsg",
        441: "epoll_pwait2",
    },
    "aarch64": {
        63: "read",
        72: "pselect6",
        73: "ppoll",
        98: "futex",
        101: "nanosleep",
        115: "clock_nanosleep",
        207: "recvfrom",
        212: "recvmsg",
        243: "recvmmsg",
        260: "wait4",
        22: "epoll_pwait",
        441: "epoll_pwait2",
    },
}
# Syscalls whose first argument is the file descriptor being waited on.
FD_SYSCALLS = frozenset({"read", "recvfrom", "recvmsg", "recvmmsg"})


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A field the sweep could not read, and why (errno name or a short reason)."""

    reason: str

    def __str__(self) -> str:
        return f"<unreadable: {self.reason}>"


@dataclass(frozen=True, slots=True)
class OpenFile:
    fd: int
    target: str  # readlink of /proc/PID/fd/N: a path, "socket:[123]", "anon_inode:bpf-prog"

    @property
    def socket_inode(self) -> int | None:
        if self.target.startswith("socket:[") and self.target.endswith("]"):
            digits = self.target[8:-1]
            return int(digits) if digits.isdigit() else None
        return None


@dataclass(frozen=True, slots=True)
class WaitState:
    """Where a thread is blocked (/proc/PID/task/TID/syscall)."""

    tid: int
    syscall: str  # a name from WAIT_SYSCALLS, "nr N", "running" or "blocked"
    fd: int | None  # the descriptor it waits on, for read/recv*


@dataclass(frozen=True, slots=True)
class Process:
    pid: int
    ppid: int
    start_ticks: int  # /proc/PID/stat field 22, clock ticks after boot
    state: str
    flags: int
    comm: str
    uid: int | Unreadable  # real uid
    euid: int | Unreadable
    exe: str | Unreadable | None  # None: no executable (kernel thread, zombie)
    exe_deleted: bool  # the executable's file has no name left (unlinked)
    argv: tuple[str, ...] | Unreadable
    environ: tuple[str, ...] | Unreadable  # exact NUL-separated entries
    cwd: str | Unreadable | None
    cgroup: str | Unreadable
    netns: int | Unreadable  # inode of /proc/PID/ns/net
    pidns: int | Unreadable
    files: tuple[OpenFile, ...] | Unreadable
    waits: tuple[WaitState, ...] | Unreadable

    @property
    def kernel_thread(self) -> bool:
        return bool(self.flags & PF_KTHREAD)

    @property
    def memfd(self) -> bool:
        return isinstance(self.exe, str) and self.exe.startswith("/memfd:")

    @property
    def executable(self) -> str | None:
        """The executable's path without the kernel's " (deleted)" suffix."""
        if not isinstance(self.exe, str):
            return None
        if self.exe_deleted and self.exe.endswith(" (deleted)"):
            return self.exe[: -len(" (deleted)")]
        return self.exe

    @property
    def command_line(self) -> str:
        return " ".join(self.argv) if isinstance(self.argv, tuple) else self.comm

    @property
    def name(self) -> str:
        """What `ps` would call it: argv[0]'s last component, else comm."""
        if isinstance(self.argv, tuple) and self.argv and self.argv[0]:
            return self.argv[0].rsplit("/", 1)[-1] or self.comm
        return self.comm

    def environment(self) -> dict[str, str] | None:
        if not isinstance(self.environ, tuple):
            return None
        return dict(entry.split("=", 1) for entry in self.environ if "=" in entry)

    def socket_inodes(self) -> dict[int, int]:
        """socket inode → fd number."""
        if not isinstance(self.files, tuple):
            return {}
        return {inode: f.fd for f in self.files if (inode := f.socket_inode) is not None}


class _Vanished(Exception):
    """The process exited while being read."""


def _errno_name(error: OSError) -> str:
    return errno.errorcode.get(error.errno or 0, str(error.errno))


def _read(path: str) -> bytes:
    descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = []
        total = 0
        while total < MAX_FILE:
            chunk = os.read(descriptor, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


class _Reader:
    """Reads the files of one /proc/PID directory, turning errors into Unreadable."""

    def __init__(self, base: str) -> None:
        self.base = base

    def _failed(self, error: OSError) -> Unreadable:
        if error.errno in (errno.ENOENT, errno.ESRCH) and not os.path.exists(self.base):
            raise _Vanished from error
        return Unreadable(_errno_name(error))

    def bytes(self, name: str) -> bytes | Unreadable:
        try:
            return _read(f"{self.base}/{name}")
        except OSError as error:
            return self._failed(error)

    def link(self, name: str) -> str | Unreadable | None:
        try:
            return os.readlink(f"{self.base}/{name}")
        except OSError as error:
            if error.errno == errno.ENOENT and os.path.exists(self.base):
                return None  # kernel threads and zombies have no exe/cwd
            return self._failed(error)

    def inode(self, name: str) -> int | Unreadable:
        try:
            return os.stat(f"{self.base}/{name}").st_ino
        except OSError as error:
            return self._failed(error)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _split_nul(data: bytes) -> tuple[str, ...]:
    parts = data.split(b"\0")
    while parts and parts[-1] == b"":
        parts.pop()  # the terminating NUL, and NUL padding left by argv rewriting
    return tuple(_text(part) for part in parts)


def _wait_states(reader: _Reader, pid: int, machine: str) -> tuple[WaitState, ...] | Unreadable:
    try:
        tids = sorted(int(tid) for tid in os.listdir(f"{reader.base}/task") if tid.isdigit())
    except OSError as error:
        return reader._failed(error)
    names = WAIT_SYSCALLS.get(machine, {})
    states = []
    for tid in tids[:64]:
        data = reader.bytes(f"task/{tid}/syscall")
        if isinstance(data, Unreadable):
            if tid == pid:
                return data
            continue
        fields = data.split()
        if not fields:
            continue
        if fields[0] == b"running":
            states.append(WaitState(tid, "running", None))
            continue
        try:
            number = int(fields[0])
        except ValueError:
            continue
        if number < 0:
            states.append(WaitState(tid, "blocked", None))
            continue
        name = names.get(number, f"nr {number}")
        fd = None
        if name in FD_SYSCALLS and len(fields) > 1:
            try:
                fd = int(fields[1], 16)
            except ValueError:
                fd = None
        states.append(WaitState(tid, name, fd))
    return tuple(states)


def _open_files(reader: _Reader) -> tuple[OpenFile, ...] | Unreadable:
    try:
        names = os.listdir(f"{reader.base}/fd")
    except OSError as error:
        return reader._failed(error)
    opened = []
    for name in names[:MAX_FDS]:
        try:
            opened.append(OpenFile(int(name), os.readlink(f"{reader.base}/fd/{name}")))
        except (OSError, ValueError):
            continue  # closed meanwhile
    return tuple(sorted(opened, key=lambda f: f.fd))


@dataclass(frozen=True, slots=True)
class StatNumbers:
    flags: int  # the kernel's PF_* flags of the task (field 9)
    start_ticks: int  # clock ticks after boot (field 22)


def read_stat_numbers(pid: int, proc: str = "/proc") -> StatNumbers | None:
    """Flags and start time of a process (cheap: one read), or None when it is gone."""
    try:
        fields = _read(f"{proc}/{pid}/stat").rpartition(b") ")[2].split()
        return StatNumbers(int(fields[6]), int(fields[19]))
    except (OSError, ValueError, IndexError):
        return None


def read_process(
    pid: int, proc: str = "/proc", machine: str | None = None, *, full: bool = True
) -> Process | None:
    """One process, or None when it no longer exists (or never did). With `full=False` the
    descriptors, wait states, cgroup and namespaces are not read (the sensor's exec path)."""
    reader = _Reader(f"{proc}/{pid}")
    try:
        stat = reader.bytes("stat")
        if isinstance(stat, Unreadable):
            return None
        # comm may hold spaces and parentheses: it ends at the last ')' (proc(5)).
        head, _, tail = stat.partition(b" (")
        comm_bytes, _, rest = tail.rpartition(b") ")
        fields = rest.split()
        if len(fields) < 20 or not head.strip().isdigit():
            return None
        state, ppid, flags, start = fields[0], int(fields[1]), int(fields[6]), int(fields[19])
        uid: int | Unreadable = Unreadable("ENOENT")
        euid: int | Unreadable = uid
        status = reader.bytes("status")
        if isinstance(status, Unreadable):
            uid = euid = status
        else:
            for line in status.split(b"\n"):
                if line.startswith(b"Uid:"):
                    ids = line.split()[1:3]
                    uid, euid = int(ids[0]), int(ids[1])
                    break
        exe = reader.link("exe")
        deleted = False
        if isinstance(exe, str) and (full or exe.endswith(" (deleted)")):
            # The suffix alone could be part of a real name; the link count settles it.
            try:
                deleted = os.stat(f"{reader.base}/exe").st_nlink == 0
            except OSError:
                deleted = exe.endswith(" (deleted)")
        cmdline = reader.bytes("cmdline")
        environ = reader.bytes("environ")
        skipped = Unreadable("not read")
        cgroup = reader.bytes("cgroup") if full else skipped
        files = _open_files(reader) if full else skipped
        return Process(
            pid=pid,
            ppid=ppid,
            start_ticks=start,
            state=state.decode("ascii", "replace"),
            flags=flags,
            comm=_text(comm_bytes),
            uid=uid,
            euid=euid,
            exe=exe,
            exe_deleted=deleted,
            argv=cmdline if isinstance(cmdline, Unreadable) else _split_nul(cmdline),
            environ=environ if isinstance(environ, Unreadable) else _split_nul(environ),
            cwd=reader.link("cwd"),
            cgroup=cgroup if isinstance(cgroup, Unreadable) else _text(cgroup).strip(),
            netns=reader.inode("ns/net") if full else skipped,
            pidns=reader.inode("ns/pid") if full else skipped,
            files=files,
            waits=_wait_states(reader, pid, machine or platform.machine()) if full else skipped,
        )
    except _Vanished:
        return None
    except (ValueError, IndexError):
        return None  # a stat line we cannot parse is not a process we can judge


def process_ids(proc: str = "/proc") -> list[int]:
    try:
        return sorted(int(name) for name in os.listdir(proc) if name.isdigit())
    except OSError:
        return []


def read_processes(proc: str = "/proc") -> Iterator[Process]:
    machine = platform.machine()
    for pid in process_ids(proc):
        record = read_process(pid, proc, machine)
        if record is not None:
            yield record


def boot_time(proc: str = "/proc") -> float | None:
    """Seconds since the epoch at boot (/proc/stat btime), for start-time conversion."""
    try:
        for line in Path(proc, "stat").read_bytes().split(b"\n"):
            if line.startswith(b"btime "):
                return float(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


__all__ = [
    "OpenFile",
    "Process",
    "Unreadable",
    "WaitState",
    "boot_time",
    "process_ids",
    "read_process",
    "read_processes",
    "read_stat_numbers",
]
