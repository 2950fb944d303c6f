"""Lifting path conditions to protocol meaning: which header fields a path tests, and which
bytes of the transport payload it compares with constants.

Offsets are recognised by what the address computation does, not by instruction patterns:
a term that depends on one byte and equals 4*(b & 0xf) for every byte value is an IPv4 header
length however it was computed, and 4*(b >> 4) of the byte at transport+12 is a TCP data offset.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from doorhunt.bpf.expr import (
    DATA_OFFSET_TABLE,
    IHL_TABLE,
    SYMBOLS,
    Ancillary,
    Binary,
    Const,
    Expr,
    Length,
    Load,
    Space,
    as_function_of_byte,
    split_sum,
)
from doorhunt.bpf.interpreter import Link
from doorhunt.bpf.paths import Condition, Path, Relation, masked_load

ETHERTYPES = {
    0x0800: "ipv4",
    0x86DD: "ipv6",
    0x0806: "arp",
    0x8035: "rarp",
    0x888E: "eapol",
    0x88CC: "lldp",
    0x8100: "vlan",
    0x88A8: "vlan",
    0x9100: "vlan",
    0x8863: "pppoe",
    0x8864: "pppoe",
    0x8847: "mpls",
    0x8848: "mpls",
    0x88F7: "ptp",
    0x22F0: "avtp",
}
IP_PROTOCOLS = {
    1: "icmp",
    2: "igmp",
    6: "tcp",
    17: "udp",
    41: "ipv6-in-ipv4",
    44: "ipv6-frag",
    47: "gre",
    50: "esp",
    58: "icmpv6",
    89: "ospf",
    103: "pim",
    112: "vrrp",
    132: "sctp",
}

# Header layouts: offset → (size, name). Sources: RFC 791, 8200, 768, 9293, 792, 9260, 826.
_HEADERS: dict[str, dict[int, tuple[int, str]]] = {
    "eth": {0: (6, "eth.dst"), 6: (6, "eth.src"), 12: (2, "eth.type")},
    "vlan": {0: (2, "vlan.tci"), 2: (2, "vlan.type")},
    "ipv4": {
        0: (1, "ip.version_ihl"),
        1: (1, "ip.tos"),
        2: (2, "ip.len"),
        4: (2, "ip.id"),
        6: (2, "ip.flags_frag"),
        8: (1, "ip.ttl"),
        9: (1, "ip.proto"),
        10: (2, "ip.csum"),
        12: (4, "ip.src"),
        16: (4, "ip.dst"),
    },
    "ipv6": {
        0: (4, "ip6.ver_tc_flow"),
        4: (2, "ip6.plen"),
        6: (1, "ip6.nxt"),
        7: (1, "ip6.hlim"),
        8: (16, "ip6.src"),
        24: (16, "ip6.dst"),
    },
    "arp": {
        0: (2, "arp.htype"),
        2: (2, "arp.ptype"),
        4: (1, "arp.hlen"),
        5: (1, "arp.plen"),
        6: (2, "arp.op"),
        8: (6, "arp.sha"),
        14: (4, "arp.spa"),
        18: (6, "arp.tha"),
        24: (4, "arp.tpa"),
    },
    "udp": {0: (2, "udp.sport"), 2: (2, "udp.dport"), 4: (2, "udp.len"), 6: (2, "udp.csum")},
    "tcp": {
        0: (2, "tcp.sport"),
        2: (2, "tcp.dport"),
        4: (4, "tcp.seq"),
        8: (4, "tcp.ack"),
        12: (1, "tcp.offset"),
        13: (1, "tcp.flags"),
        14: (2, "tcp.win"),
        16: (2, "tcp.csum"),
        18: (2, "tcp.urp"),
    },
    "icmp": {
        0: (1, "icmp.type"),
        1: (1, "icmp.code"),
        2: (2, "icmp.csum"),
        4: (2, "icmp.id"),
        6: (2, "icmp.seq"),
    },
    "icmpv6": {0: (1, "icmp6.type"), 1: (1, "icmp6.code"), 2: (2, "icmp6.csum")},
    "ipv6-frag": {0: (1, "frag6.nxt"), 2: (2, "frag6.offset"), 4: (4, "frag6.id")},
    "sctp": {0: (2, "sctp.sport"), 2: (2, "sctp.dport"), 4: (4, "sctp.vtag"), 8: (4, "sctp.csum")},
}
# Where the payload starts, from the transport header (TCP: without options).
TRANSPORT_HEADER_LENGTH = {"udp": 8, "tcp": 20, "icmp": 8, "icmpv6": 8, "sctp": 12}
_NETWORK_HEADER_LENGTH = {"ipv4": 20, "ipv6": 40}


_DISPLAY = {
    "ipv4": "IPv4",
    "ipv6": "IPv6",
    "icmpv6": "ICMPv6",
    "eapol": "EAPOL",
    "ipv6-in-ipv4": "IPv6-in-IPv4",
}
# Order of protocol lists: networks, then transports.
_PROTOCOL_ORDER = [
    "ipv4",
    "ipv6",
    "arp",
    "rarp",
    "eapol",
    "lldp",
    "vlan",
    "tcp",
    "udp",
    "icmp",
    "icmpv6",
    "sctp",
]


def display_name(protocol: str) -> str:
    return _DISPLAY.get(protocol, protocol.upper() if len(protocol) <= 5 else protocol)


def protocol_order(protocol: str) -> tuple[int, str]:
    rank = _PROTOCOL_ORDER.index(protocol) if protocol in _PROTOCOL_ORDER else len(_PROTOCOL_ORDER)
    return rank, protocol


class Layer(StrEnum):
    LINK = "link"
    NETWORK = "network"
    TRANSPORT = "transport"
    PAYLOAD = "payload"
    METADATA = "metadata"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class FieldRef:
    """What a load reads, in protocol terms."""

    layer: Layer
    protocol: str | None  # "ipv4", "udp", ... (for PAYLOAD: the transport that carries it)
    name: str  # "ip.proto", "udp.dport", "udp.payload[0:2]"
    offset: int  # within the layer (payload: from the start of the transport payload)
    size: int
    assumption: str | None = None  # e.g. "no IP options" for constant transport offsets


@dataclass(frozen=True, slots=True)
class Test:
    """One lifted condition of a path."""

    field: FieldRef | None  # None: the left side is not a packet field (a computed value)
    text: str  # the condition as written over fields, e.g. "udp.dport == 53"
    relation: Relation
    value: int | None
    mask: int | None


@dataclass(frozen=True, slots=True)
class PayloadBytes:
    """A run of transport-payload bytes the path requires to have given bits."""

    protocol: str
    offset: int
    value: bytes
    mask: bytes  # 0xff where every bit is fixed

    @property
    def fixed_bits(self) -> int:
        return sum(byte.bit_count() for byte in self.mask)

    @property
    def size(self) -> int:
        return len(self.value)

    @property
    def int_value(self) -> int:
        return int.from_bytes(self.value, "big")


@dataclass(frozen=True, slots=True)
class PathMeaning:
    path: Path
    network: str  # "ipv4", "ipv6", "arp", ...
    network_assumed: bool  # the path does not test the network protocol; IPv4 was assumed
    vlan: bool  # a VLAN tag sits between the link and network headers
    transport: str | None  # "udp", "tcp", "icmp", ..., or None when any or not IP
    tests: tuple[Test, ...]
    payload: tuple[PayloadBytes, ...]
    first_fragments_only: bool  # IPv4 fragment offset required to be 0
    link_fields: bool  # depends on Ethernet addresses, which a remote sender cannot choose

    @property
    def protocols(self) -> tuple[str, ...]:
        network = () if self.network_assumed else (self.network,)
        vlan = ("vlan",) if self.vlan else ()
        return vlan + network + ((self.transport,) if self.transport else ())


class _Context:
    """Per-path knowledge used to name loads."""

    def __init__(self, path: Path, link: Link) -> None:
        self.link = link
        self.facts = path.facts
        self.net = link.network_offset
        self.vlan = False
        self.network, self.network_assumed = self._network(path)
        if self.network == "vlan" and link is Link.ETHERNET:
            # A tag left in the frame (offline-compiled `vlan`, or the inner tag of a
            # double-tagged frame): the network header follows the 4-byte tag.
            inner = self.fixed(Load(Space.PACKET, Const(16), 2))
            if inner is not None:
                self.vlan, self.net = True, 18
                self.network = ETHERTYPES.get(inner, f"ethertype {inner:#06x}")
        self.transport = self._transport()

    def fixed(self, expr: Expr) -> int | None:
        low, high = self.facts.bounds(expr)
        return low if low == high else None

    def _network(self, path: Path) -> tuple[str, bool]:
        """The network protocol the path requires; `other` when it only rules some out; IPv4
        assumed (`assumed` True) when it tests none: BPFDoor's socket asks the kernel for
        ETH_P_IP only (BPFDOOR.md §1), so its filter need not test the ethertype, and AF_INET
        raw sockets see only IPv4."""
        ethertype = None
        if self.link is Link.ETHERNET:
            ethertype = self.fixed(Load(Space.PACKET, Const(12), 2))
        if ethertype is None:
            ethertype = self.fixed(Ancillary(0))
        if ethertype is not None:
            return ETHERTYPES.get(ethertype, f"ethertype {ethertype:#06x}"), False
        if self.link is Link.IP:
            ones, zeros = self.facts.known_bits(Load(Space.PACKET, Const(0), 1))
            if (ones | zeros) & 0xF0 == 0xF0 and ones >> 4 in (4, 6):
                return f"ipv{ones >> 4}", False
        ethertype_fields: list[Expr] = [Ancillary(0)]
        if self.link is Link.ETHERNET:
            ethertype_fields.append(Load(Space.PACKET, Const(12), 2))
        for condition in path.conditions:
            if (masked_load(condition.left)[0] or condition.left) in ethertype_fields:
                return "other", False
        return "ipv4", True

    def _transport(self) -> str | None:
        net = self.net
        if self.network == "ipv4":
            protocol = self.fixed(Load(Space.PACKET, Const(net + 9), 1))
        elif self.network == "ipv6":
            protocol = self.fixed(Load(Space.PACKET, Const(net + 6), 1))
        else:
            return None
        if protocol is None:
            return None
        return IP_PROTOCOLS.get(protocol, f"ip proto {protocol}")

    def locate(self, space: Space, address: Expr, size: int) -> FieldRef:
        """Name the bytes at `address`."""
        terms, constant = split_sum(address)
        return self.locate_terms(space, terms, constant, size)

    def locate_terms(
        self, space: Space, terms: tuple[Expr, ...], constant: int, size: int
    ) -> FieldRef:
        net = self.net
        if space is Space.LINK:
            return _header_field(Layer.LINK, "eth", constant, size)
        if not terms:
            if self.link is Link.ETHERNET and constant < 14:
                return _header_field(Layer.LINK, "eth", constant, size)
            if self.vlan and constant < 18:
                return _header_field(Layer.LINK, "vlan", constant - 14, size)
            relative = constant - net
            header = _NETWORK_HEADER_LENGTH.get(self.network)
            if self.network in ("arp", "rarp"):
                return _header_field(Layer.NETWORK, "arp", relative, size)
            if header is None:
                return FieldRef(Layer.UNKNOWN, None, f"pkt[{constant}:{size}]", constant, size)
            if relative < header:
                return _header_field(Layer.NETWORK, self.network, relative, size)
            assumption = "no IP options" if self.network == "ipv4" else None
            return self._transport_field(relative - header, size, assumption)
        kinds = [self._term_kind(term) for term in terms]
        if kinds == ["ihl"]:
            return self._transport_field(constant - net, size, None)
        if sorted(kind or "" for kind in kinds) == [
            "ihl",
            "tcp-data-offset",
        ] and self.transport in ("tcp", None):
            return _payload_field("tcp", constant - net, size, None)
        text = " + ".join(str(term) for term in terms)
        return FieldRef(Layer.UNKNOWN, None, f"pkt[{text} + {constant}:{size}]", constant, size)

    def _term_kind(self, term: Expr) -> str | None:
        function = as_function_of_byte(term)
        if function is None:
            return None
        load, table = function
        terms, constant = split_sum(load.address)
        net = self.net
        if table == IHL_TABLE and not terms and constant == net:
            return "ihl"
        if table == DATA_OFFSET_TABLE and [self._term_kind(t) for t in terms] == ["ihl"]:
            return "tcp-data-offset" if constant - net == 12 else None
        return None

    def _transport_field(self, offset: int, size: int, assumption: str | None) -> FieldRef:
        protocol = self.transport
        if protocol is None and offset >= 8:
            # No protocol test: past the smallest transport header (UDP, ICMP) the bytes are
            # payload for the protocols that matter here.
            assumption = ", ".join(filter(None, [assumption, "transport protocol not tested"]))
            return _payload_field("ip", offset - 8, size, assumption)
        header_length = TRANSPORT_HEADER_LENGTH.get(protocol or "")
        if protocol is None or header_length is None:
            name = f"{protocol or 'transport'}[{offset}:{size}]"
            return FieldRef(Layer.TRANSPORT, protocol, name, offset, size, assumption)
        if offset >= header_length:
            if protocol == "tcp":
                assumption = ", ".join(filter(None, [assumption, "no TCP options"]))
            return _payload_field(protocol, offset - header_length, size, assumption or None)
        field = _header_field(Layer.TRANSPORT, protocol, offset, size)
        return FieldRef(field.layer, field.protocol, field.name, offset, size, assumption)


def _header_field(layer: Layer, protocol: str, offset: int, size: int) -> FieldRef:
    layout = _HEADERS.get(protocol, {})
    exact = layout.get(offset)
    if exact and exact[0] == size:
        return FieldRef(layer, protocol, exact[1], offset, size)
    for start, (length, name) in layout.items():
        if start <= offset and offset + size <= start + length:
            inner = offset - start
            return FieldRef(layer, protocol, f"{name}[{inner}:{inner + size}]", offset, size)
    label = {"eth": "ether", "ipv4": "ip", "ipv6": "ip6"}.get(protocol, protocol or "pkt")
    return FieldRef(layer, protocol, f"{label}[{offset}:{size}]", offset, size)


def _payload_field(protocol: str, offset: int, size: int, assumption: str | None) -> FieldRef:
    name = f"{protocol}.payload[{offset}:{offset + size}]"
    return FieldRef(Layer.PAYLOAD, protocol, name, offset, size, assumption)


def _describe(context: _Context, expr: Expr) -> tuple[FieldRef | None, str, int | None]:
    """(field, text, mask) for the left side of a condition."""
    load, mask = masked_load(expr)
    if load is not None:
        field = context.locate(load.space, load.address, load.size)
        full = (1 << (8 * load.size)) - 1
        if mask == full:
            return field, field.name, None
        return field, f"{field.name} & {mask:#x}", mask
    if isinstance(expr, Ancillary):
        name = f"meta.{expr}".replace("#", "")
        return FieldRef(Layer.METADATA, None, name, expr.field, 4), name, None
    if isinstance(expr, Length):
        return FieldRef(Layer.METADATA, None, "len", 0, 4), "len", None
    return None, _expression_text(context, expr), None


def _expression_text(context: _Context, expr: Expr) -> str:
    if isinstance(expr, Load):
        return context.locate(expr.space, expr.address, expr.size).name
    if isinstance(expr, Binary):
        left, right = _expression_text(context, expr.left), _expression_text(context, expr.right)
        return f"({left} {SYMBOLS.get(expr.operation, '-')} {right})"
    return str(expr)


def lift(path: Path, link: Link) -> PathMeaning:
    context = _Context(path, link)
    tests: list[Test] = []
    seen: set[tuple[Expr, Relation, Expr]] = set()
    link_fields = False
    for condition in path.conditions:
        key = (condition.left, condition.relation, condition.right)
        if key in seen:
            continue
        seen.add(key)
        tests.append(_test(context, condition))
        field = tests[-1].field
        link_fields |= bool(
            field and field.layer is Layer.LINK and field.name.startswith(("eth.dst", "eth.src"))
        )
    first_fragments_only = False
    if context.network == "ipv4":
        net = context.net
        fragment = context.facts.known_bits(Load(Space.PACKET, Const(net + 6), 2))
        first_fragments_only = fragment[1] & 0x1FFF == 0x1FFF
    return PathMeaning(
        path=path,
        network=context.network,
        network_assumed=context.network_assumed,
        vlan=context.vlan,
        transport=context.transport,
        tests=tuple(tests),
        payload=tuple(_payload_runs(context)),
        first_fragments_only=first_fragments_only,
        link_fields=link_fields,
    )


def _test(context: _Context, condition: Condition) -> Test:
    field, text, mask = _describe(context, condition.left)
    value: int | None = None
    if isinstance(condition.right, Const):
        value = condition.right.value
        right_text = _value_text(field, value)
    else:
        right_text = _expression_text(context, condition.right)
    return Test(field, f"{text} {condition.relation} {right_text}", condition.relation, value, mask)


def _value_text(field: FieldRef | None, value: int) -> str:
    name = field.name if field else ""
    if name == "eth.type" and value in ETHERTYPES:
        return f"{value:#06x} ({ETHERTYPES[value]})"
    if name in ("ip.proto", "ip6.nxt") and value in IP_PROTOCOLS:
        return f"{value} ({IP_PROTOCOLS[value]})"
    if name in ("ip.src", "ip.dst") or name.startswith(("arp.spa", "arp.tpa")):
        return ".".join(str(b) for b in value.to_bytes(4, "big"))
    if name.endswith(("port", "len")) or value < 10:
        return str(value)
    return f"{value:#x}"


def _payload_runs(context: _Context) -> Iterable[PayloadBytes]:
    """Known payload bits, merged into runs of adjacent bytes per protocol."""
    known: dict[str, dict[int, tuple[int, int]]] = {}
    for (space, terms, constant), (ones, zeros) in context.facts.bits.items():
        field = context.locate_terms(space, terms, constant, 1)
        if field.layer is Layer.PAYLOAD and field.protocol:
            known.setdefault(field.protocol, {})[field.offset] = (ones, ones | zeros)
    for protocol, offsets in sorted(known.items()):
        run: list[int] = []
        for offset in sorted(offsets):
            if run and offset != run[-1] + 1:
                yield _run(protocol, run, offsets)
                run = []
            run.append(offset)
        if run:
            yield _run(protocol, run, offsets)


def _run(protocol: str, run: list[int], offsets: dict[int, tuple[int, int]]) -> PayloadBytes:
    value = bytes(offsets[offset][0] for offset in run)
    mask = bytes(offsets[offset][1] for offset in run)
    return PayloadBytes(protocol, run[0], value, mask)


__all__ = [
    "ETHERTYPES",
    "IP_PROTOCOLS",
    "FieldRef",
    "Layer",
    "PathMeaning",
    "PayloadBytes",
    "Test",
    "display_name",
    "lift",
    "protocol_order",
]
