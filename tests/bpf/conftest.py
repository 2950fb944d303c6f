"""Filters compiled at test time by the real tcpdump (TESTING.md: never stored)."""

from __future__ import annotations

import functools
import subprocess

import pytest

from doorhunt.bpf.codec import Format, parse_program
from doorhunt.bpf.interpreter import Link
from doorhunt.bpf.program import Program
from tests.conftest import require_tool

# At least 30 expressions of the kinds that hold packet sockets in the field (BPFDOOR.md §5)
# and of BPFDoor's trigger (§2); each compiles for Ethernet and raw-IP links unless marked.
EXPRESSIONS = [
    "",
    "ip",
    "ip6",
    "arp",
    "tcp",
    "udp",
    "icmp",
    "tcp port 80",
    "tcp port 4437",
    "udp port 53",
    "tcp dst port 22 and tcp[tcpflags] & tcp-syn != 0",
    "host 192.0.2.1",
    "src net 10.0.0.0/8 and dst host 192.0.2.2",
    "udp port 67 or udp port 68",
    "udp dst port 68 and udp[244:4] = 0x63825363",
    "ether proto 0x888e",
    "ether proto 0x88cc",
    "ether dst 01:80:c2:00:00:0e",
    "vlan",
    "vlan and udp",
    "ip[2:2] > 200",
    "ip[8] < 64",
    "len > 100",
    "less 60",
    "greater 1000",
    "icmp[icmptype] = icmp-echo",
    "ip[6:2] & 0x1fff = 0",
    "tcp portrange 42391-43390",
    "not tcp and not udp",
    "ip6 and tcp port 443",
    "(udp[8:2]=0x7255) or (icmp[8:2]=0x7255) or (tcp[((tcp[12]&0xf0)>>2):2]=0x5293)",
    "udp[8:4] = 0x39393939",
    "tcp[((tcp[12]&0xf0)>>2):2] = 0x8d6c",
    "icmp[8:2] = 0xdead and icmp[0] = 8",
    "udp[8:2] = 0x5571 or udp[8:2] = 0x9f4f",
    "ether[0] & 1 = 0",
    "ip[12:4] = ip[16:4]",
]
ETHERNET_ONLY = {
    "arp",
    "ether proto 0x888e",
    "ether proto 0x88cc",
    "ether dst 01:80:c2:00:00:0e",
    "vlan",
    "vlan and udp",
    "ether[0] & 1 = 0",
}


@functools.cache
def _compile(expression: str, link: Link, optimise: bool) -> Program:
    tcpdump = require_tool("tcpdump")
    linktype = "EN10MB" if link is Link.ETHERNET else "RAW"
    output = subprocess.run(
        [tcpdump, "-y", linktype, "-ddd", *([] if optimise else ["-O"]), "--", expression],
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout
    return parse_program(output, Format.DECIMAL)


def compile_expression(
    expression: str, link: Link = Link.ETHERNET, *, optimise: bool = True
) -> Program:
    """`tcpdump -y EN10MB|RAW -ddd EXPR`, parsed."""
    return _compile(expression, link, optimise)


def compiled_cases() -> list[tuple[str, Link]]:
    return [
        (expression, link)
        for expression in EXPRESSIONS
        for link in (Link.ETHERNET, Link.IP)
        if link is Link.ETHERNET or expression not in ETHERNET_ONLY
    ]


@pytest.fixture
def tcpdump() -> str:
    return require_tool("tcpdump")
