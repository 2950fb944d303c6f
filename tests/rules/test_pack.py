"""The rule pack and its loader: every shipped rule loads and its examples behave; broken rule
files give one located line; the pack fires on real producers' documents (the audit ingest,
the live sensor watching the emulator) and not on a benign workload."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorhunt.ecs import get_field
from doorhunt.rules.engine import StreamingEngine
from doorhunt.rules.pack import (
    PACK_DIRECTORY,
    Rule,
    RuleError,
    RuleSet,
    check_examples,
    collect_rules,
    find_rule,
    load_rule_file,
    load_rules,
    parse_rule,
)
from doorhunt.rules.pack.examples import example_documents
from doorhunt.rules.pack.loader import nest_fields

PACK = load_rules()

# Issue 5's list of behaviours the pack must cover, each with the rule files that do.
REQUIRED_BEHAVIOURS = {
    "execution from shared memory": ["defense_evasion_execution_from_shared_memory"],
    "abnormal PID/lock file creation (file.size, /run and /var/run)": [
        "defense_evasion_empty_pid_file_by_unusual_program",
        "defense_evasion_bpfdoor_pid_file",
    ],
    "execution of a PID/lock file": ["defense_evasion_pid_file_executed"],
    "executable self-deletion after exec": ["defense_evasion_self_deleting_executable"],
    "timestomp of executables or files in /dev/shm and temp dirs": [
        "defense_evasion_timestomp_in_shared_memory",
        "defense_evasion_timestomp_of_executable",
    ],
    "process-name masquerade": ["defense_evasion_masquerade_as_system_daemon"],
    "fake kernel threads": ["defense_evasion_fake_kernel_thread"],
    "socket filter by a non-allow-listed program": [
        "command_and_control_socket_filter_by_unexpected_program",
        "command_and_control_suspicious_socket_filter",
    ],
    "BPFDoor-classified filter": ["command_and_control_bpfdoor_socket_filter"],
    "raw packet socket by an unexpected program": [
        "discovery_raw_packet_socket_by_unexpected_program"
    ],
    "iptables/nft REDIRECT into 42391-43390 and its deletion": [
        "defense_evasion_iptables_redirect_to_bind_shell_port",
        "defense_evasion_iptables_redirect_removed",
    ],
    "reverse-shell sequence": ["execution_reverse_shell_after_outbound_connection"],
    "bind-shell sequence": ["execution_bind_shell_session"],
    "shell history disabled by environment": [
        "defense_evasion_shell_history_disabled",
        "execution_shell_with_bpfdoor_environment",
    ],
    "network egress from a deleted executable": [
        "command_and_control_connection_from_deleted_executable"
    ],
    "exec from memfd": ["defense_evasion_execution_from_memfd"],
    "/dev/ptmx opened by an executable from /dev/shm": ["execution_ptmx_opened_from_shared_memory"],
}

VALID = """\
[rule]
id = "5b0f9c4e-8a51-4d8e-9a0e-1f2d3c4b5a69"
name = "Test rule"
description = "A rule for the loader's tests, long enough to say what it is for."
severity = "high"
risk_score = 73
query = \'\'\'
process where event.action == "exec" and
  process.executable : "/dev/shm/*"
\'\'\'
references = ["https://attack.mitre.org/techniques/T1564/"]
tags = ["test"]
false_positives = ["none"]

[rule.triage]
en = "Look at it."
ko = "확인하세요."

[[rule.threat]]
framework = "MITRE ATT&CK"
[rule.threat.tactic]
id = "TA0005"
name = "Defense Evasion"
reference = "https://attack.mitre.org/tactics/TA0005/"
[[rule.threat.technique]]
id = "T1564"
name = "Hide Artifacts"
reference = "https://attack.mitre.org/techniques/T1564/"

[[example]]
expect = "match"
[[example.events]]
"event.category" = ["process"]
"event.action" = "exec"
"process.executable" = "/dev/shm/x"

