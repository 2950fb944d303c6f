"""The scanner's wire formats: probe packets, ping-backs, rtnetlink answers, --listen."""

from __future__ import annotations

import errno
import socket
import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorhunt.bpf.codec import Format, format_program, parse_program
from doorhunt.bpf.disasm import assemble
from doorhunt.bpf.examples import EXAMPLES, bpfdoor_multi
from doorhunt.bpf.interpreter import Link, execute
from doorhunt.bpf.packets import finish
from doorhunt.bpf.program import Program
from doorhunt.emulate.implant import parse_probe
from doorhunt.scan.nonce import (
    ANSWER_TO_SOURCE,
    ListenError,
    ListenSpec,
    NonceSpace,
    bound_udp_ports,
    parse_listen,
)
from doorhunt.scan.probes import (
    ProbeError,
    ProbeOptions,
    builtin_kinds,
    checksum_ok,
    filter_kinds,
    parse_magic,
    parse_magics,
    parse_protocols,
)
from doorhunt.scan.replies import parse_datagram
from doorhunt.scan.route import (
    NLMSG_ERROR,
    RTA_GATEWAY,
    RTA_OIF,
    RTA_PREFSRC,
    RTM_NEWROUTE,
    RTN_BROADCAST,
    RTN_UNICAST,
    NoRoute,
    Route,
    RouteError,
    parse_messages,
    request,
)
from doorhunt.scan.sockets import effective_capabilities, listener_filter
from doorhunt.scan.targets import parse_address
from tests.scan.fakes import udp_datagram

ADDRESSES = st.integers(0, 0xFFFFFFFF)
PORTS = st.integers(0, 0xFFFF)


# Probes ------------------------------------------------------------------------------------


def test_magics() -> None:
    assert parse_magic("7255") == b"\x72\x55"
    assert parse_magic("0x5293") == b"\x52\x93"
    assert parse_magic("1") == b"\x00\x01"
    assert parse_magic("39393939") == b"9999"
    known = parse_magics(["known"])
    assert len(known) == 14 and b"9999" in known and b"\x55\x71" in known
    assert parse_magics(["7255,5571", "7255"]) == (b"\x72\x55", b"\x55\x71")
    for bad in ("", "0", "xyz", "123456789", "72 55", "-1"):
        with pytest.raises(ProbeError, match="--magic"):
            parse_magic(bad)
    assert parse_protocols("tcp, UDP") == ("tcp", "udp")
    with pytest.raises(ProbeError, match="--protocols"):
        parse_protocols("udp,sctp")


@given(ADDRESSES, ADDRESSES, ADDRESSES, PORTS, st.sampled_from(["udp", "icmp", "tcp"]))
def test_rendered_probes_are_what_a_sender_stack_would_send(
    source: int, destination: int, reply_ip: int, reply_port: int, protocol: str
) -> None:
    for magic in (b"\x72\x55", b"9999"):
        (kind,) = builtin_kinds([magic], (protocol,), ProbeOptions())
        assert kind.template is not None
        packet = kind.template.render(source, destination, reply_ip, reply_port)
        assert checksum_ok(packet)
        # All but the IP header checksum, which the kernel fills in (raw(7), IP_HDRINCL).
        finished = finish(packet, Link.IP)
        assert packet[:10] + packet[12:] == finished[:10] + finished[12:]
        assert struct.unpack("!II", packet[12:20]) == (source, destination)
        assert packet[-10:] == magic.ljust(4, b"\0") + struct.pack("!IH", reply_ip, reply_port)


def test_the_emulator_reads_every_built_in_probe() -> None:
    reply_ip = parse_address("198.18.1.2")
    kinds = builtin_kinds(None, ("udp", "icmp", "tcp"), ProbeOptions())
    assert [(k.protocol, k.magic_hex) for k in kinds] == [
        ("udp", "7255"),
        ("icmp", "7255"),
        ("tcp", "5293"),
    ]
    classic = EXAMPLES["bpfdoor-classic"].build()
    for kind in kinds:
        assert kind.template is not None
        packet = kind.template.render(reply_ip, parse_address("198.18.10.10"), reply_ip, 40123)
        frame = bytes(12) + b"\x08\x00" + packet
        assert execute(classic, frame, link=Link.ETHERNET)
        probe = parse_probe(frame, [0x7255, 0x5293])
        assert probe is not None and not probe.has_password
        assert (probe.reply_ip, probe.reply_port) == ("198.18.1.2", 40123)


