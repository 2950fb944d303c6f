"""Sigma rules converted to doorhunt's EQL rule files (docs/sigma.md).

    report = convert_paths(["rules/linux/"])          # ConversionReport
    for rule in report.converted: print(rule.file_name, rule.query)
    for failure in report.failures: print(failure.line())

pySigma is optional (`pip install 'doorhunt[sigma]'`) and imported only when a conversion
starts: without it, `convert_paths` raises SigmaUnavailable with that hint.
`linux_ecs_pipeline()` and `DoorhuntEqlBackend` are doorhunt's pySigma pipeline and backend,
usable on their own with pySigma.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from doorhunt.rules.sigma.convert import (
    INSTALL_HINT,
    Converter,
    SigmaUnavailable,
    convert_paths,
    convert_text,
    write_rules,
)
from doorhunt.rules.sigma.mapping import LOG_SOURCES, LogSource
from doorhunt.rules.sigma.report import ConversionFailure, ConversionReport, ConvertedRule

if TYPE_CHECKING:
    from sigma.processing.pipeline import ProcessingPipeline

    from doorhunt.rules.sigma.backend import DoorhuntEqlBackend


def linux_ecs_pipeline() -> ProcessingPipeline:
    """doorhunt's Linux→ECS pySigma pipeline. Raises SigmaUnavailable without pySigma."""
    from doorhunt.rules.sigma.convert import require_pysigma  # noqa: PLC0415

    require_pysigma()
    from doorhunt.rules.sigma.pipeline import linux_ecs_pipeline as build  # noqa: PLC0415

    return build()


def __getattr__(name: str) -> Any:
    # The backend class subclasses pySigma's, so it is only importable with pySigma present.
    if name == "DoorhuntEqlBackend":
        from doorhunt.rules.sigma.convert import require_pysigma  # noqa: PLC0415

        require_pysigma()
        from doorhunt.rules.sigma.backend import DoorhuntEqlBackend  # noqa: PLC0415

        return DoorhuntEqlBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "INSTALL_HINT",
    "LOG_SOURCES",
    "ConversionFailure",
    "ConversionReport",
    "ConvertedRule",
    "Converter",
    "DoorhuntEqlBackend",
    "LogSource",
    "SigmaUnavailable",
    "convert_paths",
    "convert_text",
    "linux_ecs_pipeline",
    "write_rules",
]
