"""Hypothesis strategies: valid classic programs and packets worth feeding them."""

from __future__ import annotations

import struct

from hypothesis import strategies as st

from doorhunt.bpf import opcodes as op
from doorhunt.bpf.program import Instruction, Program, check_program

# Ancillary fields whose kernel value a test can predict (no rxhash, cpu, random, queue,
# payload offset); the kernel oracle uses only these.
PREDICTABLE_ANCILLARY = (0, 4, 8, 20, 28, 40, 44, 48, 60)

_OFFSETS = st.one_of(
    st.integers(0, 80),
    st.sampled_from([12, 14, 20, 23, 26, 30, 34, 36, 42, 0xFFFF, 0x7FFFFFFF]),
    st.integers(op.SKF_NET_OFF, op.SKF_NET_OFF + 60).map(lambda v: v & 0xFFFFFFFF),
    st.integers(op.SKF_LL_OFF, op.SKF_LL_OFF + 40).map(lambda v: v & 0xFFFFFFFF),
)
_CONSTANTS = st.one_of(
    st.integers(0, 0xFF),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFFFFFF),
    st.sampled_from([0x800, 0x86DD, 17, 6, 1, 0x7255, 0x5293, 0x1FFF, 0xF0, 0xF, 0x45]),
)


@st.composite
def instruction(draw: st.DrawFn, pc: int, length: int, ancillary: tuple[int, ...]) -> Instruction:
    room = length - pc - 2  # largest forward jump that stays inside the program
    kind = draw(
        st.sampled_from(
            ["ld", "ld", "ldi", "ldx", "alu", "alu", "jmp", "jmp", "jmp", "misc", "ret", "mem"]
        )
    )
    size = draw(st.sampled_from([op.W, op.H, op.B]))
    if kind == "ld":
        mode = draw(st.sampled_from([op.ABS, op.ABS, op.IND]))
        if mode == op.ABS and ancillary and draw(st.booleans()) and draw(st.booleans()):
            offset = (op.SKF_AD_OFF + draw(st.sampled_from(ancillary))) & 0xFFFFFFFF
            return Instruction(op.LD | size | op.ABS, 0, 0, offset)
        return Instruction(op.LD | size | mode, 0, 0, draw(_OFFSETS))
    if kind == "ldi":
        code = draw(st.sampled_from([op.LD | op.IMM, op.LD | op.W | op.LEN]))
        return Instruction(code, 0, 0, draw(_CONSTANTS))
    if kind == "ldx":
        code = draw(
            st.sampled_from([op.LDX | op.B | op.MSH, op.LDX | op.IMM, op.LDX | op.W | op.LEN])
        )
        return Instruction(
            code,
            0,
            0,
            draw(_OFFSETS) if code == op.LDX | op.B | op.MSH else draw(st.integers(0, 80)),
        )
    if kind == "alu":
        operation = draw(
            st.sampled_from(
                [
                    op.ADD,
                    op.SUB,
                    op.MUL,
                    op.DIV,
                    op.MOD,
                    op.AND,
                    op.OR,
                    op.XOR,
                    op.LSH,
                    op.RSH,
                    op.NEG,
                ]
            )
        )
        if operation == op.NEG:
            return Instruction(op.ALU | op.NEG, 0, 0, 0)
        if draw(st.booleans()):
            return Instruction(op.ALU | operation | op.X, 0, 0, 0)
        k = draw(_CONSTANTS)
        if operation in (op.DIV, op.MOD):
            k = k or 1
        if operation in (op.LSH, op.RSH):
            k %= 32
        return Instruction(op.ALU | operation | op.K, 0, 0, k)
    if kind == "jmp" and room >= 0:
        operation = draw(st.sampled_from([op.JEQ, op.JGT, op.JGE, op.JSET, op.JA]))
        if operation == op.JA:
            return Instruction(op.JMP | op.JA, 0, 0, draw(st.integers(0, room)))
        source = draw(st.sampled_from([op.K, op.K, op.X]))
        jt = draw(st.integers(0, min(room, 255)))
        jf = draw(st.integers(0, min(room, 255)))
        return Instruction(op.JMP | operation | source, jt, jf, draw(_CONSTANTS))
    if kind == "misc":
        return Instruction(op.MISC | draw(st.sampled_from([op.TAX, op.TXA])), 0, 0, 0)
    if kind == "mem":
        # Stores only: loads from scratch memory need a store on every path before them,
        # which the prologue below provides.
        return Instruction(draw(st.sampled_from([op.ST, op.STX])), 0, 0, draw(st.integers(0, 3)))
    return Instruction(
        op.RET | draw(st.sampled_from([op.K, op.A])),
        0,
        0,
        draw(st.sampled_from([0, 1, 14, 40, 0xFFFF, 0x40000])),
    )


