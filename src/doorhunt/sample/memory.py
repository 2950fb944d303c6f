"""Reading a live process's memory for scanning: its mappings (`/proc/PID/maps`) and their
bytes (`/proc/PID/mem`, proc(5)). Reading another process's memory needs ptrace access
(root, or the same user under Yama `ptrace_scope` 0/1 for a descendant); a refusal is a gap,
never an empty result.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_REGION_BYTES = 64 * 1024 * 1024
MAX_PROCESS_BYTES = 512 * 1024 * 1024
MAX_MAPPINGS = 65_536  # vm.max_map_count's default
READ_CHUNK = 4 * 1024 * 1024

# Kernel-provided mappings with nothing of the program in them (and [vvar] faults on read).
_SPECIAL = frozenset({"[vvar]", "[vvar_vclock]", "[vsyscall]", "[vdso]", "[uprobes]"})


@dataclass(frozen=True, slots=True)
class Mapping:
    """One line of /proc/PID/maps."""

    start: int
    end: int
    permissions: str  # e.g. "r-xp"
    offset: int
    path: str  # "" for anonymous memory; "[heap]", "[stack]", "/memfd:x (deleted)", a file

    @property
    def size(self) -> int:
        return self.end - self.start

    @property
    def readable(self) -> bool:
        return self.permissions.startswith("r")

    def describe(self) -> str:
        where = self.path or "anonymous"
        return f"{self.start:#x}-{self.end:#x} {self.permissions} {where}"


def read_mappings(pid: int, proc: Path = Path("/proc")) -> list[Mapping]:
    """The process's mappings; raises OSError (ENOENT when it has exited)."""
    text = (proc / str(pid) / "maps").read_text(encoding="utf-8", errors="surrogateescape")
    return list(parse_mappings(text))


def parse_mappings(text: str) -> Iterator[Mapping]:
    """Parse maps text; malformed lines are skipped (the format is the kernel's, but a fake
    /proc in a container or a truncated read must not stop a scan)."""
    for count, line in enumerate(text.splitlines()):
        if count >= MAX_MAPPINGS:
            return
        fields = line.split(maxsplit=5)
        if len(fields) < 5:
            continue
        span, permissions, offset = fields[0], fields[1], fields[2]
        start_text, _, end_text = span.partition("-")
        try:
            start, end = int(start_text, 16), int(end_text, 16)
            file_offset = int(offset, 16)
        except ValueError:
            continue
        if end <= start or len(permissions) != 4:
            continue
        yield Mapping(start, end, permissions, file_offset, fields[5] if len(fields) > 5 else "")


def worth_scanning(mapping: Mapping, executable: str | None) -> bool:
    """A mapping that can hold the implant: anonymous memory, heap and stack, the program's
    own file, and memory-backed or deleted files (fileless and self-deleting implants,
    BPFDOOR.md §1 step 1). Shared libraries from disk are left to a file scan."""
    if not mapping.readable or mapping.path in _SPECIAL:
        return False
    path = mapping.path
    if not path or path.startswith(("[", "/memfd:")):
        return True
    if path.endswith(" (deleted)"):
        return True
    return executable is not None and path == executable


def group_mappings(mappings: Iterable[Mapping]) -> Iterator[Mapping]:
    """Consecutive mappings of the same file, back to back in memory, as one: the loader maps
    an ELF file's segments separately, and rules anchored on the ELF header (at the start of
    the first) must see the strings in the read-only data (in the third) in the same scan."""
    pending: Mapping | None = None
    for mapping in mappings:
        if (
            pending is not None
            and mapping.path
            and not mapping.path.startswith("[")
            and mapping.path == pending.path
            and mapping.start == pending.end
            and mapping.offset >= pending.offset
        ):
            pending = Mapping(pending.start, mapping.end, "r---", pending.offset, pending.path)
            continue
        if pending is not None:
            yield pending
        pending = mapping
    if pending is not None:
        yield pending


def read_mapping(pid: int, mapping: Mapping, limit: int, proc: Path = Path("/proc")) -> bytes:
    """Up to `limit` bytes of a mapping; raises OSError when the kernel refuses."""
    wanted = min(mapping.size, limit)
    chunks = []
    descriptor = os.open(proc / str(pid) / "mem", os.O_RDONLY)
    try:
        position = mapping.start
        while wanted > 0:
            chunk = os.pread(descriptor, min(READ_CHUNK, wanted), position)
            if not chunk:
                break
            chunks.append(chunk)
            position += len(chunk)
            wanted -= len(chunk)
    finally:
        os.close(descriptor)
    return b"".join(chunks)


__all__ = [
    "Mapping",
    "group_mappings",
    "parse_mappings",
    "read_mapping",
    "read_mappings",
    "worth_scanning",
]
