"""What the scanner sends: magic packets for each trigger shape of BPFDOOR.md §2.

A probe kind is one (protocol, magic) to try on every target. Built-in kinds carry the
ping-back payload `u32 flag | u32 ip | u16 port` (no password, so an implant answers with a
UDP "1", §1 step 7) in a UDP datagram, an ICMP echo request or a raw TCP segment; a magic of 2
bytes fills the first 2 bytes of the flag, a 4-byte magic (0x39393939) all 4. Kinds from a
filter (`--from-filter`) are the packets `doorhunt bpf probe` synthesizes for it.

Each kind is a packet template: an IPv4 packet with zeroed addresses, reply fields and
transport checksum. Rendering it for a target writes those in and finishes the checksum
incrementally from a precomputed sum (RFC 1071 §2, RFC 1624), so a probe costs a few
microseconds; the IP header checksum and length are filled in by the kernel for IP_HDRINCL
sockets (raw(7)).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from doorhunt.bpf.explain import Explanation, explain
from doorhunt.bpf.interpreter import Link
from doorhunt.bpf.jit import compile_filter
from doorhunt.bpf.magic import KNOWN_MAGICS
from doorhunt.bpf.packets import finish, internet_checksum
from doorhunt.bpf.probe import Probe, ProbeFailure
from doorhunt.bpf.program import Program
from doorhunt.errors import InputError
from doorhunt.i18n import Catalog, Message

PROTOCOLS = ("udp", "icmp", "tcp")
PROTOCOL_NUMBERS = {"icmp": 1, "tcp": 6, "udp": 17}
TCP_CONNECT = "tcp-connect"
# The classic implant's pairing (BPFDOOR.md §2): 0x7255 on UDP and ICMP, 0x5293 on TCP.
CLASSIC = (("udp", b"\x72\x55"), ("icmp", b"\x72\x55"), ("tcp", b"\x52\x93"))
REPLY_FIELDS = slice(4, 10)  # u32 ip | u16 port after the u32 flag (§2)
PAYLOAD_LENGTH = 10  # flag, ip, port; no password
TCP_PSH_ACK = 0x18
ICMP_ECHO_REQUEST = 8

MESSAGES = Catalog(
    {
        "filter_failed": {
            "en": "filter path {path}: no probe packet ({reason})",
            "ko": "필터 경로 {path}: 탐지 패킷을 만들지 못함 ({reason})",
        },
        "filter_not_ipv4": {
            "en": "filter path {path}: {network} packets cannot be sent across networks; skipped",
            "ko": "필터 경로 {path}: {network} 패킷은 네트워크 너머로 보낼 수 없어 건너뜀",
        },
        "filter_fixed_reply": {
            "en": "filter path {path}: the filter fixes payload bytes 4..9, where the "
            "ping-back address goes; sent as synthesized, so a ping-back cannot be matched",
            "ko": "필터 경로 {path}: 필터가 응답 주소 자리(페이로드 4..9 바이트)를 고정함; "
            "합성한 그대로 보내므로 응답을 대응시킬 수 없음",
        },
        "filter_no_layout": {
            "en": "filter path {path}: no flag compared at payload byte 0 (the magic-packet "
            "layout); sent as synthesized, so a ping-back cannot be matched",
            "ko": "필터 경로 {path}: 페이로드 0번 바이트의 플래그를 비교하지 않음(매직 패킷 "
            "구조 아님); 합성한 그대로 보내므로 응답을 대응시킬 수 없음",
        },
        "filter_addresses": {
            "en": "filter path {path}: the filter tests IP addresses; its probe goes only to "
            "targets it accepts",
            "ko": "필터 경로 {path}: 필터가 IP 주소를 검사함; 필터가 받아들이는 대상에만 보냄",
        },
        "filter_protocol": {
            "en": "filter path {path}: {protocol} was not asked for (--protocols); skipped",
            "ko": "필터 경로 {path}: {protocol}은(는) --protocols에 없어 건너뜀",
        },
        "filter_note": {
            "en": "filter path {path}: {note}",
            "ko": "필터 경로 {path}: {note}",
        },
    }
)


class ProbeError(InputError):
    """A magic, protocol or filter that cannot become a probe."""


def parse_magic(text: str) -> bytes:
    """A magic as hex: 1 to 4 digits are 2 bytes, 5 to 8 digits are 4 bytes."""
    digits = text.strip().lower().removeprefix("0x")
    if not digits or len(digits) > 8 or any(c not in "0123456789abcdef" for c in digits):
        raise ProbeError(
            f"{text[:20]!r} is not a magic: give 1 to 8 hex digits (7255, 0x5293, 39393939)",
            location="--magic",
        )
    value = int(digits, 16)
    if value == 0:
        raise ProbeError("a magic of 0 matches nothing a filter compares", location="--magic")
    return value.to_bytes(2 if len(digits) <= 4 else 4, "big")


def parse_magics(values: Iterable[str]) -> tuple[bytes, ...]:
    """`known` (the published magics, bpf/magic.py) and hex values, in order, once each."""
    found: dict[bytes, None] = {}
    for value in values:
        for word in value.replace(",", " ").split():
            if word.lower() == "known":
                for magic in KNOWN_MAGICS:
                    found[magic.value.to_bytes(magic.width, "big")] = None
            else:
                found[parse_magic(word)] = None
    return tuple(found)


def parse_protocols(text: str) -> tuple[str, ...]:
    words = [word.strip().lower() for word in text.split(",") if word.strip()]
    unknown = [word for word in words if word not in PROTOCOLS]
    if unknown or not words:
        raise ProbeError(
            f"{text[:40]!r}: choose from {', '.join(PROTOCOLS)} (comma-separated)",
            location="--protocols",
        )
    return tuple(dict.fromkeys(words))


def _sum_words(data: bytes) -> int:
    """The one's-complement sum of `data` as 16-bit words, not yet folded."""
    if len(data) % 2:
        data += b"\x00"
    return sum(struct.unpack(f"!{len(data) // 2}H", data))