@st.composite
def programs(
    draw: st.DrawFn, max_length: int = 40, ancillary: tuple[int, ...] = PREDICTABLE_ANCILLARY
) -> Program:
    """Programs the kernel accepts: forward jumps in range, a final return, scratch memory
    read only after it is written."""
    length = draw(st.integers(1, max_length))
    prologue: list[Instruction] = []
    if draw(st.booleans()):
        prologue = [Instruction(op.ST, 0, 0, slot) for slot in range(4)]
    body = [draw(instruction(pc, length, ancillary)) for pc in range(length - 1)]
    if prologue and body and draw(st.booleans()):
        at = draw(st.integers(0, len(body) - 1))
        body[at] = Instruction(
            draw(st.sampled_from([op.LD | op.MEM, op.LDX | op.MEM])), 0, 0, draw(st.integers(0, 3))
        )
    final = Instruction(
        op.RET | draw(st.sampled_from([op.K, op.A])),
        0,
        0,
        draw(st.sampled_from([0, 0xFFFF, 0x40000, 1, 60])),
    )
    instructions = prologue + body + [final]
    # Jumps were drawn for `length`; the prologue shifts nothing past the end.
    check_program(instructions)
    return Program(tuple(instructions))


MAGICS = [0x7255, 0x5293, 0x39393939, 0x8D6C, 0xDEAD, 0x1234]


@st.composite
def ipv4_frames(draw: st.DrawFn, ethernet: bool = True) -> bytes:
    """Mostly well-formed Ethernet/IPv4 frames with UDP, TCP or ICMP, some with magic
    payloads, options, fragments and truncation."""
    protocol = draw(st.sampled_from([17, 6, 1, 17, 6, 1, 47, 132]))
    options = b"\x01" * draw(st.sampled_from([0, 0, 0, 4, 8, 40]))
    ihl = (20 + len(options)) // 4
    if protocol == 6:
        tcp_options = b"\x01" * draw(st.sampled_from([0, 0, 4, 12]))
        doff = (20 + len(tcp_options)) // 4
        transport = (
            struct.pack(
                "!HHIIBBHHH",
                draw(st.integers(0, 65535)),
                draw(st.sampled_from([22, 80, 4437, 43391])),
                0,
                0,
                doff << 4,
                draw(st.integers(0, 255)),
                512,
                0,
                0,
            )
            + tcp_options
        )
    elif protocol == 17:
        transport = struct.pack(
            "!HHHH",
            draw(st.integers(0, 65535)),
            draw(st.sampled_from([53, 67, 68, 4437, 29269])),
            8,
            0,
        )
    elif protocol == 1:
        transport = struct.pack("!BBHHH", draw(st.sampled_from([8, 0, 3])), 0, 0, 1, 1)
    else:
        transport = b""
    magic = draw(st.sampled_from(MAGICS))
    payload = draw(
        st.one_of(
            st.just(magic.to_bytes(4 if magic > 0xFFFF else 2, "big")),
            st.just(magic.to_bytes(4 if magic > 0xFFFF else 2, "little")),
            st.binary(max_size=24),
        )
    ) + draw(st.binary(max_size=8))
    fragment = draw(st.sampled_from([0, 0, 0, 0x4000, 0x2000, 0x0010]))
    body = transport + payload
    header = (
        struct.pack(
            "!BBHHHBBH4s4s",
            0x40 | ihl,
            0,
            20 + len(options) + len(body),
            1,
            fragment,
            64,
            protocol,
            0,
            bytes([10, 0, 0, 1]),
            bytes([10, 0, 0, 2]),
        )
        + options
    )
    packet = header + body
    cut = draw(st.one_of(st.just(len(packet)), st.integers(0, len(packet))))
    packet = packet[:cut]
    if not ethernet:
        return packet
    ethertype = draw(st.sampled_from([b"\x08\x00"] * 6 + [b"\x86\xdd", b"\x08\x06"]))
    return bytes.fromhex("020000000002020000000001") + ethertype + packet


def frames() -> st.SearchStrategy[bytes]:
    """Ethernet frames the kernel will carry: structured, or any 14+ bytes that are not VLAN
    tagged (the kernel strips tags before packet sockets see them)."""
    arbitrary = st.binary(min_size=14, max_size=96).filter(
        lambda frame: frame[12:14] not in (b"\x81\x00", b"\x88\xa8", b"\x91\x00")
    )
    return st.one_of(ipv4_frames(), ipv4_frames(), arbitrary)
