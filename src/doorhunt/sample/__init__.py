"""Sample analysis: configuration extraction from ELF files, and YARA scanning.

from doorhunt.sample import analyze_file, YaraScanner
analysis = analyze_file("suspect.elf", yara=YaraScanner())
analysis.verdict, analysis.config(), analysis.to_json("ko")

scanner = YaraScanner()                  # compile doorhunt's rules once
scanner.scan_process(4437).hits          # a live process: executable and memory
scanner.scan_path("/dev/shm/x").hits
sample_documents(analysis, host=host_fields())   # ECS 9.4.0 documents (--ndjson)
"""

from __future__ import annotations

from doorhunt.sample.analysis import (
    FileFacts,
    FoundFilter,
    SampleAnalysis,
    SampleClass,
    Verdict,
    analyze_bytes,
    analyze_file,
)
from doorhunt.sample.artefacts import Artefact, ArtefactKind
from doorhunt.sample.crypto import CryptoMarker
from doorhunt.sample.documents import sample_documents, scan_documents
from doorhunt.sample.elf import ElfImage, SampleFormatError, load_image
from doorhunt.sample.expressions import FilterExpression
from doorhunt.sample.filters import FilterArray, find_filter_arrays
from doorhunt.sample.layout import MagicLayout
from doorhunt.sample.network import NetworkIndicator
from doorhunt.sample.strings import Confidence
from doorhunt.sample.yara import (
    RuleFile,
    ScanReport,
    StringMatch,
    YaraHit,
    YaraRuleError,
    YaraScanner,
    YaraUnavailable,
    builtin_rule_files,
    read_rule_files,
    scan_path,
    scan_process,
)

__all__ = [
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
