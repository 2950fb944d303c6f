"""Reading and writing classic pcap files (the format `tcpdump -w` writes), for `bpf run`.

Layout: a 24-byte global header (magic 0xa1b2c3d4 for microseconds or 0xa1b23c4d for
nanoseconds, in the writer's byte order; version; snaplen; link type), then records of a 16-byte
header (seconds, fraction, captured length, original length) and the captured bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from doorhunt.bpf.interpreter import Link
from doorhunt.errors import InputError

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKS = {
    LINKTYPE_ETHERNET: Link.ETHERNET,
    LINKTYPE_RAW: Link.IP,
    LINKTYPE_IPV4: Link.IP,
    LINKTYPE_IPV6: Link.IP,
}
MAX_RECORD = 262_144  # libpcap's MAXIMUM_SNAPLEN

_MAGICS = {
    b"\xd4\xc3\xb2\xa1": "<",
    b"\xa1\xb2\xc3\xd4": ">",
    b"\x4d\x3c\xb2\xa1": "<",
    b"\xa1\xb2\x3c\x4d": ">",
}


class PcapError(InputError):
    """A file that is not a classic pcap capture, or is damaged."""


@dataclass(frozen=True, slots=True)
class Capture:
    link: Link
    linktype: int
    packets: Iterator[bytes]


def read_pcap(stream: BinaryIO) -> Capture:
    """Open a capture; packets are read lazily, and a truncated last record ends the stream
    with a PcapError naming its byte offset (the packets before it have been yielded)."""
    header = stream.read(24)
    if len(header) < 24:
        raise PcapError(
            f"expected a 24-byte pcap header, got {len(header)} bytes", location="byte 0"
        )
    order = _MAGICS.get(header[:4])
    if order is None:
        if header[:4] == b"\x0a\x0d\x0d\x0a":
            raise PcapError(
                "this is pcapng; convert it with `tcpdump -r IN -w OUT.pcap`", location="byte 0"
            )
        raise PcapError(f"not a pcap file (magic {header[:4].hex()})", location="byte 0")
    linktype = struct.unpack(order + "I", header[20:24])[0] & 0x0FFFFFFF
    link = LINKS.get(linktype)
    if link is None:
        raise PcapError(
            f"link type {linktype} is not supported (Ethernet or raw IP only)", location="byte 20"
        )
    return Capture(link, linktype, _records(stream, order))


def _records(stream: BinaryIO, order: str) -> Iterator[bytes]:
    record = struct.Struct(order + "IIII")
    offset = 24
    while True:
        header = stream.read(16)
        if not header:
            return
        if len(header) < 16:
            raise PcapError("truncated record header", location=f"byte {offset}")
        _, _, captured, _ = record.unpack(header)
        if captured > MAX_RECORD:
            raise PcapError(
                f"record of {captured} bytes is larger than any capture allows",
                location=f"byte {offset}",
            )
        data = stream.read(captured)
        if len(data) < captured:
            raise PcapError(
                f"truncated record: {len(data)} of {captured} bytes", location=f"byte {offset}"
            )
        offset += 16 + captured
        yield data


def write_pcap(stream: BinaryIO, packets: Iterable[bytes], link: Link) -> int:
    """Write packets with zero timestamps; returns how many were written."""
    linktype = LINKTYPE_ETHERNET if link is Link.ETHERNET else LINKTYPE_RAW
    stream.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, MAX_RECORD, linktype))
    count = 0
    for packet in packets:
        stream.write(struct.pack("<IIII", 0, 0, len(packet), len(packet)))
        stream.write(packet)
        count += 1
    return count


__all__ = ["Capture", "PcapError", "read_pcap", "write_pcap"]
