"""The reference interpreter: classic BPF with the Linux kernel's exact semantics.

Source of each rule (net/core/filter.c, Linux 4.18+ where classic programs are converted to
eBPF by bpf_convert_filter()):
  * A and X start at 0; registers are 32-bit (ALU32 operations).
  * A packet load that falls outside the packet makes the program return 0
    (convert_bpf_ld_abs(): `if (A < 0) return 0` after bpf_skb_load_helper_*()).
  * Negative offsets: [SKF_AD_OFF, 0) are ancillary fields (absolute loads only);
    [SKF_NET_OFF, SKF_AD_OFF) count from the network header and [SKF_LL_OFF, SKF_NET_OFF) from
    the link header (bpf_internal_load_pointer_neg_helper()); anything lower fails.
  * Indirect loads add X and k in 32 bits and read the sum as a signed int.
  * `ldxb 4*([k]&0xf)` is a plain byte load, never ancillary.
  * Division or modulo by X == 0 returns 0; shifts by X use X & 31 (eBPF ALU32 semantics).
  * Jumps compare unsigned 32-bit values.

What the filter sees depends on the socket (BPFDOOR.md §4): an Ethernet SOCK_RAW packet socket
sees the frame from the link header; a SOCK_DGRAM packet socket and an AF_INET raw socket see the
packet from the IP header. The kernel strips a VLAN tag before packet sockets run their filter
(__netif_receive_skb_core → skb_vlan_untag), so tagged frames reach the filter untagged, with the
tag in `Metadata.vlan_tci`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import StrEnum

from doorhunt.bpf import opcodes as op
from doorhunt.bpf.program import Program

U32 = 0xFFFFFFFF


class Link(StrEnum):
    """Where the filter's offset 0 is."""

    ETHERNET = "ethernet"  # packet socket, SOCK_RAW, Ethernet device: offset 0 = link header
    IP = "ip"  # packet socket SOCK_DGRAM, or AF_INET/AF_INET6 raw socket: offset 0 = IP header

    @property
    def network_offset(self) -> int:
        return 14 if self is Link.ETHERNET else 0


@dataclass(frozen=True, slots=True)
class Metadata:
    """Packet metadata behind the ancillary loads (SKF_AD_*); defaults are a received IPv4
    packet on an Ethernet device."""

    protocol: int = 0x0800  # ntohs(skb->protocol)
    pkttype: int = 0  # PACKET_HOST
    ifindex: int = 2
    mark: int = 0
    queue: int = 0
    hatype: int = 1  # ARPHRD_ETHER
    rxhash: int = 0
    cpu: int = 0
    vlan_tci: int = 0
    vlan_present: bool = False
    vlan_tpid: int = 0
    random: int = 0
    payload_offset: int | None = None  # SKF_AD_PAY_OFFSET; None = computed from the headers
    link_header: bytes = b""  # bytes before offset 0 that SKF_LL_OFF loads see (Link.IP only)


DEFAULT_METADATA = Metadata()


class _Drop(Exception):
    """A failed load: the program returns 0."""


@dataclass(frozen=True, slots=True)
class _Buffer:
    """The linear skb data as the filter sees it."""

    data: bytes  # from the filter's offset 0 to the tail
    whole: bytes  # link header (if separate) + data: what negative offsets can reach
    data_start: int  # index of data[0] in whole
    network: int  # index of the network header in whole
    link: int  # index of the link (mac) header in whole

    @classmethod
    def of(cls, data: bytes, link: Link, meta: Metadata) -> _Buffer:
        if link is Link.ETHERNET:
            return cls(data, data, 0, 14, 0)
        header = meta.link_header
        return cls(data, header + data, len(header), len(header), 0)

    def load(self, offset: int, size: int) -> int:
        if offset >= 0:
            end = offset + size
            if end > len(self.data):
                raise _Drop
            return int.from_bytes(self.data[offset:end], "big")
        if offset >= op.SKF_NET_OFF:
            start = self.network + offset - op.SKF_NET_OFF
        elif offset >= op.SKF_LL_OFF:
            start = self.link + offset - op.SKF_LL_OFF
        else:
            raise _Drop
        if start < 0 or start + size > len(self.whole):
            raise _Drop
        return int.from_bytes(self.whole[start : start + size], "big")


