"""Classifying a socket filter by what it accepts, with a score and the reasons in words.

The rules, in order (first match wins):
  reject-all     no path to a non-zero return
  capture-all    a path with no conditions (tcpdump without a filter, keepalived)
  bpfdoor        a known BPFDoor magic in compared payload bytes, or payload magics on two or
                 more of TCP/UDP/ICMP (the classic trigger shape, BPFDOOR.md §2)
  dhcp           every accepting path is UDP to/from port 67/68 (dhclient, dhcpcd, udhcpc,
                 systemd-networkd, NetworkManager; BPFDOOR.md §5)
  eapol/arp/lldp every accepting path is that ethertype (wpa_supplicant/hostapd, arpwatch and
                 MetalLB, lldpd)
  payload-magic  some path fixes 16 or more bits of transport payload: suspicious, though
                 legitimate tools do it too (tailscaled), which the sweep's allow-list settles
  header-filter  only named header fields are tested (ports, hosts, protocols, flags)
  other          anything else (computed offsets, unmodelled values)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from doorhunt.bpf.expr import Const
from doorhunt.bpf.magic import MagicMatch, find_known_magics
from doorhunt.bpf.meaning import Layer, PathMeaning, PayloadBytes, display_name, protocol_order
from doorhunt.bpf.paths import PathAnalysis, Relation
from doorhunt.i18n import Catalog, Message

# A payload check that fixes fewer bits is a flag test (DNS QR bit), not a magic.
MAGIC_MIN_BITS = 16
DHCP_PORTS = frozenset({67, 68})
DHCP_COOKIE = bytes.fromhex("63825363")  # RFC 2131 §3, at BOOTP offset 236
TRIGGER_TRANSPORTS = frozenset({"tcp", "udp", "icmp"})


class FilterClass(StrEnum):
    BPFDOOR = "bpfdoor"
    PAYLOAD_MAGIC = "payload-magic"
    DHCP = "dhcp"
    EAPOL = "eapol"
    ARP = "arp"
    LLDP = "lldp"
    HEADER_FILTER = "header-filter"
    CAPTURE_ALL = "capture-all"
    REJECT_ALL = "reject-all"
    OTHER = "other"


MESSAGES = Catalog(
    {
        "reject_all": {
            "en": "no path through the program accepts a packet",
            "ko": "프로그램의 어떤 경로도 패킷을 받아들이지 않음",
        },
        "capture_all": {
            "en": "accepts every packet without testing it (a plain sniffer)",
            "ko": "패킷을 검사하지 않고 모두 받아들임 (단순 스니퍼)",
        },
        "payload_compare": {
            "en": "compares {protocol} payload bytes {start}..{end} with the constant {value}",
            "ko": "{protocol} 페이로드 {start}..{end} 바이트를 상수와 비교함: {value}",
        },
        "known_magic": {
            "en": "{value} ({order}) is a published magic value: {note}",
            "ko": "공개된 매직 값: {value} ({order}), {note}",
        },
        "several_transports": {
            "en": "the payload is checked for a magic on {protocols}: a trigger that works over "
            "several protocols, as BPFDoor's does",
            "ko": "{protocols}에서 페이로드 매직 값을 검사함: "
            "BPFDoor처럼 여러 프로토콜로 동작하는 트리거",
        },
        "first_fragments": {
            "en": "accepts only unfragmented IPv4 packets and first fragments, as BPFDoor's filter",
            "ko": "BPFDoor 필터처럼 조각나지 않은 IPv4 패킷과 첫 조각만 받아들임",
        },
        "tcp_data_offset": {
            "en": "finds the TCP payload through the header's data-offset field",
            "ko": "TCP 헤더의 데이터 오프셋 필드로 페이로드 위치를 계산함",
        },
        "dhcp": {
            "en": "accepts only UDP packets to or from port 67/68 (DHCP/BOOTP)",
            "ko": "포트 67/68의 UDP 패킷(DHCP/BOOTP)만 받아들임",
        },
        "dhcp_cookie": {
            "en": "compares the DHCP magic cookie 0x63825363",
            "ko": "DHCP 매직 쿠키 0x63825363을 비교함",
        },
        "ethertype_only": {
            "en": "accepts only {protocol} frames (ethertype {ethertype})",
            "ko": "{protocol} 프레임(이더타입 {ethertype})만 받아들임",
        },
        "header_only": {
            "en": "tests only header fields: {fields}",
            "ko": "헤더 필드만 검사함: {fields}",
        },
        "unnamed_tests": {
            "en": "tests values the analysis cannot name: {tests}",
            "ko": "분석이 이름 붙일 수 없는 값을 검사함: {tests}",
        },
        "incomplete": {
            "en": "the analysis stopped after {steps} steps: paths after that were not examined",
            "ko": "분석이 {steps} 단계에서 멈춤: 그 뒤의 경로는 검사하지 않음",
        },
        "not_exhaustive": {
            "en": "{count} accepting paths listed; more exist, and every comparison on them is "
            "covered by a listed path",
            "ko": "받아들이는 경로 {count}개를 표시함; 더 있지만 모든 비교는 표시된 경로에 포함됨",
        },
    }
)

_ETHERTYPE_CLASSES = {
    "eapol": (FilterClass.EAPOL, 0x888E),
    "arp": (FilterClass.ARP, 0x0806),
    "rarp": (FilterClass.ARP, 0x8035),
    "lldp": (FilterClass.LLDP, 0x88CC),
}


@dataclass(frozen=True, slots=True)
class MagicCompare:
    """Payload bytes a path requires: the evidence of a magic-packet trigger."""

    protocol: str
    offset: int  # from the start of the transport payload
    size: int
    value: int
    mask: int | None  # None when every bit of the bytes is fixed
    known: tuple[MagicMatch, ...]  # published magics these bytes contain

    @classmethod
    def of(cls, run: PayloadBytes) -> MagicCompare:
        full = all(byte == 0xFF for byte in run.mask)
        return cls(
            run.protocol,
            run.offset,
            run.size,
            run.int_value,
            None if full else int.from_bytes(run.mask, "big"),
            tuple(find_known_magics(run.value, run.mask)),
        )

    @property
    def hex(self) -> str:
        return f"{self.value:#0{2 + 2 * self.size}x}"

    def to_json(self) -> dict[str, object]:
        document: dict[str, object] = {
            "protocol": self.protocol,
            "offset": self.offset,
            "size": self.size,
            "value": self.value,
            "hex": self.hex,
            "known": [
                {"magic": f"{m.magic.value:#x}", "byte_order": m.byte_order, "note": m.magic.note}
                for m in self.known
            ],
        }
        if self.mask is not None:
            document["mask"] = self.mask
        return document


@dataclass(frozen=True, slots=True)
class Classification:
    filter_class: FilterClass
    suspicious: bool
    score: int  # 0-100
    reasons: tuple[Message, ...]
    magic: tuple[MagicCompare, ...]
    protocols: tuple[str, ...]


def classify(analysis: PathAnalysis, meanings: Sequence[PathMeaning]) -> Classification:
    protocols = tuple(
        sorted({p for meaning in meanings for p in meaning.protocols}, key=protocol_order)
    )
    magic = tuple(
        dict.fromkeys(
            MagicCompare.of(run)
            for meaning in meanings
            for run in meaning.payload
            if run.fixed_bits >= MAGIC_MIN_BITS
        )
    )
    notes: list[Message] = []
    if not analysis.complete:
        notes.append(MESSAGES("incomplete", steps=analysis.steps))
    elif not analysis.exhaustive:
        notes.append(MESSAGES("not_exhaustive", count=len(analysis.paths)))

    def result(kind: FilterClass, score: int, reasons: list[Message]) -> Classification:
        return Classification(
            kind,
            score >= 50,
            min(score, 100),
            tuple(dict.fromkeys(reasons + notes)),
            magic,
            protocols,
        )

    if not meanings:
        return result(FilterClass.REJECT_ALL, 0, [MESSAGES("reject_all")])
    if any(
        not meaning.path.conditions and isinstance(meaning.path.result, Const)
        for meaning in meanings
    ):
        return result(FilterClass.CAPTURE_ALL, 10, [MESSAGES("capture_all")])

    magic_reasons = _magic_reasons(magic)
    known = [compare for compare in magic if compare.known]
    trigger_transports = sorted(
        {compare.protocol for compare in magic if compare.offset == 0} & TRIGGER_TRANSPORTS
    )
    shape = _shape_reasons(meanings, magic, trigger_transports)
    if known or len(trigger_transports) >= 2:
        score = 80 + (15 if known else 0) + (5 if len(trigger_transports) >= 2 else 0)
        return result(FilterClass.BPFDOOR, score, magic_reasons + shape)

    if all(_is_dhcp(meaning) for meaning in meanings):
        reasons = [MESSAGES("dhcp")]
        if any(DHCP_COOKIE in run.value for meaning in meanings for run in meaning.payload):
            reasons.append(MESSAGES("dhcp_cookie"))
        return result(FilterClass.DHCP, 0, reasons)
    networks = {meaning.network for meaning in meanings if not meaning.network_assumed}
    if len(networks) == 1 and all(not m.network_assumed for m in meanings):
        network = next(iter(networks))
        if network in _ETHERTYPE_CLASSES:
            kind, ethertype = _ETHERTYPE_CLASSES[network]
            return result(
                kind,
                0,
                [
                    MESSAGES(
                        "ethertype_only",
                        protocol=display_name(network),
                        ethertype=f"{ethertype:#06x}",
                    )
                ],
            )

    if magic:
        score = 60 + (10 if "tcp" in trigger_transports else 0) + (5 if shape else 0)
        return result(FilterClass.PAYLOAD_MAGIC, score, magic_reasons + shape)

    unnamed = sorted(
        {
            test.text
            for meaning in meanings
            for test in meaning.tests
            if test.field is None or test.field.layer is Layer.UNKNOWN
        }
    )
    if unnamed:
        return result(
            FilterClass.OTHER, 20, [MESSAGES("unnamed_tests", tests="; ".join(unnamed[:5]))]
        )
    fields = sorted(
        {
            test.field.name
            for meaning in meanings
            for test in meaning.tests
            if test.field is not None
        }
    )
    return result(
        FilterClass.HEADER_FILTER,
        5,
        [MESSAGES("header_only", fields=", ".join(fields[:12]) or "-")],
    )


def _magic_reasons(magic: Sequence[MagicCompare]) -> list[Message]:
    reasons = []
    for compare in magic:
        reasons.append(
            MESSAGES(
                "payload_compare",
                protocol=display_name(compare.protocol),
                start=compare.offset,
                end=compare.offset + compare.size - 1,
                value=compare.hex,
            )
        )
        for match in compare.known:
            reasons.append(
                MESSAGES(
                    "known_magic",
                    value=f"{match.magic.value:#x}",
                    order=match.byte_order,
                    note=match.magic.note,
                )
            )
    return reasons


def _shape_reasons(
    meanings: Sequence[PathMeaning], magic: Sequence[MagicCompare], transports: list[str]
) -> list[Message]:
    """Traits of the classic trigger beyond the magic itself."""
    if not magic:
        return []
    reasons = []
    if len(transports) >= 2:
        reasons.append(
            MESSAGES("several_transports", protocols=", ".join(display_name(t) for t in transports))
        )
    magic_paths = [
        m for m in meanings if any(run.fixed_bits >= MAGIC_MIN_BITS for run in m.payload)
    ]
    if magic_paths and all(m.first_fragments_only for m in magic_paths):
        reasons.append(MESSAGES("first_fragments"))
    if any(
        test.field is not None
        and test.field.layer is Layer.PAYLOAD
        and test.field.protocol == "tcp"
        and test.field.assumption is None
        for m in magic_paths
        for test in m.tests
    ):
        reasons.append(MESSAGES("tcp_data_offset"))
    return reasons


def _is_dhcp(meaning: PathMeaning) -> bool:
    if meaning.transport != "udp":
        return False
    return any(
        test.field is not None
        and test.field.name in ("udp.sport", "udp.dport")
        and test.relation is Relation.EQ
        and test.value in DHCP_PORTS
        for test in meaning.tests
    )


__all__ = ["Classification", "FilterClass", "MagicCompare", "classify"]
