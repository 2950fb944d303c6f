"""The kernel's route to each target, asked over rtnetlink (RTM_GETROUTE) in Python.

The scanner writes its own IPv4 header, so it needs the source address the kernel would use
for each target; the same address goes into the probe as the ping-back address. It comes from
the kernel's routing decision for that destination (what `ip route get ADDRESS` prints), never
from the hostname. The answer also says what the destination is: a directed broadcast of an
attached network is RTN_BROADCAST, which the scanner refuses.

Kernel facts relied on (net/ipv4/route.c inet_rtm_getroute, net/netlink/af_netlink.c
netlink_rcv_skb): without RTA_IIF the request is an output route lookup, as a socket sending to
the address would make; the reply is RTM_NEWROUTE with RTA_PREFSRC (the source address),
RTA_OIF and RTA_GATEWAY, or NLMSG_ERROR with -errno (ENETUNREACH: no route; EINVAL: a
blackhole route; EHOSTUNREACH / EACCES: unreachable and prohibit routes). One send may carry
many requests: the kernel handles each message in the buffer in turn.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from doorhunt.errors import DoorhuntError

NETLINK_ROUTE = 0
RTM_NEWROUTE = 24
RTM_GETROUTE = 26
NLM_F_REQUEST = 0x1
NLMSG_ERROR = 2
NLMSG_DONE = 3
RTA_DST = 1
RTA_OIF = 4
RTA_GATEWAY = 5
RTA_PREFSRC = 7
SO_RCVBUFFORCE = 33

# rtm_type values (include/uapi/linux/rtnetlink.h).
RTN_UNICAST = 1
RTN_LOCAL = 2
RTN_BROADCAST = 3
RTN_ANYCAST = 4
RTN_MULTICAST = 5
RTN_BLACKHOLE = 6
RTN_UNREACHABLE = 7
RTN_PROHIBIT = 8
ROUTE_TYPES = {
    RTN_UNICAST: "unicast",
    RTN_LOCAL: "local",
    RTN_BROADCAST: "broadcast",
    RTN_ANYCAST: "anycast",
    RTN_MULTICAST: "multicast",
    RTN_BLACKHOLE: "blackhole",
    RTN_UNREACHABLE: "unreachable",
    RTN_PROHIBIT: "prohibit",
}
# Only these are ever sent to; the rest are refused per target.
SENDABLE = frozenset({RTN_UNICAST, RTN_LOCAL})

BATCH = 64

_HEADER = struct.Struct("=IHHII")  # struct nlmsghdr
_RTMSG = struct.Struct("=BBBBBBBBI")  # struct rtmsg
_ATTRIBUTE = struct.Struct("=HH")  # struct rtattr
_ADDRESS = struct.Struct("!I")


class RouteError(DoorhuntError):
    """rtnetlink could not be asked, or answered something unreadable."""


@dataclass(frozen=True, slots=True)
class Route:
    """The kernel's routing decision for one destination."""

    destination: int
    source: int | None  # RTA_PREFSRC; None when the kernel gave none
    kind: int  # rtm_type
    interface: int | None  # RTA_OIF
    gateway: int | None  # RTA_GATEWAY

    @property
    def sendable(self) -> bool:
        return self.kind in SENDABLE and self.source is not None

    @property
    def kind_name(self) -> str:
        return ROUTE_TYPES.get(self.kind, f"type {self.kind}")


@dataclass(frozen=True, slots=True)
class NoRoute:
    """The kernel refused to route to the destination (an errno from NLMSG_ERROR)."""

    destination: int
    error: int

    @property
    def reason(self) -> str:
        if self.error == errno.EINVAL:
            return "blackhole route"
        return os.strerror(self.error).lower()


def request(sequence: int, destination: int) -> bytes:
    """One RTM_GETROUTE message for `destination` (an output lookup, as a sender's)."""
    attribute = _ATTRIBUTE.pack(8, RTA_DST) + _ADDRESS.pack(destination)
    body = _RTMSG.pack(socket.AF_INET, 32, 0, 0, 0, 0, 0, 0, 0) + attribute
    return _HEADER.pack(_HEADER.size + len(body), RTM_GETROUTE, NLM_F_REQUEST, sequence, 0) + body


_U32 = struct.Struct("=I")
_ROUTE_ATTRIBUTES = frozenset({RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PREFSRC})


