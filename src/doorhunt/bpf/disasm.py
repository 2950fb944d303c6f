"""`tcpdump -d` style disassembly, and the assembler that reads it back.

The layout follows libpcap's bpf_image() byte for byte, so our output diffs cleanly against
tcpdump's. Two additions: ancillary loads are named as libpcap names them (`[proto]`,
`[vlanp]`), and the kernel's negative-offset bases are spelled `[SKF_NET_OFF+n]` and
`[SKF_LL_OFF+n]` instead of a bare -1048567.
"""

from __future__ import annotations

import re

from doorhunt.bpf import opcodes as op
from doorhunt.bpf.program import BpfFormatError, Instruction, Program, validated

_LOAD_NAMES = {op.W: "ld", op.H: "ldh", op.B: "ldb"}


def _signed(value: int) -> int:
    return op.to_signed32(value)


def packet_offset(k: int) -> str:
    """A load offset as the kernel interprets it: named ancillary field, named base, or bytes."""
    offset = _signed(k)
    if offset >= 0:
        return str(offset)
    if offset >= op.SKF_AD_OFF:
        name = op.ANCILLARY.get(offset - op.SKF_AD_OFF)
        return name[1] if name else str(offset)
    if offset >= op.SKF_NET_OFF:
        return f"SKF_NET_OFF+{offset - op.SKF_NET_OFF}"
    if offset >= op.SKF_LL_OFF:
        return f"SKF_LL_OFF+{offset - op.SKF_LL_OFF}"
    return str(offset)


def instruction_text(pc: int, insn: Instruction) -> str:
    """One line of disassembly; jump targets are absolute, as in tcpdump -d."""
    code, jt, jf, k = insn
    cls, mode, size = op.bpf_class(code), op.bpf_mode(code), op.bpf_size(code)
    name, operand = "unimp", f"{code:#x}"
    if code == op.RET | op.K:
        name, operand = "ret", f"#{_signed(k)}"
    elif code == op.RET | op.A:
        name, operand = "ret", ""
    elif cls == op.LD and mode == op.ABS and size in _LOAD_NAMES:
        name, operand = _LOAD_NAMES[size], f"[{packet_offset(k)}]"
    elif cls == op.LD and mode == op.IND and size in _LOAD_NAMES:
        name, operand = _LOAD_NAMES[size], f"[x + {packet_offset(k)}]"
    elif code == op.LD | op.W | op.LEN:
        name, operand = "ld", "#pktlen"
    elif code == op.LDX | op.W | op.LEN:
        name, operand = "ldx", "#pktlen"
    elif code == op.LD | op.IMM:
        name, operand = "ld", f"#{k:#x}"
    elif code == op.LDX | op.IMM:
        name, operand = "ldx", f"#{k:#x}"
    elif code == op.LDX | op.B | op.MSH:
        name, operand = "ldxb", f"4*([{packet_offset(k)}]&0xf)"
    elif code in (op.LD | op.MEM, op.LDX | op.MEM, op.ST, op.STX):
        name = {op.LD | op.MEM: "ld", op.LDX | op.MEM: "ldx", op.ST: "st", op.STX: "stx"}[code]
        operand = f"M[{k}]"
    elif code == op.JMP | op.JA:
        name, operand = "ja", str(pc + 1 + k)
    elif cls == op.JMP and op.bpf_op(code) in op.JMP_NAMES:
        name = op.JMP_NAMES[op.bpf_op(code)]
        operand = "x" if op.bpf_src(code) == op.X else f"#{k:#x}"
        return f"({pc:03d}) {name:<8} {operand:<16} jt {pc + 1 + jt}\tjf {pc + 1 + jf}"
    elif code == op.ALU | op.NEG:
        name, operand = "neg", ""
    elif cls == op.ALU and op.bpf_op(code) in op.ALU_NAMES:
        name = op.ALU_NAMES[op.bpf_op(code)]
        if op.bpf_src(code) == op.X:
            operand = "x"
        elif op.bpf_op(code) in (op.AND, op.OR, op.XOR):
            operand = f"#{k:#x}"
        else:
            operand = f"#{_signed(k)}"
    elif code == op.MISC | op.TAX:
        name, operand = "tax", ""
    elif code == op.MISC | op.TXA:
        name, operand = "txa", ""
    return f"({pc:03d}) {name:<8} {operand}"


def disassemble(program: Program) -> list[str]:
    return [instruction_text(pc, insn) for pc, insn in enumerate(program)]


# --- assembler -------------------------------------------------------------------------------

_LINE = re.compile(
    r"^\s*\((?P<pc>\d+)\)\s+(?P<name>[a-z]+)\s*(?P<operand>.*?)"
    r"(?:\s+jt\s+(?P<jt>\d+)\s+jf\s+(?P<jf>\d+))?\s*$"
)
_NUMBER = r"-?(?:0x[0-9a-fA-F]+|\d+)"


def _number(text: str) -> int:
    value = int(text, 0)
    if not -(1 << 31) <= value < (1 << 32):
        raise ValueError(text)
    return value & 0xFFFFFFFF