@dataclass(frozen=True, slots=True)
class PacketTemplate:
    """An IPv4 packet to render per target: addresses (and reply fields) written in, the
    transport checksum finished from a precomputed partial sum."""

    packet: bytes  # with zero addresses, reply fields and transport checksum
    protocol: int
    reply_offset: int | None  # where u32 ip | u16 port go, from the IP header
    checksum_offset: int | None  # the transport checksum; None: leave as it is
    pseudo_header: bool  # TCP and UDP sum the addresses too (RFC 768, RFC 9293 §3.1)
    base_sum: int
    recompute: bool  # a transport without an incremental checksum here (SCTP): finish()

    @classmethod
    def of(
        cls, packet: bytes, reply_offset: int | None, *, keep_checksum: bool = False
    ) -> PacketTemplate:
        data = bytearray(packet)
        data[12:20] = bytes(8)
        if reply_offset is not None:
            data[reply_offset : reply_offset + 6] = bytes(6)
        header = (data[0] & 0x0F) * 4
        protocol = data[9]
        checksum_at = {17: 6, 6: 16, 1: 2}.get(protocol)
        if keep_checksum or checksum_at is None or header + checksum_at + 2 > len(data):
            return cls(bytes(data), protocol, reply_offset, None, False, 0, not keep_checksum)
        # Transport payloads start at an even offset (IHL and the TCP data offset count
        # 32-bit words), so the reply fields are whole 16-bit words of the checksum.
        assert reply_offset is None or (reply_offset - header) % 2 == 0
        checksum_offset = header + checksum_at
        data[checksum_offset : checksum_offset + 2] = b"\x00\x00"
        segment = bytes(data[header:])
        base = _sum_words(segment)
        pseudo = protocol in (6, 17)
        if pseudo:
            base += protocol + len(segment)
        return cls(bytes(data), protocol, reply_offset, checksum_offset, pseudo, base, False)

    def render(self, source: int, destination: int, reply_ip: int, reply_port: int) -> bytes:
        data = bytearray(self.packet)
        _ADDRESSES.pack_into(data, 12, source, destination)
        total = self.base_sum
        if self.reply_offset is not None:
            _REPLY.pack_into(data, self.reply_offset, reply_ip, reply_port)
            total += (reply_ip >> 16) + (reply_ip & 0xFFFF) + reply_port
        if self.checksum_offset is None:
            if self.recompute:
                return finish(bytes(data), Link.IP)
            return bytes(data)
        if self.pseudo_header:
            total += (source >> 16) + (source & 0xFFFF) + (destination >> 16)
            total += destination & 0xFFFF
        while total >> 16:
            total = (total & 0xFFFF) + (total >> 16)
        checksum = ~total & 0xFFFF
        if checksum == 0 and self.protocol == 17:
            checksum = 0xFFFF  # RFC 768: a computed zero is sent as all ones
        _CHECKSUM.pack_into(data, self.checksum_offset, checksum)
        return bytes(data)


