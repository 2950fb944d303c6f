"""Building and finishing test packets: Ethernet, IPv4/IPv6, UDP/TCP/ICMP/SCTP headers.

Probe packets use documentation addresses (RFC 5737 192.0.2.0/24, RFC 3849 2001:db8::/32);
the scanner replaces them with real ones when it sends.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from doorhunt.bpf.interpreter import Link

SOURCE_MAC = bytes.fromhex("020000000001")
DESTINATION_MAC = bytes.fromhex("020000000002")
SOURCE_IPV4 = bytes([192, 0, 2, 1])
DESTINATION_IPV4 = bytes([192, 0, 2, 2])
SOURCE_IPV6 = bytes.fromhex("20010db8000000000000000000000001")
DESTINATION_IPV6 = bytes.fromhex("20010db8000000000000000000000002")

ETHERTYPE_BY_NETWORK = {
    "ipv4": 0x0800,
    "ipv6": 0x86DD,
    "arp": 0x0806,
    "rarp": 0x8035,
    "eapol": 0x888E,
    "lldp": 0x88CC,
}
PROTOCOL_NUMBERS = {"icmp": 1, "tcp": 6, "udp": 17, "icmpv6": 58, "sctp": 132}


def internet_checksum(data: bytes) -> int:
    """RFC 1071 one's-complement sum."""
    if len(data) % 2:
        data += b"\x00"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _crc32c(data: bytes) -> int:
    """CRC32c (Castagnoli), the SCTP checksum (RFC 9260 appendix A)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def transport_header(transport: str | None) -> bytes:
    if transport == "udp":
        return struct.pack("!HHHH", 40000, 40001, 8, 0)
    if transport == "tcp":
        return struct.pack("!HHIIBBHHH", 40000, 40001, 1, 0, 5 << 4, 0x18, 0xFFFF, 0, 0)
    if transport in ("icmp", "icmpv6"):
        echo_request = 8 if transport == "icmp" else 128
        return struct.pack("!BBHHH", echo_request, 0, 0, 0x1234, 1)
    if transport == "sctp":
        return struct.pack("!HHII", 40000, 40001, 0, 0)
    return b""


def template(
    link: Link, network: str, transport: str | None, ethertype: int | None = None
) -> bytes:
    """A well-formed packet of the given protocols with an empty payload."""
    if network == "ipv4":
        body = transport_header(transport)
        protocol = PROTOCOL_NUMBERS.get(transport or "", 0)
        if transport and transport.startswith("ip proto "):
            protocol = int(transport.split()[-1])
        header = struct.pack(
            "!BBHHHBBH4s4s",
            0x45,
            0,
            20 + len(body),
            0,
            0x4000,
            64,
            protocol,
            0,
            SOURCE_IPV4,
            DESTINATION_IPV4,
        )
        network_bytes = header + body
    elif network == "ipv6":
        body = transport_header(transport)
        next_header = PROTOCOL_NUMBERS.get(transport or "", 59)
        network_bytes = (
            struct.pack(
                "!IHBB16s16s", 6 << 28, len(body), next_header, 64, SOURCE_IPV6, DESTINATION_IPV6
            )
            + body
        )
    elif network in ("arp", "rarp"):
        network_bytes = struct.pack(
            "!HHBBH6s4s6s4s",
            1,
            0x0800,
            6,
            4,
            1,
            SOURCE_MAC,
            SOURCE_IPV4,
            b"\x00" * 6,
            DESTINATION_IPV4,
        )
    else:
        network_bytes = b""
    if link is Link.IP:
        return network_bytes
    if ethertype is None:
        ethertype = ETHERTYPE_BY_NETWORK.get(network, 0x0800)
    return DESTINATION_MAC + SOURCE_MAC + struct.pack("!H", ethertype) + network_bytes


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the headers of a concrete packet are, read from the packet itself."""

    network: int
    version: int
    transport: int | None
    protocol: int | None


def layout(frame: bytes, link: Link) -> Layout | None:
    net = link.network_offset
    if link is Link.ETHERNET and (
        len(frame) < 14 or frame[12:14] not in (b"\x08\x00", b"\x86\xdd")
    ):
        return None
    if len(frame) <= net:
        return None
    version = frame[net] >> 4
    if version == 4 and len(frame) >= net + 20:
        return Layout(net, 4, net + (frame[net] & 0x0F) * 4, frame[net + 9])
    if version == 6 and len(frame) >= net + 40:
        return Layout(net, 6, net + 40, frame[net + 6])
    return None


def grow_to_claimed_length(frame: bytes, link: Link, limit: int = 9000) -> bytes:
    """Pad the payload so the packet is as long as its IP header says (when a filter wants a
    length field above the bytes it needed), up to `limit` bytes."""
    shape = layout(frame, link)
    if shape is None:
        return frame
    if shape.version == 4:
        claimed = (
            shape.network + struct.unpack("!H", frame[shape.network + 2 : shape.network + 4])[0]
        )
    else:
        claimed = (
            shape.network
            + 40
            + struct.unpack("!H", frame[shape.network + 4 : shape.network + 6])[0]
        )
    if len(frame) < claimed <= limit:
        return frame + bytes(claimed - len(frame))
    return frame


def finish(frame: bytes, link: Link, *, lengths: bool = True, checksums: bool = True) -> bytes:
    """Set length fields to the packet's size and compute checksums, as a sender's stack would."""
    shape = layout(frame, link)
    if shape is None:
        return frame
    data = bytearray(frame)
    net, transport = shape.network, shape.transport
    if shape.version == 4:
        if lengths:
            struct.pack_into("!H", data, net + 2, min(len(data) - net, 0xFFFF))
        header_end = transport if transport is not None else net + 20
        if checksums and header_end <= len(data) and header_end - net >= 20:
            struct.pack_into("!H", data, net + 10, 0)
            struct.pack_into("!H", data, net + 10, internet_checksum(bytes(data[net:header_end])))
        pseudo_addresses = bytes(data[net + 12 : net + 20])
    else:
        if lengths:
            struct.pack_into("!H", data, net + 4, min(len(data) - net - 40, 0xFFFF))
        pseudo_addresses = bytes(data[net + 8 : net + 40])
    if transport is None or transport > len(data):
        return bytes(data)
    segment_length = len(data) - transport
    protocol = shape.protocol
    offsets = {17: 6, 6: 16, 1: 2, 58: 2}
    if lengths and protocol == 17 and segment_length >= 6:
        struct.pack_into("!H", data, transport + 4, min(segment_length, 0xFFFF))
    if not checksums or protocol not in (*offsets, 132):
        return bytes(data)
    if protocol == 132:
        if segment_length >= 12:
            struct.pack_into("<I", data, transport + 8, 0)
            struct.pack_into("<I", data, transport + 8, _crc32c(bytes(data[transport:])))
        return bytes(data)
    place = transport + offsets[protocol]
    if place + 2 > len(data):
        return bytes(data)
    struct.pack_into("!H", data, place, 0)
    segment = bytes(data[transport:])
    if protocol == 1:
        value = internet_checksum(segment)
    else:
        if shape.version == 4:
            pseudo = pseudo_addresses + struct.pack("!BBH", 0, protocol, segment_length & 0xFFFF)
        else:
            pseudo = pseudo_addresses + struct.pack("!IxxxB", segment_length, protocol)
        value = internet_checksum(pseudo + segment)
        if protocol == 17 and value == 0:
            value = 0xFFFF  # RFC 768: a computed zero is sent as all ones
    struct.pack_into("!H", data, place, value)
    return bytes(data)


__all__ = ["finish", "grow_to_claimed_length", "internet_checksum", "layout", "template"]
