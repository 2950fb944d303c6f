"""What analysts add to the evidence: alert status, pinned events and notes.

The event store stays append-only (docs/store.md); these few writes live beside it in a small
SQLite database, `DATA/triage.sqlite`, in WAL mode so that any number of UI processes and
readers share it. A status change is one IMMEDIATE transaction that checks the status it
starts from, so two analysts cannot both move the same alert from `open`.

Alert life: open -> acknowledged -> closed (with a note); open -> closed directly; reopening
(acknowledged or closed -> open) is allowed and recorded, so the history shows who changed
what, when, and why.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from doorhunt.investigate.errors import InvestigationError
from doorhunt.investigate.events import parse_ref

DATABASE_NAME: Final = "triage.sqlite"
STATUSES: Final = ("open", "acknowledged", "closed")
TRANSITIONS: Final[Mapping[str, frozenset[str]]] = {
    "open": frozenset({"acknowledged", "closed"}),
    "acknowledged": frozenset({"closed", "open"}),
    "closed": frozenset({"open"}),
}
MAX_NOTE: Final = 4000
MAX_ANALYST: Final = 100

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS alert_status (
    alert TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'closed')),
    changed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_history (
    id INTEGER PRIMARY KEY,
    alert TEXT NOT NULL,
    status_from TEXT NOT NULL,
    status_to TEXT NOT NULL,
    note TEXT NOT NULL,
    analyst TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_history_by_alert ON alert_history (alert, id);
CREATE TABLE IF NOT EXISTS pins (
    event TEXT PRIMARY KEY,
    host TEXT,
    pinned_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY,
    event TEXT,
    text TEXT NOT NULL,
    analyst TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_by_event ON notes (event, id);
"""


class TransitionError(InvestigationError):
    """An alert status change that its current status does not allow."""


@dataclass(frozen=True, slots=True)
class StatusChange:
    alert: str
    status_from: str
    status_to: str
    note: str
    analyst: str
    at: str

    def to_json(self) -> dict[str, object]:
        return {
            "alert": self.alert,
            "from": self.status_from,
            "to": self.status_to,
            "note": self.note,
            "analyst": self.analyst,
            "at": self.at,
        }


@dataclass(frozen=True, slots=True)
class Pin:
    event: str
    host: str | None
    pinned_at: str

    def to_json(self) -> dict[str, object]:
        return {"event": self.event, "host": self.host, "pinned_at": self.pinned_at}


@dataclass(frozen=True, slots=True)
class Note:
    id: int
    event: str | None  # None: a note on the investigation, not on one event
    text: str
    analyst: str
    created_at: str

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "event": self.event,
            "text": self.text,
            "analyst": self.analyst,
            "created_at": self.created_at,
        }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check_text(text: str, *, limit: int, parameter: str, required: bool) -> str:
    text = text.strip()
    if required and not text:
        raise InvestigationError("must not be empty", location=parameter)
    if len(text) > limit:
        raise InvestigationError(f"longer than {limit} characters", location=parameter)
    if "\x00" in text:
        raise InvestigationError("must not contain NUL characters", location=parameter)
    return text