_ADDRESSES = struct.Struct("!II")
_REPLY = struct.Struct("!IH")
_CHECKSUM = struct.Struct("!H")


@dataclass(frozen=True, slots=True)
class ProbeOptions:
    """Header values of the built-in probes (the filter does not look at them)."""

    udp_port: int = 53
    tcp_port: int = 443
    source_port: int = 50000
    icmp_id: int = 0x4448  # "DH"
    connect_port: int | None = None  # --tcp-connect PORT


@dataclass(frozen=True, slots=True)
class ProbeKind:
    """One trigger to try on every target: a protocol and a magic, with its packet."""

    index: int
    protocol: str  # udp, icmp, tcp, tcp-connect, or a filter probe's transport
    magic: bytes
    template: PacketTemplate | None  # None for tcp-connect
    origin: str = "magic"  # "magic" or "filter"
    path: int | None = None  # the filter path a filter probe takes
    connect_port: int | None = None
    # The filter, when it tests IP addresses: probes go only to targets it accepts.
    accepts: Callable[[bytes], int] | None = field(default=None, compare=False)
    frame_prefix: bytes = b""  # what the filter sees before the IP header

    @property
    def carries_reply(self) -> bool:
        """Whether a ping-back to this probe comes to the scanner with its nonce."""
        return self.template is None or self.template.reply_offset is not None

    @property
    def magic_hex(self) -> str:
        return self.magic.hex()

    @property
    def label(self) -> str:
        text = f"{self.protocol} {self.magic_hex}"
        if self.connect_port is not None:
            text += f" (port {self.connect_port})"
        if self.path is not None:
            text += f" (filter path {self.path})"
        return text

    def accepted_by_filter(self, packet: bytes) -> bool:
        return self.accepts is None or bool(self.accepts(self.frame_prefix + packet))

    def to_json(self) -> dict[str, object]:
        document: dict[str, object] = {
            "protocol": self.protocol,
            "magic": self.magic_hex,
            "origin": self.origin,
            "replies_matched": self.carries_reply,
        }
        if self.path is not None:
            document["filter_path"] = self.path
        if self.connect_port is not None:
            document["port"] = self.connect_port
        if self.template is not None:
            document["length"] = len(self.template.packet)
        return document


def payload(magic: bytes, reply_ip: int = 0, reply_port: int = 0) -> bytes:
    """The ping-back trigger: flag (the magic, left-aligned in 4 bytes), ip, port."""
    return magic.ljust(4, b"\x00")[:4] + _REPLY.pack(reply_ip, reply_port)


def _ipv4(protocol: int, body: bytes) -> bytes:
    # DF set: BPFDoor filters refuse fragments (jset #0x1fff), so never be fragmented. ID 0:
    # the kernel fills it in (raw(7), IP_HDRINCL).
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 0, 0x4000, 64, protocol, 0,
                       bytes(4), bytes(4)) + body  # fmt: skip


