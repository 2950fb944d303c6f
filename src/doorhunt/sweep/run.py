"""Running the checks over a snapshot, and combining findings into verdicts."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from doorhunt.ecs import ECS_VERSION, entity_id, format_timestamp, new_event
from doorhunt.host.procfs import Process
from doorhunt.host.snapshot import HostSnapshot
from doorhunt.i18n import Catalog
from doorhunt.sweep.checks import CHECKS, Check
from doorhunt.sweep.findings import Finding, Severity

log = logging.getLogger(__name__)

MESSAGES = Catalog(
    {
        "compromised": {"en": "COMPROMISED", "ko": "침해됨"},
        "suspicious": {"en": "SUSPICIOUS", "ko": "의심"},
        "clean": {"en": "CLEAN", "ko": "이상 없음"},
        "degraded": {"en": "CLEAN, WITH VISIBILITY GAPS", "ko": "이상 없음 (확인 못 한 영역 있음)"},
    }
)


@dataclass(frozen=True, slots=True)
class ProcessVerdict:
    """All findings about one process, combined into one score that explains itself."""

    process: Process
    score: int
    findings: tuple[Finding, ...]

    @property
    def severity(self) -> Severity:
        return Severity.of(self.score)


def combined_score(findings: Sequence[Finding]) -> int:
    """Independent evidence adds up without passing 100: 1 - Π(1 - s/100) over the strongest
    finding of each check (a check repeating itself is not new evidence)."""
    strongest: dict[str, int] = {}
    for finding in findings:
        strongest[finding.check] = max(strongest.get(finding.check, 0), finding.score)
    remaining = math.prod(1 - score / 100 for score in strongest.values())
    return round(100 * (1 - remaining))


@dataclass(slots=True)
class SweepResult:
    snapshot: HostSnapshot
    findings: list[Finding]
    processes: list[ProcessVerdict]  # worst first
    failures: list[str]  # checks that broke, by name: the rest still ran
    elapsed: float

    @property
    def complete(self) -> bool:
        return not self.snapshot.gaps and not self.failures

    @property
    def score(self) -> int:
        scores = [v.score for v in self.processes] + [f.score for f in self.findings]
        return max(scores, default=0)

    def verdict(self, threshold: Severity = Severity.MEDIUM) -> str:
        if self.score >= 90:
            return "compromised"
        if Severity.of(self.score).rank >= threshold.rank:
            return "suspicious"
        return "clean" if self.complete else "degraded"

    def verdict_text(self, language: str, threshold: Severity = Severity.MEDIUM) -> str:
        return MESSAGES.text(self.verdict(threshold), language)

    def host_findings(self) -> list[Finding]:
        """Findings about no particular process (files, firewall, persistence), worst first."""
        return sorted((f for f in self.findings if f.process is None), key=lambda f: -f.score)

    def to_json(self, language: str = "en") -> dict[str, object]:
        snapshot = self.snapshot
        return {
            "host": snapshot.host,
            "taken_at": format_timestamp(snapshot.taken_at),
            "verdict": self.verdict(),
            "score": self.score,
            "visibility": {
                "complete": self.complete,
                "gaps": [gap.detail for gap in snapshot.gaps] + self.failures,
                "notes": snapshot.notes,
            },
            "summary": {
                "processes": len(snapshot.processes),
                "namespaces": len(snapshot.sockets),
                "packet_sockets": sum(len(g.packet) for g in snapshot.sockets),
                "raw_sockets": sum(len(g.raw) for g in snapshot.sockets),
                "seconds": round(self.elapsed, 3),
            },
            "processes": [
                {
                    "pid": v.process.pid,
                    "score": v.score,
                    "severity": v.severity.value,
                    "process": process_json(v.process),
                    "findings": [f.check for f in v.findings],
                }
                for v in self.processes
            ],
            "findings": [
                finding_json(f, language) for f in sorted(self.findings, key=lambda f: -f.score)
            ],
        }

    def ecs_documents(self, language: str = "en") -> list[dict[str, object]]:
        """Each finding as an ECS alert document (--ndjson)."""
        return [
            finding_ecs(f, self.snapshot, language)
            for f in sorted(self.findings, key=lambda f: -f.score)
        ]

    def summary_ecs(self) -> dict[str, object]:
        """The sweep itself as an ECS event (stored, so the UI shows each host's last verdict)."""
        snapshot = self.snapshot
        return new_event(
            kind="event",
            category="host",
            type="info",
            action="sweep_completed",
            timestamp=snapshot.taken_at,
            host=snapshot.host,
            event={"module": "doorhunt", "dataset": "doorhunt.sweep"},
            doorhunt={
                "sweep": {
                    "verdict": self.verdict(),
                    "score": self.score,
                    "complete": self.complete,
                    "findings": len(self.findings),
                    "gaps": [gap.detail for gap in snapshot.gaps] + self.failures,
                }
            },
        )


def process_json(process: Process) -> dict[str, object]:
    return {
        "pid": process.pid,
        "ppid": process.ppid,
        "executable": process.exe if isinstance(process.exe, str) else None,
        "deleted": process.exe_deleted,
        "name": process.name,
        "comm": process.comm,
        "args": list(process.argv) if isinstance(process.argv, tuple) else None,
        "uid": process.uid if isinstance(process.uid, int) else None,
    }


def _threat(finding: Finding) -> list[dict[str, object]]:
    return [
        {
            "framework": "MITRE ATT&CK",
            "technique": {"id": t.id, "name": t.name},
            "tactic": {"name": t.tactic},
        }
        for t in finding.techniques
    ]


def finding_json(finding: Finding, language: str = "en") -> dict[str, object]:
    document: dict[str, object] = {
        "check": finding.check,
        "severity": finding.severity.value,
        "score": finding.score,
        "title": finding.title.render(language),
        "evidence": finding.evidence,
        "threat": _threat(finding),
    }
    if finding.detail is not None:
        document["detail"] = finding.detail.render(language)
    if finding.process is not None:
        document["process"] = process_json(finding.process)
    return document


def finding_ecs(
    finding: Finding, snapshot: HostSnapshot, language: str = "en"
) -> dict[str, object]:
    techniques = finding.techniques
    document: dict[str, object] = {
        "@timestamp": format_timestamp(snapshot.taken_at),
        "ecs": {"version": ECS_VERSION},
        "event": {
            "kind": "alert",
            "category": [finding.category],
            "type": ["info"],
            "action": "sweep_finding",
            "module": "doorhunt",
            "dataset": "doorhunt.sweep",
            "severity": finding.score,
            "risk_score": float(finding.score),
        },
        "message": finding.title.render(language),
        "rule": {
            "id": finding.check,
            "name": finding.title.render("en")[:200],
            "category": "sweep",
        },
        "host": snapshot.host,
        "doorhunt": {
            "finding": {
                "check": finding.check,
                "severity": finding.severity.value,
                "score": finding.score,
                "evidence": finding.evidence,
            }
        },
    }
    if techniques:
        document["threat"] = {
            "framework": "MITRE ATT&CK",
            "technique": {"id": [t.id for t in techniques], "name": [t.name for t in techniques]},
            "tactic": {"name": list(dict.fromkeys(t.tactic for t in techniques))},
        }
    process = finding.process
    if process is not None:
        host_id = str(snapshot.host.get("id", ""))
        boot = snapshot.host.get("boot")
        boot_id = str(boot.get("id", "")) if isinstance(boot, dict) else ""
        process_fields: dict[str, object] = {
            "pid": process.pid,
            "entity_id": entity_id(host_id, process.pid, process.start_ticks, boot_id=boot_id),
            "name": process.name,
            "parent": {"pid": process.ppid},
        }
        if isinstance(process.exe, str):
            process_fields["executable"] = process.exe
        if isinstance(process.argv, tuple):
            process_fields["args"] = list(process.argv)
            process_fields["args_count"] = len(process.argv)
            process_fields["command_line"] = process.command_line
        if isinstance(process.uid, int):
            process_fields["user"] = {"id": str(process.uid)}
        document["process"] = process_fields
    extensions = document["doorhunt"]
    assert isinstance(extensions, dict)
    if finding.filter is not None:
        extensions["bpf"] = finding.filter.ecs_bpf_fields()
    if "inode" in finding.evidence and "socket" in finding.evidence:
        extensions["socket"] = {
            key: value
            for key, value in (
                ("inode", finding.evidence.get("inode")),
                ("netns", finding.evidence.get("netns")),
                ("type", finding.evidence.get("socket")),
                ("interface", finding.evidence.get("interface")),
            )
            if value is not None
        }
    path = finding.evidence.get("path")
    if isinstance(path, str):
        document["file"] = {"path": path, "name": path.rsplit("/", 1)[-1]}
    return document


def run_checks(snapshot: HostSnapshot, checks: Sequence[Check] = CHECKS) -> SweepResult:
    started = time.perf_counter()
    findings: list[Finding] = []
    failures: list[str] = []
    for check in checks:
        try:
            findings.extend(check(snapshot))
        except Exception as error:
            log.exception("check %s failed", check.__name__)
            failures.append(f"check {check.__name__} failed: {error!r}")
    by_process: dict[int, list[Finding]] = {}
    for finding in findings:
        if finding.process is not None:
            by_process.setdefault(finding.process.pid, []).append(finding)
    verdicts = [
        ProcessVerdict(
            snapshot.processes.get(pid) or items[0].process,  # type: ignore[arg-type]
            combined_score(items),
            tuple(sorted(items, key=lambda f: -f.score)),
        )
        for pid, items in by_process.items()
    ]
    verdicts.sort(key=lambda v: (-v.score, v.process.pid))
    return SweepResult(snapshot, findings, verdicts, failures, time.perf_counter() - started)


__all__ = ["ProcessVerdict", "SweepResult", "combined_score", "finding_ecs", "run_checks"]
