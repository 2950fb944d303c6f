"""Reading what arrives at the listener: IPv4 UDP datagrams, whole, as a raw socket gets them.

A ping-back is one UDP datagram whose payload is `1` (BPFDOOR.md §1 step 7, §2), sent to the
ip and port the probe carried. Anything else that reaches the listener (other payloads, truncated
headers, fragments) is junk: counted and dropped, never a result.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

PINGBACK = b"1"

_IP = struct.Struct("!BBHHHBBH4s4s")
_UDP = struct.Struct("!HHHH")
_ADDRESS = struct.Struct("!I")


@dataclass(frozen=True, slots=True)
class Datagram:
    """A well-formed UDP datagram: addresses as integers, ports, payload."""

    source: int
    destination: int
    source_port: int
    port: int
    payload: bytes

    @property
    def pingback(self) -> bool:
        return self.payload == PINGBACK


def parse_datagram(packet: bytes) -> Datagram | None:
    """The UDP datagram in an IPv4 packet (from the IP header), or None for anything that is
    not one whole, unfragmented UDP datagram."""
    if len(packet) < 28:
        return None
    version_ihl, _tos, total, _ident, fragment, _ttl, protocol, _check, source, destination = (
        _IP.unpack_from(packet)
    )
    header = (version_ihl & 0x0F) * 4
    if version_ihl >> 4 != 4 or header < 20 or protocol != 17:
        return None
    if fragment & 0x3FFF:  # more fragments, or not the first: no whole datagram here
        return None
    if total < header + 8 or total > len(packet):
        return None
    source_port, port, length, _checksum = _UDP.unpack_from(packet, header)
    if length < 8 or header + length > total:
        return None
    segment = packet[header : header + length]
    # The UDP checksum is not checked: over veth and with checksum offload the kernel hands
    # raw sockets datagrams whose checksum the sender's stack never finished
    # (CHECKSUM_PARTIAL, Documentation/networking/checksum-offloads.rst).
    return Datagram(
        _ADDRESS.unpack(source)[0],
        _ADDRESS.unpack(destination)[0],
        source_port,
        port,
        bytes(segment[8:]),
    )


__all__ = ["PINGBACK", "Datagram", "parse_datagram"]
