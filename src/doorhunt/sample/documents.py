"""Sample analyses and YARA hits as ECS 9.4.0 documents (`--ndjson`; docs/ecs.md).

One document per analysed file: `event.kind: alert` when the verdict is bpfdoor or suspicious
(or a YARA rule matched), else `event`; `event.category: [file, malware]` for an alert,
`[file]` otherwise; `file.*` with the hashes and the ELF header; `threat.*` with the ATT&CK
techniques the evidence shows (the same table as the host sweep's) and, for a bpfdoor
verdict, the software; `doorhunt.sample.*` with the verdict and the extracted configuration;
`doorhunt.bpf.*` for the most suspicious filter; `doorhunt.visibility.*` for the gaps. One
more document per YARA hit: `event.kind: alert`, `rule.*`, `doorhunt.yara.*`, and
`process.*` when the hit is in a live process.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import PurePosixPath

from doorhunt.ecs.document import format_timestamp
from doorhunt.ecs.schema import ECS_VERSION
from doorhunt.sample.analysis import SampleAnalysis, SampleClass
from doorhunt.sample.artefacts import ArtefactKind
from doorhunt.sample.yara import ScanReport, YaraHit
from doorhunt.sweep.findings import (
    FIREWALL,
    HISTORY_LOGGING,
    MATCH_NAME,
    SOCKET_FILTER,
    TIMESTOMP,
    Technique,
)

Document = dict[str, object]

DATASET = "doorhunt.sample"
YARA_DATASET = "doorhunt.yara"
# What each kind of evidence shows, in ATT&CK terms (attack.mitre.org, Enterprise v15).
_TECHNIQUES: tuple[tuple[ArtefactKind, Technique], ...] = (
    (ArtefactKind.DECOY_NAME, MATCH_NAME),
    (ArtefactKind.SHELL_DISGUISE, MATCH_NAME),
    (ArtefactKind.FIREWALL_TEMPLATE, FIREWALL),
    (ArtefactKind.SHELL_ENVIRONMENT, HISTORY_LOGGING),
    (ArtefactKind.BACKDATED_TIME, TIMESTOMP),
)
_ELF_CLASSES = {32: "ELF32", 64: "ELF64"}
_BYTE_ORDERS = {"little": "Little Endian", "big": "Big Endian"}


def sample_document(
    analysis: SampleAnalysis,
    *,
    host: Mapping[str, object],
    language: str = "en",
    timestamp: datetime | None = None,
) -> Document:
    """The ECS document of one analysed file."""
    verdict = analysis.verdict
    alert = verdict.sample_class is not SampleClass.CLEAN or bool(analysis.yara_hits)
    document = _base(
        kind="alert" if alert else "event",
        category=["file", "malware"] if alert else ["file"],
        action="sample_analysis",
        dataset=DATASET,
        host=host,
        timestamp=timestamp,
    )
    event = document["event"]
    assert isinstance(event, dict)
    event["severity"] = verdict.score
    event["risk_score"] = float(verdict.score)
    document["message"] = verdict.reasons[0].render(language) if verdict.reasons else ""
    document["file"] = _file_fields(analysis)
    techniques = _techniques(analysis)
    if techniques or verdict.sample_class is SampleClass.BPFDOOR:
        document["threat"] = _threat(
            techniques, bpfdoor=verdict.sample_class is SampleClass.BPFDOOR
        )
    sample: dict[str, object] = {
        "class": verdict.sample_class.value,
        "score": verdict.score,
        "reasons": [reason.render(language) for reason in verdict.reasons],
        "config": analysis.config(language),
    }
    if analysis.packer:
        sample["packer"] = analysis.packer
    if analysis.yara_hits:
        sample["yara_rules"] = sorted({hit.rule for hit in analysis.yara_hits})
    extensions: dict[str, object] = {
        "sample": sample,
        "visibility": {
            "complete": not analysis.gaps,
            "gaps": [gap.render(language) for gap in analysis.gaps],
        },
    }
    suspicious = [f for f in analysis.filters if f.explanation.classification.suspicious]
    if suspicious:
        best = max(suspicious, key=lambda found: found.explanation.classification.score)
        extensions["bpf"] = best.explanation.ecs_bpf_fields()
    document["doorhunt"] = extensions
    return document


def sample_documents(
    analysis: SampleAnalysis,
    *,
    host: Mapping[str, object],
    language: str = "en",
    timestamp: datetime | None = None,
) -> list[Document]:
    """The file's document, then one alert per YARA hit on it."""
    moment = timestamp or datetime.now(UTC)
    documents = [sample_document(analysis, host=host, language=language, timestamp=moment)]
    path = analysis.file.name
    for hit in analysis.yara_hits or ():
        documents.append(
            hit_document(
                hit,
                host=host,
                file=_file_fields(analysis),
                target=path,
                timestamp=moment,
            )
        )
    return documents


def error_document(
    path: str, message: str, *, host: Mapping[str, object], timestamp: datetime | None = None
) -> Document:
    """A file that could not be analysed (not ELF, unreadable): an event that failed."""
    document = _base(
        kind="event",
        category=["file"],
        action="sample_analysis",
        dataset=DATASET,
        host=host,
        timestamp=timestamp,
    )
    event = document["event"]
    assert isinstance(event, dict)
    event["outcome"] = "failure"
    document["file"] = {"path": path, "name": PurePosixPath(path).name or path}
    document["error"] = {"message": message}
    document["message"] = message
    return document


