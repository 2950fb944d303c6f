"""The triage database: alert status with its history, pins and notes; safe between threads
and processes."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest

from doorhunt.investigate import InvestigationError, TransitionError, TriageDatabase

ALERT = "1746057600123456-0123456789abcdef"
OTHER = "1746057600123457-fedcba9876543210"


def test_open_acknowledged_closed_with_a_note(tmp_path: Path) -> None:
    triage = TriageDatabase.in_directory(tmp_path)
    assert triage.status(ALERT) == "open" and triage.statuses() == {}
    assert not (tmp_path / "triage.sqlite").exists()  # reading creates nothing
    change = triage.set_status(ALERT, "acknowledged", analyst="kim")
    assert (change.status_from, change.status_to) == ("open", "acknowledged")
    with pytest.raises(InvestigationError, match="must not be empty"):
        triage.set_status(ALERT, "closed", note="   ")
    triage.set_status(ALERT, "closed", note="benign: the backup job")
    assert triage.status(ALERT) == "closed" and triage.statuses() == {ALERT: "closed"}
    with pytest.raises(TransitionError, match="closed cannot become acknowledged"):
        triage.set_status(ALERT, "acknowledged")
    triage.set_status(ALERT, "open", note="reopened: same binary elsewhere")
    assert [(c.status_from, c.status_to) for c in triage.history(ALERT)] == [
        ("open", "acknowledged"), ("acknowledged", "closed"), ("closed", "open"),
    ]  # fmt: skip
    assert (tmp_path / "triage.sqlite").stat().st_mode & 0o077 == 0


def test_bad_values_are_refused(tmp_path: Path) -> None:
    triage = TriageDatabase.in_directory(tmp_path)
    with pytest.raises(InvestigationError, match="expected one of"):
        triage.set_status(ALERT, "solved")
    with pytest.raises(InvestigationError, match="event reference"):
        triage.set_status("'; DROP TABLE alert_status; --", "acknowledged")
    with pytest.raises(InvestigationError, match="longer than"):
        triage.add_note("x" * 5000)
    with pytest.raises(InvestigationError, match="NUL"):
        triage.add_note("a\x00b")
    with pytest.raises(TransitionError, match="changed meanwhile"):
        triage.set_status(ALERT, "acknowledged", expected="acknowledged")


def test_pins_and_notes(tmp_path: Path) -> None:
    triage = TriageDatabase.in_directory(tmp_path)
    triage.pin(ALERT, "web-1")
    triage.pin(ALERT, "web-1")
    triage.pin(OTHER)
    assert [pin.event for pin in triage.pins()] == [OTHER, ALERT]
    assert triage.unpin(OTHER) and not triage.unpin(OTHER)
    note = triage.add_note("<script>kept as text</script>", event=ALERT)
    general = triage.add_note("timeline note")
    assert [n.text for n in triage.notes(ALERT)] == ["<script>kept as text</script>"]
    assert [n.id for n in triage.notes()] == [general.id]
    assert len(triage.notes(every=True)) == 2
    assert triage.noted_events([ALERT, OTHER]) == {ALERT}
    assert triage.delete_note(note.id) and not triage.delete_note(note.id)


def _acknowledge(path: str, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    try:
        TriageDatabase(Path(path)).set_status(ALERT, "acknowledged", expected="open")
        results.put("changed")
    except TransitionError:
        results.put("refused")


def test_one_of_many_concurrent_changes_wins(tmp_path: Path) -> None:
    path = tmp_path / "triage.sqlite"
    TriageDatabase(path).pin(OTHER)  # create it
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=_acknowledge, args=(str(path), results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    outcomes = sorted(results.get(timeout=10) for _ in workers)
    assert outcomes == ["changed", "refused", "refused", "refused"]
    # Threads in one process, writing notes at once: none lost.
    triage = TriageDatabase(path)
    threads = [
        threading.Thread(target=lambda: [triage.add_note("n") for _ in range(20)]) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(triage.notes()) == 80
