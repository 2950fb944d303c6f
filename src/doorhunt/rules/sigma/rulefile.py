"""A converted Sigma rule as a doorhunt rule file (docs/rule-format.md), with the attribution
the Detection Rule License asks for. Nothing here imports pySigma."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from doorhunt.rules.sigma.text import quote, toml_escape

# A fixed namespace so that a Sigma rule without a UUID gets the same doorhunt id every time.
SIGMA_NAMESPACE: Final = uuid.uuid5(
    uuid.NAMESPACE_URL, "https://github.com/doorhunt/doorhunt/sigma"
)
DRL_URL: Final = "https://github.com/SigmaHQ/Detection-Rule-License"
DEFAULT_LICENSE: Final = "DRL-1.1"
CONVERTED_TAG: Final = "sigma-converted"
UNKNOWN_TACTIC: Final = "unknown"

# Sigma level → (doorhunt severity, Kibana's default risk score for it).
SEVERITIES: Final[Mapping[str, tuple[str, int]]] = {
    "informational": ("low", 21),
    "low": ("low", 21),
    "medium": ("medium", 47),
    "high": ("high", 73),
    "critical": ("critical", 99),
}


@dataclass(frozen=True, slots=True)
class Tactic:
    id: str
    name: str
    snake: str


TACTICS: Final[tuple[Tactic, ...]] = (
    Tactic("TA0043", "Reconnaissance", "reconnaissance"),
    Tactic("TA0042", "Resource Development", "resource_development"),
    Tactic("TA0001", "Initial Access", "initial_access"),
    Tactic("TA0002", "Execution", "execution"),
    Tactic("TA0003", "Persistence", "persistence"),
    Tactic("TA0004", "Privilege Escalation", "privilege_escalation"),
    Tactic("TA0005", "Defense Evasion", "defense_evasion"),
    Tactic("TA0006", "Credential Access", "credential_access"),
    Tactic("TA0007", "Discovery", "discovery"),
    Tactic("TA0008", "Lateral Movement", "lateral_movement"),
    Tactic("TA0009", "Collection", "collection"),
    Tactic("TA0011", "Command and Control", "command_and_control"),
    Tactic("TA0010", "Exfiltration", "exfiltration"),
    Tactic("TA0040", "Impact", "impact"),
)
_TACTIC_BY_TAG: Final[Mapping[str, Tactic]] = {
    **{tactic.snake: tactic for tactic in TACTICS},
    # ATT&CK split Defense Evasion into Stealth and Defense Impairment; doorhunt's rule format
    # (and Kibana's rules so far) know Defense Evasion, which covers both.
    "stealth": TACTICS[6],
    "defense_impairment": TACTICS[6],
}

# ATT&CK technique names for the ids Linux rules use most; others are written with their id.
TECHNIQUES: Final[Mapping[str, str]] = {
    "T1001": "Data Obfuscation",
    "T1003": "OS Credential Dumping",
    "T1005": "Data from Local System",
    "T1007": "System Service Discovery",
    "T1014": "Rootkit",
    "T1016": "System Network Configuration Discovery",
    "T1018": "Remote System Discovery",
    "T1027": "Obfuscated Files or Information",
    "T1027.001": "Binary Padding",
    "T1027.003": "Steganography",
    "T1027.010": "Command Obfuscation",
    "T1027.011": "Fileless Storage",
    "T1030": "Data Transfer Size Limits",
    "T1033": "System Owner/User Discovery",
    "T1036": "Masquerading",
    "T1036.003": "Rename Legitimate Utilities",
    "T1036.005": "Match Legitimate Resource Name or Location",
    "T1040": "Network Sniffing",
    "T1041": "Exfiltration Over C2 Channel",
    "T1046": "Network Service Discovery",
    "T1048": "Exfiltration Over Alternative Protocol",
    "T1048.003": "Exfiltration Over Unencrypted Non-C2 Protocol",
    "T1049": "System Network Connections Discovery",
    "T1053": "Scheduled Task/Job",
    "T1053.002": "At",
    "T1053.003": "Cron",
    "T1055": "Process Injection",
    "T1055.009": "Proc Memory",
    "T1056": "Input Capture",
    "T1056.001": "Keylogging",
    "T1057": "Process Discovery",
    "T1059": "Command and Scripting Interpreter",
    "T1059.004": "Unix Shell",
    "T1059.006": "Python",
    "T1059.007": "JavaScript",
    "T1059.012": "Hypervisor CLI",
    "T1068": "Exploitation for Privilege Escalation",
    "T1069": "Permission Groups Discovery",
    "T1069.001": "Local Groups",
    "T1070": "Indicator Removal",
    "T1070.002": "Clear Linux or Mac System Logs",
    "T1070.003": "Clear Command History",
    "T1070.004": "File Deletion",
    "T1070.006": "Timestomp",
    "T1071": "Application Layer Protocol",
    "T1071.001": "Web Protocols",
    "T1082": "System Information Discovery",
    "T1083": "File and Directory Discovery",
    "T1087": "Account Discovery",
    "T1087.001": "Local Account",
    "T1090": "Proxy",
    "T1098": "Account Manipulation",
    "T1102": "Web Service",
    "T1105": "Ingress Tool Transfer",
    "T1106": "Native API",
    "T1113": "Screen Capture",
    "T1115": "Clipboard Data",
    "T1119": "Automated Collection",
    "T1123": "Audio Capture",
    "T1133": "External Remote Services",
    "T1136": "Create Account",
    "T1136.001": "Local Account",
    "T1140": "Deobfuscate/Decode Files or Information",
    "T1190": "Exploit Public-Facing Application",
    "T1195": "Supply Chain Compromise",
    "T1195.001": "Compromise Software Dependencies and Development Tools",
    "T1195.002": "Compromise Software Supply Chain",
    "T1201": "Password Policy Discovery",
    "T1203": "Exploitation for Client Execution",
    "T1204": "User Execution",
    "T1204.001": "Malicious Link",
    "T1204.002": "Malicious File",
    "T1205": "Traffic Signaling",
    "T1205.002": "Socket Filters",
    "T1212": "Exploitation for Credential Access",
    "T1219": "Remote Access Tools",
    "T1219.002": "Remote Desktop Software",
    "T1222": "File and Directory Permissions Modification",
    "T1222.002": "Linux and Mac File and Directory Permissions Modification",
    "T1485": "Data Destruction",
    "T1489": "Service Stop",
    "T1496": "Resource Hijacking",
    "T1499": "Endpoint Denial of Service",
    "T1505": "Server Software Component",
    "T1505.003": "Web Shell",
    "T1518": "Software Discovery",
    "T1518.001": "Security Software Discovery",
    "T1529": "System Shutdown/Reboot",
    "T1531": "Account Access Removal",
    "T1543": "Create or Modify System Process",
    "T1543.002": "Systemd Service",
    "T1546": "Event Triggered Execution",
    "T1546.004": "Unix Shell Configuration Modification",
    "T1547": "Boot or Logon Autostart Execution",
    "T1547.006": "Kernel Modules and Extensions",
    "T1548": "Abuse Elevation Control Mechanism",
    "T1548.001": "Setuid and Setgid",
    "T1548.003": "Sudo and Sudo Caching",
    "T1552": "Unsecured Credentials",
    "T1552.001": "Credentials In Files",
    "T1552.003": "Shell History",
    "T1553": "Subvert Trust Controls",
    "T1553.004": "Install Root Certificate",
    "T1554": "Compromise Host Software Binary",
    "T1560": "Archive Collected Data",
    "T1560.001": "Archive via Utility",
    "T1562": "Impair Defenses",
    "T1562.001": "Disable or Modify Tools",
    "T1562.004": "Disable or Modify System Firewall",
    "T1562.006": "Indicator Blocking",
    "T1562.012": "Disable or Modify Linux Audit System",
    "T1564": "Hide Artifacts",
    "T1564.001": "Hidden Files and Directories",
    "T1565": "Data Manipulation",
    "T1565.001": "Stored Data Manipulation",
    "T1567": "Exfiltration Over Web Service",
    "T1568": "Dynamic Resolution",
    "T1568.002": "Domain Generation Algorithms",
    "T1571": "Non-Standard Port",
    "T1572": "Protocol Tunneling",
    "T1574": "Hijack Execution Flow",
    "T1574.006": "Dynamic Linker Hijacking",
    "T1584": "Compromise Infrastructure",
    "T1587": "Develop Capabilities",
    "T1588": "Obtain Capabilities",
    "T1588.001": "Malware",
    "T1589": "Gather Victim Identity Information",
    "T1592": "Gather Victim Host Information",
    "T1592.004": "Client Configurations",
    "T1593": "Search Open Websites/Domains",
    "T1593.003": "Code Repositories",
    "T1653": "Power Settings",
}
_TECHNIQUE_TAG: Final = re.compile(r"t([0-9]{4})(?:\.([0-9]{3}))?")


@dataclass(frozen=True, slots=True)
class SigmaMetadata:
    """What a rule file takes from the Sigma rule (plain values, no pySigma types)."""

    title: str
    sigma_id: str | None
    description: str
    level: str | None
    author: str | None
    license: str | None
    status: str | None
    references: tuple[str, ...]
    tags: tuple[str, ...]  # "attack.t1059.004", "attack.execution", "cve.2021-4034", ...
    false_positives: tuple[str, ...]
    source: str  # the file it came from
    log_source: str  # the mapped log source key, "process_creation", ...
    meaning: str  # what the log source's events are, for the triage note


@dataclass(frozen=True, slots=True)
class Threat:
    tactic: Tactic
    techniques: tuple[str, ...] = field(default=())


def rule_uuid(sigma_id: str | None, fallback: str) -> str:
    """The Sigma id when it is a UUID, else a UUID5 of it (or of `fallback`), stable."""
    if sigma_id:
        try:
            return str(uuid.UUID(sigma_id))
        except ValueError:
            pass
    return str(uuid.uuid5(SIGMA_NAMESPACE, sigma_id or fallback))


def slug(title: str, limit: int = 60) -> str:
    """`title` as lower-case ASCII words joined by `_`, cut at a word boundary."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    out = ""
    for word in words:
        candidate = f"{out}_{word}" if out else word
        if len(candidate) > limit:
            break
        out = candidate
    return out or (words[0][:limit] if words else "rule")