def builtin_packet(protocol: str, magic: bytes, options: ProbeOptions) -> bytes:
    data = payload(magic)
    if protocol == "udp":
        body = struct.pack("!HHHH", options.source_port, options.udp_port, 8 + len(data), 0)
    elif protocol == "tcp":
        body = struct.pack(
            "!HHIIBBHHH",
            options.source_port,
            options.tcp_port,
            0x444F4F52,  # "DOOR": the filter reads no sequence number
            0,
            5 << 4,
            TCP_PSH_ACK,
            0xFAF0,
            0,
            0,
        )
    elif protocol == "icmp":
        body = struct.pack("!BBHHH", ICMP_ECHO_REQUEST, 0, 0, options.icmp_id, 1)
    else:
        raise ProbeError(f"no built-in probe for {protocol!r}", location="--protocols")
    return _ipv4(PROTOCOL_NUMBERS[protocol], body + data)


def builtin_kinds(
    magics: Sequence[bytes] | None,
    protocols: Sequence[str],
    options: ProbeOptions,
    *,
    start: int = 0,
) -> list[ProbeKind]:
    """Every protocol with every magic; with no magics, the classic pairing (BPFDOOR.md §2)."""
    pairs: list[tuple[str, bytes]]
    if magics is None:
        pairs = [(protocol, magic) for protocol, magic in CLASSIC if protocol in protocols]
    else:
        pairs = [(protocol, magic) for magic in magics for protocol in protocols]
    kinds: list[ProbeKind] = []
    for protocol, magic in pairs:
        packet = builtin_packet(protocol, magic, options)
        offset = len(packet) - PAYLOAD_LENGTH + REPLY_FIELDS.start
        kinds.append(
            ProbeKind(start + len(kinds), protocol, magic, PacketTemplate.of(packet, offset))
        )
    if options.connect_port is not None:
        kinds += connect_kinds(kinds, options.connect_port, start=start + len(kinds))
    return kinds


def connect_kinds(kinds: Sequence[ProbeKind], port: int, *, start: int = 0) -> list[ProbeKind]:
    """A `tcp-connect` kind for each magic the raw TCP kinds send with a ping-back address."""
    magics = dict.fromkeys(k.magic for k in kinds if k.protocol == "tcp" and k.carries_reply)
    return [
        ProbeKind(start + index, TCP_CONNECT, magic, None, connect_port=port)
        for index, magic in enumerate(magics)
    ]


def payload_offset(packet: bytes) -> int | None:
    """Where the transport payload of an IPv4 packet starts (UDP, ICMP, TCP), if it does."""
    if len(packet) < 20 or packet[0] >> 4 != 4:
        return None
    header = (packet[0] & 0x0F) * 4
    protocol = packet[9]
    if protocol in (17, 1):
        offset = header + 8
    elif protocol == 6 and len(packet) >= header + 13:
        offset = header + (packet[header + 12] >> 4) * 4
    else:
        return None
    return offset if offset <= len(packet) else None


@dataclass(frozen=True, slots=True)
class FilterProbes:
    kinds: list[ProbeKind]
    notes: list[Message]


# Two address pairs unlike the documentation addresses the probe was made with: a filter that
# rejects either tests addresses (RFC 5737 TEST-NET-2/3, RFC 1918).
_ADDRESS_CHECKS = ((0xC6336401, 0xCB007107), (0x0A010203, 0xAC100506))


def filter_kinds(
    programs: Sequence[tuple[Program, Link]],
    protocols: Sequence[str],
    *,
    start: int = 0,
    max_paths: int = 256,
) -> FilterProbes:
    """The probes `doorhunt bpf probe` synthesizes for each program, as scan kinds."""
    kinds: list[ProbeKind] = []
    notes: list[Message] = []
    seen: set[bytes] = set()
    for program, link in programs:
        explanation = explain(program, link, max_paths=max_paths)
        accepts = compile_filter(program, link)
        for probe in explanation.probes():
            kind = _filter_kind(probe, explanation, protocols, accepts, notes, start + len(kinds))
            if kind is not None and kind.template is not None and kind.template.packet not in seen:
                seen.add(kind.template.packet)
                kinds.append(kind)
    return FilterProbes(kinds, notes)


