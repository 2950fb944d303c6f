"""Where doorhunt keeps what it stores (DESIGN.md: --data DIR, else $DOORHUNT_HOME, else
/var/lib/doorhunt as root and ~/.local/share/doorhunt otherwise)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def data_directory(explicit: str | None = None) -> Path:
    if explicit:
        return Path(explicit)
    if os.environ.get("DOORHUNT_HOME"):
        return Path(os.environ["DOORHUNT_HOME"])
    if os.geteuid() == 0:
        return Path("/var/lib/doorhunt")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "doorhunt"


def write_json_atomically(path: Path, document: object) -> None:
    """Write through a temporary file and rename, so a reader never sees half a document."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(document, handle, ensure_ascii=True)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


__all__ = ["data_directory", "write_json_atomically"]
