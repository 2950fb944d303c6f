"""Packet and raw sockets of a host, with their filters explained by `doorhunt bpf`.

Three sources say which sockets a host had and what filter each carried: the newest sweep
result (its socket findings' evidence), sweep findings in the store, and the sensor's
`socket_opened` / `filter_attached` events. The filter's bytecode, never its class alone,
is what the page shows explained, so an analyst reads what the filter accepts.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from doorhunt.bpf import BpfFormatError, BpfProgramError, Link, explain
from doorhunt.bpf.codec import from_bytes
from doorhunt.bpf.explain import probe_json
from doorhunt.investigate.errors import InvestigationError
from doorhunt.investigate.events import iso
from doorhunt.investigate.index import SegmentIndex
from doorhunt.investigate.sweeps import SweepArchive

MAX_BYTECODE_HEX: Final = 2 * 8 * 4096  # BPF_MAXINSNS instructions of 8 bytes


@functools.lru_cache(maxsize=512)
def explain_filter(
    bytecode: str, link: str = "ethernet", language: str = "en"
) -> dict[str, object]:
    """`doorhunt bpf explain` of a filter given as the hex of its `struct sock_filter` array
    (little-endian, as doorhunt.bpf.bytecode holds it), as JSON, with probe packets."""
    if len(bytecode) > MAX_BYTECODE_HEX:
        raise InvestigationError("longer than 4,096 instructions", location="bytecode")
    try:
        program = from_bytes(bytes.fromhex(bytecode), byteorder="little")
    except ValueError:
        raise InvestigationError("expected hexadecimal bytecode", location="bytecode") from None
    except (BpfFormatError, BpfProgramError) as error:
        raise InvestigationError(str(error), location="bytecode") from None
    try:
        kind = Link(link)
    except ValueError:
        raise InvestigationError(
            f"expected ethernet or ip, got {link[:20]!r}", location="link"
        ) from None
    explanation = explain(program, kind)
    document = explanation.to_json(language)
    document["probes"] = [probe_json(probe, language) for probe in explanation.probes()]
    return document


@dataclass(frozen=True, slots=True)
class SocketView:
    """One socket as the host page shows it."""

    host: str
    source: str  # "sweep result", "sweep finding" or "sensor"
    seen: datetime | str | None
    kind: str | None
    inode: int | None
    netns: int | None
    interface: str | None
    protocol: str | None
    holders: tuple[Mapping[str, object], ...]
    bytecode: str | None
    link: str
    filter_class: str | None
    suspicious: bool | None
    score: int | None
    ref: str | None  # the stored event or finding, when there is one

    def to_json(self, language: str = "en") -> dict[str, object]:
        explanation: dict[str, object] | None = None
        error: str | None = None
        if self.bytecode:
            try:
                explanation = explain_filter(self.bytecode, self.link, language)
            except InvestigationError as problem:
                error = str(problem)
        seen = self.seen if isinstance(self.seen, str) or self.seen is None else iso(self.seen)
        return {
            "host": self.host,
            "source": self.source,
            "seen": seen,
            "kind": self.kind,
            "inode": self.inode,
            "netns": self.netns,
            "interface": self.interface,
            "protocol": self.protocol,
            "holders": list(self.holders),
            "bytecode": self.bytecode,
            "link": self.link,
            "class": self.filter_class,
            "suspicious": self.suspicious,
            "score": self.score,
            "ref": self.ref,
            "explanation": explanation,
            "explanation_error": error,
        }


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _link_of(kind: str | None, link: object) -> str:
    if isinstance(link, str) and link in ("ethernet", "ip"):
        return link
    # A SOCK_RAW packet socket starts at the link header; SOCK_DGRAM and AF_INET raw sockets
    # at the IP header (doorhunt.sweep.checks.sockets._link).
    if kind and "PACKET" in kind.upper() and "RAW" in kind.upper():
        return "ethernet"
    if kind and kind.lower() in ("packet/raw", "raw"):
        return "ethernet"
    return "ip"


def host_sockets(index: SegmentIndex, archive: SweepArchive, host: str) -> list[SocketView]:
    """The host's sockets, newest knowledge first, each (namespace, inode, filter) once."""
    views: list[SocketView] = []
    report = archive.latest(host)
    if report is not None:
        findings = report.get("findings")
        for finding in findings if isinstance(findings, list) else []:
            if not isinstance(finding, dict):
                continue
            evidence = finding.get("evidence")
            if not isinstance(evidence, dict) or "inode" not in evidence:
                continue
            kind = _text(evidence.get("socket"))
            process = finding.get("process")
            holders = []
            if isinstance(process, dict):
                holders.append(
                    {
                        "pid": process.get("pid"),
                        "name": process.get("name"),
                        "executable": process.get("executable"),
                    }
                )
            views.append(
                SocketView(
                    host=host,
                    source="sweep result",
                    seen=_text(report.get("taken_at")),
                    kind=kind,
                    inode=_int(evidence.get("inode")),
                    netns=_int(evidence.get("netns")),
                    interface=_text(evidence.get("interface")),
                    protocol=_text(evidence.get("protocol")),
                    holders=tuple(holders),
                    bytecode=_text(evidence.get("filter")),
                    link=_link_of(kind, None),
                    filter_class=_text(evidence.get("class")),
                    suspicious=None,
                    score=_int(finding.get("score")),
                    ref=None,
                )
            )
    for record in index.sockets():
        if record.host != host:
            continue
        socket = record.socket
        bpf = record.bpf or {}
        kind = _text(socket.get("type"))
        if record.source == "sensor" and _text(socket.get("family")):
            kind = f"{socket.get('family')}/{socket.get('type')}"
        views.append(
            SocketView(
                host=host,
                source="sweep finding" if record.source == "sweep" else "sensor",
                seen=record.timestamp,
                kind=kind,
                inode=_int(socket.get("inode")),
                netns=_int(socket.get("netns")),
                interface=_text(socket.get("interface")),
                protocol=str(socket["protocol"]) if "protocol" in socket else None,
                holders=(
                    {
                        "pid": record.process_pid,
                        "name": record.process_name,
                        "executable": record.process_executable,
                        "entity_id": record.process_entity_id,
                    },
                ),
                bytecode=_text(bpf.get("bytecode")),
                link=_link_of(kind, bpf.get("link")),
                filter_class=_text(bpf.get("class")),
                suspicious=bpf.get("suspicious")
                if isinstance(bpf.get("suspicious"), bool)
                else None,  # type: ignore[arg-type]
                score=_int(bpf.get("score")),
                ref=record.ref,
            )
        )
    seen: set[tuple[int | None, int | None, str | None, str]] = set()
    unique = []
    for view in views:
        key = (view.netns, view.inode, view.bytecode, view.source if view.inode is None else "")
        if view.inode is not None and key in seen:
            continue
        seen.add(key)
        unique.append(view)
    return unique


__all__ = ["SocketView", "explain_filter", "host_sockets"]