def _filter_kind(
    probe: Probe | ProbeFailure,
    explanation: Explanation,
    protocols: Sequence[str],
    accepts: Callable[[bytes], int],
    notes: list[Message],
    index: int,
) -> ProbeKind | None:
    if isinstance(probe, ProbeFailure):
        notes.append(MESSAGES("filter_failed", path=probe.path, reason=probe.reason))
        return None
    path = probe.path
    if probe.network != "ipv4":
        notes.append(MESSAGES("filter_not_ipv4", path=path, network=probe.network))
        return None
    transport = probe.transport or "ip"
    if transport in PROTOCOLS and transport not in protocols:
        notes.append(MESSAGES("filter_protocol", path=path, protocol=transport))
        return None
    notes.extend(MESSAGES("filter_note", path=path, note=note) for note in probe.notes)
    prefix = probe.frame[: len(probe.frame) - len(probe.packet)]
    packet = probe.packet
    meaning = explanation.meanings[path]
    start = payload_offset(packet)
    magic = b""
    reply_offset: int | None = None
    runs = [run for run in meaning.payload if run.protocol == transport]
    layout = False
    if start is not None and runs:
        first = min(runs, key=lambda run: run.offset)
        magic = first.value
        # The magic-packet layout (§2): the filter compares the u32 flag at payload byte 0 and
        # nothing past it, so the ip and port fields are free to carry the ping-back address.
        layout = first.offset == 0
        if layout and max(run.offset + run.size for run in runs) <= REPLY_FIELDS.start:
            candidate = packet[:start] + packet[start:].ljust(PAYLOAD_LENGTH, b"\x00")
            candidate = finish(candidate, Link.IP)
            if accepts(prefix + candidate):
                packet = candidate
                reply_offset = start + REPLY_FIELDS.start
    if reply_offset is None:
        notes.append(MESSAGES("filter_fixed_reply" if layout else "filter_no_layout", path=path))
    keep = packet != finish(packet, Link.IP)  # the path wants a length or checksum as it is
    template = PacketTemplate.of(packet, reply_offset, keep_checksum=keep)
    kind = ProbeKind(
        index,
        transport,
        magic,
        template,
        origin="filter",
        path=path,
        frame_prefix=prefix,
    )
    sample_port = 0xC001
    for source, destination in _ADDRESS_CHECKS:
        rendered = template.render(source, destination, source, sample_port)
        if not accepts(prefix + rendered):
            notes.append(MESSAGES("filter_addresses", path=path))
            return replace(kind, accepts=accepts)
    return kind


def checksum_ok(packet: bytes) -> bool:
    """Whether an IPv4 UDP/TCP/ICMP packet's transport checksum verifies (for tests/replies)."""
    if len(packet) < 20:
        return False
    header = (packet[0] & 0x0F) * 4
    protocol = packet[9]
    segment = packet[header:]
    if protocol == 1:
        return internet_checksum(segment) == 0
    if protocol == 17 and len(segment) >= 8 and segment[6:8] == b"\x00\x00":
        return True  # RFC 768: no checksum
    pseudo = packet[12:20] + struct.pack("!BBH", 0, protocol, len(segment))
    return internet_checksum(pseudo + segment) == 0


__all__ = [
    "CLASSIC",
    "PROTOCOLS",
    "TCP_CONNECT",
    "FilterProbes",
    "PacketTemplate",
    "ProbeError",
    "ProbeKind",
    "ProbeOptions",
    "builtin_kinds",
    "builtin_packet",
    "checksum_ok",
    "connect_kinds",
    "filter_kinds",
    "parse_magic",
    "parse_magics",
    "parse_protocols",
    "payload",
    "payload_offset",
]