def threats(tags: Sequence[str]) -> list[Threat]:
    """ATT&CK mapping from Sigma tags: one entry per tactic, the techniques under the first
    (Sigma tags do not say which technique belongs to which tactic)."""
    tactics: list[Tactic] = []
    techniques: list[str] = []
    for tag in tags:
        namespace, _, name = tag.lower().partition(".")
        if namespace != "attack":
            continue
        technique = _TECHNIQUE_TAG.fullmatch(name)
        if technique is not None:
            parent, sub = technique.groups()
            identifier = f"T{parent}" + (f".{sub}" if sub else "")
            if identifier not in techniques:
                techniques.append(identifier)
            continue
        tactic = _TACTIC_BY_TAG.get(name.replace("-", "_"))
        if tactic is not None and tactic not in tactics:
            tactics.append(tactic)
    if not tactics:
        return []
    return [Threat(tactics[0], tuple(techniques)), *(Threat(t) for t in tactics[1:])]


def file_name(metadata: SigmaMetadata, mapped: Sequence[Threat]) -> str:
    prefix = mapped[0].tactic.snake if mapped else UNKNOWN_TACTIC
    return f"{prefix}_{slug(metadata.title)}.toml"


# -- TOML ---------------------------------------------------------------------------------------


def toml_string(text: str) -> str:
    """A TOML basic string on one line."""
    return quote(text, toml_escape)


