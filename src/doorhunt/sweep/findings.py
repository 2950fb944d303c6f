"""A finding: one thing a check saw, how bad it is, why, and the raw evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from doorhunt.bpf.explain import Explanation
from doorhunt.host.procfs import Process
from doorhunt.i18n import Message


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @classmethod
    def of(cls, score: int) -> Severity:
        if score >= 90:
            return cls.CRITICAL
        if score >= 70:
            return cls.HIGH
        if score >= 40:
            return cls.MEDIUM
        return cls.LOW

    @property
    def rank(self) -> int:
        return ("low", "medium", "high", "critical").index(self.value)


@dataclass(frozen=True, slots=True)
class Technique:
    """A MITRE ATT&CK technique."""

    id: str
    name: str
    tactic: str


# The techniques the checks cite (attack.mitre.org, Enterprise v15).
SOCKET_FILTER = Technique("T1205.002", "Traffic Signaling: Socket Filters", "Defense Evasion")
MASQUERADE_TASK = Technique(
    "T1036.004", "Masquerading: Masquerade Task or Service", "Defense Evasion"
)
MATCH_NAME = Technique(
    "T1036.005", "Masquerading: Match Legitimate Name or Location", "Defense Evasion"
)
FILE_DELETION = Technique("T1070.004", "Indicator Removal: File Deletion", "Defense Evasion")
TIMESTOMP = Technique("T1070.006", "Indicator Removal: Timestomp", "Defense Evasion")
HIDE_ARTIFACTS = Technique("T1564", "Hide Artifacts", "Defense Evasion")
REFLECTIVE_LOADING = Technique("T1620", "Reflective Code Loading", "Defense Evasion")
GUARDRAILS = Technique("T1480", "Execution Guardrails", "Defense Evasion")
HISTORY_LOGGING = Technique(
    "T1562.003", "Impair Defenses: Impair Command History Logging", "Defense Evasion"
)
FIREWALL = Technique(
    "T1562.004", "Impair Defenses: Disable or Modify System Firewall", "Defense Evasion"
)
NON_STANDARD_PORT = Technique("T1571", "Non-Standard Port", "Command and Control")
RC_SCRIPTS = Technique(
    "T1037.004", "Boot or Logon Initialization Scripts: RC Scripts", "Persistence"
)
SYSTEMD_SERVICE = Technique(
    "T1543.002", "Create or Modify System Process: Systemd Service", "Persistence"
)
CRON = Technique("T1053.003", "Scheduled Task/Job: Cron", "Persistence")
LD_PRELOAD = Technique(
    "T1574.006", "Hijack Execution Flow: Dynamic Linker Hijacking", "Persistence"
)
ROOTKIT = Technique("T1014", "Rootkit", "Defense Evasion")


@dataclass(frozen=True, slots=True)
class Finding:
    check: str  # the check's id, e.g. "packet_socket_filter"
    score: int  # 0-100
    title: Message
    detail: Message | None = None
    process: Process | None = None
    evidence: dict[str, object] = field(default_factory=dict)
    techniques: tuple[Technique, ...] = ()
    category: str = "process"  # ECS event.category of the alert: process, network, file, ...
    filter: Explanation | None = None  # the socket filter, analysed, when the finding is about one

    @property
    def severity(self) -> Severity:
        return Severity.of(self.score)


__all__ = ["Finding", "Severity", "Technique"]
