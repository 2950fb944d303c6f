"""The quarantine: files moved out of the way by `sensor --prevent`, kept as evidence.

Each item is two files in `DATA/quarantine/`: `ID.bin`, the file's bytes (mode 0600, owner
root), and `ID.json`, what is needed to judge and restore it: original path, SHA-256, size,
mode, owner, times, when and why it was quarantined. `doorhunt quarantine list|restore` reads
them. A file is copied first and its original removed only once the copy is on disk, and only
if the original is still the same file (same device and inode), so a crash never loses it.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

from doorhunt.datadir import write_json_atomically
from doorhunt.errors import DoorhuntError

CHUNK: Final = 1 << 20
# Never moved, whatever a rule says: a false positive here would break the host. The process
# can still be killed, and the file hashed and examined (`doorhunt sample`).
PROTECTED_PREFIXES: Final = (
    "/bin/",
    "/boot/",
    "/lib/",
    "/lib32/",
    "/lib64/",
    "/libx32/",
    "/sbin/",
    "/usr/",
)


class QuarantineError(DoorhuntError):
    """A file was not quarantined or restored; the message says why."""


@dataclass(frozen=True, slots=True)
class QuarantinedFile:
    id: str
    original_path: str
    sha256: str
    size: int
    mode: int
    uid: int
    gid: int
    mtime_ns: int
    atime_ns: int
    quarantined_at: float
    reason: str
    copied_from: str  # where the bytes were read: the path, or /proc/PID/exe for a deleted file
    original_removed: bool

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, document: object) -> QuarantinedFile:
        if not isinstance(document, dict):
            raise ValueError("not an object")
        return cls(**{name: document[name] for name in cls.__dataclass_fields__})


class Quarantine:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def add(self, path: str, *, reason: str, pid: int | None = None) -> QuarantinedFile:
        """Move `path` into the quarantine. When it was deleted but `pid` still runs it, the
        bytes are copied from /proc/PID/exe (the evidence would otherwise be lost)."""
        original = path.removesuffix(" (deleted)")
        refusal = refuse_path(original, self.directory)
        if refusal:
            raise QuarantineError(refusal)
        source, removable = original, True
        try:
            descriptor = os.open(original, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            if pid is None:
                raise QuarantineError(f"{original}: no longer exists") from None
            source, removable = f"/proc/{pid}/exe", False
            try:
                descriptor = os.open(source, os.O_RDONLY)
            except OSError as error:
                raise QuarantineError(f"{original}: gone, and {source}: {error.strerror}") from None
        except OSError as error:
            raise QuarantineError(f"{original}: {error.strerror}") from None
        try:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode):
                raise QuarantineError(f"{original}: not a regular file")
            item_id = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{uuid.uuid4().hex[:8]}"
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            digest = self._copy(descriptor, self.directory / f"{item_id}.bin")
        finally:
            os.close(descriptor)
        removed = False
        if removable:
            removed = _remove_if_same(original, status)
        item = QuarantinedFile(
            id=item_id,
            original_path=original,
            sha256=digest,
            size=status.st_size,
            mode=stat.S_IMODE(status.st_mode),
            uid=status.st_uid,
            gid=status.st_gid,
            mtime_ns=status.st_mtime_ns,
            atime_ns=status.st_atime_ns,
            quarantined_at=time.time(),
            reason=reason,
            copied_from=source,
            original_removed=removed,
        )
        write_json_atomically(self.directory / f"{item_id}.json", item.to_json())
        return item

    def _copy(self, descriptor: int, target: Path) -> str:
        digest = hashlib.sha256()
        output = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            while chunk := os.read(descriptor, CHUNK):
                digest.update(chunk)
                os.write(output, chunk)
            os.fsync(output)
        except OSError:
            os.close(output)
            target.unlink(missing_ok=True)
            raise
        os.close(output)
        return digest.hexdigest()

    def items(self) -> Iterator[QuarantinedFile | tuple[Path, str]]:
        """Every item, oldest first; an unreadable record as (its path, the reason)."""
        if not self.directory.is_dir():
            return
        for record in sorted(self.directory.glob("*.json")):
            try:
                yield QuarantinedFile.from_json(json.loads(record.read_bytes()))
            except (OSError, ValueError, KeyError, TypeError) as error:
                yield record, f"unreadable quarantine record: {error}"

    def find(self, item_id: str) -> QuarantinedFile:
        matches = [
            item
            for item in self.items()
            if isinstance(item, QuarantinedFile) and item.id.startswith(item_id)
        ]
        if len(matches) != 1:
            found = "no" if not matches else f"{len(matches)}"
            raise QuarantineError(f"{found} quarantined file with id {item_id!r}")
        return matches[0]

    def restore(self, item_id: str, *, force: bool = False, to: str | None = None) -> str:
        """Put a file back where it was (or at `to`), with its mode, owner and times."""
        item = self.find(item_id)
        target = to or item.original_path
        if os.path.lexists(target) and not force:
            raise QuarantineError(f"{target} exists (use --force to overwrite, or --to PATH)")
        stored = self.directory / f"{item.id}.bin"
        data = stored.read_bytes()
        if hashlib.sha256(data).hexdigest() != item.sha256:
            raise QuarantineError(f"{stored}: its SHA-256 no longer matches the record")
        temporary = f"{target}.doorhunt-restore"
        descriptor = os.open(
            temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600
        )
        try:
            os.write(descriptor, data)
            os.fchown(descriptor, item.uid, item.gid)
            os.fchmod(descriptor, item.mode)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.utime(temporary, ns=(item.atime_ns, item.mtime_ns))
        os.replace(temporary, target)
        stored.unlink()
        (self.directory / f"{item.id}.json").unlink()
        return target


def refuse_path(path: str, quarantine: Path) -> str | None:
    """Why `path` must not be quarantined, or None."""
    if not path.startswith("/"):
        return f"{path!r}: not an absolute path"
    resolved = os.path.normpath(path)
    if resolved.startswith(PROTECTED_PREFIXES):
        return f"{resolved}: system directories are never quarantined"
    if resolved.startswith(str(quarantine.parent.resolve()) + "/"):
        return f"{resolved}: inside doorhunt's data directory"
    return None


def _remove_if_same(path: str, copied: os.stat_result) -> bool:
    """Unlink `path` if it is still the file that was copied (not replaced meanwhile)."""
    try:
        current = os.lstat(path)
        if (current.st_dev, current.st_ino) != (copied.st_dev, copied.st_ino):
            return False
        os.unlink(path)
    except OSError:
        return False
    return True


__all__ = ["Quarantine", "QuarantineError", "QuarantinedFile", "refuse_path"]
