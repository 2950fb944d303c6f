"""The rule linter: the shipped pack is clean, and each check catches what it is for."""

from __future__ import annotations

from pathlib import Path

import pytest

from doorhunt.rules.lint import (
    ATTACK_TACTICS,
    KNOWN_ACTIONS,
    LintIssue,
    attack_url,
    lint_rule,
    lint_rules,
    tactic_file_prefix,
)
from doorhunt.rules.pack import collect_rules, load_rule_file
from tests.rules.test_pack import VALID, write_rule


def lint_text(
    tmp_path: Path, text: str, name: str = "defense_evasion_test.toml"
) -> list[LintIssue]:
    rule = load_rule_file(write_rule(tmp_path, text, name), ruleset="test")
    return lint_rule(rule)


def codes(issues: list[LintIssue], level: str | None = None) -> set[str]:
    return {issue.code for issue in issues if level is None or issue.level == level}


def test_the_whole_pack_lints_clean() -> None:
    rules, errors = collect_rules()
    issues = lint_rules(rules, errors)
    assert not issues, "\n".join(str(issue) for issue in issues)


def test_the_valid_template_lints_clean_but_for_its_korean_name(tmp_path: Path) -> None:
    issues = lint_text(tmp_path, VALID)
    assert [(i.level, i.code) for i in issues] == [("warning", "triage")]
    assert "name_ko" in issues[0].message
    text = VALID.replace('name = "Test rule"', 'name = "Test rule"\nname_ko = "시험 규칙"')
    assert lint_text(tmp_path, text) == []


@pytest.mark.parametrize(
    ("old", "new", "code", "words"),
    [
        ("risk_score = 73", "risk_score = 21", "severity", "outside 48-73"),
        ('ko = "확인하세요."', 'ko = ""', "triage", "no triage note in 'ko'"),
        ('id = "T1564"', 'id = "T156"', "attack", "technique id 'T156' is not well-formed"),
        ('id = "TA0005"', 'id = "TA0099"', "attack", "not an ATT&CK Enterprise tactic"),
        ('name = "Defense Evasion"', 'name = "Evasion"', "attack", "is 'Defense Evasion'"),
        (
            'reference = "https://attack.mitre.org/techniques/T1564/"',
            'reference = "https://attack.mitre.org/techniques/T1654/"',
            "attack",
            "reference should be https://attack.mitre.org/techniques/T1564/",
        ),
        (
            'references = ["https://attack.mitre.org/techniques/T1564/"]',
            'references = ["https://attack.mitre.org/techniques/T1070/006/"]',
            "reference",
            "names T1070.006, which the threat mapping lacks",
        ),
        (
            'references = ["https://attack.mitre.org/techniques/T1564/"]',
            'references = ["https://attack.mitre.org/technique/T1564"]',
            "reference",
            "malformed ATT&CK reference",
        ),
        (
            'process.executable : "/dev/shm/*"',
            'process.exe : "/dev/shm/*"',
            "field",
            "unknown field process.exe",
        ),
        ('process.executable : "/dev/shm/*"', 'process.parent : "x"', "field", "is an object"),
        (
            'event.action == "exec"',
            'event.action == "ProcessRollup2"',
            "action",
            "'ProcessRollup2'",
        ),
        ('event.action == "exec"', 'event.action : "spawn*"', "action", "'spawn*'"),
        (
            '"process.executable" = "/dev/shm/x"',
            '"process.executable" = "/tmp/x"',
            "example-fails",
            "expected a match",
        ),
        (
            '"process.executable" = "/usr/bin/x"',
            '"process.executable" = "/usr/bin/x"\n"process.pid" = "one"',
            "example-ecs",
            "process.pid",
        ),
        (
            '"process.executable" = "/usr/bin/x"',
            '"process.executable" = "/usr/bin/x"\n"process.exe" = "x"',
            "example-ecs",
            "unknown field",
        ),
        ('false_positives = ["none"]', "", "required", "no false_positives"),
    ],
)
def test_each_check_catches_its_problem(
    tmp_path: Path, old: str, new: str, code: str, words: str
) -> None:
    assert old in VALID
    issues = lint_text(tmp_path, VALID.replace(old, new, 1))
    matching = [issue for issue in issues if issue.code == code and words in issue.message]
    assert matching, [str(issue) for issue in issues]
    assert all(str(issue).startswith(str(tmp_path)) for issue in issues)


