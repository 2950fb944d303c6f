"""Checks on packet and raw sockets: their filters read as programs (BPFDOOR.md §2, §4, §5)."""

from __future__ import annotations

import functools
from collections.abc import Iterator

from doorhunt.bpf.codec import from_bytes
from doorhunt.bpf.explain import Explanation, Summary, explain
from doorhunt.bpf.interpreter import Link
from doorhunt.bpf.program import BpfProgramError
from doorhunt.host.procfs import Process
from doorhunt.host.snapshot import HostSnapshot
from doorhunt.host.socketfilters import FilterRead, FilterState
from doorhunt.host.sockets import PacketSocket, RawSocket
from doorhunt.i18n import Catalog
from doorhunt.sweep.allowlist import allowed_holder
from doorhunt.sweep.checks.provenance import MESSAGES as PROVENANCE
from doorhunt.sweep.checks.provenance import risky_location
from doorhunt.sweep.findings import ROOTKIT, SOCKET_FILTER, Finding

ETH_P_ALL, ETH_P_IP = 0x0003, 0x0800
WAITING = frozenset({"recvfrom", "recvmsg", "recvmmsg", "read"})

MESSAGES = Catalog(
    {
        "filter": {
            "en": "{kind} socket with a {filter_class} filter ({summary})",
            "ko": "{kind} 소켓에 {filter_class} 필터가 붙어 있음 ({summary})",
        },
        "filter_allowed": {
            "en": "expected for {tool} (package {package}), but the filter is {filter_class}",
            "ko": "{tool}(패키지 {package})에 예상되는 소켓이지만 필터가 {filter_class}임",
        },
        "filter_untrusted_holder": {
            "en": "{kind} socket with a {filter_class} filter held by an executable {where}",
            "ko": "{where} 실행 파일이 {filter_class} 필터가 붙은 {kind} 소켓을 가지고 있음",
        },
        "ebpf_filter": {
            "en": "{kind} socket with an eBPF socket filter attached (program not readable)",
            "ko": "{kind} 소켓에 eBPF 소켓 필터가 붙어 있음 (프로그램을 읽을 수 없음)",
        },
        "ebpf_program": {
            "en": "eBPF socket-filter program {id} ({name}) loaded by uid {uid}",
            "ko": "uid {uid}가 적재한 eBPF 소켓 필터 프로그램 {id} ({name})",
        },
        "sniffer": {
            "en": "unfiltered {kind} socket (sees all traffic) held by an executable {where}",
            "ko": "{where} 실행 파일이 필터 없는 {kind} 소켓(모든 트래픽 수신)을 가지고 있음",
        },
        "orphan": {
            "en": "{kind} socket {inode} held by no visible process (hidden process?)",
            "ko": "{kind} 소켓 {inode}를 가진 프로세스가 보이지 않음 (숨겨진 프로세스?)",
        },
        "waiting": {
            "en": "a thread is blocked in {syscall} on this packet socket",
            "ko": "스레드가 이 패킷 소켓에서 {syscall} 상태로 대기 중",
        },
        "unbound": {
            "en": "not bound to an interface and asks for {protocol}, as BPFDoor's socket",
            "ko": "BPFDoor 소켓처럼 인터페이스에 묶이지 않고 {protocol}을 요청함",
        },
    }
)


@functools.lru_cache(maxsize=1024)
def explain_bytes(program: bytes, link: Link) -> Explanation | None:
    """The explanation of a filter read from a socket (cached: one program, many sockets)."""
    try:
        return explain(from_bytes(program), link)
    except BpfProgramError:
        return None


def _kind(socket: PacketSocket | RawSocket) -> str:
    if isinstance(socket, PacketSocket):
        return f"AF_PACKET/{socket.type.upper()}"
    return f"{'AF_INET' if socket.family == 'inet' else 'AF_INET6'}/RAW proto {socket.protocol}"


def _link(socket: PacketSocket | RawSocket) -> Link:
    if isinstance(socket, PacketSocket) and socket.type == "raw":
        return Link.ETHERNET
    return Link.IP  # SOCK_DGRAM packet sockets and AF_INET raw sockets start at the IP header


def socket_evidence(
    socket: PacketSocket | RawSocket, holders: list[tuple[int, int | None]]
) -> dict[str, object]:
    evidence: dict[str, object] = {
        "netns": socket.netns,
        "inode": socket.inode,
        "socket": _kind(socket),
        "holders": [{"pid": pid, "fd": fd} for pid, fd in holders],
    }
    if isinstance(socket, PacketSocket):
        evidence |= {
            "protocol": f"{socket.protocol:#06x}",
            "ifindex": socket.ifindex,
            "interface": socket.interface,
            "source": socket.source,
        }
    else:
        evidence |= {"ip_protocol": socket.protocol}
    return evidence


def _holders(snapshot: HostSnapshot, inode: int) -> list[tuple[Process, int]]:
    return [
        (snapshot.processes[h.pid], h.fd)
        for h in snapshot.holders(inode)
        if h.pid in snapshot.processes
    ]


def _all_sockets(snapshot: HostSnapshot) -> Iterator[PacketSocket | RawSocket]:
    for group in snapshot.sockets:
        yield from group.packet
        yield from group.raw


