"""`doorhunt hunt`: ad-hoc queries, rules and the pack over a real store; alerts saved;
hostile text kept off the terminal; clear errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from doorhunt.cli import hunt as hunt_cli
from doorhunt.ecs import assert_valid, new_event
from doorhunt.store import Store

NOW = datetime.now(UTC).replace(microsecond=0)
SHM_RULE = "defense_evasion_execution_from_shared_memory"


def fill(data: Path) -> None:
    def exec_event(minutes: int, host: str, pid: int, executable: str) -> dict[str, object]:
        return new_event(
            kind="event",
            category="process",
            type="start",
            action="exec",
            timestamp=NOW - timedelta(minutes=minutes),
            host={"name": host, "id": f"id-{host}"},
            process={
                "pid": pid,
                "entity_id": f"e{pid}",
                "name": executable.rsplit("/", 1)[-1],
                "executable": executable,
                "args": [executable],
                "command_line": executable,
            },
            event={"id": f"ev{pid}"},
        )

    documents = [
        exec_event(90, "web-1", 10, "/usr/sbin/sshd"),
        exec_event(30, "web-1", 11, "/dev/shm/kdmtmpflush"),
        exec_event(5, "web-2", 12, "/dev/shm/\x1b[31mevil"),
    ]
    with Store(data / "store").writer(compact_interval=None) as writer:
        writer.extend(documents)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = hunt_cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_an_ad_hoc_query_with_time_and_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(tmp_path)
    data = ["--data", str(tmp_path)]
    query = 'process where process.executable : "/dev/shm/*"'
    code, out, _ = run(capsys, query, *data, "--json")
    assert code == 1
    result = json.loads(out)
    pids = [m["events"][0]["process"]["pid"] for m in result["rules"][0]["matches"]]
    assert sorted(pids) == [11, 12]
    _, out, _ = run(capsys, query, *data, "--json", "--since", "10m")
    assert [m["events"][0]["process"]["pid"] for m in json.loads(out)["rules"][0]["matches"]] == [
        12
    ]
    _, out, _ = run(capsys, query, *data, "--json", "--host", "web-1")
    assert json.loads(out)["matches"] == 1
    code, out, _ = run(capsys, 'process where process.name == "nothing"', *data, "--json")
    assert code == 0 and json.loads(out)["matches"] == 0


def test_the_pack_and_a_rule_by_name_and_saved_alerts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(tmp_path)
    data = ["--data", str(tmp_path)]
    code, out, _ = run(capsys, "--pack", *data, "--json")
    assert code == 1
    by_rule = {r["id"]: r for r in json.loads(out)["rules"]}
    assert len(by_rule) >= 20
    code, out, _ = run(capsys, "--rule", SHM_RULE, *data, "--json", "--save")
    assert code == 1
    (rule,) = json.loads(out)["rules"]
    assert len(rule["matches"]) == 2
    with Store(tmp_path / "store").reader() as reader:
        alerts = reader.events(category=None, where=[("event.kind", "alert")], limit=10)
    assert len(alerts) == 2
    for alert in alerts:
        assert_valid(alert, require_core=True)
        assert alert["rule"]["id"] == rule["id"]
        assert alert["doorhunt"]["alert"]["source_event_ids"] in (["ev11"], ["ev12"])


def test_hostile_text_is_escaped_on_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(tmp_path)
    code, out, _ = run(
        capsys, "process where process.pid == 12", "--data", str(tmp_path), "--no-color"
    )
    assert code == 1
    assert "\x1b" not in out
    assert "1 matches" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give an EQL query"),
        (["process where process.name =="], "1:30"),
        (["--rule", "no-such-rule-anywhere"], "no-such-rule-anywhere"),
        (["process where true", "--since", "yesterday-ish"], "--since"),
        (["process where true", "--limit", "0"], "--limit"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, *argv, "--data", str(tmp_path))
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
