"""The public API is small and deliberate: `__all__` of each package is pinned here, so a
change to it is a visible decision (STYLE.md, after httpx)."""

from __future__ import annotations

import importlib
import pkgutil

import doorhunt

PUBLIC = {
    "doorhunt": ["__version__"],
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
