"""The public API is small and deliberate: `__all__` of each package is pinned here, so a
change to it is a visible decision (STYLE.md, after httpx)."""

from __future__ import annotations

import importlib
import pkgutil

import doorhunt

PUBLIC = {
    "doorhunt": ["__version__"],
    "doorhunt.response": [
        "ACTIONS",
        "Outcome",
        "PreventMode",
        "Quarantine",
        "QuarantineError",
        "QuarantinedFile",
        "Responder",
    ],
    "doorhunt.rules.pack": [
        "KIBANA_INDEX",
        "PACK_DIRECTORY",
        "PACK_RULESET",
        "RESPONSE_ACTIONS",
        "RISK_BANDS",
        "SEVERITIES",
        "Example",
        "ExampleResult",
        "Rule",
        "RuleError",
        "RuleSet",
        "check_example",
        "check_examples",
        "collect_rules",
        "find_rule",
        "kibana_ndjson",
        "kibana_rule",
        "load_rule_file",
        "load_rules",
        "parse_rule",
        "query_fields",
    ],
    "doorhunt.scan": [
        "HostResult",
        "ListenSpec",
        "ProbeKind",
        "ProbeOptions",
        "Progress",
        "Reply",
        "ScanConfig",
        "ScanPlan",
        "ScanSession",
        "ScanSummary",
        "Scanner",
        "Status",
        "TargetError",
        "TargetSet",
        "builtin_kinds",
        "filter_kinds",
        "parse_list",
        "parse_listen",
        "parse_spec",
        "run_scan",
    ],
    "doorhunt.bpf": [
        "BpfFormatError",
        "BpfProgramError",
        "Classification",
        "Explanation",
        "FilterClass",
        "Format",
        "Instruction",
        "Link",
        "MagicCompare",
        "Metadata",
        "ParsedProgram",
        "Probe",
        "ProbeFailure",
        "Program",
        "assemble",
        "compile_filter",
        "detect_format",
        "disassemble",
        "execute",
        "explain",
        "format_program",
        "parse_program",
        "parse_programs",
    ],
}


def test_package_exports_are_pinned() -> None:
    for name, expected in PUBLIC.items():
        module = importlib.import_module(name)
        assert sorted(module.__all__) == sorted(expected), name
        for symbol in module.__all__:
            assert hasattr(module, symbol), f"{name}.{symbol}"


def test_every_module_imports_and_names_its_exports() -> None:
    for info in pkgutil.walk_packages(doorhunt.__path__, "doorhunt."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for symbol in getattr(module, "__all__", []):
            assert hasattr(module, symbol), f"{info.name}.{symbol}"