class TriageDatabase:
    """The triage database of a data directory; cheap to create, safe across threads and
    processes (each call opens its own connection)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._created = False

    @classmethod
    def in_directory(cls, data: Path) -> TriageDatabase:
        return cls(data / DATABASE_NAME)

    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        if not self.path.exists() and not write:
            connection = sqlite3.connect(":memory:")
            connection.executescript(_SCHEMA)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            connection = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
            connection.execute("PRAGMA busy_timeout = 10000")
            if not self._created:
                connection.execute("PRAGMA journal_mode = WAL")
                connection.executescript(_SCHEMA)
                self.path.chmod(0o600)
                self._created = True
        try:
            yield connection
        finally:
            connection.close()

    # -- alert status ---------------------------------------------------------------------------

    def statuses(self) -> dict[str, str]:
        """Every alert whose status was changed: alert ref -> status."""
        with self._connect(write=False) as connection:
            return dict(connection.execute("SELECT alert, status FROM alert_status").fetchall())

    def status(self, alert: str) -> str:
        with self._connect(write=False) as connection:
            row = connection.execute(
                "SELECT status FROM alert_status WHERE alert = ?", [alert]
            ).fetchone()
        return str(row[0]) if row else "open"

    def set_status(
        self,
        alert: str,
        status: str,
        *,
        note: str = "",
        analyst: str = "",
        expected: str | None = None,
    ) -> StatusChange:
        """Move `alert` to `status`; closing needs a note. `expected` (the status the analyst
        saw) guards against a change someone else made meanwhile."""
        parse_ref(alert, parameter="alert")
        if status not in STATUSES:
            raise InvestigationError(
                f"expected one of {', '.join(STATUSES)}, got {status[:40]!r}", location="status"
            )
        note = _check_text(note, limit=MAX_NOTE, parameter="note", required=status == "closed")
        analyst = _check_text(analyst, limit=MAX_ANALYST, parameter="analyst", required=False)
        with self._connect(write=True) as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                row = connection.execute(
                    "SELECT status FROM alert_status WHERE alert = ?", [alert]
                ).fetchone()
                current = str(row[0]) if row else "open"
                if expected is not None and expected != current:
                    raise TransitionError(
                        f"the alert is {current} now, not {expected} (changed meanwhile)",
                        location="status",
                    )
                if status not in TRANSITIONS[current]:
                    raise TransitionError(
                        f"an alert that is {current} cannot become {status}", location="status"
                    )
                at = _now()
                connection.execute(
                    "INSERT INTO alert_status (alert, status, changed_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (alert) DO UPDATE SET status = excluded.status, "
                    "changed_at = excluded.changed_at",
                    [alert, status, at],
                )
                connection.execute(
                    "INSERT INTO alert_history (alert, status_from, status_to, note, analyst, at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [alert, current, status, note, analyst, at],
                )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return StatusChange(alert, current, status, note, analyst, at)

    def history(self, alert: str) -> list[StatusChange]:
        with self._connect(write=False) as connection:
            rows = connection.execute(
                "SELECT alert, status_from, status_to, note, analyst, at FROM alert_history "
                "WHERE alert = ? ORDER BY id",
                [alert],
            ).fetchall()
        return [StatusChange(*row) for row in rows]

    # -- pins -----------------------------------------------------------------------------------

    def pins(self) -> list[Pin]:
        with self._connect(write=False) as connection:
            rows = connection.execute(
                "SELECT event, host, pinned_at FROM pins ORDER BY event DESC"
            ).fetchall()
        return [Pin(*row) for row in rows]

    def pin(self, event: str, host: str | None = None) -> Pin:
        parse_ref(event, parameter="event")
        if host is not None:
            host = _check_text(host, limit=1000, parameter="host", required=False) or None
        at = _now()
        with self._connect(write=True) as connection:
            connection.execute(
                "INSERT INTO pins (event, host, pinned_at) VALUES (?, ?, ?) "
                "ON CONFLICT (event) DO NOTHING",
                [event, host, at],
            )
            row = connection.execute(
                "SELECT event, host, pinned_at FROM pins WHERE event = ?", [event]
            ).fetchone()
        return Pin(*row)

    def unpin(self, event: str) -> bool:
        parse_ref(event, parameter="event")
        with self._connect(write=True) as connection:
            return connection.execute("DELETE FROM pins WHERE event = ?", [event]).rowcount > 0

    # -- notes ----------------------------------------------------------------------------------

    def notes(self, event: str | None = None, *, every: bool = False) -> list[Note]:
        """Notes on `event`, or the investigation's own notes (event None), or all (`every`)."""
        with self._connect(write=False) as connection:
            if every:
                rows = connection.execute(
                    "SELECT id, event, text, analyst, created_at FROM notes ORDER BY id"
                ).fetchall()
            else:
                rows = connection.execute(
                    "SELECT id, event, text, analyst, created_at FROM notes "
                    "WHERE event IS ? ORDER BY id",
                    [event],
                ).fetchall()
        return [Note(*row) for row in rows]

    def add_note(self, text: str, *, event: str | None = None, analyst: str = "") -> Note:
        if event is not None:
            parse_ref(event, parameter="event")
        text = _check_text(text, limit=MAX_NOTE, parameter="text", required=True)
        analyst = _check_text(analyst, limit=MAX_ANALYST, parameter="analyst", required=False)
        at = _now()
        with self._connect(write=True) as connection:
            cursor = connection.execute(
                "INSERT INTO notes (event, text, analyst, created_at) VALUES (?, ?, ?, ?)",
                [event, text, analyst, at],
            )
            identifier = cursor.lastrowid
        assert identifier is not None
        return Note(identifier, event, text, analyst, at)

    def delete_note(self, identifier: int) -> bool:
        with self._connect(write=True) as connection:
            return connection.execute("DELETE FROM notes WHERE id = ?", [identifier]).rowcount > 0

    def noted_events(self, events: Sequence[str]) -> set[str]:
        """Those of `events` that have notes (for a listing's marks)."""
        if not events:
            return set()
        with self._connect(write=False) as connection:
            found: set[str] = set()
            for start in range(0, len(events), 500):
                chunk = list(events[start : start + 500])
                marks = ", ".join("?" * len(chunk))
                rows = connection.execute(
                    f"SELECT DISTINCT event FROM notes WHERE event IN ({marks})",  # noqa: S608
                    chunk,
                ).fetchall()
                found.update(str(row[0]) for row in rows)
        return found


__all__ = [
    "DATABASE_NAME",
    "MAX_NOTE",
    "STATUSES",
    "TRANSITIONS",
    "Note",
    "Pin",
    "StatusChange",
    "TransitionError",
    "TriageDatabase",
]