def test_probes_from_a_filter_carry_the_reply_fields_when_the_layout_allows() -> None:
    program = bpfdoor_multi((0x5571,))
    found = filter_kinds([(program, Link.ETHERNET)], ("udp", "icmp", "tcp"))
    assert sorted((k.protocol, k.magic_hex) for k in found.kinds) == [
        ("icmp", "5571"),
        ("tcp", "5571"),
        ("udp", "5571"),
    ]
    for kind in found.kinds:
        assert kind.carries_reply and kind.template is not None and kind.origin == "filter"
        packet = kind.template.render(0x0A000001, 0x0A000002, 0x0A000001, 40000)
        assert checksum_ok(packet)
        assert execute(program, kind.frame_prefix + packet, link=Link.ETHERNET)
        probe = parse_probe(bytes(12) + b"\x08\x00" + packet, [0x5571])
        assert probe is not None and probe.reply_port == 40000
    only_udp = filter_kinds([(program, Link.ETHERNET)], ("udp",))
    assert [k.protocol for k in only_udp.kinds] == ["udp"]
    assert any("--protocols" in str(note) for note in only_udp.notes)


def test_a_filter_that_fixes_the_reply_bytes_is_sent_as_synthesized() -> None:
    # udp[8:4] = 0x72550000 and udp[12:4] = 0x01020304: the reply address is the filter's.
    program = _fixed_reply_filter()
    found = filter_kinds([(program, Link.IP)], ("udp",))
    (kind,) = found.kinds
    assert not kind.carries_reply
    assert any("4..9" in str(note) for note in found.notes)
    assert kind.template is not None
    packet = kind.template.render(0x0A000001, 0x0A000002, 0x0A000001, 40000)
    assert checksum_ok(packet) and execute(program, packet, link=Link.IP)


def _fixed_reply_filter() -> Program:
    return assemble(
        "(000) ldb      [9]\n"
        "(001) jeq      #0x11            jt 2\tjf 8\n"
        "(002) ldxb     4*([0]&0xf)\n"
        "(003) ld       [x + 8]\n"
        "(004) jeq      #0x72550000      jt 5\tjf 8\n"
        "(005) ld       [x + 12]\n"
        "(006) jeq      #0x1020304       jt 7\tjf 8\n"
        "(007) ret      #65535\n"
        "(008) ret      #0\n"
    )


def test_a_filter_that_tests_addresses_is_checked_per_target() -> None:
    program = assemble(
        "(000) ld       [16]\n"
        "(001) jeq      #0xc6120a0a      jt 2\tjf 8\n"
        "(002) ldb      [9]\n"
        "(003) jeq      #0x11            jt 4\tjf 8\n"
        "(004) ldxb     4*([0]&0xf)\n"
        "(005) ldh      [x + 8]\n"
        "(006) jeq      #0x7255          jt 7\tjf 8\n"
        "(007) ret      #65535\n"
        "(008) ret      #0\n"
    )
    found = filter_kinds([(program, Link.IP)], ("udp",))
    (kind,) = found.kinds
    assert kind.accepts is not None and any("tests IP addresses" in str(n) for n in found.notes)
    assert kind.template is not None
    wanted = kind.template.render(1, parse_address("198.18.10.10"), 1, 40000)
    other = kind.template.render(1, parse_address("198.18.10.11"), 1, 40000)
    assert kind.accepted_by_filter(wanted) and not kind.accepted_by_filter(other)