[[example]]
expect = "no_match"
[[example.events]]
"event.category" = ["process"]
"event.action" = "exec"
"process.executable" = "/usr/bin/x"
"""


def write_rule(directory: Path, text: str, name: str = "defense_evasion_test.toml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> RuleError:
    path = write_rule(tmp_path, text)
    with pytest.raises(RuleError) as caught:
        load_rule_file(path, ruleset="test")
    error = caught.value
    assert "\n" not in str(error), "errors are one line"
    assert str(error).startswith(str(path)), "errors name the file"
    return error


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# -- the shipped pack ------------------------------------------------------------------------------


def test_the_pack_loads_with_unique_ids_and_files_named_after_tactics() -> None:
    assert len(PACK) >= 22
    assert len({rule.id for rule in PACK}) == len(PACK)
    for rule in PACK:
        assert rule.ruleset == "doorhunt"
        assert rule.path.parent == PACK_DIRECTORY
        assert rule.author and rule.license
        assert rule.triage["en"] and rule.triage["ko"] and rule.name_ko
        assert str(uuid.UUID(rule.id)) == rule.id
    assert {path.name for path in PACK_DIRECTORY.glob("*.toml")} == {
        rule.path.name for rule in PACK
    }


@pytest.mark.parametrize("rule", PACK, ids=lambda rule: rule.path.stem)
def test_every_example_of_the_pack_behaves(rule: Rule) -> None:
    results = check_examples(rule)
    assert {result.example.expect for result in results} == {"match", "no_match"}
    failures = [f"#{r.number} {r.example.description}: {r.reason}" for r in results if not r.passed]
    assert not failures


@pytest.mark.parametrize("rule", PACK, ids=lambda rule: rule.path.stem)
def test_every_example_behaves_the_same_as_a_hunt_over_the_store(rule: Rule) -> None:
    from tests.rules.helpers import hunt

    for number, example in enumerate(rule.examples, 1):
        documents = example_documents(rule, number, example)
        found = bool(hunt(rule.compiled, documents))
        assert found == (example.expect == "match"), f"#{number} {example.description}"


@pytest.mark.parametrize("behaviour", sorted(REQUIRED_BEHAVIOURS))
def test_each_required_behaviour_has_a_rule_with_a_matching_example(behaviour: str) -> None:
    for stem in REQUIRED_BEHAVIOURS[behaviour]:
        rule = find_rule(PACK, stem)
        assert any(
            result.passed and result.example.expect == "match" for result in check_examples(rule)
        )


def test_automatic_response_only_on_rules_sure_enough_to_act() -> None:
    for rule in PACK:
        if rule.response_actions:
            assert rule.severity in ("high", "critical"), rule.path.name
    quarantining = {rule.path.stem for rule in PACK if "quarantine_file" in rule.response_actions}
    assert "defense_evasion_execution_from_shared_memory" in quarantining


def test_sequences_forget_state_and_are_bounded_in_time() -> None:
    sequences = [rule for rule in PACK if rule.compiled.kind == "sequence"]
    assert len(sequences) >= 3
    for rule in sequences:
        assert rule.compiled.maxspan_us is not None and rule.compiled.maxspan_us <= 60_000_000


# -- the loader ------------------------------------------------------------------------------------


def test_a_valid_file_loads_typed_and_compiled(tmp_path: Path) -> None:
    path = write_rule(tmp_path / "mine", VALID)
    rule = load_rule_file(path, ruleset="mine")
    assert rule.severity == "high" and rule.risk_score == 73 and rule.version == 1
    assert rule.suppression_seconds == 300 and rule.response_actions == ()
    assert rule.tactic == "Defense Evasion" and rule.techniques == ("T1564",)
    assert rule.query_line == line_of(VALID, "process where")
    assert rule.compiled.kind == "event" and rule.compiled.name == "Test rule"
    assert rule.examples[0].events[0] == {
        "event": {"category": ["process"], "action": "exec"},
        "process": {"executable": "/dev/shm/x"},
    }
    assert rule.author == () and rule.license == ""  # pack defaults are the pack's


def test_broken_toml_names_file_line_and_column(tmp_path: Path) -> None:
    text = VALID.replace('severity = "high"', "severity = high")
    error = load_error(tmp_path, text)
    assert str(error.location).endswith(f":{line_of(text, 'severity = high')}:12")
    assert "not valid TOML" in error.message


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        ('severity = "high"', "severity = 3", "severity = 3", "'severity' must be a string"),
        ('severity = "high"', 'severity = "urgent"', "severity =", "'severity' must be one of"),
        ("risk_score = 73", "risk_score = 173", "risk_score", "between 0 and 100"),
        ("risk_score = 73", 'risk_score = "73"', "risk_score", "must be an integer"),
        ('tags = ["test"]', 'tags = "test"', "tags =", "'tags' must be a list of strings"),
        ('tags = ["test"]', 'tagz = ["test"]', "[rule]", "unknown key 'tagz' in [rule]"),
        (
            'id = "5b0f9c4e-8a51-4d8e-9a0e-1f2d3c4b5a69"',
            'id = "rule-1"',
            "id =",
            "must be a UUID",
        ),
        (
            'id = "5b0f9c4e-8a51-4d8e-9a0e-1f2d3c4b5a69"',
            'id = "5B0F9C4E-8A51-4D8E-9A0E-1F2D3C4B5A69"',
            "id =",
            "canonical form",
        ),
        ('ko = "확인하세요."', 'kr = "확인하세요."', "[rule.triage]", "unknown key 'kr'"),
        ('en = "Look at it."', "", "[rule.triage]", "no 'en' note"),
        ('expect = "no_match"', 'expect = "nomatch"', "", "'expect' must be"),
        (
            '[[example]]\nexpect = "match"',
            '[[example]]\nexpect = "match"\nwhy = 1',
            "[[example]]",
            "unknown key 'why'",
        ),
        (
            '"process.executable" = "/usr/bin/x"',
            '"process.executable" = "/usr/bin/x"\n"process" = {executable = "/y"}',
            "",
            "given twice",
        ),
    ],
)
def test_wrong_fields_name_the_line_and_the_problem(
    tmp_path: Path, old: str, new: str, needle: str, message: str
) -> None:
    assert old in VALID
    text = VALID.replace(old, new, 1)
    error = load_error(tmp_path, text)
    assert message in error.message
    if needle:
        assert str(error.location).endswith(f":{line_of(text, needle)}"), error


def test_example_errors_point_at_their_example(tmp_path: Path) -> None:
    text = VALID.replace('expect = "no_match"', 'expect = "nomatch"')
    error = load_error(tmp_path, text)
    second = [i for i, line in enumerate(text.splitlines(), 1) if line == "[[example]]"][1]
    assert str(error.location).endswith(f":{second}") and "#2" in error.message


def test_a_query_error_points_into_the_file(tmp_path: Path) -> None:
    text = VALID.replace('process.executable : "/dev/shm/*"', 'process.executable :: "/dev/shm/*"')
    error = load_error(tmp_path, text)
    assert error.message.startswith("query: ")
    line = line_of(text, "process.executable ::")
    assert f":{line}:" in str(error.location)


def test_missing_tables_and_bad_actions(tmp_path: Path) -> None:
    no_threat = (
        VALID.split("[[rule.threat]]", maxsplit=1)[0]
        + "[[example]]"
        + VALID.split("[[example]]", 1)[1]
    )
    assert "ATT&CK" in load_error(tmp_path, no_threat).message
    bad_action = VALID.replace(
        "[[rule.threat]]", '[rule.response]\nactions = ["reboot"]\n\n[[rule.threat]]'
    )
    assert "unknown response action 'reboot'" in load_error(tmp_path, bad_action).message
    assert "no [rule] table" in load_error(tmp_path, "[[example]]\nexpect = 'match'\n").message
    assert "unknown key 'metadata'" in load_error(tmp_path, VALID + "\n[metadata]\nx = 1\n").message


def test_unreadable_files_and_directories(tmp_path: Path) -> None:
    path = tmp_path / "defense_evasion_binary.toml"
    path.write_bytes(VALID.encode() + b"\n# \xff\xfe\n")
    with pytest.raises(RuleError, match="not UTF-8") as caught:
        load_rule_file(path, ruleset="x")
    assert caught.value.location == f"{path}:{VALID.count(chr(10)) + 2}"
    with pytest.raises(RuleError, match="no such directory"):
        load_rules([tmp_path / "absent"], pack=False)


def test_duplicate_ids_are_an_error_naming_both_files(tmp_path: Path) -> None:
    write_rule(tmp_path / "a", VALID)
    second = write_rule(tmp_path / "b", VALID.replace('name = "Test rule"', 'name = "Other"'))
    rules, errors = collect_rules([tmp_path / "a", tmp_path / "b"], pack=False)
    assert len(rules) == 1 and len(errors) == 1
    assert errors[0].location == f"{second}:{line_of(VALID, 'id =')}"
    assert "already used by" in errors[0].message and str(tmp_path / "a") in errors[0].message
    with pytest.raises(RuleError, match="already used"):
        load_rules([tmp_path / "a", tmp_path / "b"], pack=False)
    # A user rule cannot take a pack rule's id either.
    write_rule(tmp_path / "c", VALID.replace("5b0f9c4e-8a51-4d8e-9a0e-1f2d3c4b5a69", PACK[0].id))
    with pytest.raises(RuleError, match=str(PACK[0].path)):
        load_rules([tmp_path / "c"])


def test_user_directories_load_after_the_pack_with_their_ruleset(tmp_path: Path) -> None:
    write_rule(tmp_path / "site-rules", VALID)
    rules = load_rules([tmp_path / "site-rules"])
    assert len(rules) == len(PACK) + 1
    assert rules[-1].ruleset == "site-rules" and rules[0].ruleset == "doorhunt"
    single = load_rules([tmp_path / "site-rules" / "defense_evasion_test.toml"], pack=False)
    assert [rule.ruleset for rule in single] == ["site-rules"]


_TOML_PIECES = st.sampled_from(
    [
        "[rule]", "[[example]]", "[[example.events]]", "[rule.triage]", "[[rule.threat]]",
        "[rule.threat.tactic]", "[[rule.threat.technique]]", "[rule.response]", 'id = "x"',
        "severity = 1", "query = '''", "'''", '"""', "actions = [1, 2]", "events = []",
        "expect = 'match'", '"a.b" = 1', "a.b = {c = 1}", "x = [[[[[[[[1]]]]]]]]", "= =",
        "risk_score = -1", "threat = 1", "triage = []", "[rule.threat]", "technique = [1]",
        '"@timestamp" = 1979-05-27T07:32:00Z', "\x00", "\ud7ff", "[[rule.threat.technique.subtechnique]]",
    ]
)  # fmt: skip


