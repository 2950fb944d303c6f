"""Files BPFDoor leaves: PID/lock files in /run and /var/run, file locks, and executables in
shared-memory and temporary directories (BPFDOOR.md §1, §3)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass

PID_SUFFIXES = (".pid", ".lock", ".reboot")  # the three Elastic's rule watches (§7)
TEMP_DIRECTORIES = ("/dev/shm", "/tmp", "/var/tmp", "/run")
MAX_ENTRIES = 20000


@dataclass(frozen=True, slots=True)
class FileFacts:
    path: str
    size: int
    mode: int
    uid: int
    gid: int
    inode: int
    device: int
    mtime: float
    ctime: float
    atime: float

    @classmethod
    def of(cls, path: str, info: os.stat_result) -> FileFacts:
        return cls(
            path,
            info.st_size,
            stat.S_IMODE(info.st_mode),
            info.st_uid,
            info.st_gid,
            info.st_ino,
            info.st_dev,
            info.st_mtime,
            info.st_ctime,
            info.st_atime,
        )


@dataclass(frozen=True, slots=True)
class PidFile:
    facts: FileFacts
    aliases: tuple[str, ...]  # the same file under the other directory (/var/run → /run)
    content: str  # "empty", "pid", "text", "binary" or "unreadable"
    pid: int | None  # the number inside, when it is one

    @property
    def name(self) -> str:
        return self.facts.path.rsplit("/", 1)[-1]

    @property
    def stem(self) -> str:
        name = self.name
        for suffix in PID_SUFFIXES:
            if name.endswith(suffix):
                return name[: -len(suffix)]
        return name


@dataclass(frozen=True, slots=True)
class FileLock:
    """A line of /proc/locks."""

    pid: int
    kind: str  # POSIX, FLOCK, OFDLCK, LEASE
    access: str  # READ, WRITE
    device: int  # st_dev form of major:minor
    inode: int


@dataclass(frozen=True, slots=True)
class TempExecutable:
    facts: FileFacts
    kind: str  # "elf", "script" or "executable"


def _content_shape(path: str, size: int) -> tuple[str, int | None]:
    if size == 0:
        return "empty", None
    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
    except OSError:
        return "unreadable", None
    text = head.strip()
    if text.isdigit() and len(text) <= 10:
        return "pid", int(text)
    if all(32 <= byte < 127 or byte in (9, 10, 13) for byte in head):
        return "text", None
    return "binary", None


def pid_files(directories: Iterable[str] = ("/run", "/var/run"), depth: int = 1) -> list[PidFile]:
    """*.pid, *.lock and *.reboot files directly in each directory and `depth` levels below.
    /var/run is usually a link to /run; each file is listed once, with its other name."""
    seen: dict[tuple[int, int], tuple[str, list[str]]] = {}
    facts: dict[tuple[int, int], FileFacts] = {}
    for directory in directories:
        for path in _walk(directory, depth):
            if not path.endswith(PID_SUFFIXES):
                continue
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            key = (info.st_dev, info.st_ino)
            if key in seen:
                seen[key][1].append(path)
            else:
                seen[key] = (path, [])
                facts[key] = FileFacts.of(path, info)
    found = []
    for key, (_, aliases) in seen.items():
        content, pid = _content_shape(facts[key].path, facts[key].size)
        found.append(PidFile(facts[key], tuple(aliases), content, pid))
    return sorted(found, key=lambda f: f.facts.path)


def _walk(directory: str, depth: int) -> Iterable[str]:
    try:
        entries = list(os.scandir(directory))[:MAX_ENTRIES]
    except OSError:
        return
    for entry in entries:
        yield entry.path
        if depth > 0:
            try:
                is_directory = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_directory:
                yield from _walk(entry.path, depth - 1)


def read_locks(proc: str = "/proc") -> list[FileLock]:
    """/proc/locks: `1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF` (waiters, `->`, skipped)."""
    try:
        with open(f"{proc}/locks", "rb") as handle:
            text = handle.read(8 * 1024 * 1024).decode("ascii", "replace")
    except OSError:
        return []
    locks = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 6 or "->" in fields[1]:
            continue
        try:
            kind, access = fields[1], fields[3]
            pid = int(fields[4])
            major, minor, inode = fields[5].split(":")
            device = os.makedev(int(major, 16), int(minor, 16))
            locks.append(FileLock(pid, kind, access, device, int(inode)))
        except ValueError:
            continue
    return locks


def temp_executables(
    directories: Iterable[str] = TEMP_DIRECTORIES, depth: int = 3
) -> list[TempExecutable]:
    """Regular files in shared-memory and temporary directories that can run: ELF files, #!
    scripts, or anything with an execute bit."""
    found = []
    for directory in directories:
        for path in _walk(directory, depth):
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            kind = None
            if info.st_size >= 4:
                try:
                    with open(path, "rb") as handle:
                        head = handle.read(4)
                except OSError:
                    head = b""
                if head == b"\x7fELF":
                    kind = "elf"
                elif head.startswith(b"#!"):
                    kind = "script"
            if kind is None and info.st_mode & 0o111:
                kind = "executable"
            if kind is not None:
                found.append(TempExecutable(FileFacts.of(path, info), kind))
    return found


__all__ = [
    "FileFacts",
    "FileLock",
    "PidFile",
    "TempExecutable",
    "pid_files",
    "read_locks",
    "temp_executables",
]
