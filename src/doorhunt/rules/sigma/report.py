"""The result of converting Sigma rules: the rules converted and, for the rest, why not.

Failure kinds are a small fixed vocabulary so that a report (and the corpus benchmark) can
group them; the reason is the one-line detail for that rule. Nothing here imports pySigma.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

KIND_READ: Final = "unreadable file"
KIND_SIZE: Final = "file too large"
KIND_ENCODING: Final = "not UTF-8"
KIND_YAML: Final = "invalid YAML"
KIND_NOT_SIGMA: Final = "not a Sigma rule"
KIND_INVALID: Final = "invalid Sigma rule"
KIND_CORRELATION: Final = "correlation or filter rule"
KIND_LOG_SOURCE: Final = "log source not mapped"
KIND_FIELD: Final = "field not mapped"
KIND_KEYWORDS: Final = "keyword search"
KIND_AUDIT: Final = "audit record or syscall not ingested"
KIND_VALUE: Final = "value not expressible in EQL"
KIND_REGEX: Final = "regular expression not expressible"
KIND_CONDITIONS: Final = "several conditions"
KIND_STRICT: Final = "approximate conversion refused (--strict)"
KIND_COMPILE: Final = "query does not compile"
KIND_PYSIGMA: Final = "pySigma failed"
KIND_UNAVAILABLE: Final = "pySigma not installed"


@dataclass(frozen=True, slots=True)
class ConvertedRule:
    """A Sigma rule converted to a doorhunt rule file."""

    source: str
    title: str
    sigma_id: str | None
    rule_id: str
    file_name: str
    query: str
    toml: str
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "title": self.title,
            "sigma_id": self.sigma_id,
            "rule_id": self.rule_id,
            "file": self.file_name,
            "query": self.query,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class ConversionFailure:
    """A file or rule that was not converted: what kind of problem, and the detail."""

    source: str
    title: str | None
    kind: str
    reason: str

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "title": self.title,
            "kind": self.kind,
            "reason": self.reason,
        }

    def line(self) -> str:
        title = f" “{self.title}”" if self.title else ""
        return f"{self.source}{title}: {self.reason}"


@dataclass(slots=True)
class ConversionReport:
    """Every input's outcome; `total` counts rules plus inputs that never yielded one."""

    converted: list[ConvertedRule] = field(default_factory=list)
    failures: list[ConversionFailure] = field(default_factory=list)
    files: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return len(self.converted) + len(self.failures)

    @property
    def complete(self) -> bool:
        return not self.failures

    def extend(self, outcomes: Iterable[ConvertedRule | ConversionFailure]) -> None:
        for outcome in outcomes:
            if isinstance(outcome, ConvertedRule):
                self.converted.append(outcome)
            else:
                self.failures.append(outcome)

    def by_kind(self) -> dict[str, list[ConversionFailure]]:
        """Failures grouped by kind, the largest group first."""
        groups: dict[str, list[ConversionFailure]] = {}
        for failure in self.failures:
            groups.setdefault(failure.kind, []).append(failure)
        return dict(sorted(groups.items(), key=lambda item: (-len(item[1]), item[0])))

    def by_reason(self) -> dict[str, int]:
        """How many rules failed for each distinct reason, most frequent first."""
        counts: dict[str, int] = {}
        for failure in self.failures:
            counts[failure.reason] = counts.get(failure.reason, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    def to_json(self) -> dict[str, object]:
        return {
            "files": self.files,
            "total": self.total,
            "converted": len(self.converted),
            "failed": len(self.failures),
            "seconds": round(self.seconds, 3),
            "failures_by_kind": {kind: len(items) for kind, items in self.by_kind().items()},
            "rules": [rule.to_json() for rule in self.converted],
            "failures": [failure.to_json() for failure in self.failures],
        }


__all__ = [
    "KIND_AUDIT",
    "KIND_COMPILE",
    "KIND_CONDITIONS",
    "KIND_CORRELATION",
    "KIND_ENCODING",
    "KIND_FIELD",
    "KIND_INVALID",
    "KIND_KEYWORDS",
    "KIND_LOG_SOURCE",
    "KIND_NOT_SIGMA",
    "KIND_PYSIGMA",
    "KIND_READ",
    "KIND_REGEX",
    "KIND_SIZE",
    "KIND_STRICT",
    "KIND_UNAVAILABLE",
    "KIND_VALUE",
    "KIND_YAML",
    "ConversionFailure",
    "ConversionReport",
    "ConvertedRule",
]
