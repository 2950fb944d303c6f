"""`doorhunt events`: filters, output forms, hostile text on the terminal, exit codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from doorhunt.cli import events as events_cli
from doorhunt.ecs import new_event
from doorhunt.store import Store

NOW = datetime.now(UTC).replace(microsecond=0)


def fill(data: Path) -> None:
    documents = [
        new_event(kind="event", category="process", type="start", action="exec",
                  timestamp=NOW - timedelta(hours=3), host={"name": "web-1"},
                  process={"pid": 10, "name": "sshd", "command_line": "/usr/sbin/sshd -D"}),
        new_event(kind="event", category="process", type="start", action="exec",
                  timestamp=NOW - timedelta(minutes=30), host={"name": "web-1"},
                  process={"pid": 11, "name": "\x1b[31mevil\u202e", "executable": "/dev/shm/x",
                           "command_line": "/dev/shm/x \x1b]0;pwned\x07"}),
        new_event(kind="event", category="network", type="start", action="connection_attempted",
                  timestamp=NOW - timedelta(minutes=5), host={"name": "web-2"},
                  process={"pid": 12}, destination={"ip": "203.0.113.7", "port": 443}),
    ]  # fmt: skip
    with Store(data / "store").writer(compact_interval=None) as writer:
        writer.extend(documents)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = events_cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_filters_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fill(tmp_path)
    data = ["--data", str(tmp_path)]
    code, out, _ = run(capsys, *data, "--json")
    result = json.loads(out)
    assert code == 0 and result["count"] == 3 and result["source"]["kind"] == "store"
    assert [e["process"]["pid"] for e in result["events"]] == [12, 11, 10]
    _, out, _ = run(capsys, *data, "--json", "--since", "1h")
    assert [e["process"]["pid"] for e in json.loads(out)["events"]] == [12, 11]
    _, out, _ = run(capsys, *data, "--json", "--host", "web-1", "--category", "process",
                    "--until", (NOW - timedelta(hours=1)).isoformat())  # fmt: skip
    assert [e["process"]["pid"] for e in json.loads(out)["events"]] == [10]
    _, out, _ = run(capsys, *data, "--ndjson", "--query", "process.executable:/dev/shm/*")
    assert [json.loads(line)["process"]["pid"] for line in out.splitlines()] == [11]
    _, out, _ = run(capsys, *data, "--ndjson", "--query", "destination.ip:203.0.113.7",
                    "--oldest-first", "--limit", "1")  # fmt: skip
    assert len(out.splitlines()) == 1


def test_the_terminal_never_sees_raw_control_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    fill(tmp_path)
    code, out, _ = run(capsys, "--data", str(tmp_path), "--no-color", "--lang", "en")
    assert code == 0
    assert "3 events from the store" in out
    assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert "\\x1b[31mevil\\u202e" in out
    assert "-> 203.0.113.7:443" in out
    _, out, _ = run(
        capsys, "--data", str(tmp_path), "--no-color", "--lang", "ko", "--host", "nobody"
    )
    assert "조건에 맞는 이벤트가 없습니다." in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--query", "novalue"], "--query expects FIELD:VALUE"),
        (["--since", "yesterday"], "--since: expected an ISO 8601 time"),
        (["--limit", "0"], "--limit must be at least 1"),
        (["--query", "process.pid:abc"], "process.pid holds integers"),
        (["--es", "ftp://x"], "expected an http:// or https:// URL"),
    ],
)
def test_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    fill(tmp_path)
    code, _, err = run(capsys, "--data", str(tmp_path), *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_damaged_segments_mean_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fill(tmp_path)
    with Store(tmp_path / "store").writer(compact_interval=None) as writer:
        writer.append(new_event(kind="event", category="file", type="creation", action="creation",
                                host={"name": "x"}))  # fmt: skip
    victim = sorted((tmp_path / "store" / "segments").glob("*/*.parquet"))[-1]
    victim.write_bytes(b"PAR1 not really")
    code, out, err = run(capsys, "--data", str(tmp_path), "--json")
    assert code == 3 and json.loads(out)["count"] >= 0 and "damaged segments were skipped" in err
