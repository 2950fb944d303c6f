"""File events from fanotify with directory-entry reporting (Linux 5.9+, FAN_REPORT_DFID_NAME):
creation, deletion, rename and modification of files directly in the watched directories, with
the acting process's pid. Pure Python over libc (fanotify_init, fanotify_mark,
name_to_handle_at); layouts from include/uapi/linux/fanotify.h.

Each event names its directory by file handle and the entry by name; the sensor knows the
handle of every directory it marked, so no handle has to be opened again.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from doorhunt.errors import DoorhuntError

FAN_CLASS_NOTIF = 0x0
FAN_CLOEXEC = 0x1
FAN_REPORT_DIR_FID = 0x400
FAN_REPORT_NAME = 0x800
FAN_MARK_ADD = 0x1
FAN_MODIFY = 0x2
FAN_CLOSE_WRITE = 0x8
FAN_MOVED_FROM = 0x40
FAN_MOVED_TO = 0x80
FAN_CREATE = 0x100
FAN_DELETE = 0x200
FAN_RENAME = 0x10000000  # Linux 5.17: one event with both names
FAN_EVENT_ON_CHILD = 0x08000000
FAN_ONDIR = 0x40000000
FAN_Q_OVERFLOW = 0x4000
INFO_DFID_NAME = 2
INFO_OLD_DFID_NAME = 10
INFO_NEW_DFID_NAME = 12
AT_FDCWD = -100
MAX_HANDLE_SZ = 128

_METADATA = struct.Struct("=IBBHQii")
_INFO_HEADER = struct.Struct("=BBH")

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


class FanotifyError(DoorhuntError):
    """fanotify is missing (old kernel), not permitted, or a directory cannot be watched."""


@dataclass(frozen=True, slots=True)
class FileEvent:
    action: str  # creation, deletion, rename, modification (Elastic Defend's file actions)
    path: str
    pid: int
    directory: bool
    old_path: str | None = None  # rename: where it was


def _handle(path: str) -> bytes:
    """name_to_handle_at(2) of a directory: handle type and bytes, as events carry them."""
    buffer = ctypes.create_string_buffer(8 + MAX_HANDLE_SZ)
    struct.pack_into("=Ii", buffer, 0, MAX_HANDLE_SZ, 0)
    mount = ctypes.c_int()
    if _libc.name_to_handle_at(AT_FDCWD, path.encode(), buffer, ctypes.byref(mount), 0) != 0:
        code = ctypes.get_errno()
        raise FanotifyError(f"{path}: name_to_handle_at: {os.strerror(code)}")
    size, kind = struct.unpack_from("=Ii", buffer, 0)
    return struct.pack("=i", kind) + buffer.raw[8 : 8 + size]


class FanotifyWatch:
    """Directory-entry events for `directories` (each watched itself, not recursively)."""

    def __init__(self, directories: Iterable[str]) -> None:
        flags = FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_REPORT_DIR_FID | FAN_REPORT_NAME
        descriptor = _libc.fanotify_init(flags, os.O_RDONLY | os.O_LARGEFILE)
        if descriptor < 0:
            code = ctypes.get_errno()
            reason = (
                "needs CAP_SYS_ADMIN"
                if code == errno.EPERM
                else "kernel without FAN_REPORT_DFID_NAME (before 5.9)"
                if code == errno.EINVAL
                else os.strerror(code)
            )
            raise FanotifyError(f"fanotify: {reason}")
        self.descriptor = int(descriptor)
        self.directories: dict[bytes, str] = {}
        self.skipped: list[str] = []
        self.rename_events = True
        for directory in dict.fromkeys(directories):
            try:
                self._mark(directory)
            except FanotifyError as error:
                self.skipped.append(str(error))

    def _mark(self, directory: str) -> None:
        real = os.path.realpath(directory)
        if not os.path.isdir(real):
            raise FanotifyError(f"{directory}: not a directory")
        handle = _handle(real)
        if handle in self.directories:
            return
        events = FAN_CREATE | FAN_DELETE | FAN_MODIFY | FAN_EVENT_ON_CHILD | FAN_ONDIR
        events |= FAN_RENAME if self.rename_events else FAN_MOVED_FROM | FAN_MOVED_TO
        if (
            _libc.fanotify_mark(
                self.descriptor, FAN_MARK_ADD, ctypes.c_uint64(events), AT_FDCWD, real.encode()
            )
            != 0
        ):
            code = ctypes.get_errno()
            if code == errno.EINVAL and self.rename_events:
                self.rename_events = False  # before 5.17: separate moved-from/moved-to events
                self._mark(directory)
                return
            raise FanotifyError(f"{directory}: fanotify_mark: {os.strerror(code)}")
        self.directories[handle] = real

    def fileno(self) -> int:
        return self.descriptor

    def read(self) -> list[FileEvent]:
        try:
            data = os.read(self.descriptor, 256 * 1024)
        except InterruptedError:
            return []
        return list(self.parse(data))

    def parse(self, data: bytes) -> Iterator[FileEvent]:
        offset = 0
        while offset + _METADATA.size <= len(data):
            length, _version, _, metadata_length, mask, descriptor, pid = _METADATA.unpack_from(
                data, offset
            )
            if length < _METADATA.size or offset + length > len(data):
                return
            del descriptor  # FAN_NOFD: in FID reporting mode the kernel opens no file for us
            records = dict(self._info(data[offset + metadata_length : offset + length]))
            offset += length
            if mask & FAN_Q_OVERFLOW:
                yield FileEvent("overflow", "", 0, False)
                continue
            directory = bool(mask & FAN_ONDIR)
            if mask & FAN_RENAME and INFO_OLD_DFID_NAME in records:
                old, new = records.get(INFO_OLD_DFID_NAME), records.get(INFO_NEW_DFID_NAME)
                if new is not None:
                    yield FileEvent("rename", new, pid, directory, old)
                continue
            path = records.get(INFO_DFID_NAME)
            if path is None:
                continue
            # fanotify merges events on one object until they are read: a create, a write and a
            # delete in quick succession arrive as one mask, reported here in that order.
            for bit, action in (
                (FAN_CREATE, "creation"),
                (FAN_MOVED_FROM, "rename"),
                (FAN_MOVED_TO, "rename"),
                (FAN_MODIFY, "modification"),
                (FAN_DELETE, "deletion"),
            ):
                if mask & bit:
                    yield FileEvent(
                        action, path, pid, directory, path if bit == FAN_MOVED_FROM else None
                    )

    def _info(self, data: bytes) -> Iterator[tuple[int, str]]:
        offset = 0
        while offset + _INFO_HEADER.size <= len(data):
            kind, _, length = _INFO_HEADER.unpack_from(data, offset)
            if length < _INFO_HEADER.size or offset + length > len(data):
                return
            record = data[offset + _INFO_HEADER.size : offset + length]
            offset += length
            # __kernel_fsid_t (8 bytes), then struct file_handle, then the entry's name.
            if len(record) < 16:
                continue
            size = struct.unpack_from("=I", record, 8)[0]
            handle = record[12 : 16 + size]
            name = record[16 + size :].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            directory = self.directories.get(handle)
            if directory is not None and name not in ("", "."):
                yield kind, f"{directory.rstrip('/')}/{name}"

    def close(self) -> None:
        os.close(self.descriptor)


__all__ = ["FanotifyError", "FanotifyWatch", "FileEvent"]
