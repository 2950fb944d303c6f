"""The full results `doorhunt sweep` keeps in DATA/sweeps (docs/sweep.md, "Output").

The event store holds each sweep's verdict and findings; the JSON result holds more (the
processes it judged, visibility notes, every finding's evidence). Files are written once,
atomically, named `YYYYMMDDTHHMMSSZ-HOSTNAME.json`; each is read once and remembered.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Final

log = logging.getLogger("doorhunt.investigate")

MAX_FILE_BYTES: Final = 64 * 1024 * 1024


def _host_names(document: Mapping[str, object]) -> set[str]:
    host = document.get("host")
    if not isinstance(host, dict):
        return set()
    return {str(host[key]) for key in ("name", "hostname") if isinstance(host.get(key), str)}


class SweepArchive:
    """The sweep results of a data directory. Thread-safe."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: dict[tuple[str, int, int], Mapping[str, object] | None] = {}
        self._lock = threading.Lock()

    @classmethod
    def in_directory(cls, data: Path) -> SweepArchive:
        return cls(data / "sweeps")

    def _read(self, path: Path) -> Mapping[str, object] | None:
        try:
            status = path.stat()
        except OSError:
            return None
        key = (path.name, status.st_size, status.st_mtime_ns)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        document: Mapping[str, object] | None = None
        if status.st_size <= MAX_FILE_BYTES:
            try:
                loaded = json.loads(path.read_bytes())
            except (OSError, ValueError) as error:
                log.warning("cannot read sweep result %s: %s", path, error)
            else:
                document = loaded if isinstance(loaded, dict) else None
        with self._lock:
            self._cache[key] = document
        return document

    def files(self) -> list[Path]:
        """Result files, newest first (their names start with the time)."""
        try:
            names = [p for p in self.directory.iterdir() if p.suffix == ".json"]
        except OSError:
            return []
        return sorted((p for p in names if not p.name.startswith(".")), reverse=True)

    def latest(self, host: str) -> Mapping[str, object] | None:
        """The newest result about `host` (host.name or host.hostname)."""
        file_host = host.replace("/", "_")
        files = self.files()
        # The file name carries the hostname: try those first, then any file.
        named = [p for p in files if p.stem.partition("-")[2] == file_host]
        for path in [*named, *(p for p in files if p not in named)]:
            document = self._read(path)
            if document is not None and host in _host_names(document):
                return document
        return None


__all__ = ["SweepArchive"]
