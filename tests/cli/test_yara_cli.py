"""`doorhunt yara` from the command line: scan, rules, check; exit codes and escaping."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from doorhunt.cli.yara import main
from doorhunt.ecs import assert_valid
from tests.sample.builds import Samples, require_module, session_samples


@pytest.fixture(scope="module", autouse=True)
def _yara_x() -> None:
    require_module("yara_x", "yara-x")


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Samples:
    return session_samples(tmp_path_factory)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def folder(samples: Samples, tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "nested").mkdir(parents=True)
    shutil.copy(samples.path("benign-control"), root / "control")
    shutil.copy(samples.path("classic-x86-64-O2"), root / "nested" / "kdmtmpflush")
    (root / "loop").symlink_to(root)
    return root


def test_a_folder_scan_finds_the_implant_and_exits_1(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["scan", str(folder), "-r", "--json"], capsys)
    document = json.loads(out)
    assert code == 1 and document["rules"] >= 6
    hits = {Path(t["target"]).name: [h["rule"] for h in t["hits"]] for t in document["targets"]}
    assert hits["control"] == []
    assert "doorhunt_bpfdoor_masquerade" in hits["kdmtmpflush"]
    assert "loop" not in hits  # symlinks are not followed


def test_a_clean_file_exits_0_and_an_unreadable_one_3(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["scan", str(folder / "control"), "--ndjson"], capsys)
    [document] = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and document["event"]["kind"] == "event"
    assert_valid(document, require_core=True)
    code, out, _ = run(["scan", str(folder / "missing"), "--no-color"], capsys)
    assert code == 3 and "No such file" in out
    code, _, _ = run(["scan", str(folder)], capsys)
    assert code == 3


def test_a_process_is_scanned_by_pid(samples: Samples, capsys: pytest.CaptureFixture[str]) -> None:
    process = subprocess.Popen(
        [str(samples.path("classic-x86-64-O0")), "--hold"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == b"holding\n"
        code, out, _ = run(["scan", "--pid", str(process.pid), "--json", "--no-memory"], capsys)
        [target] = json.loads(out)["targets"]
        assert code == 1 and target["kind"] == "process"
        assert {hit["source"] for hit in target["hits"]} == {"exe"}
    finally:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()
        process.wait(timeout=10)
        process.stdout.close()


def test_ndjson_gives_an_ecs_alert_per_hit(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["scan", str(folder / "nested" / "kdmtmpflush"), "--ndjson"], capsys)
    documents = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and documents
    for document in documents:
        assert_valid(document, require_core=True)
        assert document["event"]["kind"] == "alert" and document["rule"]["ruleset"] == "doorhunt"
        assert document["doorhunt"]["yara"]["matches"]
    assert "doorhunt_bpfdoor_masquerade" in {d["rule"]["name"] for d in documents}


def test_all_processes_finds_a_running_build(
    samples: Samples, capsys: pytest.CaptureFixture[str]
) -> None:
    process = subprocess.Popen(
        [str(samples.path("classic-x86-64-O2")), "--hold"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == b"holding\n"
        code, out, _ = run(["scan", "--all-processes", "--no-memory", "--ndjson"], capsys)
        documents = [json.loads(line) for line in out.splitlines()]
        assert code == 1
        mine = [d for d in documents if d.get("process", {}).get("pid") == process.pid]
        assert mine and all(d["event"]["kind"] == "alert" for d in mine)
        assert mine[0]["process"]["executable"] == str(samples.path("classic-x86-64-O2"))
        assert os.getpid() not in {d.get("process", {}).get("pid") for d in documents}
        for document in documents:
            assert_valid(document, require_core=True)
    finally:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()
        process.wait(timeout=10)
        process.stdout.close()


def test_rules_can_be_printed_and_listed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["rules"], capsys)
    assert code == 0 and out.count("\nrule doorhunt_") >= 6
    code, out, _ = run(["rules", "--json"], capsys)
    rules = json.loads(out)["rules"]
    assert code == 0 and all(rule["severity"] > 0 and rule["example"] for rule in rules)


def test_check_lists_every_error_with_its_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.yar"
    good.write_text("rule fine { condition: true }\n")
    code, out, _ = run(["check", str(good)], capsys)
    assert code == 0 and "1 rule files compile" in out
    bad = tmp_path / "bad.yar"
    bad.write_text("rule broken {\n  condition: $missing\n}\n")
    code, _, err = run(["check", str(good), str(bad)], capsys)
    assert code == 2
    assert err.startswith(f"doorhunt: error: {bad}:2:14: ") and err.count("\n") == 1


def test_hostile_rule_metadata_is_escaped_on_the_terminal(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rule = tmp_path / "hostile.yar"
    rule.write_text(
        'rule any_elf { meta: description = "\\x1b[31mred\\x1b[0m" '
        "condition: uint32(0) == 0x464C457F }\n"
    )
    code, out, _ = run(
        ["scan", str(folder / "control"), "--rules", str(rule), "--no-builtin-rules", "--no-color"],
        capsys,
    )
    assert code == 1 and "\x1b" not in out and "\\x1b[31mred" in out


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["scan"], capsys)[0] == 2
    assert run(["frobnicate"], capsys)[0] == 2
    code, _, err = run(["scan", "/", "--rules", "/nonexistent.yar"], capsys)
    assert code == 2 and "no such file" in err
