"""Classification of filters compiled at test time by tcpdump (BPFDOOR.md §2, §5)."""

from __future__ import annotations

import pytest

from doorhunt.bpf import opcodes as op
from doorhunt.bpf.classify import FilterClass
from doorhunt.bpf.examples import EXAMPLES
from doorhunt.bpf.explain import explain
from doorhunt.bpf.interpreter import Link
from doorhunt.bpf.magic import KNOWN_MAGICS
from doorhunt.bpf.program import Program
from tests.bpf.conftest import compile_expression

CLASSIC = "(udp[8:2]=0x7255) or (icmp[8:2]=0x7255) or (tcp[((tcp[12]&0xf0)>>2):2]=0x5293)"
TCP_PAYLOAD = "tcp[((tcp[12]&0xf0)>>2){width}]"


def classify_expression(expression: str, link: Link = Link.ETHERNET):  # type: ignore[no-untyped-def]
    return explain(compile_expression(expression, link), link).classification


@pytest.mark.parametrize("link", list(Link))
def test_classic_bpfdoor_expression(link: Link) -> None:
    verdict = classify_expression(CLASSIC, link)
    assert verdict.filter_class is FilterClass.BPFDOOR
    assert verdict.suspicious and verdict.score == 100
    assert {(m.protocol, m.offset, m.size, m.value) for m in verdict.magic} == {
        ("udp", 0, 2, 0x7255),
        ("icmp", 0, 2, 0x7255),
        ("tcp", 0, 2, 0x5293),
    }
    assert verdict.protocols == ("ipv4", "tcp", "udp", "icmp")
    assert all(m.known for m in verdict.magic)


def magic_forms(value: int, width: int) -> list[str]:
    """A magic as filters compare it: its own width, inside a wider masked load, split in
    halves, and byte-swapped (a build that forgot htons)."""
    big = value.to_bytes(width, "big")
    little = int.from_bytes(big, "little")
    forms = [
        f"udp[8:{width}] = {value:#x}",
        f"udp[8:{width}] = {little:#x}",
        f"{TCP_PAYLOAD.format(width=':' + str(width))} = {value:#x}",
        f"icmp[8:{width}] = {value:#x}",
    ]
    if width == 2:
        forms.append(f"udp[8:4] & 0xffff0000 = {value << 16:#x}")
        forms.append(f"udp[8] = {big[0]:#x} and udp[9] = {big[1]:#x}")
    else:
        forms.append(f"udp[8:2] = {value >> 16:#x} and udp[10:2] = {value & 0xFFFF:#x}")
    return forms


@pytest.mark.parametrize(
    "expression",
    [form for magic in KNOWN_MAGICS for form in magic_forms(magic.value, magic.width)],
)
def test_every_published_magic_in_every_form_is_bpfdoor(expression: str) -> None:
    verdict = classify_expression(expression)
    assert verdict.filter_class is FilterClass.BPFDOOR, expression
    assert verdict.suspicious
    assert any(compare.known for compare in verdict.magic)


@pytest.mark.parametrize(
    "expression",
    [
        "udp[8:2] = 0x1234",
        "udp[8:4] = 0xcafebabe",
        f"{TCP_PAYLOAD.format(width=':4')} = 0x0badf00d",
        "icmp[8:2] = 0x4242 and icmp[0] = 8",
        "udp[12:2] = 0xabcd",
        # tailscaled's disco magic ("TS" + 💬): a payload compare held by a legitimate tool,
        # which the sweep's allow-list (executable + package + class) settles (BPFDOOR.md §5).
        "udp[8:4] = 0x5453f09f",
    ],
)
def test_unknown_payload_magics_are_suspicious(expression: str) -> None:
    verdict = classify_expression(expression)
    assert verdict.filter_class is FilterClass.PAYLOAD_MAGIC
    assert verdict.suspicious
    assert verdict.magic and not any(compare.known for compare in verdict.magic)


