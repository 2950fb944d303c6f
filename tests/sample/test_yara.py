"""doorhunt's YARA rules and scanner: every rule matches the builds it names and nothing on the
system; Debian's yara agrees; live processes are scanned through their executable (even when
deleted) and their memory."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from doorhunt.errors import InputError
from doorhunt.sample.yara import (
    RuleFile,
    YaraRuleError,
    YaraScanner,
    builtin_rule_files,
    check_rules,
    compile_rules,
    read_rule_files,
)
from tests.conftest import require_tool
from tests.sample.builds import BUILDS, BUILDS_BY_NAME, Samples, require_module

SYSTEM_FOLDERS = ("/usr/bin", "/usr/sbin", "/usr/lib/x86_64-linux-gnu")
FALSE_POSITIVE_BUDGET = 400  # system files scanned in the unit run (the benchmark scans all)


@pytest.fixture(scope="module")
def scanner() -> YaraScanner:
    require_module("yara_x", "yara-x")
    return YaraScanner()


def rule_examples() -> dict[str, list[str]]:
    require_module("yara_x", "yara-x")
    rules = compile_rules(builtin_rule_files())
    return {
        rule.identifier: [e.strip() for e in str(dict(rule.metadata)["example"]).split(",")]
        for rule in rules
    }


def test_every_rule_has_its_metadata_and_names_existing_builds() -> None:
    examples = rule_examples()
    assert len(examples) >= 6
    for rule in compile_rules(builtin_rule_files()):
        meta = dict(rule.metadata)
        assert {"description", "author", "reference", "severity", "example"} <= set(meta)
        assert rule.identifier.startswith("doorhunt_bpfdoor_")
    for names in examples.values():
        assert names and all(name in BUILDS_BY_NAME for name in names)


def test_every_rule_matches_the_builds_it_names(samples: Samples, scanner: YaraScanner) -> None:
    for rule, names in rule_examples().items():
        for name in names:
            hits = {hit.rule for hit in scanner.scan_bytes(samples.data(name))}
            assert rule in hits, (rule, name)


def test_every_bpfdoor_build_is_matched_and_the_control_is_not(
    samples: Samples, scanner: YaraScanner
) -> None:
    for build in BUILDS:
        hits = scanner.scan_path(samples.path(build.name)).hits
        assert bool(hits) == build.bpfdoor, build.name
    report = scanner.scan_path(samples.path("classic-x86-64-O0"))
    evidence = {m.identifier: m for hit in report.hits for m in hit.strings}
    assert evidence["$name01"].data == b"/sbin/udevd -d"


@pytest.mark.slow
def test_no_rule_matches_system_files(scanner: YaraScanner) -> None:
    scanned = 0
    for folder in SYSTEM_FOLDERS:
        for path in sorted(Path(folder).glob("*"))[: FALSE_POSITIVE_BUDGET // 3]:
            if path.is_file() and not path.is_symlink():
                report = scanner.scan_path(path, max_bytes=32 * 1024 * 1024)
                assert report.hits == (), (path, [h.rule for h in report.hits])
                scanned += 1
    assert scanned > 100


def test_debian_yara_agrees_on_every_build(samples: Samples, tmp_path: Path) -> None:
    yara = require_tool("yara")
    rules = tmp_path / "doorhunt.yar"
    rules.write_text("".join(source.text for source in builtin_rule_files()))
    for build in BUILDS:
        result = subprocess.run(
            [yara, "-w", str(rules), str(samples.path(build.name))],
            capture_output=True,
            text=True,
            check=True,
        )
        theirs = {line.split()[0] for line in result.stdout.splitlines()}
        ours = {hit.rule for hit in YaraScanner().scan_path(samples.path(build.name)).hits}
        assert theirs == ours, build.name


def test_rule_errors_carry_file_line_and_column(tmp_path: Path) -> None:
    require_module("yara_x", "yara-x")
    broken = tmp_path / "broken.yar"
    broken.write_text("rule ok { condition: true }\nrule bad {\n  condition: $a\n}\n")
    with pytest.raises(YaraRuleError) as raised:
        YaraScanner(read_rule_files([broken]))
    assert raised.value.location == f"{broken}:3:14"
    problems = check_rules(
        [RuleFile("a.yar", "rule x { condition: nope }"), RuleFile("b.yar", "rule y {")]
    )
    assert [p.location.split(":")[0] for p in problems if p.location] == ["a.yar", "b.yar"]


def test_user_rules_live_in_their_own_namespace(tmp_path: Path, samples: Samples) -> None:
    require_module("yara_x", "yara-x")
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "extra.yar").write_text(
        'rule fixture_text { strings: $a = "doorhunt test fixture" condition: $a }'
    )
    (folder / "ignored.txt").write_text("not a rule")
    scanner = YaraScanner(read_rule_files([folder]), builtin=False)
    hits = scanner.scan_path(samples.path("classic-x86-64-O0")).hits
    assert [(h.namespace, h.rule) for h in hits] == [("extra", "fixture_text")]
    with pytest.raises(InputError, match="no such file"):
        read_rule_files([tmp_path / "missing.yar"])


def test_unreadable_targets_are_gaps(scanner: YaraScanner, tmp_path: Path) -> None:
    report = scanner.scan_path(tmp_path / "missing")
    assert report.hits == () and report.gaps and "No such file" in report.gaps[0]
    gone = scanner.scan_process(2**22 + 12345)
    assert gone.hits == () and gone.gaps


def test_a_running_process_is_scanned_through_its_deleted_executable_and_memory(
    samples: Samples, scanner: YaraScanner, tmp_path: Path
) -> None:
    copy = tmp_path / f"dh-sample-{os.getpid()}"
    shutil.copy(samples.path("classic-x86-64-O2"), copy)
    process = subprocess.Popen(
        [str(copy), "--hold"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == b"holding\n"  # main() has built its stack
        copy.unlink()
        report = scanner.scan_process(process.pid)
        assert process.poll() is None, "the fixture process ended early"
        sources = {(hit.source, hit.rule) for hit in report.hits}
        assert ("exe", "doorhunt_bpfdoor_masquerade") in sources, report
        assert report.scanned_bytes > 0
        if os.geteuid() != 0 and report.gaps:
            return  # memory needs ptrace rights; the gap says so
        memory = {hit.rule: hit for hit in report.hits if hit.source == "memory"}
        # The filter main() built on its stack, and the image's mappings read as one stretch
        # that starts with its ELF header, as the file does.
        stack = memory["doorhunt_bpfdoor_filter_array"]
        assert stack.region and stack.region.endswith("[stack]")
        image = memory["doorhunt_bpfdoor_masquerade"]
        assert image.region and image.region.endswith("(deleted)") and image.base_address
    finally:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()
        process.wait(timeout=10)
        process.stdout.close()