def test_payload_compares_elsewhere_are_sent_as_synthesized() -> None:
    program = parse_program(format_program(EXAMPLES["dhcp-client"].build(), Format.DECIMAL))
    found = filter_kinds([(program, Link.ETHERNET)], ("udp",))
    assert [k.protocol for k in found.kinds] == ["udp"]
    assert not found.kinds[0].carries_reply
    assert any("payload byte 0" in str(note) for note in found.notes)


# Ping-backs ---------------------------------------------------------------------------------


def test_a_ping_back_is_read() -> None:
    packet = udp_datagram(parse_address("198.18.10.10"), parse_address("198.18.1.2"), 40001, b"1")
    datagram = parse_datagram(packet)
    assert datagram is not None and datagram.pingback
    assert (datagram.source, datagram.port) == (parse_address("198.18.10.10"), 40001)
    assert parse_datagram(packet[:27]) is None
    fragment = bytearray(packet)
    fragment[6] = 0x20  # more fragments
    assert parse_datagram(bytes(fragment)) is None
    not_udp = bytearray(packet)
    not_udp[9] = 6
    assert parse_datagram(bytes(not_udp)) is None
    long_claim = bytearray(packet)
    long_claim[24:26] = struct.pack("!H", 400)
    assert parse_datagram(bytes(long_claim)) is None


@given(st.binary(max_size=120))
def test_any_bytes_are_a_datagram_or_nothing(data: bytes) -> None:
    datagram = parse_datagram(data)
    if datagram is not None:
        assert len(datagram.payload) <= len(data) - 28
        assert 0 <= datagram.port <= 0xFFFF


@given(ADDRESSES, ADDRESSES, PORTS, st.binary(max_size=40))
def test_datagrams_round_trip(source: int, destination: int, port: int, data: bytes) -> None:
    datagram = parse_datagram(udp_datagram(source, destination, port, data))
    assert datagram is not None
    assert (datagram.source, datagram.destination, datagram.port, datagram.payload) == (
        source,
        destination,
        port,
        data,
    )


# rtnetlink ----------------------------------------------------------------------------------


def _route_message(sequence: int, kind: int, attributes: list[tuple[int, bytes]]) -> bytes:
    body = struct.pack("=BBBBBBBBI", socket.AF_INET, 32, 0, 0, 254, 0, 0, kind, 0)
    for number, value in attributes:
        body += struct.pack("=HH", 4 + len(value), number) + value
        body += bytes(-len(body) % 4)
    return struct.pack("=IHHII", 16 + len(body), RTM_NEWROUTE, 0, sequence, 0) + body


def test_route_answers_are_read() -> None:
    route = _route_message(
        7,
        RTN_UNICAST,
        [
            (1, socket.inet_aton("198.18.10.10")),
            (RTA_OIF, struct.pack("=I", 3)),
            (RTA_PREFSRC, socket.inet_aton("198.18.1.2")),
            (RTA_GATEWAY, socket.inet_aton("198.18.1.1")),
            (15, struct.pack("=I", 254)),  # RTA_TABLE: ignored
        ],
    )
    error = struct.pack("=IHHII", 36, NLMSG_ERROR, 0, 8, 0) + struct.pack("=i", -errno.ENETUNREACH)
    error += request(8, 1)[:16]
    broadcast = _route_message(9, RTN_BROADCAST, [(RTA_PREFSRC, socket.inet_aton("10.0.0.1"))])
    answers = dict(parse_messages(route + error + broadcast))
    assert answers[7] == Route(
        parse_address("198.18.10.10"),
        parse_address("198.18.1.2"),
        RTN_UNICAST,
        3,
        parse_address("198.18.1.1"),
    )
    assert isinstance(answers[8], NoRoute) and answers[8].error == errno.ENETUNREACH
    assert answers[8].reason == "network is unreachable"
    assert isinstance(answers[9], Route) and not answers[9].sendable
    assert answers[9].kind_name == "broadcast"
    assert NoRoute(1, errno.EINVAL).reason == "blackhole route"
    with pytest.raises(RouteError, match="truncated"):
        parse_messages(route[:-4] + struct.pack("=I", 0) + b"\xff" * 40)


