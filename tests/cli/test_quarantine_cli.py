"""`doorhunt quarantine list|restore`: the forms, a round trip, broken records, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from doorhunt.cli import quarantine as quarantine_cli
from doorhunt.response import Quarantine


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = quarantine_cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_and_restore_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = ["--data", str(tmp_path / "data")]
    code, out, _ = run(capsys, "list", *data, "--no-color")
    assert code == 0 and "empty" in out
    victim = tmp_path / "implant\x1b[31m"
    victim.write_bytes(b"evidence")
    item = Quarantine(tmp_path / "data" / "quarantine").add(str(victim), reason="rule <b>")
    code, out, _ = run(capsys, "list", *data, "--json")
    (listed,) = json.loads(out)["items"]
    assert code == 0 and listed["id"] == item.id and listed["original_path"] == str(victim)
    code, out, _ = run(capsys, "list", *data, "--no-color")
    assert "\x1b" not in out and item.id in out
    code, out, _ = run(capsys, "restore", item.id[:12], *data, "--no-color")
    assert code == 0 and victim.read_bytes() == b"evidence"


def test_errors_and_broken_records(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = ["--data", str(tmp_path / "data")]
    code, _, err = run(capsys, "restore", "nothing", *data)
    assert code == 2 and "no quarantined file" in err and len(err.strip().splitlines()) == 1
    directory = tmp_path / "data" / "quarantine"
    directory.mkdir(parents=True)
    (directory / "x.json").write_bytes(b"\xff\xfe")
    code, _, err = run(capsys, "list", *data)
    assert code == 3 and "unreadable" in err
    code, _, _ = run(capsys, *data)
    assert code == 2
