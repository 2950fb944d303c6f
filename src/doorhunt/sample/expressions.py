"""libpcap filter expressions a sample keeps as text, compiled with tcpdump.

A build that compiles its filter at run time (pcap_compile) carries the expression instead of
the instructions: `(udp[8:2]=0x7255) or (icmp[8:2]=0x7255) or (tcp[((tcp[12]&0xf0)>>2):2]=0x5293)`
is BPFDoor's filter in libpcap's language (BPFDOOR.md §2). doorhunt recognises such strings,
compiles each with the installed tcpdump as the implant's packet socket would see it
(`tcpdump -y EN10MB -ddd -- EXPR`: Ethernet link, BPFDOOR.md §4), and hands the program to the
same analysis as an embedded array. tcpdump runs as a subprocess (never through a shell) with
a timeout; without it the expressions are reported as text, with a gap.

A string is a candidate when it is made of the characters of the language only, holds no
printf conversion, every word in it is a keyword of the language (numbers and addresses
aside), and it either indexes a protocol header and compares (`udp[8:2]=...`), or starts with
a primitive (`tcp port 22`, `host 192.0.2.1`, `not ...`, `(`) and names a port, host or
network; tcpdump's parser has the last word. The keyword rule is also a safety rule: libpcap
resolves any other word as a host, network or service name, and a sample must never make the
analyst's machine send a DNS query of the attacker's choosing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from doorhunt.bpf.codec import Format, parse_program
from doorhunt.bpf.program import Program
from doorhunt.errors import InputError
from doorhunt.sample.strings import JoinedStrings, Place, TextString

MIN_CHARS, MAX_CHARS = 6, 1024
MAX_EXPRESSIONS = 16  # candidates kept from one sample
COMPILE_TIMEOUT_SECONDS = 5.0
COMPILE_BUDGET_SECONDS = 10.0  # for all the candidates of one sample
TCPDUMP_PATHS = ("/usr/sbin/tcpdump", "/usr/bin/tcpdump")

_PROTOCOLS = (
    r"ether|fddi|tr|wlan|link|ppp|slip|ip|ip6|arp|rarp|tcp|udp|icmp|icmp6|igmp|igrp|pim|vrrp"
    r"|sctp|carp|radio"
)
_LANGUAGE = re.compile(r"^[\w \t\[\]():&|!=<>+\-*/.%^,]+$")
_PRINTF = re.compile(r"%[-+ #0-9.]*[diouxXcsfeEgGpn]")
_ACCESSOR = re.compile(rf"\b(?:{_PROTOCOLS})\s*\[")
_COMPARISON = re.compile(r"[=<>]")
_PRIMITIVE_START = re.compile(
    rf"^\s*(?:\(|!|not\b|(?:{_PROTOCOLS})\b|src\b|dst\b|host\b|net\b|port\b|portrange\b)"
)
_PRIMITIVE = re.compile(r"\b(?:port|portrange|host|net)\s+[\w.:/-]+")
_ERROR_LINE = re.compile(r"^tcpdump: ")
# What every candidate holds, as literals (fast searches): a header index or a primitive.
_HINTS = tuple(re.compile(re.escape(hint)) for hint in ("[", "port ", "host ", "net "))
_NUMBERS = re.compile(r"\b0x[0-9a-fA-F]+\b|\b\d+\b")
_WORD = re.compile(r"[A-Za-z_]\w*")
# The words of libpcap's filter language (libpcap scanner.l, pcap-filter(7)) that name no
# host, network or service.
KEYWORDS = frozenset(
    {
        *("dst", "src", "host", "gateway", "net", "netmask", "mask", "port", "portrange"),
        *("proto", "protochain", "and", "or", "not", "len", "less", "greater", "broadcast"),
        *("multicast", "inbound", "outbound", "ifindex", "vlan", "mpls", "pppoed", "pppoes"),
        *("geneve", "vxlan", "llc", "type", "subtype", "dir", "ether", "fddi", "tr", "wlan"),
        *("link", "ppp", "slip", "radio", "ip", "ip6", "arp", "rarp", "tcp", "udp", "icmp"),
        *("icmp6", "igmp", "igrp", "pim", "vrrp", "carp", "sctp", "ah", "esp", "atalk", "aarp"),
        *("decnet", "lat", "sca", "moprc", "mopdl", "iso", "esis", "isis", "clnp", "stp", "ipx"),
        *("netbeui", "tcpflags", "icmptype", "icmpcode", "icmp6type", "icmp6code", "fin", "syn"),
        *("rst", "push", "ack", "urg", "ece", "cwr", "echoreply", "unreach", "sourcequench"),
        *("redirect", "echo", "routeradvert", "routersolicit", "timxceed", "paramprob"),
        *("tstamp", "tstampreply", "ireq", "ireqreply", "maskreq", "maskreply"),
    }
)


@dataclass(frozen=True, slots=True)
class FilterExpression:
    """A libpcap expression found in the sample, and what tcpdump made of it."""

    text: str
    place: Place
    program: Program | None  # None when not compiled (no tcpdump, or tcpdump refused it)
    error: str | None  # tcpdump's complaint, or why it was not compiled

    def to_json(self) -> dict[str, object]:
        return {
            "expression": self.text,
            "place": self.place.to_json(),
            "compiled": self.program is not None,
            "instructions": len(self.program) if self.program is not None else None,
            "error": self.error,
        }


def is_candidate(text: str) -> bool:
    """Whether `text` looks like a libpcap filter expression (see the module's docstring)."""
    if not MIN_CHARS <= len(text) <= MAX_CHARS or not _LANGUAGE.match(text):
        return False
    if _PRINTF.search(text):
        return False
    if any(word.lower() not in KEYWORDS for word in _WORD.findall(_NUMBERS.sub(" ", text))):
        return False
    if _ACCESSOR.search(text) and _COMPARISON.search(text):
        return True
    return bool(_PRIMITIVE_START.match(text) and _PRIMITIVE.search(text))


def find_expressions(joined: JoinedStrings) -> list[TextString]:
    """Candidate strings, one per distinct text, at most MAX_EXPRESSIONS. Only the strings
    with a `[` or a primitive's keyword are examined (found in one pass over all of them)."""
    found: dict[str, TextString] = {}
    examined: set[int] = set()
    hints = sorted(match.start() for pattern in _HINTS for match in pattern.finditer(joined.text))
    for position in hints:
        index = joined.index_at(position)
        if index in examined:
            continue
        examined.add(index)
        string = joined.strings[index]
        value = string.value.strip()
        if value not in found and is_candidate(value):
            found[value] = string
            if len(found) >= MAX_EXPRESSIONS:
                break
    return list(found.values())


def tcpdump_path() -> str | None:
    return shutil.which("tcpdump") or next(
        (path for path in TCPDUMP_PATHS if Path(path).is_file()), None
    )


def compile_expressions(
    candidates: Iterable[TextString], tcpdump: str | None
) -> Iterator[FilterExpression]:
    """Each candidate compiled (or not: see `error`), within COMPILE_BUDGET_SECONDS."""
    started = time.monotonic()
    for string in candidates:
        text = string.value.strip()
        if tcpdump is None:
            yield FilterExpression(text, string.place, None, "tcpdump is not installed")
            continue
        if time.monotonic() - started > COMPILE_BUDGET_SECONDS:
            yield FilterExpression(text, string.place, None, "not compiled: time budget spent")
            continue
        program, error = compile_expression(text, tcpdump)
        yield FilterExpression(text, string.place, program, error)


@lru_cache(maxsize=256)
def compile_expression(expression: str, tcpdump: str) -> tuple[Program | None, str | None]:
    """(program, None), or (None, why not): tcpdump's own message, a timeout, a bad output."""
    try:
        result = subprocess.run(
            [tcpdump, "-y", "EN10MB", "-ddd", "--", expression],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=COMPILE_TIMEOUT_SECONDS,
            check=False,
            stdin=subprocess.DEVNULL,
            env={"PATH": os.defpath, "LC_ALL": "C"},
        )
    except subprocess.TimeoutExpired:
        return None, f"tcpdump did not finish in {COMPILE_TIMEOUT_SECONDS:g} s"
    except OSError as error:
        return None, f"tcpdump could not run: {error.strerror or error}"
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        message = _ERROR_LINE.sub("", lines[-1]) if lines else f"exit {result.returncode}"
        return None, message[:200]
    try:
        return parse_program(result.stdout.encode(), Format.DECIMAL), None
    except InputError as error:
        return None, f"tcpdump's output unreadable: {error}"[:200]


__all__ = [
    "FilterExpression",
    "compile_expression",
    "compile_expressions",
    "find_expressions",
    "is_candidate",
    "tcpdump_path",
]