def parse_messages(datagram: bytes | memoryview) -> list[tuple[int, Route | NoRoute | None]]:
    """(sequence, answer) for each rtnetlink message in a datagram; the answer is None for a
    message that is neither a route nor an error. Raises RouteError on a garbled header."""
    answers: list[tuple[int, Route | NoRoute | None]] = []
    offset = 0
    size = len(datagram)
    while offset + _HEADER.size <= size:
        length, kind, _flags, sequence, _pid = _HEADER.unpack_from(datagram, offset)
        if length < _HEADER.size or offset + length > size:
            raise RouteError("rtnetlink: truncated message")
        body = offset + _HEADER.size
        if kind == NLMSG_ERROR and length - _HEADER.size >= 4:
            code = -struct.unpack_from("=i", datagram, body)[0]
            answers.append((sequence, NoRoute(0, code) if code > 0 else None))
        elif kind == RTM_NEWROUTE:
            answers.append((sequence, _route(datagram, body, offset + length)))
        else:
            answers.append((sequence, None))
        offset += (length + 3) & ~3
    return answers


def parse_route(payload: bytes) -> Route | None:
    """An RTM_NEWROUTE payload (after the nlmsghdr)."""
    return _route(payload, 0, len(payload))


def _route(data: bytes | memoryview, start: int, end: int) -> Route | None:
    if end - start < _RTMSG.size or data[start] != socket.AF_INET:
        return None
    kind = data[start + 7]  # rtm_type
    values = {RTA_DST: 0, RTA_OIF: None, RTA_GATEWAY: None, RTA_PREFSRC: None}
    offset = start + _RTMSG.size
    while offset + 4 <= end:
        length, attribute = _ATTRIBUTE.unpack_from(data, offset)
        if length < 4 or offset + length > end:
            break
        attribute &= 0x3FFF
        if length == 8 and attribute in _ROUTE_ATTRIBUTES:
            layout = _U32 if attribute == RTA_OIF else _ADDRESS
            values[attribute] = layout.unpack_from(data, offset + 4)[0]
        offset += (length + 3) & ~3
    destination = values[RTA_DST]
    return Route(
        destination if destination is not None else 0,
        values[RTA_PREFSRC],
        kind,
        values[RTA_OIF],
        values[RTA_GATEWAY],
    )


class RouteResolver:
    """Asks the kernel of the calling thread's network namespace, many destinations a send."""

    def __init__(self, timeout: float = 5.0) -> None:
        try:
            self._socket = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        except OSError as error:
            raise RouteError(f"rtnetlink: {error.strerror or error}") from None
        try:
            self._socket.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 1 << 20)
        except OSError:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self._socket.settimeout(timeout)
        self._socket.bind((0, 0))
        self._sequence = 1
        self._buffer = bytearray(1 << 16)
        self._view = memoryview(self._buffer)

    def resolve(self, destinations: Sequence[int]) -> list[Route | NoRoute]:
        """The route to each destination, in order."""
        answers: list[Route | NoRoute] = []
        for start in range(0, len(destinations), BATCH):
            answers += self._batch(destinations[start : start + BATCH])
        return answers

    def _batch(self, destinations: Sequence[int]) -> list[Route | NoRoute]:
        first = self._sequence
        self._sequence = (self._sequence + len(destinations)) & 0x7FFFFFFF or 1
        waiting = {first + index: index for index in range(len(destinations))}
        answers: list[Route | NoRoute | None] = [None] * len(destinations)
        try:
            self._socket.send(
                b"".join(
                    request(first + index, destination)
                    for index, destination in enumerate(destinations)
                )
            )
            while waiting:
                size = self._socket.recv_into(self._buffer)
                for sequence, answer in parse_messages(self._view[:size]):
                    index = waiting.pop(sequence, None)
                    if index is None:
                        continue
                    destination = destinations[index]
                    if isinstance(answer, NoRoute):
                        answers[index] = NoRoute(destination, answer.error)
                    elif answer is None:
                        answers[index] = NoRoute(destination, errno.EPROTO)
                    else:
                        answers[index] = Route(
                            destination,
                            answer.source,
                            answer.kind,
                            answer.interface,
                            answer.gateway,
                        )
        except OSError as error:
            raise RouteError(f"rtnetlink route lookup: {error.strerror or error}") from None
        return [answer for answer in answers if answer is not None]

    def close(self) -> None:
        self._socket.close()


__all__ = [
    "SENDABLE",
    "NoRoute",
    "Route",
    "RouteError",
    "RouteResolver",
    "parse_messages",
    "parse_route",
    "request",
]
