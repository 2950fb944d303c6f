"""Sample analyses and YARA hits as ECS documents: every one valid ECS 9.4.0, alerts where
there is something to see, the extension fields documented in docs/ecs.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from doorhunt.ecs import assert_valid, get_field
from doorhunt.ecs.extensions import EXTENSION_FIELDS
from doorhunt.sample.analysis import analyze_bytes
from doorhunt.sample.documents import error_document, sample_documents, scan_documents
from doorhunt.sample.yara import ScanReport, YaraScanner
from tests.sample.builds import Samples, require_module

HOST = {"name": "test-host", "hostname": "test-host"}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def scanner() -> YaraScanner:
    require_module("yara_x", "yara-x")
    require_module("capstone", "capstone")
    return YaraScanner()


def test_a_bpfdoor_build_is_an_alert_with_its_hashes_threat_and_configuration(
    samples: Samples, scanner: YaraScanner
) -> None:
    data = samples.data("classic-x86-64-O0")
    analysis = analyze_bytes(data, "/dev/shm/kdmtmpflush", yara=scanner)
    documents = sample_documents(analysis, host=HOST, language="ko")
    for document in documents:
        assert_valid(document, require_core=True)
    sample, *hits = documents
    assert get_field(sample, "event.kind") == "alert"
    assert get_field(sample, "event.category") == ["file", "malware"]
    assert get_field(sample, "event.severity") == 100
    assert get_field(sample, "file.name") == "kdmtmpflush"
    assert get_field(sample, "file.hash.sha256") == analysis.file.sha256
    assert get_field(sample, "file.elf.architecture") == "x86-64"
    assert get_field(sample, "threat.software.name") == "BPFDoor"
    assert "T1205.002" in get_field(sample, "threat.technique.id")  # type: ignore[operator]
    assert get_field(sample, "doorhunt.sample.class") == "bpfdoor"
    assert get_field(sample, "doorhunt.bpf.class") == "bpfdoor"
    config = get_field(sample, "doorhunt.sample.config")
    assert isinstance(config, dict) and config["magic_layout"]["size"] == 24
    assert get_field(sample, "message") == analysis.verdict.reasons[0].render("ko")
    assert {get_field(hit, "rule.name") for hit in hits} == {
        hit.rule for hit in analysis.yara_hits or ()
    }
    for hit in hits:
        assert get_field(hit, "event.kind") == "alert"
        assert get_field(hit, "file.hash.sha256") == analysis.file.sha256
        assert get_field(hit, "doorhunt.yara.source") == "file"


def test_a_clean_file_is_an_event_and_an_unreadable_one_a_failure(samples: Samples) -> None:
    analysis = analyze_bytes(samples.data("benign-control"), "control")
    [document] = sample_documents(analysis, host=HOST)
    assert_valid(document, require_core=True)
    assert get_field(document, "event.kind") == "event"
    assert get_field(document, "event.category") == ["file"]
    assert get_field(document, "threat") is None
    failure = error_document("/tmp/x.sh", "not an ELF file", host=HOST)
    assert_valid(failure, require_core=True)
    assert get_field(failure, "event.outcome") == "failure"


def test_yara_scan_reports_become_one_document_per_hit_or_one_event(
    samples: Samples, scanner: YaraScanner
) -> None:
    hits = scanner.scan_path(samples.path("classic-x86-64-O2"))
    documents = scan_documents(hits, host=HOST)
    assert len(documents) == len(hits.hits) > 0
    none = scan_documents(
        ScanReport("pid 4437", "process", (), 0, ("memory unreadable",)), host=HOST
    )
    for document in [*documents, *none]:
        assert_valid(document, require_core=True)
    [event] = none
    assert get_field(event, "event.kind") == "event"
    assert get_field(event, "process.pid") == 4437
    assert get_field(event, "doorhunt.visibility.complete") is False


def test_every_sample_extension_field_is_in_the_table_and_the_docs() -> None:
    names = {field.name for field in EXTENSION_FIELDS}
    source = (ROOT / "src/doorhunt/sample/documents.py").read_text()
    table = (ROOT / "docs/ecs.md").read_text()
    for name in sorted(n for n in names if n.startswith(("doorhunt.sample.", "doorhunt.yara."))):
        assert re.search(rf"^\| `{re.escape(name)}` \|", table, re.MULTILINE), name
        assert name.rsplit(".", 1)[1] in source, name
