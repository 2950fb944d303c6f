"""`doorhunt rules list|show|test|lint|export` as a user runs them (in-process): output in
English, Korean and JSON, exit codes, located one-line errors, and a Kibana export whose lines
have the shape Kibana's own rule export has (and so imports back)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from doorhunt.cli.rules import main
from doorhunt.rules.pack import load_rules
from tests.rules.test_pack import VALID, write_rule

PACK = load_rules()

# One line of a Kibana 8.x rule export (Security → Rules → Export, or
# POST /api/detection_engine/rules/_export) for a custom EQL rule, the shape the import API
# reads back. Kibana's import needs rule_id and the create-rule fields (name, description,
# risk_score, severity, type, and for EQL query and language); everything else has defaults.
KIBANA_EXPORT_LINE = {
    "id": "7b5d3f40-1e2a-11ef-9c51-3b1f0d8f1a20",
    "updated_at": "2024-05-30T09:12:44.123Z",
    "updated_by": "elastic",
    "created_at": "2024-05-30T09:12:44.123Z",
    "created_by": "elastic",
    "name": "Shell from shared memory",
    "tags": ["linux"],
    "interval": "5m",
    "enabled": False,
    "revision": 0,
    "description": "A shell started from /dev/shm.",
    "risk_score": 73,
    "severity": "high",
    "note": "## Triage\n\nLook at the parent.",
    "license": "Elastic License v2",
    "output_index": "",
    "author": ["Elastic"],
    "false_positives": ["Test harnesses."],
    "from": "now-360s",
    "rule_id": "3f1d0c6a-9d5e-4a8b-8f0e-2b7c5a1d4e93",
    "max_signals": 100,
    "risk_score_mapping": [],
    "severity_mapping": [],
    "threat": [
        {
            "framework": "MITRE ATT&CK",
            "tactic": {
                "id": "TA0002",
                "name": "Execution",
                "reference": "https://attack.mitre.org/tactics/TA0002/",
            },
            "technique": [
                {
                    "id": "T1059",
                    "name": "Command and Scripting Interpreter",
                    "reference": "https://attack.mitre.org/techniques/T1059/",
                    "subtechnique": [
                        {
                            "id": "T1059.004",
                            "name": "Unix Shell",
                            "reference": "https://attack.mitre.org/techniques/T1059/004/",
                        }
                    ],
                }
            ],
        }
    ],
    "to": "now",
    "references": ["https://attack.mitre.org/techniques/T1059/004/"],
    "version": 1,
    "exceptions_list": [],
    "immutable": False,
    "rule_source": {"type": "internal"},
    "related_integrations": [],
    "required_fields": [{"name": "process.executable", "type": "keyword", "ecs": True}],
    "setup": "",
    "type": "eql",
    "language": "eql",
    "index": ["logs-endpoint.events.process-*"],
    "query": 'process where process.executable : "/dev/shm/*"',
    "filters": [],
    "actions": [],
}
IMPORT_REQUIRED = {
    "rule_id",
    "name",
    "description",
    "risk_score",
    "severity",
    "type",
    "query",
    "language",
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def same_shape(ours: object, theirs: object, where: str = "") -> None:
    """`ours` has the JSON types of `theirs`, recursively (lists by their first element)."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), where
        for key, value in ours.items():
            if key in theirs:
                same_shape(value, theirs[key], f"{where}.{key}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list), where
        if theirs:
            for item in ours:
                same_shape(item, theirs[0], f"{where}[]")
    else:
        assert type(ours) is type(theirs), (
            f"{where}: {type(ours).__name__} != {type(theirs).__name__}"
        )


# -- list and show ---------------------------------------------------------------------------------


def test_list_in_english_korean_json_and_ndjson(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", "--no-color", "--lang", "en")
    assert code == 0
    assert "3cc6ff0d" in out and "critical" in out and "Command and Control" in out
    assert f"{len(PACK)} rules" in out
    code, out, _ = run(capsys, "list", "--no-color", "--lang", "ko")
    assert "심각도" in out and "명령 및 제어" in out and "BPFDoor 소켓 필터 부착" in out
    assert f"규칙 {len(PACK)}개" in out
    code, out, _ = run(capsys, "list", "--json")
    listed = json.loads(out)["rules"]
    assert [r["id"] for r in listed] == [rule.id for rule in PACK]
    assert set(listed[0]) >= {
        "id",
        "name",
        "severity",
        "risk_score",
        "tactic",
        "techniques",
        "path",
    }
    code, out, _ = run(capsys, "list", "--ndjson")
    assert len(out.splitlines()) == len(PACK)


def test_show_everything_with_triage_in_the_chosen_language(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys, "show", "defense_evasion_fake_kernel_thread", "--no-color", "--lang", "en"
    )
    assert code == 0
    assert "Program posing as a kernel thread" in out
    assert "0ee39f59-fce5-4de6-8110-56d609f72d5d" in out and "critical (99)" in out
    assert "T1036.011" in out and "kill_process" in out
    assert 'process.command_line : "[*]*"' in out  # the query, unwrapped
    assert "Triage" in out and "real kernel thread has no executable" in out
    code, out, _ = run(capsys, "show", "0ee39f59", "--no-color", "--lang", "ko")
    assert "커널 스레드로 위장한 프로그램" in out and "분석 절차" in out and "방어 회피" in out
    assert "real kernel thread" not in out
    code, out, _ = run(capsys, "show", "0ee39f59", "--json", "--lang", "ko")
    shown = json.loads(out)
    assert shown["id"] == "0ee39f59-fce5-4de6-8110-56d609f72d5d"
    assert list(shown["triage"]) == ["ko"] and shown["query"].startswith("process where")
    assert shown["examples"][0]["expect"] == "match"


def test_naming_no_rule_or_several_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "show", "no-such-rule")
    assert code == 2 and not out
    assert err.startswith("doorhunt: error: no rule has") and err.count("\n") == 1
    code, _, err = run(capsys, "show", "defense_evasion_")
    assert code == 2 and "give more of it" in err


# -- user rules: test and lint ---------------------------------------------------------------------


def test_test_runs_examples_and_exits_1_on_a_misbehaving_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "test", "--no-color", "--lang", "en")
    assert code == 0
    assert "0 failed" in out and out.count("PASS") == sum(len(r.examples) for r in PACK)
    broken = VALID.replace('"process.executable" = "/dev/shm/x"', '"process.executable" = "/opt/x"')
    write_rule(tmp_path / "mine", broken)
    code, out, _ = run(capsys, "test", "--rules", str(tmp_path / "mine"), "--no-pack", "--no-color")
    assert code == 1
    assert "FAIL defense_evasion_test #1" in out and "expected a match; nothing matched" in out
    code, out, _ = run(capsys, "test", "5b0f9c4e", "--rules", str(tmp_path / "mine"), "--json")
    report = json.loads(out)
    assert report["rules"] == 1 and report["failed"] == 1 and report["passed"] == 1
    assert report["results"][0] == {
        "rule": "5b0f9c4e-8a51-4d8e-9a0e-1f2d3c4b5a69",
        "example": 1,
        "expect": "match",
        "description": "",
        "passed": False,
        "reason": "expected a match; nothing matched",
    }