@given(st.text(max_size=400))
def test_arbitrary_text_never_breaks_the_loader(text: str) -> None:
    try:
        parse_rule(text, path=Path("fuzz.toml"), ruleset="fuzz")
    except RuleError as error:
        assert str(error).startswith("fuzz.toml")
        assert "\n" not in str(error)


@given(
    st.lists(
        st.tuples(st.integers(0, 80), st.one_of(_TOML_PIECES, st.text(max_size=30))), max_size=8
    ),
    st.sets(st.integers(0, 80), max_size=6),
)
def test_mangled_rule_files_give_a_rule_or_a_located_error(
    insertions: list[tuple[int, str]], deletions: set[int]
) -> None:
    lines = [line for number, line in enumerate(VALID.splitlines()) if number not in deletions]
    for position, piece in insertions:
        lines.insert(min(position, len(lines)), piece)
    try:
        rule = parse_rule("\n".join(lines), path=Path("mangled.toml"), ruleset="fuzz")
    except RuleError as error:
        assert str(error).startswith("mangled.toml")
        assert "\n" not in str(error)
    else:
        assert rule.compiled is not None
        check_examples(rule)  # examples that loaded can always be run, and linted
        from doorhunt.rules.lint import lint_rule

        lint_rule(rule)


# -- finding rules ---------------------------------------------------------------------------------