def _filter_finding(
    snapshot: HostSnapshot, socket: PacketSocket | RawSocket, read: FilterRead
) -> Iterator[Finding]:
    assert read.program is not None
    link = _link(socket)
    result = explain_bytes(read.program, link)
    if result is None:
        return
    verdict = result.classification
    holders = _holders(snapshot, socket.inode)
    evidence = socket_evidence(socket, [(p.pid, fd) for p, fd in holders])
    evidence |= {
        "filter": result.to_json()["bytecode"],
        "class": verdict.filter_class.value,
        "filter_score": verdict.score,
        "summary": result.summary(),
        "magic": [m.to_json() for m in verdict.magic],
        "reasons": [reason.render() for reason in verdict.reasons],
    }
    bound = isinstance(socket, PacketSocket) and bool(socket.ifindex)
    unbound_ip = (
        isinstance(socket, PacketSocket)
        and not socket.ifindex
        and socket.protocol in (ETH_P_ALL, ETH_P_IP)
    )
    pairs: list[tuple[Process | None, int | None]] = list(holders) or [(None, None)]
    for process, fd in pairs:
        score = verdict.score
        title = MESSAGES(
            "filter",
            kind=_kind(socket),
            filter_class=verdict.filter_class.value,
            summary=Summary(result, 160),
        )
        detail = None
        location = risky_location(process) if process else None
        allowance = (
            allowed_holder(process, verdict.filter_class, bound, snapshot.packages)
            if process
            else None
        )
        if verdict.suspicious:
            if unbound_ip:
                score += 5
                detail = MESSAGES("unbound", protocol=f"{socket.protocol:#06x}")
            if location:
                score += 10
            if allowance:
                score = min(score, 45)
                detail = MESSAGES(
                    "filter_allowed",
                    tool=allowance.holder.tool,
                    package=allowance.package,
                    filter_class=verdict.filter_class.value,
                )
        elif location:
            # A benign-looking filter in an untrusted binary: a copy of dhclient in /tmp.
            score = 45
            title = MESSAGES(
                "filter_untrusted_holder",
                kind=_kind(socket),
                filter_class=verdict.filter_class.value,
                where=location,
            )
        else:
            continue
        yield Finding(
            "socket_filter",
            min(score, 100),
            title,
            detail,
            process,
            evidence | {"fd": fd},
            (SOCKET_FILTER,),
            "network",
            result,
        )
        waits = (
            [w for w in process.waits if w.fd == fd and w.syscall in WAITING]
            if (process and isinstance(process.waits, tuple))
            else []
        )
        if process and waits and verdict.suspicious:
            yield Finding(
                "wait_state",
                15,
                MESSAGES("waiting", syscall=waits[0].syscall),
                None,
                process,
                {"tid": waits[0].tid, "fd": fd, "inode": socket.inode},
                (SOCKET_FILTER,),
                "process",
            )


def check_socket_filters(snapshot: HostSnapshot) -> Iterator[Finding]:
    """Classic filters on packet and raw sockets, analysed as programs."""
    for socket in _all_sockets(snapshot):
        if socket.filter.state is FilterState.CLASSIC:
            yield from _filter_finding(snapshot, socket, socket.filter)


def check_ebpf_filters(snapshot: HostSnapshot) -> Iterator[Finding]:
    """eBPF socket filters: attached to a socket we can see, or loaded and held by a process."""
    for socket in _all_sockets(snapshot):
        if socket.filter.state is not FilterState.EBPF:
            continue
        pairs: list[tuple[Process | None, int | None]] = list(_holders(snapshot, socket.inode)) or [
            (None, None)
        ]
        for process, fd in pairs:
            score = 60 if process is None or risky_location(process) else 40
            yield Finding(
                "ebpf_socket_filter",
                score,
                MESSAGES("ebpf_filter", kind=_kind(socket)),
                None,
                process,
                socket_evidence(socket, [(process.pid, fd)] if process else []) | {"fd": fd},
                (SOCKET_FILTER,),
                "network",
            )
    for program in snapshot.ebpf_programs:
        if not program.socket_filter:
            continue
        holders = snapshot.ebpf_holders.get(program.id, [])
        for holder in holders:
            held_by = snapshot.processes.get(holder.pid)
            if held_by is None:
                continue
            location = risky_location(held_by)
            if not location and snapshot.packages.owner(held_by.executable):
                continue
            yield Finding(
                "ebpf_socket_filter",
                55 if location else 35,
                MESSAGES("ebpf_program", id=program.id, name=program.name or "-", uid=program.uid),
                None,
                held_by,
                {"program_id": program.id, "tag": program.tag, "fd": holder.fd},
                (SOCKET_FILTER,),
                "network",
            )


def check_unfiltered_sniffers(snapshot: HostSnapshot) -> Iterator[Finding]:
    """Sockets that see every packet, held by executables no package vouches for."""
    for socket in _all_sockets(snapshot):
        if socket.filter.state is not FilterState.NONE:
            continue
        for process, fd in _holders(snapshot, socket.inode):
            location = risky_location(process)
            if location is None:
                if snapshot.packages.owner(process.executable) or process.kernel_thread:
                    continue
                location = PROVENANCE("unowned")
                score = 40
            else:
                score = 65
            yield Finding(
                "unfiltered_sniffer",
                score,
                MESSAGES("sniffer", kind=_kind(socket), where=location),
                None,
                process,
                socket_evidence(socket, [(process.pid, fd)]) | {"fd": fd},
                (SOCKET_FILTER,),
                "network",
            )


def check_orphan_sockets(snapshot: HostSnapshot) -> Iterator[Finding]:
    """Packet and raw sockets that no visible process holds, after a second look."""
    for socket in _all_sockets(snapshot):
        if socket.inode in snapshot.orphan_sockets:
            yield Finding(
                "orphan_socket",
                75,
                MESSAGES("orphan", kind=_kind(socket), inode=socket.inode),
                None,
                None,
                socket_evidence(socket, []),
                (ROOTKIT, SOCKET_FILTER),
                "network",
            )


__all__ = [
    "check_ebpf_filters",
    "check_orphan_sockets",
    "check_socket_filters",
    "check_unfiltered_sniffers",
    "explain_bytes",
]