def toml_text(text: str) -> str:
    """A TOML multi-line basic string (for prose): newlines kept, the rest escaped."""
    lines = [toml_string(line)[1:-1] for line in text.split("\n")]
    return '"""\n' + "\n".join(lines) + '"""'


def toml_query(query: str) -> str:
    """A multi-line literal string when the query allows one (it has no `'''` and no control
    characters: the backend escapes those inside EQL strings), else a basic string."""
    if "'''" not in query and all(c == "\n" or c.isprintable() for c in query):
        return "'''\n" + query + "\n'''"
    return toml_text(query)


def toml_list(items: Sequence[str]) -> str:
    if not items:
        return "[]"
    if sum(len(i) for i in items) < 60:
        return "[" + ", ".join(toml_string(i) for i in items) + "]"
    return "[\n" + "".join(f"    {toml_string(i)},\n" for i in items) + "]"


def attribution(metadata: SigmaMetadata) -> str:
    license_text = metadata.license or DEFAULT_LICENSE
    stated = "" if metadata.license else " (SigmaHQ's licence; the rule states none)"
    author = metadata.author or "an unnamed author"
    identifier = f", Sigma id {metadata.sigma_id}" if metadata.sigma_id else ""
    return (
        f"Converted from the Sigma rule “{metadata.title}” by {author}{identifier} "
        f"({metadata.source}), licensed under {license_text}{stated}: {DRL_URL}"
    )


def description(metadata: SigmaMetadata, warnings: Sequence[str]) -> str:
    parts = [metadata.description.strip() or metadata.title, attribution(metadata)]
    if warnings:
        parts.append("Conversion notes:\n" + "\n".join(f"- {w}" for w in warnings))
    return "\n\n".join(parts)