def test_find_rule_by_id_file_name_or_name() -> None:
    rule = find_rule(PACK, "command_and_control_bpfdoor_socket_filter")
    assert find_rule(PACK, rule.id) is rule
    assert find_rule(PACK, rule.id[:8]) is rule
    assert find_rule(PACK, rule.id.upper()) is rule
    assert find_rule(PACK, "bpfdoor socket FILTER attached") is rule
    assert find_rule(PACK, "command_and_control_bpfdoor") is rule
    with pytest.raises(RuleError, match=r"names .* rules"):
        find_rule(PACK, "defense_evasion_")
    with pytest.raises(RuleError, match="no rule"):
        find_rule(PACK, "no-such-rule")
    with pytest.raises(RuleError):
        find_rule(PACK, "  ")


def test_rule_set_maps_matches_back_to_rules() -> None:
    engine = StreamingEngine(PACK.compiled())
    rule = find_rule(PACK, "defense_evasion_fake_kernel_thread")
    document = example_documents(rule, 1, rule.examples[0])[0]
    matches = engine.process(document)
    assert rule in {PACK.rule_of(match.rule) for match in matches}
    assert isinstance(PACK[1:3], RuleSet) and len(PACK[1:3]) == 2


# -- the example tester ----------------------------------------------------------------------------


