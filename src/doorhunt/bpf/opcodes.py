"""Classic BPF instruction encoding, as in include/uapi/linux/filter.h and linux/bpf_common.h."""

from __future__ import annotations

from typing import Final

# Instruction classes.
LD: Final = 0x00
LDX: Final = 0x01
ST: Final = 0x02
STX: Final = 0x03
ALU: Final = 0x04
JMP: Final = 0x05
RET: Final = 0x06
MISC: Final = 0x07

# Load sizes.
W: Final = 0x00
H: Final = 0x08
B: Final = 0x10

# Load modes.
IMM: Final = 0x00
ABS: Final = 0x20
IND: Final = 0x40
MEM: Final = 0x60
LEN: Final = 0x80
MSH: Final = 0xA0

# ALU and jump operations.
ADD: Final = 0x00
SUB: Final = 0x10
MUL: Final = 0x20
DIV: Final = 0x30
OR: Final = 0x40
AND: Final = 0x50
LSH: Final = 0x60
RSH: Final = 0x70
NEG: Final = 0x80
MOD: Final = 0x90
XOR: Final = 0xA0

JA: Final = 0x00
JEQ: Final = 0x10
JGT: Final = 0x20
JGE: Final = 0x30
JSET: Final = 0x40

# Operand source.
K: Final = 0x00
X: Final = 0x08
# RET source (BPF_RVAL): K or A.
A: Final = 0x10

TAX: Final = 0x00
TXA: Final = 0x80

MEMWORDS: Final = 16
MAXINSNS: Final = 4096  # BPF_MAXINSNS

# Negative offsets (include/uapi/linux/filter.h).
SKF_AD_OFF: Final = -0x1000
SKF_NET_OFF: Final = -0x100000
SKF_LL_OFF: Final = -0x200000

# Ancillary data loads, SKF_AD_OFF + n: the kernel's constant name, and the short name that
# libpcap's bpf_image() prints in `tcpdump -d` (checked against libpcap 1.10).
ANCILLARY: Final[dict[int, tuple[str, str]]] = {
    0: ("SKF_AD_PROTOCOL", "proto"),
    4: ("SKF_AD_PKTTYPE", "type"),
    8: ("SKF_AD_IFINDEX", "ifidx"),
    12: ("SKF_AD_NLATTR", "nla"),
    16: ("SKF_AD_NLATTR_NEST", "nlan"),
    20: ("SKF_AD_MARK", "mark"),
    24: ("SKF_AD_QUEUE", "queue"),
    28: ("SKF_AD_HATYPE", "hatype"),
    32: ("SKF_AD_RXHASH", "rxhash"),
    36: ("SKF_AD_CPU", "cpu"),
    40: ("SKF_AD_ALU_XOR_X", "xor_x"),
    44: ("SKF_AD_VLAN_TAG", "vlan_tci"),
    48: ("SKF_AD_VLAN_TAG_PRESENT", "vlanp"),
    52: ("SKF_AD_PAY_OFFSET", "poff"),
    56: ("SKF_AD_RANDOM", "random"),
    60: ("SKF_AD_VLAN_TPID", "vlan_tpid"),
}
ANCILLARY_BY_SHORT_NAME: Final = {short: off for off, (_, short) in ANCILLARY.items()}

# Every opcode the kernel accepts in a classic program (net/core/filter.c, chk_code_allowed()).
ALLOWED_CODES: Final = frozenset(
    [ALU | op | src for op in (ADD, SUB, MUL, DIV, MOD, AND, OR, XOR, LSH, RSH) for src in (K, X)]
    + [ALU | NEG]
    + [LD | size | ABS for size in (W, H, B)]
    + [LD | size | IND for size in (W, H, B)]
    + [LD | W | LEN, LD | IMM, LD | MEM]
    + [LDX | W | LEN, LDX | B | MSH, LDX | IMM, LDX | MEM]
    + [ST, STX, MISC | TAX, MISC | TXA, RET | K, RET | A, JMP | JA]
    + [JMP | op | src for op in (JEQ, JGT, JGE, JSET) for src in (K, X)]
)

SIZE_BYTES: Final = {W: 4, H: 2, B: 1}
SIZE_SUFFIX: Final = {W: "", H: "h", B: "b"}

ALU_NAMES: Final = {
    ADD: "add",
    SUB: "sub",
    MUL: "mul",
    DIV: "div",
    OR: "or",
    AND: "and",
    LSH: "lsh",
    RSH: "rsh",
    NEG: "neg",
    MOD: "mod",
    XOR: "xor",
}
JMP_NAMES: Final = {JA: "ja", JEQ: "jeq", JGT: "jgt", JGE: "jge", JSET: "jset"}


def bpf_class(code: int) -> int:
    return code & 0x07


def bpf_size(code: int) -> int:
    return code & 0x18


def bpf_mode(code: int) -> int:
    return code & 0xE0


def bpf_op(code: int) -> int:
    return code & 0xF0


def bpf_src(code: int) -> int:
    return code & 0x08


def bpf_rval(code: int) -> int:
    return code & 0x18


def bpf_miscop(code: int) -> int:
    return code & 0xF8


def to_signed32(value: int) -> int:
    """The kernel reads `k` as `int` for packet offsets."""
    value &= 0xFFFFFFFF
    return value - 0x1_0000_0000 if value & 0x8000_0000 else value