def triage(metadata: SigmaMetadata) -> tuple[str, str]:
    """A short generated triage note in English and Korean."""
    false_positives = "; ".join(metadata.false_positives) or "none listed"
    english = (
        f"Sigma rule “{metadata.title}” matched {metadata.meaning}. Check the event's process "
        "(executable, command line, parent and user) and decide whether it is expected on this "
        f"host. Known false positives: {false_positives}. If it is not expected, open the "
        "process tree around it and the host's other alerts of the same hour."
    )
    korean = (
        f"Sigma 규칙 “{metadata.title}”이(가) 일치했습니다 (이벤트: {metadata.log_source}). "
        "이벤트의 프로세스(실행 파일, 명령줄, 부모 프로세스, 사용자)를 확인하고 이 호스트에서 "
        f"예상된 동작인지 판단하십시오. 알려진 오탐: {false_positives}. 예상되지 않은 동작이면 "
        "해당 프로세스 트리와 같은 시간대의 다른 경보를 확인하십시오."
    )
    return english, korean


def tags(metadata: SigmaMetadata) -> list[str]:
    out = ["sigma", CONVERTED_TAG, "linux", f"sigma-logsource:{metadata.log_source}"]
    if metadata.sigma_id:
        out.append(f"sigma-id:{metadata.sigma_id}")
    if metadata.author:
        out.append(f"sigma-author:{metadata.author}")
    out.append(f"sigma-license:{metadata.license or DEFAULT_LICENSE}")
    if metadata.status:
        out.append(f"sigma-status:{metadata.status}")
    out.extend(t for t in metadata.tags if not t.lower().startswith("attack."))
    return list(dict.fromkeys(out))


def references(metadata: SigmaMetadata) -> list[str]:
    return list(dict.fromkeys([*metadata.references, DRL_URL]))


def _threat_toml(threat: Threat) -> list[str]:
    tactic = threat.tactic
    lines = [
        "",
        "[[rule.threat]]",
        'framework = "MITRE ATT&CK"',
        "[rule.threat.tactic]",
        f"id = {toml_string(tactic.id)}",
        f"name = {toml_string(tactic.name)}",
        f'reference = "https://attack.mitre.org/tactics/{tactic.id}/"',
    ]
    parents: dict[str, list[str]] = {}
    for technique in threat.techniques:
        parent = technique.split(".")[0]
        parents.setdefault(parent, [])
        if "." in technique:
            parents[parent].append(technique)
    for parent, subs in parents.items():
        lines += [
            "[[rule.threat.technique]]",
            f"id = {toml_string(parent)}",
            f"name = {toml_string(TECHNIQUES.get(parent, parent))}",
            f'reference = "https://attack.mitre.org/techniques/{parent}/"',
        ]
        for sub in subs:
            lines += [
                "[[rule.threat.technique.subtechnique]]",
                f"id = {toml_string(sub)}",
                f"name = {toml_string(TECHNIQUES.get(sub, sub))}",
                f'reference = "https://attack.mitre.org/techniques/{sub.replace(".", "/")}/"',
            ]
    return lines


def rule_file(metadata: SigmaMetadata, query: str, warnings: Sequence[str]) -> tuple[str, str]:
    """(file name, TOML text) of the doorhunt rule for a converted Sigma rule."""
    mapped = threats(metadata.tags)
    severity, risk = SEVERITIES.get((metadata.level or "").lower(), SEVERITIES["medium"])
    english, korean = triage(metadata)
    lines = [
        f"# Converted by `doorhunt rules import-sigma` from {metadata.source}.",
        "# No [[example]]: converted rules carry the `sigma-converted` tag instead.",
        "[rule]",
        f"id = {toml_string(rule_uuid(metadata.sigma_id, metadata.title))}",
        f"name = {toml_string(metadata.title)}",
        f"description = {toml_text(description(metadata, warnings))}",
        f"severity = {toml_string(severity)}",
        f"risk_score = {risk}",
        "version = 1",
        'language = "eql"',
        f"query = {toml_query(query)}",
        f"references = {toml_list(references(metadata))}",
        f"tags = {toml_list(tags(metadata))}",
        f"false_positives = {toml_list(list(metadata.false_positives))}",
        "",
        "[rule.triage]",
        f"en = {toml_text(english)}",
        f"ko = {toml_text(korean)}",
    ]
    for threat in mapped:
        lines += _threat_toml(threat)
    return file_name(metadata, mapped), "\n".join(lines) + "\n"


__all__ = [
    "CONVERTED_TAG",
    "DEFAULT_LICENSE",
    "DRL_URL",
    "SEVERITIES",
    "SIGMA_NAMESPACE",
    "TACTICS",
    "TECHNIQUES",
    "UNKNOWN_TACTIC",
    "SigmaMetadata",
    "Tactic",
    "Threat",
    "file_name",
    "rule_file",
    "rule_uuid",
    "slug",
    "threats",
    "toml_string",
]
