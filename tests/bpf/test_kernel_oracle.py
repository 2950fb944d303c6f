"""The kernel as oracle: filters attached to real packet sockets in a private namespace must
accept exactly the packets the interpreter accepts (TESTING.md, STYLE.md §8)."""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doorhunt.bpf.examples import EXAMPLES
from doorhunt.bpf.explain import explain
from doorhunt.bpf.interpreter import Link, Metadata, execute
from doorhunt.bpf.probe import Probe
from doorhunt.bpf.program import Program
from tests.bpf.conftest import compile_expression, compiled_cases
from tests.bpf.strategies import frames, programs
from tests.conftest import require_root, require_tool
from tests.kernel import FilterOracle, VethLab

pytestmark = pytest.mark.root

ETHERNET_HEADER = bytes.fromhex("020000000002020000000001")


@pytest.fixture(scope="module")
def lab() -> Iterator[VethLab]:
    require_root()
    require_tool("ip")
    namespace = VethLab()
    try:
        yield namespace
    finally:
        namespace.close()


@pytest.fixture(scope="module")
def oracles(lab: VethLab) -> Iterator[dict[Link, FilterOracle]]:
    pair = {Link.ETHERNET: FilterOracle(lab), Link.IP: FilterOracle(lab, datagram=True)}
    yield pair
    for oracle in pair.values():
        oracle.close()


def metadata(oracle: FilterOracle, frame: bytes, link: Link) -> Metadata:
    """What the kernel knows about a frame received on the lab's veth (eth_type_trans())."""
    destination = frame[:6]
    if destination == oracle.b_mac:
        pkttype = 0  # PACKET_HOST
    elif destination == b"\xff" * 6:
        pkttype = 1  # PACKET_BROADCAST
    elif destination[0] & 1:
        pkttype = 2  # PACKET_MULTICAST
    else:
        pkttype = 3  # PACKET_OTHERHOST
    ethertype = struct.unpack("!H", frame[12:14])[0]
    if ethertype < 0x600:
        ethertype = 0x0001 if frame[14:16] == b"\xff\xff" else 0x0004  # ETH_P_802_3 / 802_2
    return Metadata(
        protocol=ethertype,
        pkttype=pkttype,
        ifindex=oracle.b_ifindex,
        link_header=frame[:14] if link is Link.IP else b"",
    )


def agree(oracle: FilterOracle, program: Program, link: Link, frame: bytes) -> None:
    packet = frame if link is Link.ETHERNET else frame[14:]
    expected = execute(program, packet, link=link, meta=metadata(oracle, frame, link))
    assert oracle.verdict(frame) == min(expected, len(packet)), (
        f"frame {frame.hex()}: interpreter keeps {expected}"
    )


def sample_frames(seed: int, count: int) -> list[bytes]:
    """Deterministic frames near what filters test: IPv4/IPv6/ARP with UDP/TCP/ICMP, ports,
    magics, options, fragments, truncation, plus noise."""
    chooser = random.Random(seed)
    found = []
    for _ in range(count):
        ethertype = chooser.choice([b"\x08\x00"] * 6 + [b"\x86\xdd", b"\x08\x06", b"\x88\x8e"])
        version = 0x60 if ethertype == b"\x86\xdd" else 0x45 + chooser.choice([0, 0, 0, 1, 10])
        protocol = chooser.choice([17, 6, 1, 17, 6, 47])
        header = bytearray(chooser.randbytes(60))
        header[0] = version
        header[6:8] = chooser.choice([b"\x00\x00", b"\x40\x00", b"\x20\x00", b"\x00\x10"])
        header[9] = protocol
        header[6] = protocol if version == 0x60 else header[6]
        header[20:24] = chooser.choice(
            [b"\x00\x35\x00\x44", b"\x00\x44\x00\x43", b"\x11\x55\x00\x50", header[20:24]]
        )
        magic = chooser.choice([b"\x72\x55", b"\x52\x93", b"\x39\x39\x39\x39", b"\xde\xad"])
        for place in chooser.sample(range(20, 60), 3):
            header[place : place + len(magic)] = magic
        frame = ETHERNET_HEADER + ethertype + bytes(header)
        found.append(frame[: chooser.randrange(14, len(frame) + 1)])
    return found


@pytest.mark.parametrize(("expression", "link"), compiled_cases())
def test_interpreter_agrees_with_the_kernel_on_tcpdump_filters(
    oracles: dict[Link, FilterOracle], expression: str, link: Link
) -> None:
    program = compile_expression(expression, link)
    oracle = oracles[link]
    oracle.attach(program)
    probes = [
        probe
        for probe in explain(program, link).probes()
        if isinstance(probe, Probe) and all(note.code != "vlan" for note in probe.notes)
    ]
    # A frame tagged 0x8100 reaches packet-socket filters untagged (skb_vlan_untag()), so a
    # probe for an offline-compiled `vlan` filter cannot be sent as is; see the probe's note.
    for probe in probes:
        frame = (
            probe.frame if link is Link.ETHERNET else ETHERNET_HEADER + b"\x08\x00" + probe.frame
        )
        assert oracle.verdict(frame), f"the kernel dropped the synthesized probe {frame.hex()}"
    for frame in sample_frames(hash(expression) & 0xFFFF, 150):
        agree(oracle, program, link, frame)


@pytest.mark.parametrize("link", list(Link))
@pytest.mark.parametrize("name", ["bpfdoor-classic", "bpfdoor-multi-229"])
def test_probes_of_the_examples_pass_the_kernel(
    oracles: dict[Link, FilterOracle], name: str, link: Link
) -> None:
    program = EXAMPLES[name].build()
    oracle = oracles[Link.ETHERNET]
    oracle.attach(program)
    probes = [p for p in explain(program, Link.ETHERNET).probes() if isinstance(p, Probe)]
    assert len(probes) == len(explain(program, Link.ETHERNET).meanings)
    for probe in probes:
        assert oracle.verdict(probe.frame) == len(probe.frame)
    del link


@settings(max_examples=150, deadline=None)
@given(
    programs(max_length=40), st.lists(frames(), min_size=1, max_size=6), st.sampled_from(list(Link))
)
def test_interpreter_agrees_with_the_kernel_on_generated_programs(
    oracles: dict[Link, FilterOracle], program: Program, batch: list[bytes], link: Link
) -> None:
    oracle = oracles[link]
    oracle.attach(program)
    for frame in batch:
        agree(oracle, program, link, frame)
