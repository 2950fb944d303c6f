"""Built-in example programs, written by us to reproduce the *shape* of published filters.

`bpfdoor-classic` has the 30-instruction layout that vendor reports describe for the classic
BPFDoor filter (BPFDOOR.md §2): IPv4 only, later fragments refused, UDP payload 0x7255,
ICMP echo request with data 0x7255, TCP payload 0x5293, accept 0xffff bytes.
`bpfdoor-multi-229` reproduces the size reported for 2026 builds (229 instructions, many
magics, no shared code between checks) and serves the benchmark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from doorhunt.bpf import opcodes as op
from doorhunt.bpf.disasm import assemble
from doorhunt.bpf.interpreter import Link
from doorhunt.bpf.program import Instruction, Program, validated

BPFDOOR_CLASSIC = """\
(000) ldh      [12]
(001) jeq      #0x800           jt 2\tjf 29
(002) ldb      [23]
(003) jeq      #0x11            jt 4\tjf 9
(004) ldh      [20]
(005) jset     #0x1fff          jt 29\tjf 6
(006) ldxb     4*([14]&0xf)
(007) ldh      [x + 22]
(008) jeq      #0x7255          jt 28\tjf 29
(009) jeq      #0x1             jt 10\tjf 17
(010) ldh      [20]
(011) jset     #0x1fff          jt 29\tjf 12
(012) ldxb     4*([14]&0xf)
(013) ldh      [x + 22]
(014) jeq      #0x7255          jt 15\tjf 29
(015) ldb      [x + 14]
(016) jeq      #0x8             jt 28\tjf 29
(017) jeq      #0x6             jt 18\tjf 29
(018) ldh      [20]
(019) jset     #0x1fff          jt 29\tjf 20
(020) ldxb     4*([14]&0xf)
(021) ldb      [x + 26]
(022) and      #0xf0
(023) rsh      #2
(024) add      x
(025) tax
(026) ldh      [x + 14]
(027) jeq      #0x5293          jt 28\tjf 29
(028) ret      #65535
(029) ret      #0
"""

DHCP_CLIENT = """\
(000) ldh      [12]
(001) jeq      #0x800           jt 2\tjf 13
(002) ldb      [23]
(003) jeq      #0x11            jt 4\tjf 13
(004) ldh      [20]
(005) jset     #0x1fff          jt 13\tjf 6
(006) ldxb     4*([14]&0xf)
(007) ldh      [x + 16]
(008) jeq      #0x44            jt 9\tjf 13
(009) ld       [x + 258]
(010) jeq      #0x63825363      jt 12\tjf 11
(011) ret      #0
(012) ret      #262144
(013) ret      #0
"""


class _Builder:
    """A program written with labels instead of jump offsets."""

    def __init__(self) -> None:
        self.items: list[tuple[int, str | None, str | None, int] | str] = []

    def add(self, code: int, k: int = 0, true: str | None = None, false: str | None = None) -> None:
        self.items.append((code, true, false, k))

    def label(self, name: str) -> None:
        self.items.append(name)

    def build(self) -> Program:
        places: dict[str, int] = {}
        count = 0
        for item in self.items:
            if isinstance(item, str):
                places[item] = count
            else:
                count += 1
        instructions: list[Instruction] = []
        for item in self.items:
            if isinstance(item, str):
                continue
            code, true, false, k = item
            pc = len(instructions)
            jt = places[true] - pc - 1 if true else 0
            jf = places[false] - pc - 1 if false else 0
            instructions.append(Instruction(code, jt, jf, k))
        return validated(instructions)


def bpfdoor_multi(magics: tuple[int, ...], tcp_udp_only: tuple[int, ...] = ()) -> Program:
    """One self-contained check per (protocol, magic), each re-testing the IPv4 headers as
    unoptimised libpcap output does."""
    build = _Builder()
    checks = [(protocol, magic) for magic in magics for protocol in ("udp", "icmp", "tcp")]
    checks += [(protocol, magic) for magic in tcp_udp_only for protocol in ("udp", "tcp")]
    for index, (protocol, magic) in enumerate(checks):
        load = op.LD | (op.W if magic > 0xFFFF else op.H) | op.IND
        build.label(f"check{index}")
        miss = f"check{index + 1}" if index + 1 < len(checks) else "drop"
        build.add(op.LD | op.H | op.ABS, 12)
        build.add(op.JMP | op.JEQ | op.K, 0x0800, None, miss)
        build.add(op.LD | op.B | op.ABS, 23)
        build.add(op.JMP | op.JEQ | op.K, {"udp": 17, "icmp": 1, "tcp": 6}[protocol], None, miss)
        build.add(op.LD | op.H | op.ABS, 20)
        build.add(op.JMP | op.JSET | op.K, 0x1FFF, miss, None)
        build.add(op.LDX | op.B | op.MSH, 14)
        if protocol == "tcp":
            build.add(op.LD | op.B | op.IND, 26)
            build.add(op.ALU | op.AND | op.K, 0xF0)
            build.add(op.ALU | op.RSH | op.K, 2)
            build.add(op.ALU | op.ADD | op.X)
            build.add(op.MISC | op.TAX)
            build.add(load, 14)
            build.add(op.JMP | op.JEQ | op.K, magic, "accept", miss)
        elif protocol == "udp":
            build.add(load, 22)
            build.add(op.JMP | op.JEQ | op.K, magic, "accept", miss)
        else:
            build.add(load, 22)
            build.add(op.JMP | op.JEQ | op.K, magic, None, miss)
            build.add(op.LD | op.B | op.IND, 14)
            build.add(op.JMP | op.JEQ | op.K, 8, "accept", miss)
    build.label("accept")
    build.add(op.RET | op.K, 0xFFFF)
    build.label("drop")
    build.add(op.RET | op.K, 0)
    return build.build()


@dataclass(frozen=True, slots=True)
class Example:
    name: str
    description: str
    link: Link
    build: Callable[[], Program]


EXAMPLES: dict[str, Example] = {
    example.name: example
    for example in (
        Example(
            "bpfdoor-classic",
            "the 30-instruction classic BPFDoor filter shape",
            Link.ETHERNET,
            lambda: assemble(BPFDOOR_CLASSIC),
        ),
        Example(
            "bpfdoor-multi-229",
            "a 229-instruction filter with 7 magics (2026 report size)",
            Link.ETHERNET,
            lambda: bpfdoor_multi((0x7255, 0x5293, 0x39393939, 0x8D6C, 0x9F4F, 0x5571), (0xDEAD,)),
        ),
        Example(
            "dhcp-client",
            "a DHCP client filter: UDP to port 68 with the BOOTP cookie",
            Link.ETHERNET,
            lambda: assemble(DHCP_CLIENT),
        ),
        Example(
            "capture-all",
            "tcpdump with no filter expression",
            Link.ETHERNET,
            lambda: Program.of([(op.RET | op.K, 0, 0, 262144)]),
        ),
    )
}


__all__ = ["EXAMPLES", "Example", "bpfdoor_multi"]
