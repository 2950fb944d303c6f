"""`doorhunt sample` from the command line: outputs, languages, exit codes, one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from doorhunt.cli.sample import main
from doorhunt.ecs import assert_valid
from tests.sample.builds import Samples, require_module, session_samples


@pytest.fixture(scope="module", autouse=True)
def _extras() -> None:
    require_module("capstone", "capstone")
    require_module("yara_x", "yara-x")


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Samples:
    return session_samples(tmp_path_factory)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_carries_verdict_config_filters_and_yara(
    samples: Samples, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run([str(samples.path("classic-x86-64-O0")), "--json"], capsys)
    document = json.loads(out)
    assert code == 1 and err == ""
    assert document["verdict"]["class"] == "bpfdoor" and document["verdict"]["score"] == 100
    assert document["format"] == "elf" and document["elf"]["machine"] == "x86-64"
    assert len(document["file"]["hash"]["sha256"]) == 64
    assert document["filters"][0]["class"] == "bpfdoor"
    assert document["filters"][0]["place"]["origin"] == "stack"
    assert len(document["filters"][0]["disassembly"]) == 30
    assert {p["value"] for p in document["config"]["passwords"]} == {
        "dh-test-pass-A",
        "dh-test-pass-B",
    }
    assert "doorhunt_bpfdoor_filter_stack_x86" in {hit["rule"] for hit in document["yara"]}
    assert document["gaps"] == []


def test_the_negative_control_exits_0(samples: Samples, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run([str(samples.path("benign-control")), "--json"], capsys)
    assert code == 0 and json.loads(out)["verdict"]["class"] == "clean"


def test_ndjson_gives_ecs_documents_and_bad_files_do_not_stop_the_rest(
    samples: Samples, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not an ELF file")
    files = [str(samples.path("benign-control")), str(text), str(samples.path("classic-x86-32"))]
    code, out, err = run([*files, "--ndjson"], capsys)
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    for line in lines:
        assert_valid(line, require_core=True)
    samples_only = [line for line in lines if line["event"]["action"] == "sample_analysis"]
    assert [line.get("doorhunt", {}).get("sample", {}).get("class") for line in samples_only] == [
        "clean",
        None,
        "bpfdoor",
    ]
    assert [line["event"]["kind"] for line in samples_only] == ["event", "event", "alert"]
    assert samples_only[1]["event"]["outcome"] == "failure"
    assert "not an ELF file" in samples_only[1]["error"]["message"]
    hits = [line for line in lines if line["event"]["action"] == "yara_match"]
    assert hits and all(hit["file"]["path"] == files[2] for hit in hits)
    assert err.count("\n") == 1 and err.startswith(f"doorhunt: error: {text}:byte 0:")


def test_a_folder_stands_for_its_elf_files(
    samples: Samples, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "drop"
    (folder / "deeper").mkdir(parents=True)
    shutil.copy(samples.path("benign-control"), folder / "control")
    shutil.copy(samples.path("classic-x86-64-O2"), folder / "deeper" / "kdmtmpflush")
    (folder / "run.sh").write_text("#!/bin/sh\n")
    (folder / "link").symlink_to(samples.path("classic-x86-32"))
    code, out, err = run([str(folder), "--json", "--no-yara"], capsys)
    document = json.loads(out)
    names = [Path(sample["file"]["name"]).name for sample in document["samples"]]
    assert code == 1 and names == ["control", "kdmtmpflush"]
    assert err == "doorhunt: 2 files in folders skipped: not ELF\n"


def test_terminal_report_in_english_and_korean(
    samples: Samples, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(samples.path("variant-2025-static"))
    code, out, _ = run([path, "--no-color"], capsys)
    assert code == 1
    for text in (
        "Verdict",
        "BPFDOOR",
        "score 100/100",
        "Socket filters (2)",
        "libpcap text at file offset",
        "libpcap filters",
        "(compiled: filter #1)",
        "Addresses",
        "192.0.2.77:8443  (ipv4, documentation;",
        "Crypto",
        "mbed TLS 2.28.3  (version-string",
        "high confidence",
        "Magic packet",
        "flag@0:4 | ip@4:4 | port@8:2",
        "0x5571",
        "Passwords",
        "verified: md5(salt+password)",
        "Bind ports",
        "42391-43390",
        "YARA (4 rules matched)",
        "statically linked",
    ):
        assert text in out, text
    _, korean, _ = run([path, "--lang", "ko", "--no-color"], capsys)
    for text in (
        "판정",
        "근거",
        "소켓 필터",
        "비밀번호",
        "검증됨",
        "바인드 포트",
        "설정",
        "libpcap 필터",
        "주소",
        "신뢰도 높음",
        "암호",
        "매직 패킷",
    ):
        assert text in korean, text


def test_a_hostile_file_name_is_escaped_on_the_terminal(
    samples: Samples, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = tmp_path / "\x1b[2Jx\u202egpj.elf"
    hostile.write_bytes(samples.data("benign-control"))
    code, out, _ = run([str(hostile), "--no-color"], capsys)
    assert code == 0
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\x1b[2Jx\\u202egpj" in out.replace("\n", "")


def test_not_elf_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "script.sh"
    path.write_text("#!/bin/sh\necho hi\n")
    code, out, err = run([str(path)], capsys)
    assert code == 2 and out == ""
    assert err == (
        f"doorhunt: error: {path}:byte 0: not an ELF file: expected magic 7f 45 4c 46, "
        "got 23 21 2f 62\n"
    )
    code, _, err = run([str(tmp_path / "missing")], capsys)
    assert code == 2 and "no such file" in err


def test_raw_mode_and_options(
    samples: Samples, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dump = tmp_path / "dump.bin"
    dump.write_bytes(b"\0" * 100 + samples.data("classic-x86-32")[100:])
    code, out, _ = run([str(dump), "--raw", "--no-yara", "--json"], capsys)
    document = json.loads(out)
    assert code == 1 and document["format"] == "raw" and document["yara"] is None
    code, _, _ = run([str(samples.path("classic-x86-32")), "--threshold", "101"], capsys)
    assert code == 2
    code, _, err = run([str(dump), "--no-yara", "--rules", "x.yar"], capsys)
    assert code == 2 and "contradict" in err