@given(st.binary(max_size=200))
def test_any_netlink_bytes_give_answers_or_a_route_error(data: bytes) -> None:
    try:
        answers = parse_messages(data)
    except RouteError:
        return
    for _, answer in answers:
        assert answer is None or isinstance(answer, Route | NoRoute)


def test_route_requests_ask_for_one_host() -> None:
    message = request(5, parse_address("198.18.10.10"))
    length, kind, flags, sequence, _ = struct.unpack_from("=IHHII", message)
    assert (length, kind, flags, sequence) == (len(message), 26, 1, 5)
    assert message[-4:] == socket.inet_aton("198.18.10.10") and message[17] == 32


# --listen and nonces -----------------------------------------------------------------------


def test_listen_forms() -> None:
    assert parse_listen("198.18.1.2") == ListenSpec(parse_address("198.18.1.2"))
    assert parse_listen("198.18.1.2:4000") == ListenSpec(parse_address("198.18.1.2"), 4000, 4000)
    assert parse_listen(":40000-40999") == ListenSpec(None, 40000, 40999)
    nat = parse_listen("255.255.255.255:50000-50100")
    assert nat.answer_to_source and nat.address == ANSWER_TO_SOURCE


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected"),
        ("1.2.3.4:99999", "1 to 65535"),
        ("1.2.3.4:0", "1 to 65535"),
        ("1.2.3.4:80-20", "ends before"),
        ("1.2.3.4:x", "1 to 65535"),
        ("1.2.3.4:", "1 to 65535"),
        ("[::1]:80", "IPv6"),
        ("::", "IPv6"),
        ("host.example:80", "not an IPv4 address"),
        ("224.0.0.1:5000", "multicast"),
        ("0.0.0.0", "this network"),
        ("240.1.2.3", "reserved"),
        ("1.2.3.4:5\n6", "expected"),
        ("9" * 100, "expected"),
    ],
)
def test_hostile_listen_values_are_refused_in_one_line(text: str, message: str) -> None:
    with pytest.raises(ListenError, match=message) as caught:
        parse_listen(text)
    assert str(caught.value).startswith("--listen: ") and "\n" not in str(caught.value)


@given(st.text(max_size=60))
def test_any_listen_text_is_a_spec_or_a_listen_error(text: str) -> None:
    try:
        spec = parse_listen(text)
    except ListenError:
        return
    assert 1 <= spec.first_port <= spec.last_port <= 65535


def test_nonce_ports_leave_out_ports_in_use() -> None:
    space = NonceSpace(ListenSpec(None, 40000, 40099), frozenset({40001, 50000}))
    assert len(space) == 99 and space.slot(40000) == 0 and space.slot(40001) == -1
    assert space.slot(40002) == 1 and space.slot(70000) == -1
    with pytest.raises(ListenError, match="at least 16"):
        NonceSpace(ListenSpec(None, 40000, 40009))


def test_bound_ports_are_read_from_proc_net_udp(tmp_path: Path) -> None:
    path = tmp_path / "udp"
    path.write_text(
        "  sl  local_address rem_address   st ...\n"
        "   0: 00000000:0044 00000000:0000 07 ...\n"
        "   1: 0100007F:9C40 00000000:0000 07 ...\n"
        "   2: garbage\n"
    )
    assert bound_udp_ports((str(path), "/nonexistent")) == {0x44, 40000}


def test_capability_bits_and_listener_filter() -> None:
    assert effective_capabilities("Name:\tx\nCapEff:\t0000000000002000\n") >> 13 & 1
    assert effective_capabilities("CapEff:\tzz\n") == 0 and effective_capabilities("") == 0
    program = listener_filter(40000, 40063)
    inside = udp_datagram(1, 2, 40010, b"1")
    assert execute(program, inside, link=Link.IP)
    assert not execute(program, udp_datagram(1, 2, 39999, b"1"), link=Link.IP)
    assert not execute(program, udp_datagram(1, 2, 40064, b"1"), link=Link.IP)
