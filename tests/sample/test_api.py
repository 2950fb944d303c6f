"""The public API of doorhunt.sample is pinned: the host sweep and the scanner build on it."""

from __future__ import annotations

import pytest

import doorhunt.sample
from doorhunt.cli.sample import main as sample_main
from doorhunt.sample import yara as yara_module
from tests.sample.builds import Samples

PUBLIC = [
    "Artefact",
    "ArtefactKind",
    "Confidence",
    "CryptoMarker",
    "ElfImage",
    "FileFacts",
    "FilterArray",
    "FilterExpression",
    "FoundFilter",
    "MagicLayout",
    "NetworkIndicator",
    "RuleFile",
    "SampleAnalysis",
    "SampleClass",
    "SampleFormatError",
    "ScanReport",
    "StringMatch",
    "Verdict",
    "YaraHit",
    "YaraRuleError",
    "YaraScanner",
    "YaraUnavailable",
    "analyze_bytes",
    "analyze_file",
    "builtin_rule_files",
    "find_filter_arrays",
    "load_image",
    "read_rule_files",
    "sample_documents",
    "scan_documents",
    "scan_path",
    "scan_process",
]


def test_exports_are_pinned() -> None:
    assert sorted(doorhunt.sample.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert hasattr(doorhunt.sample, name)


def test_without_yara_x_the_analysis_reports_a_gap_and_scanning_refuses(
    samples: Samples, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(yara_module, "yara_x", None)
    with pytest.raises(doorhunt.sample.YaraUnavailable):
        doorhunt.sample.YaraScanner()
    code = sample_main([str(samples.path("benign-control")), "--no-color"])
    out = capsys.readouterr().out
    assert code == 0 and "YARA not run" in out and "yara-x is not installed" in out
    assert sample_main([str(samples.path("benign-control")), "--rules", "x.yar"]) == 2
