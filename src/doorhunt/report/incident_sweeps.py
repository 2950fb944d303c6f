"""Each host's latest sweep for the report: from the sweep's JSON result in DATA/sweeps
(docs/sweep.md, "Output"), or, when a host's sweeps reached only the event store (shipped
from another machine), from its `sweep_completed` event and `sweep_finding` alerts."""

# ruff: noqa: S608 - SQL here is assembled from constant text and build_filter's conditions;
# values are always bound parameters.
from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from doorhunt.ecs import get_field
from doorhunt.i18n import Catalog
from doorhunt.report.fields import (
    int_field,
    load_document,
    process_of,
    text_field,
    texts_field,
    timestamp_of,
)
from doorhunt.report.incident_evidence import FilterCollector, link_of
from doorhunt.report.incident_model import Attack, HostSweep, ProcessRef, SweepFinding
from doorhunt.store import StoreReader
from doorhunt.store.reader import build_filter
from doorhunt.sweep.run import MESSAGES as VERDICTS

MAX_SWEEP_BYTES: Final = 64 * 1024 * 1024
MAX_FINDINGS: Final = 500
# DATA/sweeps/YYYYMMDDTHHMMSSZ-HOST.json, as `doorhunt sweep` names them (cli/sweep.py).
_SWEEP_FILE: Final = re.compile(r"(\d{8}T\d{6}Z)-(.+)\.json")

CHECK_NAMES: Final = Catalog(
    {
        "socket_filter": {
            "en": "Socket filter on a packet or raw socket",
            "ko": "패킷/raw 소켓에 부착된 소켓 필터",
        },
        "wait_state": {
            "en": "Waiting for packets on a suspicious socket",
            "ko": "의심 소켓에서 패킷 대기",
        },
        "ebpf_socket_filter": {"en": "eBPF socket filter", "ko": "eBPF 소켓 필터"},
        "unfiltered_sniffer": {
            "en": "Packet socket without a filter (sniffer)",
            "ko": "필터 없는 패킷 소켓 (스니퍼)",
        },
        "orphan_socket": {
            "en": "Packet socket held by no visible process",
            "ko": "보이는 프로세스가 없는 패킷 소켓",
        },
        "executable_provenance": {
            "en": "Executable run from memory or a temporary directory",
            "ko": "메모리 또는 임시 디렉터리에서 실행된 파일",
        },
        "masquerade": {
            "en": "Process disguised as another program",
            "ko": "다른 프로그램으로 위장한 프로세스",
        },
        "timestomp": {"en": "File times set back (timestomp)", "ko": "파일 시각 조작 (timestomp)"},
        "environment": {
            "en": "Shell environment of BPFDoor",
            "ko": "BPFDoor 셸 환경 변수",
        },
        "pid_file": {"en": "Empty PID or lock file", "ko": "0바이트 PID/잠금 파일"},
        "temp_executable": {
            "en": "Executable file in a temporary or memory directory",
            "ko": "임시/메모리 디렉터리의 실행 파일",
        },
        "bind_shell": {
            "en": "Bind-shell port or firewall redirect",
            "ko": "바인드 셸 포트 또는 방화벽 리디렉션",
        },
        "persistence": {"en": "Autostart entry", "ko": "자동 실행 항목"},
        "yara": {"en": "YARA rule match", "ko": "YARA 규칙 일치"},
        "other": {"en": "Check {check}", "ko": "점검 항목 {check}"},
    }
)


def check_name(check: str, language: str) -> str:
    if check in CHECK_NAMES.entries and check != "other":
        return CHECK_NAMES.text(check, language)
    return CHECK_NAMES.text("other", language, check=check)


def verdict_text(verdict: str, language: str) -> str:
    return VERDICTS.text(verdict, language) if verdict in VERDICTS.entries else verdict


@dataclass(frozen=True, slots=True)
class SweepFile:
    path: Path
    taken_at: datetime
    host: str  # as written in the file name (`/` replaced by `_`)


