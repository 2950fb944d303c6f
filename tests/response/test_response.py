"""Prevention's two actions against real processes and files: what is touched, what never is."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorhunt.response import PreventMode, Quarantine, QuarantinedFile, QuarantineError, Responder
from doorhunt.response.quarantine import refuse_path


@pytest.fixture
def quarantine(tmp_path: Path) -> Quarantine:
    return Quarantine(tmp_path / "data" / "quarantine")


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen(["sleep", "60"])
    try:
        yield child
    finally:
        child.kill()
        child.wait()


def alert_about(pid: int, *, entity: str = "E", path: str | None = None) -> dict[str, object]:
    alert: dict[str, object] = {
        "event": {"kind": "alert", "category": ["process"]},
        "process": {"pid": pid, "entity_id": entity},
        "rule": {"name": "test rule"},
    }
    if path is not None:
        alert["event"] = {"kind": "alert", "category": ["file"]}
        alert["file"] = {"path": path}
    return alert


def responder(
    quarantine: Quarantine, mode: PreventMode = PreventMode.ON, entity: str = "E"
) -> Responder:
    return Responder(mode, quarantine, lambda pid: entity)


def test_quarantine_moves_the_file_keeps_its_metadata_and_restores_it(
    quarantine: Quarantine, tmp_path: Path
) -> None:
    original = tmp_path / "kdmtmpflush"
    original.write_bytes(b"\x7fELF not really")
    original.chmod(0o755)
    os.utime(original, ns=(1_262_304_000_000_000_000, 1_262_304_000_000_000_000))
    item = quarantine.add(str(original), reason="test")
    assert not original.exists() and item.original_removed
    stored = quarantine.directory / f"{item.id}.bin"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert item.sha256 == hashlib.sha256(b"\x7fELF not really").hexdigest()
    assert (item.mode, item.mtime_ns) == (0o755, 1_262_304_000_000_000_000)
    listed = [entry for entry in quarantine.items() if isinstance(entry, QuarantinedFile)]
    assert [entry.id for entry in listed] == [item.id]
    restored = quarantine.restore(item.id[:10])
    assert restored == str(original)
    assert original.read_bytes() == b"\x7fELF not really"
    assert stat.S_IMODE(original.stat().st_mode) == 0o755
    assert original.stat().st_mtime_ns == 1_262_304_000_000_000_000
    assert list(quarantine.items()) == []


def test_restore_refuses_to_overwrite_and_checks_the_hash(
    quarantine: Quarantine, tmp_path: Path
) -> None:
    original = tmp_path / "file"
    original.write_bytes(b"one")
    item = quarantine.add(str(original), reason="test")
    original.write_bytes(b"new file at the same path")
    with pytest.raises(QuarantineError, match="exists"):
        quarantine.restore(item.id)
    (quarantine.directory / f"{item.id}.bin").write_bytes(b"tampered")
    with pytest.raises(QuarantineError, match="SHA-256"):
        quarantine.restore(item.id, force=True)


def test_a_deleted_executable_is_copied_from_its_running_process(
    quarantine: Quarantine, tmp_path: Path
) -> None:
    copy = tmp_path / "sleep-copy"
    copy.write_bytes(Path("/bin/sleep").read_bytes())
    copy.chmod(0o755)
    child = subprocess.Popen([str(copy), "60"])
    try:
        time.sleep(0.1)
        copy.unlink()
        item = quarantine.add(f"{copy} (deleted)", reason="test", pid=child.pid)
    finally:
        child.kill()
        child.wait()
    assert item.copied_from == f"/proc/{child.pid}/exe"
    assert not item.original_removed
    assert item.sha256 == hashlib.sha256(Path("/bin/sleep").read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/usr/bin/python3", "system directories"),
        ("/bin/sh", "system directories"),
        ("relative/path", "absolute"),
    ],
)
def test_system_and_relative_paths_are_refused(
    quarantine: Quarantine, path: str, reason: str
) -> None:
    with pytest.raises(QuarantineError, match=reason):
        quarantine.add(path, reason="test")


def test_symlinks_directories_and_the_data_directory_are_refused(
    quarantine: Quarantine, tmp_path: Path
) -> None:
    target = tmp_path / "target"
    target.write_text("x")
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(QuarantineError):
        quarantine.add(str(link), reason="test")
    assert target.exists() and link.is_symlink()
    with pytest.raises(QuarantineError, match="regular file"):
        quarantine.add(str(tmp_path), reason="test")
    inside = quarantine.directory.parent / "store" / "segment"
    inside.parent.mkdir(parents=True)
    inside.write_text("x")
    with pytest.raises(QuarantineError, match="data directory"):
        quarantine.add(str(inside), reason="test")


def test_unreadable_records_are_listed_with_a_reason(quarantine: Quarantine) -> None:
    quarantine.directory.mkdir(parents=True)
    (quarantine.directory / "broken.json").write_bytes(b"\xff{not json")
    (quarantine.directory / "partial.json").write_text(json.dumps({"id": "x"}))
    entries = list(quarantine.items())
    assert len(entries) == 2 and all(isinstance(entry, tuple) for entry in entries)


@given(st.text(max_size=200))
def test_refuse_path_never_raises(path: str) -> None:
    refusal = refuse_path(path, Path("/var/lib/doorhunt/quarantine"))
    assert refusal is None or isinstance(refusal, str)


def test_kill_checks_identity_then_kills(
    quarantine: Quarantine, sleeper: subprocess.Popen[bytes]
) -> None:
    (outcome,) = responder(quarantine, entity="other").respond(
        ["kill_process"], alert_about(sleeper.pid)
    )
    assert outcome.outcome == "refused" and "another process" in outcome.reason
    assert sleeper.poll() is None
    (outcome,) = responder(quarantine, PreventMode.DRY_RUN).respond(
        ["kill_process"], alert_about(sleeper.pid)
    )
    assert outcome.outcome == "would"
    assert sleeper.poll() is None
    (outcome,) = responder(quarantine).respond(["kill_process"], alert_about(sleeper.pid))
    assert outcome.outcome == "done"
    assert sleeper.wait(timeout=5) == -9


def test_kill_never_touches_pid_1_doorhunt_or_kernel_threads(quarantine: Quarantine) -> None:
    act = responder(quarantine)
    for pid in (1, os.getpid(), 0, -5):
        (outcome,) = act.respond(["kill_process"], alert_about(pid))
        assert outcome.outcome == "refused", pid
    kthreadd = 2  # the kernel's thread creator, parent of every kernel thread
    if Path(f"/proc/{kthreadd}/stat").exists() and os.geteuid() == 0:
        (outcome,) = act.respond(["kill_process"], alert_about(kthreadd))
        assert outcome.outcome == "refused" and "kernel thread" in outcome.reason
    (outcome,) = act.respond(["kill_process"], {"process": {"name": "no pid"}})
    assert outcome.outcome == "refused"


def test_quarantine_runs_before_kill_and_dry_run_touches_nothing(
    quarantine: Quarantine, tmp_path: Path
) -> None:
    executable = tmp_path / "implant"
    executable.write_bytes(Path("/bin/sleep").read_bytes())
    executable.chmod(0o755)
    child = subprocess.Popen([str(executable), "60"])
    try:
        alert = alert_about(child.pid)
        alert["process"] = {"pid": child.pid, "entity_id": "E", "executable": str(executable)}
        outcomes = responder(quarantine, PreventMode.DRY_RUN).respond(
            ["kill_process", "quarantine_file"], alert
        )
        assert [(o.action, o.outcome) for o in outcomes] == [
            ("quarantine_file", "would"),
            ("kill_process", "would"),
        ]
        assert executable.exists() and child.poll() is None
        outcomes = responder(quarantine).respond(["kill_process", "quarantine_file"], alert)
        assert [(o.action, o.outcome) for o in outcomes] == [
            ("quarantine_file", "done"),
            ("kill_process", "done"),
        ]
        assert not executable.exists()
        assert child.wait(timeout=5) == -9
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
