"""Which installed package owns a file, read from the package databases directly.

dpkg: /var/lib/dpkg/info/*.list (one owned path a line). rpm: /var/lib/rpm/rpmdb.sqlite
(RPM 4.16+), whose Packages table holds each package's header blob; the file list is rebuilt
from the BASENAMES, DIRNAMES and DIRINDEXES tags (rpm/rpmtag.h). The older Berkeley DB format
is not read; that is reported as a gap when it is the only database.

Allow-listing keys on this (DESIGN.md principle 2): a copy of dhclient in /tmp is not owned.
"""

from __future__ import annotations

import os
import sqlite3
import struct
from dataclasses import dataclass, field
from pathlib import Path

RPMTAG_NAME = 1000
RPMTAG_DIRINDEXES = 1116
RPMTAG_BASENAMES = 1117
RPMTAG_DIRNAMES = 1118
MAX_HEADER = 64 * 1024 * 1024
# usrmerge: the same file may be listed under /bin or /usr/bin (Debian 12, Fedora).
_MERGED = (
    ("/usr/bin/", "/bin/"),
    ("/usr/sbin/", "/sbin/"),
    ("/usr/lib/", "/lib/"),
    ("/usr/lib64/", "/lib64/"),
)


def parse_rpm_header(blob: bytes) -> tuple[str, list[str]] | None:
    """(package name, owned paths) from an RPM header blob (index count, data size, index
    entries of 16 bytes, data store), or None when it is malformed."""
    if len(blob) < 8 or len(blob) > MAX_HEADER:
        return None
    entries, size = struct.unpack_from(">II", blob, 0)
    start = 8 + 16 * entries
    if entries > 100_000 or start + size > len(blob):
        return None
    store = blob[start : start + size]
    tags: dict[int, tuple[int, int, int]] = {}
    for index in range(entries):
        tag, kind, offset, count = struct.unpack_from(">iIiI", blob, 8 + 16 * index)
        tags[tag] = (kind, offset, count)

    def strings(tag: int) -> list[str]:
        if tag not in tags:
            return []
        _, offset, count = tags[tag]
        values, position = [], offset
        for _ in range(min(count, 1_000_000)):
            end = store.find(b"\0", position)
            if position < 0 or end < 0:
                break
            values.append(store[position:end].decode("utf-8", "surrogateescape"))
            position = end + 1
        return values

    def integers(tag: int) -> list[int]:
        if tag not in tags:
            return []
        _, offset, count = tags[tag]
        if offset < 0 or offset + 4 * count > len(store):
            return []
        return list(struct.unpack_from(f">{count}i", store, offset))

    names = strings(RPMTAG_NAME)
    if not names:
        return None
    basenames, dirnames, indexes = (
        strings(RPMTAG_BASENAMES),
        strings(RPMTAG_DIRNAMES),
        integers(RPMTAG_DIRINDEXES),
    )
    paths = [
        dirnames[i] + base
        for base, i in zip(basenames, indexes, strict=False)
        if 0 <= i < len(dirnames)
    ]
    return names[0], paths


@dataclass(slots=True)
class PackageIndex:
    """Owned path → package, loaded on first use."""

    root: Path = Path("/")
    _owners: dict[str, str] | None = None
    gaps: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def _load(self) -> dict[str, str]:
        owners: dict[str, str] = {}
        info = self.root / "var/lib/dpkg/info"
        if info.is_dir():
            self.sources.append("dpkg")
            for entry in os.scandir(info):
                if not entry.name.endswith(".list"):
                    continue
                package = entry.name[:-5].split(":", 1)[0]
                try:
                    with open(entry.path, "rb") as handle:
                        data = handle.read()
                except OSError:
                    continue
                for line in data.split(b"\n"):
                    if line:
                        owners[line.decode("utf-8", "surrogateescape")] = package
        sqlite_db = self.root / "var/lib/rpm/rpmdb.sqlite"
        if sqlite_db.is_file():
            self.sources.append("rpm")
            try:
                connection = sqlite3.connect(f"file:{sqlite_db}?mode=ro&immutable=1", uri=True)
                try:
                    for (blob,) in connection.execute("SELECT blob FROM Packages"):
                        parsed = parse_rpm_header(bytes(blob))
                        if parsed:
                            for path in parsed[1]:
                                owners.setdefault(path, parsed[0])
                finally:
                    connection.close()
            except sqlite3.Error as error:
                self.gaps.append(f"rpm database unreadable: {error}")
        elif (self.root / "var/lib/rpm/Packages").is_file():
            self.gaps.append("rpm Berkeley DB database not read: package ownership unknown")
        return owners

    def owner(self, path: str | None) -> str | None:
        """The package owning `path` (following usrmerge aliases), or None."""
        if not path:
            return None
        if self._owners is None:
            self._owners = self._load()
        owners = self._owners
        if path in owners:
            return owners[path]
        for merged, legacy in _MERGED:
            if path.startswith(merged) and (alias := legacy + path[len(merged) :]) in owners:
                return owners[alias]
            if path.startswith(legacy) and (alias := merged + path[len(legacy) :]) in owners:
                return owners[alias]
        try:
            real = os.path.realpath(path)
        except (OSError, ValueError):
            return None
        return owners.get(real) if real != path else None

    def owns_name(self, name: str) -> str | None:
        """A package owning an executable called `name` in a bin/sbin/libexec directory."""
        if self._owners is None:
            self._owners = self._load()
        for directory in ("/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/", "/usr/libexec/"):
            owner = self.owner(directory + name)
            if owner:
                return owner
        return None


__all__ = ["PackageIndex", "parse_rpm_header"]