def test_examples_get_timestamps_one_second_apart_and_ids(tmp_path: Path) -> None:
    sequence = VALID.replace(
        'process where event.action == "exec" and\n  process.executable : "/dev/shm/*"',
        "sequence by process.entity_id with maxspan=1s\n"
        '  [process where event.action == "exec"] [process where event.action == "end"]',
    ).replace(
        '"process.executable" = "/dev/shm/x"',
        '"process.entity_id" = "a"\n[[example.events]]\n"event.category" = ["process"]\n"event.action" = "end"\n"process.entity_id" = "a"',
    )
    rule = load_rule_file(write_rule(tmp_path, sequence), ruleset="t")
    documents = example_documents(rule, 1, rule.examples[0])
    assert [d["@timestamp"] for d in documents] == [
        "2025-01-01T00:00:00.000Z",
        "2025-01-01T00:00:01.000Z",
    ]
    assert [get_field(d, "event.id") for d in documents] == ["5b0f9c4e-1-1", "5b0f9c4e-1-2"]
    assert check_examples(rule)[0].passed  # 1 s apart is within maxspan=1s
    tighter = sequence.replace("maxspan=1s", "maxspan=500ms")
    rule = load_rule_file(write_rule(tmp_path, tighter), ruleset="t")
    result = check_examples(rule)[0]
    assert not result.passed and result.reason == "expected a match; nothing matched"
    # The example's events are not changed by running them.
    assert "@timestamp" not in rule.examples[0].events[0]


def test_a_no_match_example_that_matches_says_which_events(tmp_path: Path) -> None:
    text = VALID.replace(
        '"process.executable" = "/usr/bin/x"', '"process.executable" = "/dev/shm/y"'
    )
    rule = load_rule_file(write_rule(tmp_path, text), ruleset="t")
    results = check_examples(rule)
    assert results[0].passed
    assert not results[1].passed
    assert results[1].reason == "expected no match; matched event(s) 1"


def test_nested_fields_from_dotted_keys_and_tables() -> None:
    assert nest_fields({"process.pid": 1, "process": {"name": "x"}, "a.b.c": [1]}) == {
        "process": {"pid": 1, "name": "x"},
        "a": {"b": {"c": [1]}},
    }
    with pytest.raises(ValueError, match="given twice"):
        nest_fields({"process.pid": 1, "process": {"pid": 2}})


# -- real producers' documents ---------------------------------------------------------------------


def fired(documents: list[dict[str, object]]) -> dict[str, list[tuple[object, ...]]]:
    """Rule file stem -> the (pid, executable) of each match's last event."""
    engine = StreamingEngine(PACK.compiled())
    matches = []
    for document in sorted(documents, key=lambda d: str(d["@timestamp"])):
        matches += engine.process(document)
    matches += engine.flush()
    out: dict[str, list[tuple[object, ...]]] = {}
    for match in matches:
        last = match.events[-1]
        key = PACK.rule_of(match.rule).path.stem
        out.setdefault(key, []).append(
            (get_field(last, "process.pid"), get_field(last, "process.executable"))
        )
    return out


def test_the_pack_fires_on_an_ingested_audit_log_of_an_implant() -> None:
    from tests.ingest.test_mapping import fixture_documents

    hits = fired(list(fixture_documents().values()))
    assert set(hits) == {
        "defense_evasion_execution_from_shared_memory",
        "defense_evasion_timestomp_in_shared_memory",
        "defense_evasion_bpfdoor_pid_file",
        "discovery_raw_packet_socket_by_unexpected_program",
        "command_and_control_socket_filter_by_unexpected_program",
        "defense_evasion_masquerade_as_system_daemon",
        "defense_evasion_self_deleting_executable",
        "execution_reverse_shell_after_outbound_connection",
    }