def test_file_names_follow_the_first_tactic(tmp_path: Path) -> None:
    issues = lint_text(tmp_path, VALID, name="execution_test.toml")
    assert "file-name" in codes(issues, "error")
    assert "defense_evasion_<behaviour>.toml" in next(
        i.message for i in issues if i.code == "file-name"
    )
    assert "file-name" in codes(lint_text(tmp_path, VALID, name="defense_evasion_Test.toml"))
    assert "file-name" in codes(lint_text(tmp_path, VALID, name="defense_evasion_.toml"))
    assert "file-name" not in codes(lint_text(tmp_path, VALID, name="defense_evasion_a_b2.toml"))


def test_examples_of_both_kinds_are_required(tmp_path: Path) -> None:
    only_match = VALID.split('[[example]]\nexpect = "no_match"')[0]
    issues = lint_text(tmp_path, only_match)
    assert any(i.code == "examples" and "'no_match'" in i.message for i in issues)
    no_examples = VALID.split("[[example]]")[0]
    assert {i.message for i in lint_text(tmp_path, no_examples) if i.code == "examples"} == {
        "no 'match' example",
        "no 'no_match' example",
    }


def test_subtechniques_sit_under_their_technique(tmp_path: Path) -> None:
    text = VALID.replace(
        'reference = "https://attack.mitre.org/techniques/T1564/"\n\n[[example]]',
        'reference = "https://attack.mitre.org/techniques/T1564/"\n'
        "[[rule.threat.technique.subtechnique]]\n"
        'id = "T1070.006"\nname = "Timestomp"\n'
        'reference = "https://attack.mitre.org/techniques/T1070/006/"\n\n[[example]]',
    )
    issues = lint_text(tmp_path, text)
    assert any("not under technique T1564" in i.message for i in issues)


def test_response_on_a_medium_rule_is_a_warning(tmp_path: Path) -> None:
    text = (
        VALID.replace('severity = "high"', 'severity = "medium"')
        .replace("risk_score = 73", "risk_score = 47")
        .replace(
            "[[rule.threat]]", '[rule.response]\nactions = ["kill_process"]\n\n[[rule.threat]]'
        )
    )
    issues = lint_text(tmp_path, text)
    assert ("warning", "response") in {(i.level, i.code) for i in issues}
    assert "severity" not in codes(issues)


def test_across_rules_load_errors_ids_and_names(tmp_path: Path) -> None:
    write_rule(tmp_path / "a", VALID)
    write_rule(
        tmp_path / "a",
        VALID.replace("risk_score = 73", "risk_score = x"),
        "defense_evasion_bad.toml",
    )
    write_rule(
        tmp_path / "b",
        VALID.replace(
            "5b0f9c4e-8a51-4d8e-9a0e-1f2d3c4b5a69", "0d6f7f3a-2f63-4d41-8d37-4f1f2a7b9c10"
        ),
        "defense_evasion_same_name.toml",
    )
    rules, errors = collect_rules([tmp_path / "a", tmp_path / "b"], pack=False)
    issues = lint_rules(rules, errors)
    load = [i for i in issues if i.code == "load"]
    assert len(load) == 1 and load[0].rule is None
    assert load[0].location.startswith(str(tmp_path / "a" / "defense_evasion_bad.toml") + ":")
    assert any(i.code == "name" and i.level == "warning" for i in issues)
    again = load_rule_file(rules[0].path, ruleset="again")
    doubled = lint_rules([rules[0], again])
    assert any(i.code == "id" and "also used" in i.message for i in doubled)
    assert load[0].to_json()["rule"] is None


def test_documented_tables() -> None:
    assert tactic_file_prefix("Command and Control") == "command_and_control"
    assert tactic_file_prefix(ATTACK_TACTICS["TA0005"]) == "defense_evasion"
    assert attack_url("T1070.006") == "https://attack.mitre.org/techniques/T1070/006/"
    assert attack_url("TA0011") == "https://attack.mitre.org/tactics/TA0011/"
    # Every action the sensor's mapping and the audit ingest can write is known.
    from doorhunt.ingest.auditd.ecs import MAPPERS  # noqa: F401 - the table docs/ingest.md mirrors
    from doorhunt.sensor.mapping import FILE_TYPES, PROCESS_ACTIONS

    assert set(PROCESS_ACTIONS) | set(FILE_TYPES) <= KNOWN_ACTIONS
    assert {"filter_attached", "socket_opened", "timestomp", "disconnect_received"} <= KNOWN_ACTIONS