def execute(
    program: Program,
    packet: bytes,
    *,
    link: Link = Link.ETHERNET,
    meta: Metadata = DEFAULT_METADATA,
    trace: list[int] | None = None,
) -> int:
    """Run `program` on `packet`; return what the kernel's filter returns (0 = drop, else the
    number of bytes to keep). With `trace`, append each executed instruction index to it."""
    buffer = _Buffer.of(packet, link, meta)
    a = x = 0
    memory = [0] * op.MEMWORDS
    instructions = program.instructions
    pc = 0
    try:
        while True:
            if trace is not None:
                trace.append(pc)
            code, jt, jf, k = instructions[pc]
            pc += 1
            cls = code & 0x07
            if cls == op.RET:
                return a if op.bpf_rval(code) == op.A else k
            if cls == op.LD:
                mode = op.bpf_mode(code)
                if mode == op.ABS:
                    offset = op.to_signed32(k)
                    if op.SKF_AD_OFF <= offset < 0:
                        a = ancillary(offset - op.SKF_AD_OFF, a, x, buffer.data, link, meta)
                    else:
                        a = buffer.load(offset, op.SIZE_BYTES[op.bpf_size(code)])
                elif mode == op.IND:
                    a = buffer.load(op.to_signed32(x + k), op.SIZE_BYTES[op.bpf_size(code)])
                elif mode == op.LEN:
                    a = len(packet)
                elif mode == op.IMM:
                    a = k
                else:
                    a = memory[k]
            elif cls == op.LDX:
                mode = op.bpf_mode(code)
                if mode == op.MSH:
                    x = (buffer.load(op.to_signed32(k), 1) & 0x0F) << 2
                elif mode == op.LEN:
                    x = len(packet)
                elif mode == op.IMM:
                    x = k
                else:
                    x = memory[k]
            elif cls == op.ST:
                memory[k] = a
            elif cls == op.STX:
                memory[k] = x
            elif cls == op.ALU:
                operand = x if op.bpf_src(code) == op.X else k
                a = alu(op.bpf_op(code), a, operand)
            elif cls == op.JMP:
                operation = op.bpf_op(code)
                if operation == op.JA:
                    pc += k
                else:
                    operand = x if op.bpf_src(code) == op.X else k
                    pc += jt if jump_taken(operation, a, operand) else jf
            elif op.bpf_miscop(code) == op.TAX:
                x = a
            else:
                a = x
    except _Drop:
        return 0


def alu(operation: int, a: int, operand: int) -> int:
    """One ALU32 operation; raises _Drop on division by zero."""
    if operation == op.ADD:
        return (a + operand) & U32
    if operation == op.SUB:
        return (a - operand) & U32
    if operation == op.MUL:
        return (a * operand) & U32
    if operation == op.DIV:
        if operand == 0:
            raise _Drop
        return a // operand
    if operation == op.MOD:
        if operand == 0:
            raise _Drop
        return a % operand
    if operation == op.AND:
        return a & operand
    if operation == op.OR:
        return a | operand
    if operation == op.XOR:
        return a ^ operand
    if operation == op.LSH:
        return (a << (operand & 31)) & U32
    if operation == op.RSH:
        return a >> (operand & 31)
    return (-a) & U32  # NEG


def jump_taken(operation: int, a: int, operand: int) -> bool:
    if operation == op.JEQ:
        return a == operand
    if operation == op.JGT:
        return a > operand
    if operation == op.JGE:
        return a >= operand
    return a & operand != 0  # JSET


def ancillary(field: int, a: int, x: int, data: bytes, link: Link, meta: Metadata) -> int:
    """The value of an ancillary load (convert_bpf_extensions() in net/core/filter.c)."""
    if field == 0:
        return meta.protocol & 0xFFFF
    if field == 4:
        return meta.pkttype & 0x7
    if field == 8:
        return meta.ifindex & U32
    if field in (12, 16):
        return _netlink_attribute(data, a, x, nested=field == 16)
    if field == 20:
        return meta.mark & U32
    if field == 24:
        return meta.queue & 0xFFFF
    if field == 28:
        return meta.hatype & 0xFFFF
    if field == 32:
        return meta.rxhash & U32
    if field == 36:
        return meta.cpu & U32
    if field == 40:
        return a ^ x
    if field == 44:
        return meta.vlan_tci & 0xFFFF
    if field == 48:
        return int(meta.vlan_present)
    if field == 52:
        return payload_offset(data, link) if meta.payload_offset is None else meta.payload_offset
    if field == 56:
        return meta.random & U32
    return meta.vlan_tpid & 0xFFFF  # 60, SKF_AD_VLAN_TPID


def payload_offset(data: bytes, link: Link) -> int:
    """A simplified skb_get_poff(): offset of the transport payload for IPv4/IPv6 TCP/UDP/ICMP;
    the network header offset when the headers cannot be read (the kernel returns 0 then)."""
    network = link.network_offset
    if link is Link.ETHERNET and (len(data) < 14 or data[12:14] not in (b"\x08\x00", b"\x86\xdd")):
        return 0
    if len(data) < network + 1:
        return 0
    version = data[network] >> 4
    if version == 4 and len(data) >= network + 20:
        transport, protocol = network + (data[network] & 0x0F) * 4, data[network + 9]
    elif version == 6 and len(data) >= network + 40:
        transport, protocol = network + 40, data[network + 6]
    else:
        return 0
    if protocol == 6 and len(data) >= transport + 13:
        return transport + (data[transport + 12] >> 4) * 4
    return transport + {17: 8, 1: 8, 58: 8}.get(protocol, 0)


_NLATTR = struct.Struct("=HH")


def _netlink_attribute(data: bytes, a: int, x: int, *, nested: bool) -> int:
    """__skb_get_nlattr() / __skb_get_nlattr_nest(): offset of attribute type X at or in A."""
    if len(data) < 4 or a > len(data) - 4:
        return 0
    start, end = a, len(data)
    if nested:
        length, _ = _NLATTR.unpack_from(data, a)
        if length > len(data) - a:
            return 0
        start, end = a + 4, a + length
    while end - start >= 4:
        length, kind = _NLATTR.unpack_from(data, start)
        if length < 4 or length > end - start:
            break
        if kind & 0x3FFF == x:
            return start
        start += (length + 3) & ~3
    return 0


__all__ = ["DEFAULT_METADATA", "Link", "Metadata", "execute"]
