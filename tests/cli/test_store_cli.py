"""`doorhunt store`, `doorhunt ingest` and `doorhunt events` as a user runs them (in-process)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from doorhunt.cli import store as store_cli
from doorhunt.ecs import new_event
from doorhunt.store import Store

BASE = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def fill(data: Path, count: int, *, days: int = 1) -> None:
    with Store(data / "store").writer(compact_interval=None) as writer:
        for i in range(count):
            writer.append(
                new_event(
                    kind="event",
                    category="process",
                    type="start",
                    action="exec",
                    timestamp=BASE + timedelta(days=i % days, seconds=i),
                    host={"name": "web-1"},
                )
            )
            if i % 10 == 9:
                writer.flush()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = store_cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_info_in_english_korean_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(tmp_path, 30, days=2)
    code, out, _ = run(capsys, "info", "--data", str(tmp_path), "--no-color", "--lang", "en")
    assert code == 0
    assert "30 events in" in out and "2025-05-01" in out and "none running" in out
    code, out, _ = run(capsys, "info", "--data", str(tmp_path), "--lang", "ko", "--no-color")
    assert "이벤트 30건" in out
    code, out, _ = run(capsys, "info", "--data", str(tmp_path), "--json")
    info = json.loads(out)
    assert info["events"] == 30 and len(info["days"]) == 2 and info["skipped"] == []


def test_info_on_damage_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fill(tmp_path, 20)
    victim = sorted((tmp_path / "store" / "segments").glob("*/*.parquet"))[0]
    victim.write_bytes(victim.read_bytes()[:100])
    code, out, _ = run(capsys, "info", "--data", str(tmp_path), "--no-color")
    assert code == 3
    assert "Skipped, damaged" in out and victim.name in out


def test_compact_and_prune(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fill(tmp_path, 40, days=2)
    code, out, _ = run(capsys, "compact", "--full", "--data", str(tmp_path), "--no-color")
    assert code == 0 and "Merged 8 segments into 2 (40 events)" in out
    code, out, _ = run(capsys, "compact", "--data", str(tmp_path), "--no-color")
    assert "Nothing to merge." in out
    code, out, _ = run(capsys, "prune", "--max-age", "1d", "--data", str(tmp_path), "--json")
    assert code == 0 and json.loads(out)["events"] == 40  # 2025 is long ago
    assert Store(tmp_path / "store").info().events == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["prune"], "prune needs --max-size, --max-age or both"),
        (["prune", "--max-size", "lots"], "--max-size: expected a size"),
        (["prune", "--max-age", "forever"], "--max-age: expected a duration"),
        (["defrag"], "invalid choice"),
    ],
)
def test_usage_errors_are_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, *argv, "--data", str(tmp_path))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_a_store_that_cannot_be_made_is_a_located_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    from doorhunt.cli import ingest as ingest_cli

    log = tmp_path / "a.log"
    log.write_bytes(gzip.compress(b""))
    code = ingest_cli.main([str(log), "--format", "auditd", "--data", str(blocker)])
    err = capsys.readouterr().err
    assert code == 2 and f"{blocker}/store" in err and "cannot create the store" in err
