"""Probe synthesis: every packet is accepted by the interpreter, well-formed and minimal."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given

from doorhunt.bpf.examples import EXAMPLES
from doorhunt.bpf.explain import explain, probe_json
from doorhunt.bpf.interpreter import Link, execute
from doorhunt.bpf.packets import internet_checksum
from doorhunt.bpf.probe import Probe, ProbeFailure
from doorhunt.bpf.program import Program
from tests.bpf.conftest import compile_expression, compiled_cases
from tests.bpf.strategies import programs


def assert_well_formed_ipv4(packet: bytes) -> None:
    header_length = (packet[0] & 0x0F) * 4
    assert struct.unpack("!H", packet[2:4])[0] == len(packet)
    assert internet_checksum(packet[:header_length]) == 0
    protocol, segment = packet[9], packet[header_length:]
    if protocol == 1:
        assert internet_checksum(segment) == 0
    elif protocol in (6, 17):
        pseudo = packet[12:20] + struct.pack("!BBH", 0, protocol, len(segment))
        assert internet_checksum(pseudo + segment) == 0
    if protocol == 17:
        assert struct.unpack("!H", segment[4:6])[0] == len(segment)


@pytest.mark.parametrize(("expression", "link"), compiled_cases())
def test_every_path_of_tcpdump_filters_gets_an_accepted_well_formed_probe(
    expression: str, link: Link
) -> None:
    program = compile_expression(expression, link)
    result = explain(program, link)
    probes = result.probes()
    assert len(probes) == len(result.meanings)
    for probe in probes:
        assert isinstance(probe, Probe), probe
        assert execute(program, probe.frame, link=link, meta=probe.metadata) == probe.accepted > 0
        if probe.network == "ipv4" and not probe.notes and probe.packet[0] >> 4 == 4:
            assert_well_formed_ipv4(probe.packet)


def test_bpfdoor_probes_are_the_minimal_trigger_packets() -> None:
    result = explain(EXAMPLES["bpfdoor-classic"].build())
    by_transport = {p.transport: p for p in result.probes() if isinstance(p, Probe)}
    udp, icmp, tcp = by_transport["udp"], by_transport["icmp"], by_transport["tcp"]
    assert udp.packet[28:] == b"\x72\x55" and len(udp.packet) == 30
    assert icmp.packet[20] == 8 and icmp.packet[28:] == b"\x72\x55"
    assert tcp.packet[40:] == b"\x52\x93"
    for probe in (udp, icmp, tcp):
        assert_well_formed_ipv4(probe.packet)
        assert probe.packet[12:16] == bytes([192, 0, 2, 1])  # RFC 5737 documentation address


def test_probe_for_a_length_constrained_path_grows_to_the_required_length() -> None:
    (probe,) = explain(compile_expression("ip[2:2] > 200 and udp")).probes()
    assert isinstance(probe, Probe)
    assert len(probe.packet) > 200
    assert_well_formed_ipv4(probe.packet)


def test_json_form() -> None:
    (probe,) = explain(compile_expression("udp[8:2] = 0x7255")).probes()
    document = probe_json(probe)
    assert document["ok"] is True and document["transport"] == "udp"
    assert bytes.fromhex(str(document["packet"])).endswith(b"\x72\x55")


@given(programs(max_length=30))
def test_probes_of_generated_programs_are_accepted_or_explained(program: Program) -> None:
    for link in Link:
        for probe in explain(program, link).probes():
            if isinstance(probe, ProbeFailure):
                assert probe.reason.render()
            else:
                assert execute(program, probe.frame, link=link, meta=probe.metadata) > 0