def test_unknown_magic_on_several_transports_has_the_bpfdoor_shape() -> None:
    verdict = classify_expression(f"udp[8:2] = 0x4141 or {TCP_PAYLOAD.format(width=':2')} = 0x4242")
    assert verdict.filter_class is FilterClass.BPFDOOR
    assert verdict.score >= 80


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("tcp port 80", FilterClass.HEADER_FILTER),
        ("tcp port 4437", FilterClass.HEADER_FILTER),
        ("udp port 53 and udp[10] & 0x80 != 0", FilterClass.HEADER_FILTER),
        ("host 192.0.2.1", FilterClass.HEADER_FILTER),
        ("src net 10.0.0.0/8", FilterClass.HEADER_FILTER),
        ("icmp or tcp or udp", FilterClass.HEADER_FILTER),
        ("ip6 and tcp", FilterClass.HEADER_FILTER),
        ("vlan", FilterClass.HEADER_FILTER),
        ("vlan and udp", FilterClass.HEADER_FILTER),
        ("tcp portrange 42391-43390", FilterClass.HEADER_FILTER),
        ("len > 100", FilterClass.HEADER_FILTER),
        ("arp", FilterClass.ARP),
        ("rarp", FilterClass.ARP),
        ("ether proto 0x888e", FilterClass.EAPOL),
        ("ether proto 0x88cc", FilterClass.LLDP),
        ("udp port 67 or udp port 68", FilterClass.DHCP),
        ("udp dst port 68", FilterClass.DHCP),
        ("udp dst port 68 and udp[244:4] = 0x63825363", FilterClass.DHCP),
        ("", FilterClass.CAPTURE_ALL),
    ],
)
def test_common_capture_filters_are_not_suspicious(expression: str, expected: FilterClass) -> None:
    verdict = classify_expression(expression)
    assert verdict.filter_class is expected
    assert not verdict.suspicious
    assert verdict.score < 50


def test_dhcp_client_example_is_dhcp_with_its_cookie() -> None:
    result = explain(EXAMPLES["dhcp-client"].build())
    assert result.classification.filter_class is FilterClass.DHCP
    assert any("0x63825363" in reason.render() for reason in result.classification.reasons)


def test_reject_all() -> None:
    verdict = explain(Program.of([(op.RET | op.K, 0, 0, 0)])).classification
    assert verdict.filter_class is FilterClass.REJECT_ALL
    assert not verdict.suspicious


def test_filter_without_protocol_checks_on_a_raw_ip_socket_is_read_as_ipv4() -> None:
    # A hand-written filter for an AF_INET raw socket: protocol byte and payload, no version.
    program = Program.of(
        [
            (op.LD | op.B | op.ABS, 0, 0, 9),
            (op.JMP | op.JEQ | op.K, 0, 4, 17),
            (op.LDX | op.B | op.MSH, 0, 0, 0),
            (op.LD | op.H | op.IND, 0, 0, 8),
            (op.JMP | op.JEQ | op.K, 0, 1, 0x9F4F),
            (op.RET | op.K, 0, 0, 0xFFFF),
            (op.RET | op.K, 0, 0, 0),
        ]
    )
    verdict = explain(program, Link.IP).classification
    assert verdict.filter_class is FilterClass.BPFDOOR
    assert [(m.protocol, m.offset, m.value) for m in verdict.magic] == [("udp", 0, 0x9F4F)]


def test_korean_reasons_and_summary() -> None:
    result = explain(EXAMPLES["bpfdoor-classic"].build())
    assert "페이로드" in result.summary("ko")
    assert all(
        reason.render("ko") != reason.render("en") for reason in result.classification.reasons
    )


def test_json_has_the_documented_fields() -> None:
    document = explain(EXAMPLES["bpfdoor-classic"].build()).to_json()
    assert document["instructions"] == 30
    assert document["class"] == "bpfdoor"
    assert document["suspicious"] is True
    assert 0 <= document["score"] <= 100  # type: ignore[operator]
    assert document["protocols"] == ["ipv4", "tcp", "udp", "icmp"]
    assert {"protocol": "tcp", "offset": 0, "size": 2, "value": 0x5293}.items() <= (
        document["magic"][2].items()
    )  # type: ignore[index]
    assert isinstance(document["disassembly"], list) and len(document["disassembly"]) == 30
    assert document["reasons"] and document["summary"]
    assert document["bytecode"].startswith("28000000")  # type: ignore[union-attr]


def test_ecs_fields_pass_the_validator() -> None:
    from doorhunt.ecs import assert_valid, new_event

    result = explain(EXAMPLES["bpfdoor-classic"].build())
    document = new_event(
        kind="alert",
        category=["network"],
        type=["info"],
        action="filter_explained",
        **result.ecs_fields(),
    )
    assert_valid(document)
    assert document["doorhunt"]["bpf"]["class"] == "bpfdoor"  # type: ignore[index]
