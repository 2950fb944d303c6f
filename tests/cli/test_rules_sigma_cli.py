"""`doorhunt rules import-sigma`: output, files written, exit codes, bad input, mounting."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import pytest

pytest.importorskip("sigma", reason="pySigma is the `sigma` extra")

from doorhunt.cli.common import ArgumentParser
from doorhunt.cli.rules_sigma import add_import_sigma_parser, main

GOOD = """\
title: Shell from shared memory
id: 2d0b6a52-6a3e-4d0e-9a55-1f6b8c2f0a11
description: A shell started from /dev/shm.
author: doorhunt tests
tags: [attack.execution, attack.t1059.004]
logsource: {product: linux, category: process_creation}
detection:
    selection:
        Image|startswith: '/dev/shm/'
    condition: selection
falsepositives: [Unknown]
level: high
"""
UNMAPPED = GOOD.replace("Image|startswith", "OriginalFileName").replace(
    "Shell from shared memory", "Windows field"
)
AUDIT = """\
title: Immutable flag removed
logsource: {product: linux, service: auditd}
detection:
    selection: {type: EXECVE, a0: chattr, a1|contains: '-i'}
    condition: selection
tags: [attack.defense-evasion]
level: medium
"""


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    (folder / "nested").mkdir(parents=True)
    (folder / "good.yml").write_text(GOOD)
    (folder / "nested" / "unmapped.yaml").write_text(UNMAPPED)
    return folder


def test_all_converted_prints_queries_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "good.yml"
    path.write_text(GOOD)
    assert main([str(path), "--no-color"]) == 0
    out = capsys.readouterr().out
    assert "# execution_shell_from_shared_memory.toml" in out
    assert 'process.executable : "/dev/shm/*"' in out
    assert "converted 1 / 1 Sigma rules from 1 files" in out


def test_failures_grouped_by_reason_exit_1(rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(rules), "--no-color"]) == 1
    out = capsys.readouterr().out
    assert "converted 1 / 2 Sigma rules from 2 files" in out
    assert "not converted, field not mapped (1):" in out
    assert "unmapped.yaml “Windows field”: field OriginalFileName (process_creation)" in out


def test_output_directory_and_report(
    rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "out"
    report = tmp_path / "report.json"
    assert main([str(rules), "-o", str(out_dir), "--report", str(report)]) == 1
    written = sorted(p.name for p in out_dir.iterdir())
    assert written == ["execution_shell_from_shared_memory.toml"]
    body = tomllib.loads((out_dir / written[0]).read_text())["rule"]
    assert body["id"] == "2d0b6a52-6a3e-4d0e-9a55-1f6b8c2f0a11"
    assert "sigma-converted" in body["tags"]
    document = json.loads(report.read_text())
    assert (document["converted"], document["failed"], document["total"]) == (1, 1, 2)
    assert document["failures_by_kind"] == {"field not mapped": 1}
    assert "wrote 1 rule files to" in capsys.readouterr().out


def test_json_output(rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(rules), "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["rules"][0]["query"].startswith("process where")
    assert document["failures"][0]["kind"] == "field not mapped"


def test_strict_refuses_approximations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "audit.yml"
    path.write_text(AUDIT)
    assert main([str(path), "--no-color"]) == 0
    assert "converted with notes" in capsys.readouterr().out
    assert main([str(path), "--strict", "--no-color"]) == 1
    assert "approximate conversion refused" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\xc3\x28 not utf-8", "not valid UTF-8"),
        (b"title: [", "line"),
        (b"just: yaml\n", "no detection"),
        (b"a" * (2 << 20), "larger than"),
    ],
)
def test_bad_files_are_one_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, words: str
) -> None:
    path = tmp_path / "bad.yml"
    path.write_bytes(content)
    assert main([str(path), "--no-color"]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    lines = [line for line in captured.out.splitlines() if words in line]
    assert len(lines) == 1 and lines[0].startswith(f"  {path}")


def test_missing_path_and_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nope.yml")]) == 1
    assert "no such file or directory" in capsys.readouterr().out
    assert main([]) == 2
    assert "error:" in capsys.readouterr().err


def test_help_teaches_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "doorhunt rules import-sigma" in out and "--strict" in out


def test_without_pysigma_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "good.yml"
    path.write_text(GOOD)
    monkeypatch.setitem(sys.modules, "sigma.conversion.base", None)
    assert main([str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'doorhunt[sigma]'" in err


def test_mounts_under_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "good.yml"
    path.write_text(GOOD)
    parser = ArgumentParser(prog="doorhunt rules")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    add_import_sigma_parser(commands)
    args = parser.parse_args(["import-sigma", str(path), "--json"])
    assert args.handler(args) == 0
    assert json.loads(capsys.readouterr().out)["converted"] == 1