def test_lint_reports_located_problems_and_exits_1_on_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "lint", "--no-color")
    assert code == 0 and f"{len(PACK)} rules checked: 0 errors, 0 warnings" in out
    folder = tmp_path / "site"
    write_rule(folder, VALID.replace("risk_score = 73", "risk_score = 99"))
    write_rule(
        folder, VALID.replace('severity = "high"', "severity = high"), "defense_evasion_x.toml"
    )
    code, out, _ = run(capsys, "lint", "--rules", str(folder), "--no-pack", "--no-color")
    assert code == 1
    assert f"{folder}/defense_evasion_x.toml:5:12: error: load: not valid TOML" in out
    assert f"{folder}/defense_evasion_test.toml: error: severity: risk_score 99" in out
    assert "1 rules checked: 2 errors, 1 warnings" in out
    code, out, _ = run(capsys, "lint", "--rules", str(folder), "--no-pack", "--json")
    report = json.loads(out)
    assert report["errors"] == 2 and {i["code"] for i in report["issues"]} == {
        "load",
        "severity",
        "triage",
    }


def test_a_broken_rule_file_stops_the_other_commands_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_rule(tmp_path, VALID.replace("risk_score = 73", "risk_score = [1]"))
    for command in ("list", "test", "export"):
        code, out, err = run(capsys, command, "--rules", str(tmp_path))
        assert code == 2 and not out
        line = VALID.splitlines().index("risk_score = 73") + 1
        assert err == (
            f"doorhunt: error: {tmp_path}/defense_evasion_test.toml:{line}: "
            "'risk_score' must be an integer, got an array\n"
        )
    code, _, err = run(capsys, "list", "--no-pack")
    assert code == 2 and "--no-pack leaves no rules" in err
    code, _, err = run(capsys, "list", "--rules", str(tmp_path / "nowhere"))
    assert code == 2 and "no such directory" in err


def test_help_teaches_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "examples:" in out and "doorhunt rules export --format kibana" in out
    for command in ("list", "show", "test", "lint", "export"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "examples:" in capsys.readouterr().out
    assert main(["frobnicate"]) == 2


# -- Kibana export ---------------------------------------------------------------------------------


def test_kibana_export_lines_have_kibanas_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "export", "--format", "kibana")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == len(PACK)
    for line, rule in zip(lines, PACK, strict=True):
        exported = json.loads(line)
        assert set(exported) >= IMPORT_REQUIRED
        assert set(exported) <= set(KIBANA_EXPORT_LINE), set(exported) - set(KIBANA_EXPORT_LINE)
        same_shape(exported, KIBANA_EXPORT_LINE)
        assert exported["rule_id"] == rule.id and exported["type"] == exported["language"] == "eql"
        assert exported["index"] == ["logs-endpoint.events.*", "logs-doorhunt.*"]
        assert exported["severity"] == rule.severity and exported["risk_score"] == rule.risk_score
        assert exported["threat"][0]["tactic"]["name"] == rule.tactic
        assert exported["enabled"] is False and exported["interval"] == "5m"
        assert exported["note"].startswith("## Triage\n\n") and exported["author"]
        assert {f["name"] for f in exported["required_fields"]} >= {"event.category"}
        assert "\n" not in line


def test_kibana_export_looks_back_over_a_sequences_maxspan(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = run(capsys, "export", "--format", "kibana", "execution_bind_shell_session")
    exported = json.loads(out)
    assert exported["from"] == "now-420s"  # 5 min interval + 1 min margin + 1 min maxspan
    assert exported["query"].startswith("sequence by process.entity_id with maxspan=1m")


def test_kibana_export_to_a_file_in_korean_and_enabled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "rules.ndjson"
    code, out, err = run(
        capsys, "export", "--format", "kibana", "-o", str(target), "--lang", "ko", "--enabled",
        "defense_evasion_fake_kernel_thread", "0ee39f59",
    )  # fmt: skip
    assert code == 0 and not out and str(target) in err
    (line,) = target.read_text(encoding="utf-8").splitlines()
    exported = json.loads(line)
    assert exported["enabled"] is True and "진짜 커널 스레드인지" in exported["note"]
    code, _, err = run(capsys, "export", "-o", str(tmp_path / "absent" / "x.ndjson"))
    assert code == 2 and "No such file or directory" in err