def wait_for(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the sensor")
        time.sleep(0.05)


@pytest.mark.root
@pytest.mark.slow
def test_the_pack_fires_on_the_sensors_view_of_the_emulator_and_not_on_a_benign_script(
    tmp_path: Path,
) -> None:
    from doorhunt.emulate.launch import stop
    from doorhunt.sensor.pipeline import Sensor, SensorOptions
    from tests.sensor.test_sensor_kernel import Collect

    collected = Collect()
    sensor = Sensor(
        [collected],
        SensorOptions(
            audit=False,  # audit rules are shared host state; the sensor's own tests own them
            watch=("/dev/shm", "/run", str(tmp_path)),
            status_interval=3600,
            flush_interval=0.2,
        ),
    )
    data = tmp_path / "data"
    pid_file = f"/run/dh-rules-emu-{os.getpid()}.pid"
    lock = f"/run/dh-rules-benign-{os.getpid()}.lock"
    script = tmp_path / "install.sh"
    script.write_text(
        f"#!/bin/sh\nset -e\ncp /bin/true {tmp_path}/helper\n{tmp_path}/helper\n"
        f"touch {lock}\nrm -f {lock} {tmp_path}/helper\n"
    )
    script.chmod(0o755)
    sensor.start()
    try:
        launched = subprocess.run(
            [sys.executable, "-m", "doorhunt", "emulate", "start", "--data", str(data),
             "--pid-file", pid_file, "--json"],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        emulator = json.loads(launched.stdout)["emulators"][0]
        subprocess.run([str(script)], check=True, timeout=30)
        wait_for(
            lambda: (
                collected.where(event__action="name_change", process__pid=emulator["pid"])
                and collected.where(event__action="deletion", file__path=emulator["copy"])
                and collected.where(event__action="creation", file__path=pid_file)
                and collected.where(event__action="deletion", file__path=lock)
            )
        )
    finally:
        stop(data)
        sensor.stop()
    hits = fired([dict(document) for document in collected.documents])
    implant = {
        stem for stem, found in hits.items() if any(pid == emulator["pid"] for pid, _ in found)
    }
    assert {
        "defense_evasion_execution_from_shared_memory",
        "defense_evasion_self_deleting_executable",
        "defense_evasion_masquerade_as_system_daemon",
        "defense_evasion_empty_pid_file_by_unusual_program",
    } <= implant
    # The script's own processes raise nothing high: only its `touch` of a lock file (medium).
    benign = {
        find_rule(PACK, stem).severity
        for stem, found in hits.items()
        for pid, executable in found
        if pid != emulator["pid"]
        and str(executable).startswith(("/usr/bin", "/bin", str(tmp_path)))
    }
    assert benign <= {"low", "medium"}


def test_the_format_documents_example_is_a_rule_that_behaves() -> None:
    page = (Path(__file__).parents[2] / "docs" / "rule-format.md").read_text(encoding="utf-8")
    found = re.search(r"```toml\n(.*?)```", page, re.DOTALL)
    assert found is not None
    rule = parse_rule(
        found.group(1), path=Path("defense_evasion_timestomp_in_shared_memory.toml"), ruleset="doc"
    )
    assert rule.name_ko and rule.author == ("Example SOC",) and rule.license == "CC0-1.0"
    assert all(result.passed for result in check_examples(rule))


def test_the_pack_table_in_the_docs_lists_every_rule_as_it_is() -> None:
    page = (Path(__file__).parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")
    rows = [line for line in page.splitlines() if re.match(r"\| `[0-9a-f]{8}` \|", line)]
    assert len(rows) == len(PACK)
    for rule in PACK:
        (row,) = [row for row in rows if f"| `{rule.path.stem}` |" in row]
        assert row.startswith(f"| `{rule.id[:8]}` |")
        assert f"| {rule.severity} ({rule.risk_score}) |" in row
        assert f"| {', '.join(rule.response_actions) or '-'} |" in row
