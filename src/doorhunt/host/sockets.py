"""Sockets that matter for passive backdoors, in every network namespace: packet sockets with
their filters, AF_INET/AF_INET6 raw sockets, TCP listeners, and eBPF socket filters."""

from __future__ import annotations

import functools
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from doorhunt.host.netlink import NetlinkError, PacketDiag, dump_packet_sockets
from doorhunt.host.netns import NamespaceError, NetworkNamespace, run_inside
from doorhunt.host.socketfilters import FilterRead, FilterState

SOCKET_TYPES = {1: "stream", 2: "dgram", 3: "raw", 5: "seqpacket"}


@dataclass(frozen=True, slots=True)
class PacketSocket:
    netns: int
    inode: int
    type: str  # "raw" (sees the link header) or "dgram"
    protocol: int  # ethertype the socket asked for (0x0003 = ETH_P_ALL)
    ifindex: int | None  # 0 = every interface; None = unknown
    interface: str | None
    uid: int | None
    filter: FilterRead
    source: str  # "sock_diag" or "/proc/net/packet"


@dataclass(frozen=True, slots=True)
class RawSocket:
    """An AF_INET/AF_INET6 raw socket (/proc/net/raw{,6})."""

    netns: int
    inode: int
    family: str  # "inet" or "inet6"
    protocol: int  # IP protocol number (the "port" column of /proc/net/raw)
    uid: int | None
    filter: FilterRead  # filled in later through pidfd_getfd, when a holder is known


@dataclass(frozen=True, slots=True)
class Listener:
    netns: int
    inode: int
    family: str
    address: str
    port: int
    uid: int | None


@dataclass(slots=True)
class NamespaceSockets:
    namespace: NetworkNamespace
    packet: list[PacketSocket] = field(default_factory=list)
    raw: list[RawSocket] = field(default_factory=list)
    listeners: list[Listener] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)


_NOT_READ = FilterRead(FilterState.UNREADABLE, reason="not read yet")


def _diag_filter(diag: PacketDiag) -> FilterRead:
    if diag.filter_hidden:
        return FilterRead(
            FilterState.UNREADABLE, reason="sock_diag hides filters without CAP_NET_ADMIN"
        )
    if diag.filter is not None:
        return FilterRead(FilterState.CLASSIC, program=diag.filter)
    # No attribute: no filter, or an eBPF one (sock_diag reports only classic programs).
    return FilterRead(FilterState.NONE)


def parse_proc_packet(text: str, netns: int) -> list[PacketSocket]:
    """/proc/net/packet: `sk RefCnt Type Proto Iface R Rmem User Inode` (no filters)."""
    sockets = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 9:
            continue
        try:
            kind, protocol, ifindex = int(fields[2]), int(fields[3], 16), int(fields[4])
            uid, inode = int(fields[7]), int(fields[8])
        except ValueError:
            continue
        sockets.append(
            PacketSocket(
                netns,
                inode,
                SOCKET_TYPES.get(kind, str(kind)),
                protocol,
                ifindex,
                None,
                uid,
                FilterRead(FilterState.UNREADABLE, reason="sock_diag unavailable; read via pidfd"),
                "/proc/net/packet",
            )
        )
    return sockets


def _address(hex_address: str, family: str) -> str:
    raw = bytes.fromhex(hex_address)
    # /proc/net/tcp prints the address as host-order 32-bit words.
    words = [raw[i : i + 4][::-1] for i in range(0, len(raw), 4)]
    packed = b"".join(words)
    try:
        return socket.inet_ntop(socket.AF_INET if family == "inet" else socket.AF_INET6, packed)
    except (ValueError, OSError):
        return hex_address


def _inet_rows(text: str) -> Iterator[tuple[str, int, str, int, int]]:
    """Rows of /proc/net/{raw,tcp}{,6}: `sl local rem st ... uid timeout inode`, as
    (local address, port, state, uid, inode). The inode is field 10: BPFDOOR.md §6 notes
    scripts that read the wrong column."""
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or ":" not in fields[1]:
            continue
        try:
            address, port_hex = fields[1].rsplit(":", 1)
            yield address, int(port_hex, 16), fields[3], int(fields[7]), int(fields[9])
        except ValueError:
            continue


def parse_proc_raw(text: str, netns: int, family: str) -> list[RawSocket]:
    """/proc/net/raw{,6}; for raw sockets the "port" is the IP protocol number."""
    return [
        RawSocket(netns, inode, family, port, uid, _NOT_READ)
        for _, port, _, uid, inode in _inet_rows(text)
    ]


def parse_proc_listeners(text: str, netns: int, family: str) -> list[Listener]:
    """/proc/net/tcp{,6} rows in state 0A (TCP_LISTEN)."""
    return [
        Listener(netns, inode, family, _address(address, family), port, uid)
        for address, port, state, uid, inode in _inet_rows(text)
        if state == "0A"
    ]


def _read_text(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(16 * 1024 * 1024).decode("ascii", "replace")
    except OSError:
        return None


def _collect_inside(namespace: NetworkNamespace) -> NamespaceSockets:
    """Runs inside the namespace: /proc/thread-self/net shows the thread's namespace."""
    result = NamespaceSockets(namespace)
    inode = namespace.inode
    try:
        interfaces = dict(socket.if_nameindex())
    except OSError:
        interfaces = {}
    try:
        for diag in dump_packet_sockets():
            result.packet.append(
                PacketSocket(
                    inode,
                    diag.inode,
                    SOCKET_TYPES.get(diag.type, str(diag.type)),
                    diag.protocol,
                    diag.ifindex,
                    interfaces.get(diag.ifindex or 0),
                    diag.uid,
                    _diag_filter(diag),
                    "sock_diag",
                )
            )
        if any(s.filter.state is FilterState.UNREADABLE for s in result.packet):
            result.gaps.append("filters on packet sockets are hidden without CAP_NET_ADMIN")
    except NetlinkError as error:
        result.gaps.append(f"{error}; using /proc/net/packet")
        text = _read_text("/proc/thread-self/net/packet")
        if text is None:
            result.gaps.append("/proc/net/packet is unreadable")
        else:
            result.packet = [
                PacketSocket(
                    s.netns,
                    s.inode,
                    s.type,
                    s.protocol,
                    s.ifindex,
                    interfaces.get(s.ifindex or 0),
                    s.uid,
                    s.filter,
                    s.source,
                )
                for s in parse_proc_packet(text, inode)
            ]
    for name, family in (("raw", "inet"), ("raw6", "inet6")):
        text = _read_text(f"/proc/thread-self/net/{name}")
        if text is not None:
            result.raw += parse_proc_raw(text, inode, family)
    for name, family in (("tcp", "inet"), ("tcp6", "inet6")):
        text = _read_text(f"/proc/thread-self/net/{name}")
        if text is not None:
            result.listeners += parse_proc_listeners(text, inode, family)
    return result


def collect(namespaces: Iterable[NetworkNamespace]) -> list[NamespaceSockets]:
    """The sockets of every namespace; a namespace that cannot be entered is a gap."""
    results = []
    for namespace in namespaces:
        try:
            results.append(run_inside(namespace, functools.partial(_collect_inside, namespace)))
        except (NamespaceError, OSError) as error:
            gap = NamespaceSockets(namespace)
            gap.gaps.append(f"network namespace {namespace.inode}: {error}")
            results.append(gap)
    return results


__all__ = [
    "Listener",
    "NamespaceSockets",
    "PacketSocket",
    "RawSocket",
    "collect",
    "parse_proc_listeners",
    "parse_proc_packet",
    "parse_proc_raw",
]