def sweep_files(directory: Path) -> list[SweepFile]:
    """The sweep results in `directory`, oldest first, from their names alone."""
    try:
        names = [entry.name for entry in directory.iterdir()]
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for name in names:
        match = _SWEEP_FILE.fullmatch(name)
        if match is None:
            continue
        try:
            taken_at = datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            continue
        found.append(SweepFile(directory / name, taken_at, match.group(2)))
    return sorted(found, key=lambda item: (item.taken_at, item.path.name))


def latest_files(
    files: Sequence[SweepFile],
    *,
    host: str | None,
    since: datetime | None,
    until: datetime | None,
) -> dict[str, SweepFile]:
    """The newest sweep file per host name within the window."""
    latest: dict[str, SweepFile] = {}
    wanted = host.replace("/", "_") if host is not None else None
    for item in files:
        if wanted is not None and item.host != wanted:
            continue
        if (since is not None and item.taken_at < since) or (
            until is not None and item.taken_at >= until
        ):
            continue
        latest[item.host] = item  # files are oldest first
    return latest


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _int(value: object, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


class SweepFileError(ValueError):
    """A sweep result that cannot be read (the message says why)."""


def read_sweep_file(item: SweepFile, language: str, filters: FilterCollector) -> HostSweep:
    """A stored sweep result; raises SweepFileError when it is not one."""
    try:
        with item.path.open("rb") as handle:
            data = handle.read(MAX_SWEEP_BYTES + 1)
    except OSError as error:
        raise SweepFileError(error.strerror or str(error)) from None
    if len(data) > MAX_SWEEP_BYTES:
        raise SweepFileError(f"larger than {MAX_SWEEP_BYTES // (1024 * 1024)} MiB")
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise SweepFileError(f"not JSON: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("verdict"), str):
        raise SweepFileError("not a sweep result (no verdict)")
    host_fields = _mapping(document.get("host"))
    host = _str(host_fields.get("name")) or _str(host_fields.get("hostname")) or item.host
    taken_at = timestamp_of({"@timestamp": document.get("taken_at")}) or item.taken_at
    visibility = _mapping(document.get("visibility"))
    summary = _mapping(document.get("summary"))
    findings = []
    for raw in _list(document.get("findings"))[:MAX_FINDINGS]:
        if isinstance(raw, Mapping):
            findings.append(_file_finding(raw, host, language, filters))
    verdict = str(document["verdict"])
    return HostSweep(
        host=host,
        taken_at=taken_at,
        verdict=verdict,
        verdict_text=verdict_text(verdict, language),
        score=_int(document.get("score")),
        complete=visibility.get("complete") is True,
        gaps=tuple(str(gap) for gap in _list(visibility.get("gaps"))),
        notes=tuple(str(note) for note in _list(visibility.get("notes"))),
        findings=tuple(sorted(findings, key=lambda f: -f.score)),
        source=str(item.path),
        processes=_int(summary.get("processes")) if "processes" in summary else None,
        packet_sockets=(
            _int(summary.get("packet_sockets")) + _int(summary.get("raw_sockets"))
            if "packet_sockets" in summary
            else None
        ),
    )


def _file_finding(
    raw: Mapping[str, object], host: str, language: str, filters: FilterCollector
) -> SweepFinding:
    check = _str(raw.get("check")) or "?"
    process_fields = _mapping(raw.get("process"))
    process = None
    if process_fields:
        args = [str(arg) for arg in _list(process_fields.get("args"))]
        uid = process_fields.get("uid")
        process = ProcessRef(
            pid=_int(process_fields.get("pid"), -1) if "pid" in process_fields else None,
            name=_str(process_fields.get("name")),
            executable=_str(process_fields.get("executable")),
            command_line=" ".join(args) if args else None,
            user=f"uid {uid}" if isinstance(uid, int) else None,
        )
    evidence = _mapping(raw.get("evidence"))
    techniques = []
    for threat in _list(raw.get("threat")):
        technique = _mapping(_mapping(threat).get("technique"))
        if isinstance(technique.get("id"), str):
            techniques.append(Attack(str(technique["id"]), str(technique.get("name", ""))))
    key = None
    if isinstance(evidence.get("filter"), str):
        where = _where(host, process, "sweep")
        key = filters.add(evidence["filter"], link_of(evidence.get("socket")), where)
    return SweepFinding(
        check=check,
        check_name=check_name(check, language),
        severity=_str(raw.get("severity")) or "low",
        score=_int(raw.get("score")),
        title=_str(raw.get("title")) or "",
        detail=_str(raw.get("detail")),
        process=process,
        evidence=dict(evidence),
        techniques=tuple(techniques),
        filter_key=key,
    )


def _where(host: str | None, process: ProcessRef | None, source: str) -> str:
    parts = [host or "?"]
    if process is not None and process.pid is not None:
        parts.append(f"pid {process.pid}")
    return f"{' '.join(parts)} ({source})"


def store_sweep(
    reader: StoreReader,
    host: str,
    *,
    since: datetime | None,
    until: datetime | None,
    language: str,
    filters: FilterCollector,
) -> tuple[HostSweep, list[dict[str, object]]] | None:
    """The host's latest `sweep_completed` event in the window and its findings (as stored
    alerts, also returned: their processes get process trees)."""
    condition = build_filter(host=host, since=since, until=until, action="sweep_completed")
    rows = reader.sql(
        f'SELECT doc FROM events WHERE {condition.sql} ORDER BY "timestamp" DESC LIMIT 1',
        list(condition.parameters),
    )
    if not rows:
        return None
    completed = load_document(rows[0][0])
    taken_at = timestamp_of(completed)
    finding_docs: list[dict[str, object]] = []
    if taken_at is not None:
        found = build_filter(host=host, action="sweep_finding")
        finding_docs = [
            load_document(row[0])
            for row in reader.sql(
                f'SELECT doc FROM events WHERE {found.sql} AND "timestamp" = ? '
                f"LIMIT {MAX_FINDINGS}",
                [*found.parameters, taken_at],
            )
        ]
    findings = [_store_finding(doc, host, language, filters) for doc in finding_docs]
    verdict = text_field(completed, "doorhunt.sweep.verdict") or "clean"
    complete = get_field(completed, "doorhunt.sweep.complete") is True
    sweep = HostSweep(
        host=host,
        taken_at=taken_at,
        verdict=verdict,
        verdict_text=verdict_text(verdict, language),
        score=int_field(completed, "doorhunt.sweep.score") or 0,
        complete=complete,
        gaps=texts_field(completed, "doorhunt.sweep.gaps"),
        notes=(),
        findings=tuple(sorted(findings, key=lambda f: -f.score)),
        source="store",
    )
    return sweep, finding_docs


def _store_finding(
    doc: Mapping[str, object], host: str, language: str, filters: FilterCollector
) -> SweepFinding:
    check = text_field(doc, "doorhunt.finding.check") or text_field(doc, "rule.id") or "?"
    process = process_of(doc)
    names = texts_field(doc, "threat.technique.name")
    techniques = tuple(
        Attack(technique, names[index] if index < len(names) else "")
        for index, technique in enumerate(texts_field(doc, "threat.technique.id"))
    )
    key = filters.add(
        get_field(doc, "doorhunt.bpf.bytecode"),
        link_of(get_field(doc, "doorhunt.bpf.link")),
        _where(host, process, "sweep"),
    )
    evidence = get_field(doc, "doorhunt.finding.evidence")
    return SweepFinding(
        check=check,
        check_name=check_name(check, language),
        severity=text_field(doc, "doorhunt.finding.severity") or "low",
        score=int_field(doc, "doorhunt.finding.score") or 0,
        title=text_field(doc, "message") or text_field(doc, "rule.name") or "",
        detail=None,
        process=process,
        evidence=dict(evidence) if isinstance(evidence, Mapping) else {},
        techniques=techniques,
        filter_key=key,
    )


__all__ = [
    "CHECK_NAMES",
    "SweepFile",
    "SweepFileError",
    "check_name",
    "latest_files",
    "read_sweep_file",
    "store_sweep",
    "sweep_files",
    "verdict_text",
]
