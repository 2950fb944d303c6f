"""sock_diag over netlink, in Python: the packet sockets of the caller's network namespace,
with their classic filters (what `ss -0 -b` asks the kernel, BPFDOOR.md §4).

Kernel facts relied on (net/packet/diag.c, net/core/sock_diag.c):
  * SOCK_DIAG_BY_FAMILY with sdiag_family = AF_PACKET and PACKET_SHOW_FILTER returns
    PACKET_DIAG_FILTER holding the original sock_filter array;
  * without CAP_NET_ADMIN the attribute is present but empty (sock_diag_put_filterinfo), so an
    empty attribute means "not allowed to see", not "no filter";
  * a filter attached as eBPF (SO_ATTACH_BPF) has no original program and no attribute;
  * the dump covers only the caller's network namespace.
"""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from doorhunt.errors import DoorhuntError

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
PACKET_SHOW_INFO = 0x1
PACKET_SHOW_FILTER = 0x20
PACKET_DIAG_INFO = 0
PACKET_DIAG_UID = 5
PACKET_DIAG_FILTER = 7

_HEADER = struct.Struct("=IHHII")  # struct nlmsghdr
_REQUEST = struct.Struct("=BBHII2I")  # struct packet_diag_req
_MESSAGE = struct.Struct("=BBHI2I")  # struct packet_diag_msg
_ATTRIBUTE = struct.Struct("=HH")  # struct rtattr / nlattr
_INFO = struct.Struct("=IIIIII")  # struct packet_diag_info


class NetlinkError(DoorhuntError):
    """The kernel refused or garbled a sock_diag dump."""


@dataclass(frozen=True, slots=True)
class PacketDiag:
    """One packet socket as sock_diag reports it."""

    inode: int
    type: int  # SOCK_RAW (3) or SOCK_DGRAM (2)
    protocol: int  # ethertype, host order (pdiag_num = ntohs(po->num))
    ifindex: int | None  # 0 = every interface
    uid: int | None
    filter: bytes | None  # the sock_filter array; None = no classic filter attribute
    filter_hidden: bool  # attribute present but empty: the caller lacks CAP_NET_ADMIN


def _attributes(data: bytes, offset: int) -> Iterator[tuple[int, bytes]]:
    while offset + 4 <= len(data):
        length, kind = _ATTRIBUTE.unpack_from(data, offset)
        if length < 4 or offset + length > len(data):
            return
        yield kind & 0x3FFF, data[offset + 4 : offset + length]
        offset += (length + 3) & ~3


def parse_packet_diag(payload: bytes) -> PacketDiag | None:
    """One SOCK_DIAG_BY_FAMILY reply payload (after the nlmsghdr)."""
    if len(payload) < _MESSAGE.size:
        return None
    _family, kind, protocol, inode, _, _ = _MESSAGE.unpack_from(payload)
    ifindex = uid = None
    program: bytes | None = None
    hidden = False
    for attribute, value in _attributes(payload, _MESSAGE.size):
        if attribute == PACKET_DIAG_INFO and len(value) >= _INFO.size:
            ifindex = _INFO.unpack_from(value)[0]
        elif attribute == PACKET_DIAG_UID and len(value) >= 4:
            uid = struct.unpack_from("=I", value)[0]
        elif attribute == PACKET_DIAG_FILTER:
            if value:
                program = value
            else:
                hidden = True
    return PacketDiag(inode, kind, protocol, ifindex, uid, program, hidden)


def parse_dump(replies: list[bytes], sequence: int) -> list[PacketDiag]:
    """The sockets in a sequence of netlink datagrams answering request `sequence`."""
    sockets: list[PacketDiag] = []
    for datagram in replies:
        offset = 0
        while offset + _HEADER.size <= len(datagram):
            length, kind, _flags, seq, _pid = _HEADER.unpack_from(datagram, offset)
            if length < _HEADER.size or offset + length > len(datagram):
                raise NetlinkError("sock_diag: truncated netlink message")
            payload = datagram[offset + _HEADER.size : offset + length]
            offset += (length + 3) & ~3
            if seq != sequence:
                continue
            if kind == NLMSG_DONE:
                return sockets
            if kind == NLMSG_ERROR:
                code = -struct.unpack_from("=i", payload)[0] if len(payload) >= 4 else 0
                raise NetlinkError(f"sock_diag refused the dump: {os.strerror(code)}")
            if kind == SOCK_DIAG_BY_FAMILY:
                record = parse_packet_diag(payload)
                if record is not None:
                    sockets.append(record)
    raise NetlinkError("sock_diag: the dump ended without NLMSG_DONE")


def dump_packet_sockets(timeout: float = 5.0) -> list[PacketDiag]:
    """Every packet socket of the calling thread's network namespace."""
    sequence = 0x646F6F72  # "door"
    request = _REQUEST.pack(
        socket.AF_PACKET, 0, 0, 0, PACKET_SHOW_INFO | PACKET_SHOW_FILTER, 0xFFFFFFFF, 0xFFFFFFFF
    )
    header = _HEADER.pack(
        _HEADER.size + len(request), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, sequence, 0
    )
    try:
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG) as channel:
            channel.settimeout(timeout)
            channel.send(header + request)
            replies: list[bytes] = []
            while True:
                datagram = channel.recv(1 << 20)
                replies.append(datagram)
                if _finished(datagram, sequence):
                    break
    except OSError as error:
        raise NetlinkError(f"sock_diag: {error.strerror or error}") from None
    return parse_dump(replies, sequence)


def _finished(datagram: bytes, sequence: int) -> bool:
    offset = 0
    while offset + _HEADER.size <= len(datagram):
        length, kind, _, seq, _ = _HEADER.unpack_from(datagram, offset)
        if seq == sequence and kind in (NLMSG_DONE, NLMSG_ERROR):
            return True
        if length < _HEADER.size:
            return True
        offset += (length + 3) & ~3
    return False


__all__ = ["NetlinkError", "PacketDiag", "dump_packet_sockets", "parse_dump", "parse_packet_diag"]