def _offset(text: str) -> int:
    """Inverse of packet_offset()."""
    text = text.strip()
    if text in op.ANCILLARY_BY_SHORT_NAME:
        return (op.SKF_AD_OFF + op.ANCILLARY_BY_SHORT_NAME[text]) & 0xFFFFFFFF
    for base_name, base in (("SKF_NET_OFF", op.SKF_NET_OFF), ("SKF_LL_OFF", op.SKF_LL_OFF)):
        if text.startswith(base_name):
            rest = text[len(base_name) :].replace(" ", "")
            return (base + (int(rest, 0) if rest else 0)) & 0xFFFFFFFF
    return _number(text)


def _assemble_line(pc: int, name: str, operand: str, jt: int | None, jf: int | None) -> Instruction:
    size = {"ld": op.W, "ldh": op.H, "ldb": op.B}.get(name)
    if size is not None:
        if match := re.fullmatch(r"\[x\s*\+\s*(.+)\]", operand):
            return Instruction(op.LD | size | op.IND, 0, 0, _offset(match.group(1)))
        if match := re.fullmatch(r"\[(.+)\]", operand):
            return Instruction(op.LD | size | op.ABS, 0, 0, _offset(match.group(1)))
    if name in ("ld", "ldx"):
        cls = op.LD if name == "ld" else op.LDX
        if operand in ("#pktlen", "#len"):
            return Instruction(cls | op.W | op.LEN, 0, 0, 0)
        if match := re.fullmatch(r"M\[(\d+)\]", operand):
            return Instruction(cls | op.MEM, 0, 0, int(match.group(1)))
        if match := re.fullmatch(rf"#({_NUMBER})", operand):
            return Instruction(cls | op.IMM, 0, 0, _number(match.group(1)))
    if name == "ldxb" and (match := re.fullmatch(r"4\s*\*\s*\(\[(.+)\]\s*&\s*0xf\)", operand)):
        return Instruction(op.LDX | op.B | op.MSH, 0, 0, _offset(match.group(1)))
    if name in ("st", "stx") and (match := re.fullmatch(r"M\[(\d+)\]", operand)):
        return Instruction(op.ST if name == "st" else op.STX, 0, 0, int(match.group(1)))
    if name == "ret":
        if operand in ("", "a", "A", "#a", "#A"):
            return Instruction(op.RET | op.A, 0, 0, 0)
        if match := re.fullmatch(rf"#({_NUMBER})", operand):
            return Instruction(op.RET | op.K, 0, 0, _number(match.group(1)))
    if name == "ja" and re.fullmatch(r"\d+", operand):
        return Instruction(op.JMP | op.JA, 0, 0, (int(operand) - pc - 1) & 0xFFFFFFFF)
    jump = {value: key for key, value in op.JMP_NAMES.items()}.get(name)
    if jump is not None and jump != op.JA and jt is not None and jf is not None:
        if jt <= pc or jf <= pc or jt - pc - 1 > 255 or jf - pc - 1 > 255:
            raise ValueError("jump targets must be 1 to 256 instructions ahead")
        if operand == "x":
            return Instruction(op.JMP | jump | op.X, jt - pc - 1, jf - pc - 1, 0)
        if match := re.fullmatch(rf"#({_NUMBER})", operand):
            return Instruction(
                op.JMP | jump | op.K, jt - pc - 1, jf - pc - 1, _number(match.group(1))
            )
    alu = {value: key for key, value in op.ALU_NAMES.items()}.get(name)
    if alu is not None:
        if alu == op.NEG and operand == "":
            return Instruction(op.ALU | op.NEG, 0, 0, 0)
        if operand == "x":
            return Instruction(op.ALU | alu | op.X, 0, 0, 0)
        if match := re.fullmatch(rf"#({_NUMBER})", operand):
            return Instruction(op.ALU | alu | op.K, 0, 0, _number(match.group(1)))
    if name in ("tax", "txa") and operand == "":
        return Instruction(op.MISC | (op.TAX if name == "tax" else op.TXA), 0, 0, 0)
    if name == "unimp" and re.fullmatch(r"0x[0-9a-fA-F]+", operand):
        return Instruction(int(operand, 16) & 0xFFFF, 0, 0, 0)
    raise ValueError(f"cannot read `{name} {operand}`".rstrip())


def assemble(text: str) -> Program:
    """Read `tcpdump -d` output (or ours) back into a validated program."""
    instructions: list[Instruction] = []
    lines: list[int] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _LINE.match(line.split(";", 1)[0])
        if not match:
            raise BpfFormatError("expected `(NNN) opcode operand`", location=f"line {number}")
        pc = int(match.group("pc"))
        if pc != len(instructions):
            raise BpfFormatError(
                f"instruction ({pc:03d}) where ({len(instructions):03d}) was expected",
                location=f"line {number}",
            )
        jt = int(match.group("jt")) if match.group("jt") else None
        jf = int(match.group("jf")) if match.group("jf") else None
        try:
            instructions.append(
                _assemble_line(pc, match.group("name"), match.group("operand").strip(), jt, jf)
            )
        except ValueError as error:
            raise BpfFormatError(str(error), location=f"line {number}") from None
        lines.append(number)
    if not instructions:
        raise BpfFormatError("no instructions", location="line 1")
    return validated(instructions, lambda pc: f"line {lines[pc]}")


__all__ = ["assemble", "disassemble", "instruction_text", "packet_offset"]
