"""The report's evidence: each socket filter seen, explained once by `doorhunt bpf`, and the
files the findings, alerts and quarantine name (with their SHA-256 when quarantined)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from doorhunt.bpf.codec import from_bytes
from doorhunt.bpf.disasm import disassemble
from doorhunt.bpf.explain import explain
from doorhunt.bpf.interpreter import Link
from doorhunt.bpf.program import BpfFormatError, BpfProgramError
from doorhunt.i18n import Catalog
from doorhunt.report.incident_model import FileEvidence, FilterEvidence, MagicValue
from doorhunt.response.quarantine import Quarantine, QuarantinedFile

MAX_FILTERS: Final = 24
MAX_FILES: Final = 300
MAX_INSTRUCTIONS: Final = 4096  # BPF_MAXINSNS: the kernel attaches nothing longer
# An explanation walks the program's paths; this bounds the work per filter in a report.
EXPLAIN_STEPS: Final = 100_000

MESSAGES: Final = Catalog(
    {
        "not_hex": {
            "en": "the stored bytecode is not hexadecimal",
            "ko": "저장된 바이트코드가 16진수가 아님",
        },
        "too_long": {
            "en": "{count} instructions: longer than the kernel accepts (4096)",
            "ko": "명령어 {count}개: 커널이 허용하는 길이(4096)를 넘음",
        },
        "unreadable": {
            "en": "not a classic BPF program: {reason}",
            "ko": "classic BPF 프로그램이 아님: {reason}",
        },
    }
)


def link_of(value: object) -> Link:
    """The link layer a stored filter was read at: `doorhunt.bpf.link`, or the socket kind a
    sweep recorded (SOCK_RAW packet sockets start at the Ethernet header, the rest at IP)."""
    if not isinstance(value, str) or not value:
        return Link.ETHERNET  # what a BPFDoor-style SOCK_RAW packet socket sees
    if value in (Link.ETHERNET.value, Link.IP.value):
        return Link(value)
    return Link.ETHERNET if value.upper().startswith("AF_PACKET/RAW") else Link.IP


def filter_key(bytecode: str, link: Link) -> str:
    digest = hashlib.sha256(f"{link.value}:{bytecode.lower()}".encode()).hexdigest()
    return f"filter-{digest[:16]}"


def explain_filter(
    bytecode: str, link: Link, language: str, seen: tuple[str, ...] = ()
) -> FilterEvidence:
    """Everything `doorhunt bpf explain` says about the filter, or why it cannot."""
    key = filter_key(bytecode, link)

    def failed(reason: str) -> FilterEvidence:
        return FilterEvidence(
            key, bytecode, link.value, None, None, None, None, "", (), (), (), "", reason, seen
        )

    try:
        data = bytes.fromhex(bytecode)
    except ValueError:
        return failed(MESSAGES.text("not_hex", language))
    if len(data) > 8 * MAX_INSTRUCTIONS:
        return failed(MESSAGES.text("too_long", language, count=len(data) // 8))
    try:
        program = from_bytes(data, byteorder="little")  # `doorhunt.bpf.bytecode` is little-endian
        explanation = explain(program, link, max_steps=EXPLAIN_STEPS)
    except (BpfFormatError, BpfProgramError) as error:
        return failed(MESSAGES.text("unreadable", language, reason=str(error)))
    verdict = explanation.classification
    return FilterEvidence(
        key=key,
        bytecode=bytecode.lower(),
        link=link.value,
        instructions=len(program),
        filter_class=verdict.filter_class.value,
        suspicious=verdict.suspicious,
        score=verdict.score,
        summary=explanation.summary(language),
        reasons=tuple(reason.render(language) for reason in verdict.reasons),
        magic=tuple(
            MagicValue(
                compare.protocol,
                compare.offset,
                compare.size,
                compare.hex,
                tuple(
                    f"{match.magic.value:#x} ({match.byte_order}): {match.magic.note}"
                    for match in compare.known
                ),
            )
            for compare in verdict.magic
        ),
        protocols=verdict.protocols,
        disassembly="\n".join(disassemble(program)),
        error=None,
        seen=seen,
    )


@dataclass(slots=True)
class FilterCollector:
    """Each distinct (bytecode, link) once, with every place it was seen."""

    language: str
    _seen: dict[tuple[str, Link], list[str]] = field(default_factory=dict)
    dropped: int = 0

    def add(self, bytecode: object, link: Link, where: str) -> str | None:
        """Remember a filter; its key (for links to it), or None when it is not one."""
        if not isinstance(bytecode, str) or not bytecode:
            return None
        identity = (bytecode.lower(), link)
        places = self._seen.get(identity)
        if places is None:
            if len(self._seen) >= MAX_FILTERS:
                self.dropped += 1
                return None
            places = self._seen[identity] = []
        if where not in places and len(places) < 20:
            places.append(where)
        return filter_key(bytecode, link)

    def results(self) -> tuple[FilterEvidence, ...]:
        explained = [
            explain_filter(bytecode, link, self.language, tuple(places))
            for (bytecode, link), places in self._seen.items()
        ]
        return tuple(sorted(explained, key=lambda item: (-(item.score or 0), item.key)))


@dataclass(slots=True)
class FileCollector:
    """Files named by findings, alerts and the quarantine, each (path, host, hash) once."""

    _files: dict[tuple[str, str | None, str | None, str], FileEvidence] = field(
        default_factory=dict
    )
    dropped: int = 0

    def add(self, item: FileEvidence) -> None:
        identity = (item.path, item.host, item.sha256, item.source)
        if identity in self._files:
            return
        if len(self._files) >= MAX_FILES:
            self.dropped += 1
            return
        self._files[identity] = item

    def results(self) -> tuple[FileEvidence, ...]:
        order = {"quarantine": 0, "sweep": 1, "alert": 2}
        return tuple(
            sorted(
                self._files.values(),
                key=lambda item: (order.get(item.source, 3), item.host or "", item.path),
            )
        )


def quarantined_files(
    directory: Path, since: datetime | None, until: datetime | None
) -> tuple[list[FileEvidence], list[tuple[Path, str]]]:
    """The quarantine's records in the window, and the records that could not be read."""
    found: list[FileEvidence] = []
    broken: list[tuple[Path, str]] = []
    for item in Quarantine(directory).items():
        if not isinstance(item, QuarantinedFile):
            broken.append(item)
            continue
        try:
            when = datetime.fromtimestamp(float(item.quarantined_at), UTC)
            modified = datetime.fromtimestamp(int(item.mtime_ns) / 1e9, UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            broken.append((directory / f"{item.id}.json", "times are not numbers"))
            continue
        if (since is not None and when < since) or (until is not None and when >= until):
            continue
        mode = f"{item.mode:04o}" if isinstance(item.mode, int) else None
        found.append(
            FileEvidence(
                path=str(item.original_path),
                host=None,
                source="quarantine",
                sha256=str(item.sha256),
                size=item.size if isinstance(item.size, int) else None,
                mode=mode,
                uid=item.uid if isinstance(item.uid, int) else None,
                modified=modified,
                note=str(item.reason),
            )
        )
    return found, broken


__all__ = [
    "MAX_FILES",
    "MAX_FILTERS",
    "MESSAGES",
    "FileCollector",
    "FilterCollector",
    "explain_filter",
    "filter_key",
    "link_of",
    "quarantined_files",
]