def hit_document(
    hit: YaraHit,
    *,
    host: Mapping[str, object],
    target: str,
    file: Mapping[str, object] | None = None,
    pid: int | None = None,
    executable: str | None = None,
    timestamp: datetime | None = None,
) -> Document:
    """One YARA rule matching one target (a file, or a live process's executable or memory)."""
    document = _base(
        kind="alert",
        category=["malware", "file"] if pid is None else ["malware", "process"],
        action="yara_match",
        dataset=YARA_DATASET,
        host=host,
        timestamp=timestamp,
    )
    event = document["event"]
    assert isinstance(event, dict)
    if hit.severity:
        event["severity"] = hit.severity
        event["risk_score"] = float(hit.severity)
    rule: dict[str, object] = {
        "name": hit.rule,
        "ruleset": hit.namespace,
        "category": "yara",
    }
    if hit.description:
        rule["description"] = hit.description
    author = dict(hit.meta).get("author")
    if isinstance(author, str):
        rule["author"] = [author]
    document["rule"] = rule
    document["message"] = f"YARA rule {hit.namespace}.{hit.rule} matched {target}"
    if file is not None:
        document["file"] = dict(file)
    elif pid is None:
        document["file"] = {"path": target, "name": PurePosixPath(target).name or target}
    if pid is not None:
        process: dict[str, object] = {"pid": pid}
        if executable:
            process["executable"] = executable
            process["name"] = PurePosixPath(executable.removesuffix(" (deleted)")).name
        document["process"] = process
    yara: dict[str, object] = {
        "source": hit.source,
        "matches": [match.to_json() for match in hit.strings],
    }
    if hit.region is not None:
        yara["region"] = hit.region
    if hit.base_address is not None:
        yara["base_address"] = f"{hit.base_address:#x}"
    document["doorhunt"] = {"yara": yara}
    return document


def scan_documents(
    report: ScanReport,
    *,
    host: Mapping[str, object],
    executable: str | None = None,
    timestamp: datetime | None = None,
) -> list[Document]:
    """A `doorhunt yara scan` target: one alert per hit, or one event when none matched."""
    moment = timestamp or datetime.now(UTC)
    pid = _pid_of(report)
    documents = [
        hit_document(
            hit,
            host=host,
            target=report.target,
            pid=pid,
            executable=executable,
            timestamp=moment,
        )
        for hit in report.hits
    ]
    if documents:
        if report.gaps:
            for document in documents:
                extensions = document["doorhunt"]
                assert isinstance(extensions, dict)
                extensions["visibility"] = {"complete": False, "gaps": list(report.gaps)}
        return documents
    document = _base(
        kind="event",
        category=["file"] if pid is None else ["process"],
        action="yara_scan",
        dataset=YARA_DATASET,
        host=host,
        timestamp=moment,
    )
    document["message"] = f"no YARA rule matched {report.target}"
    if pid is None:
        document["file"] = {
            "path": report.target,
            "name": PurePosixPath(report.target).name or report.target,
        }
    else:
        process: dict[str, object] = {"pid": pid}
        if executable:
            process["executable"] = executable
        document["process"] = process
    document["doorhunt"] = {
        "visibility": {"complete": not report.gaps, "gaps": list(report.gaps)},
    }
    return [document]


def _pid_of(report: ScanReport) -> int | None:
    if report.kind != "process":
        return None
    number = report.target.removeprefix("pid ")
    return int(number) if number.isdigit() else None


def _base(
    *,
    kind: str,
    category: list[str],
    action: str,
    dataset: str,
    host: Mapping[str, object],
    timestamp: datetime | None,
) -> Document:
    return {
        "@timestamp": format_timestamp(timestamp or datetime.now(UTC)),
        "ecs": {"version": ECS_VERSION},
        "event": {
            "kind": kind,
            "category": category,
            "type": ["info"],
            "action": action,
            "module": "doorhunt",
            "dataset": dataset,
        },
        "host": dict(host),
    }


def _file_fields(analysis: SampleAnalysis) -> dict[str, object]:
    facts = analysis.file
    fields: dict[str, object] = {
        "path": facts.name,
        "name": PurePosixPath(facts.name).name or facts.name,
        "size": facts.size,
        "type": "file",
        "hash": {"md5": facts.md5, "sha1": facts.sha1, "sha256": facts.sha256},
    }
    image = analysis.image
    if image is not None:
        header = image.header
        fields["elf"] = {
            "architecture": header.machine_name,
            "byte_order": _BYTE_ORDERS.get(header.byte_order, header.byte_order),
            "header": {
                "class": _ELF_CLASSES.get(header.elf_class, str(header.elf_class)),
                "type": header.type_name,
                "entrypoint": header.entry,
            },
        }
    return fields


def _techniques(analysis: SampleAnalysis) -> list[Technique]:
    found: list[Technique] = []
    if any(f.explanation.classification.suspicious for f in analysis.filters):
        found.append(SOCKET_FILTER)
    kinds = {artefact.kind for artefact in analysis.artefacts}
    for kind, technique in _TECHNIQUES:
        if kind in kinds and technique not in found:
            found.append(technique)
    return found


def _threat(techniques: Iterable[Technique], *, bpfdoor: bool) -> dict[str, object]:
    techniques = list(techniques)
    threat: dict[str, object] = {"framework": "MITRE ATT&CK"}
    if techniques:
        threat["technique"] = {
            "id": [t.id for t in techniques],
            "name": [t.name for t in techniques],
        }
        threat["tactic"] = {"name": list(dict.fromkeys(t.tactic for t in techniques))}
    if bpfdoor:
        threat["software"] = {"name": "BPFDoor", "type": "Malware", "platforms": ["Linux"]}
    return threat


__all__ = [
    "error_document",
    "hit_document",
    "sample_document",
    "sample_documents",
    "scan_documents",
]
