"""What a program's code writes to its own stack, and the constants it compares with.

BPFDoor keeps its passwords, paths and (in unoptimised builds) its socket filter out of the
string table by writing them to a local array one immediate at a time (Elastic Security Labs,
"A peek behind the BPFDoor", 2022; their extractor emulates the first 256 bytes of `main`).
doorhunt disassembles (capstone) every stretch of code where such store runs start, follows
the values that immediates put into registers, and replays every store into a frame-relative
buffer (`[rbp - 0x100]`, `[rsp + 0x70]`); the rebuilt buffers then go through the same string
and filter finders as the file itself. It also confirms which published constants (the
bind-port range, the back-dated timestamp, code-checked magics) the code uses as immediates.

This is a model of straight-line stores, not an emulator: a register is known only between an
immediate load and the next instruction that writes it, and buffers are closed at returns,
unconditional jumps and any change of the frame register. Supported: x86 and x86-64.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from doorhunt.bpf import opcodes as op
from doorhunt.sample.elf import ElfImage

try:  # an optional dependency: without it the sweep is skipped and the gap reported
    import capstone  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - exercised only where capstone is missing
    capstone = None

# The stores a byte pre-scan reads without decoding (Intel SDM, MOV): C6/C7 /0 to
# [rbp/ebp+disp] (ModRM 0x45/0x85) or [rsp/esp+disp] (ModRM 0x44/0x84, SIB 0x24), and REX.W
# B8+r (movabs, the 64-bit immediate that optimised builds store from). Each pattern starts
# with a literal byte: Python's regular expressions scan for a literal prefix at memory speed,
# and for a leading character class at a tenth of it.
_FRAME_OPERAND = rb"(?:\x45.|\x44\x24.|\x85....|\x84\x24....)"
# A byte store of a printable character; a word store (operand-size prefix 0x66); a dword
# store of a string's next four bytes (two printable, then printable or NUL: a string is
# stored from its start); movabs (REX.W B8+r) of 8 bytes.
_BYTE_TEXT_STORE = re.compile(rb"\xc6" + _FRAME_OPERAND + rb"[\x20-\x7e]", re.DOTALL)
_WORD_STORE = re.compile(rb"\x66\xc7" + _FRAME_OPERAND + rb"(?P<immediate>..)", re.DOTALL)
_DWORD_TEXT_STORE = re.compile(
    rb"\xc7" + _FRAME_OPERAND + rb"(?P<immediate>[\x20-\x7e]{2}[\x00\x20-\x7e]{2})", re.DOTALL
)
# movabs of 8 text bytes, or of a sock_filter instruction whose opcode is in _FILTER_CODES.
_MOVABS_IMMEDIATE = (
    rb"[\xb8-\xbf](?:[\x00\x20-\x7e]{8}"
    rb"|[\x06\x15\x16\x1d\x20\x25\x28\x30\x35\x40\x45\x48\x50\xb1]\x00)"
)
_MOVABS = (
    re.compile(rb"\x48" + _MOVABS_IMMEDIATE, re.DOTALL),
    re.compile(rb"\x49" + _MOVABS_IMMEDIATE, re.DOTALL),
)
# A rip-relative 16-byte load (0F 10/28/6F with ModRM mod 00 r/m 101): optimised builds copy
# a string constant to the stack through a vector register.
_VECTOR_RIP_LOAD = re.compile(rb"\x0f[\x10\x28\x6f][\x05\x0d\x15\x1d\x25\x2d\x35\x3d]")
CLUSTER_GAP = 96  # bytes between two interesting stores of the same run
WINDOW_LEAD, WINDOW_TAIL = 16, 96  # decoded around a run (x86 decoding resynchronises)
# A run is decoded when it stores text (a stack string: MIN_TEXT_BYTES printable bytes, the
# shortest string doorhunt reports) or sock_filter fields (a stack-built filter:
# MIN_FILTER_STORES stores of the opcodes every packet filter has).
MIN_TEXT_BYTES = 4
MIN_FILTER_STORES = 4
# Per-file bound on decoding: the most interesting runs are decoded first, and the rest is a
# gap; at about 4 microseconds an instruction this keeps the decoding near a tenth of a second.
# An implant has a few thousand stores to its stack; a 10 MB C++ program, tens of thousands.
MAX_INSTRUCTIONS = 30_000
MAX_CANDIDATE_STORES = 400_000
WINDOW_BYTES = 1 << 16
MAX_IMMEDIATE_CANDIDATES = 20_000  # occurrences of a wanted constant's bytes examined
MAX_INSTRUCTION_BYTES = 15  # Intel SDM: the longest x86 instruction
MAX_FRAME_OFFSET = 1 << 20
MAX_BUFFER_BYTES = 1 << 16
MIN_BUFFER_BYTES = 4
# sock_filter codes a stack-built filter stores as 16-bit immediates (linux/filter.h): packet
# loads, conditional jumps and returns, the instructions every packet filter has.
_Store = tuple[int, str, int]  # (position, kind, weight)
_FILTER_CODES = frozenset(
    {0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0xB1, 0x15, 0x1D, 0x25, 0x35, 0x45, 0x06, 0x16}
)

_ARCHITECTURES = {62: ("x86-64", 64), 3: ("x86", 32)}

_GPR = {
    "a": ("rax", "eax", "ax", "al"),
    "b": ("rbx", "ebx", "bx", "bl"),
    "c": ("rcx", "ecx", "cx", "cl"),
    "d": ("rdx", "edx", "dx", "dl"),
    "si": ("rsi", "esi", "si", "sil"),
    "di": ("rdi", "edi", "di", "dil"),
    "bp": ("rbp", "ebp", "bp", "bpl"),
    "sp": ("rsp", "esp", "sp", "spl"),
    **{f"r{n}": (f"r{n}", f"r{n}d", f"r{n}w", f"r{n}b") for n in range(8, 16)},
}
# register name -> (canonical register, width in bytes)
_REGISTERS: dict[str, tuple[str, int]] = {
    name: (canonical, width)
    for canonical, names in _GPR.items()
    for name, width in zip(names, (8, 4, 2, 1), strict=True)
}
_REGISTERS.update({name: (name[0] + "x", 0) for name in ("ah", "bh", "ch", "dh")})
# System V AMD64 and i386 cdecl: a call may change these (and every vector register).
_CALLER_SAVED = ("a", "c", "d", "si", "di", "r8", "r9", "r10", "r11")
_FRAME_REGISTERS = {"rbp": "bp", "ebp": "bp", "rsp": "sp", "esp": "sp"}
_WIDTHS = {"byte": 1, "word": 2, "dword": 4, "qword": 8, "xmmword": 16}
_VECTOR_STORES = frozenset(
    {"movups", "movaps", "movdqa", "movdqu", "vmovups", "vmovaps", "vmovdqa", "vmovdqu"}
)
_ZEROING = frozenset({"xor", "pxor", "xorps", "xorpd", "vpxor", "vxorps", "sub"})
_ENDS_BLOCK = frozenset({"ret", "jmp", "hlt", "ud2", "int3", "retf", "iret", "iretd", "iretq"})
_STACK_POINTER_WRITES = frozenset({"push", "pop", "pushf", "popf", "pushfq", "popfq", "leave"})

_NUMBER = r"-?(?:0x[0-9a-f]+|\d+)"
_STORE = re.compile(
    r"^(byte|word|dword|qword|xmmword) ptr \[(rbp|rsp|ebp|esp)(?: ([+-]) (0x[0-9a-f]+|\d+))?\], "
    r"(\S+)$"
)
_RIP_LOAD = re.compile(r"^(xmm\d+), xmmword ptr \[rip ([+-]) (0x[0-9a-f]+|\d+)\]$")
_IMMEDIATE = re.compile(rf"^{_NUMBER}$")
_LAST_IMMEDIATE = re.compile(rf", ({_NUMBER})$")


@dataclass(frozen=True, slots=True)
class StackBuffer:
    """Bytes that a run of stores wrote to consecutive frame offsets."""

    address: int  # address of the first store into this buffer
    frame: str  # "bp" or "sp": the register the stores were relative to
    frame_offset: int  # offset of the first byte from that register
    data: bytes


@dataclass(frozen=True, slots=True)
class CodeScan:
    """The result of one sweep over a program's code."""

    architecture: str
    buffers: tuple[StackBuffer, ...]
    constants: dict[int, int] = field(hash=False)  # immediate value -> first address using it
    instructions: int = 0
    complete: bool = True

    def has_constant(self, value: int, bits: int = 32) -> bool:
        """Whether `value` (an unsigned `bits`-wide number) is an immediate somewhere, in any
        of the forms a compiler gives it: as is, sign-extended to 32 or 64 bits (gcc loads
        0xa597 for a 16-bit store as `mov edx, 0xffffa597`), or printed negative."""
        return any(form in self.constants for form in _immediate_forms(value, bits))


def supported_architecture(image: ElfImage) -> str | None:
    entry = _ARCHITECTURES.get(image.header.machine)
    return entry[0] if entry else None


def sweep_code(image: ElfImage, wanted: Iterable[tuple[int, int]] = ()) -> CodeScan | None:
    """Rebuild stack buffers from the store runs in every executable region, and find which
    of the `wanted` (value, bits) constants the code uses as immediates. None when the
    architecture is not supported or capstone is not installed (the caller reports the gap).

    Only runs of stores that write text or sock_filter fields are decoded, found by a byte
    pre-scan of the store encodings and their immediates (`_interesting_stores`), the most
    interesting first, within MAX_INSTRUCTIONS; a wanted constant is confirmed by decoding
    the instruction that ends with its bytes. The cost follows what is interesting, not the
    size of the code (a 10 MB C++ program has two million instructions and a few hundred
    stack strings)."""
    entry = _ARCHITECTURES.get(image.header.machine)
    if entry is None or entry[1] != image.header.elf_class or capstone is None:
        return None
    name, bits = entry
    disassembler = _disassembler(bits)
    sweep = _Sweep(image, bits)
    targets = list(wanted)
    windows: list[tuple[int, int, int, bytes, int]] = []  # (-score, start, end, code, base)
    for region in image.code_regions:
        code = image.data[region.offset : region.end]
        stores = _interesting_stores(code, region.address, image, bits)
        windows += [
            (-score, start, end, code, region.address)
            for start, end, score in _store_windows(code, stores)
        ]
        for value, width in targets:
            _confirm_immediate(disassembler, sweep.constants, code, region.address, value, width)
    windows.sort(key=lambda window: window[:3])
    for _, start, end, code, base in windows:
        if not sweep.budget_left():
            break
        _decode(disassembler, sweep, code, base, start, end)
        sweep.end_block()
    buffers = sorted(sweep.buffers, key=lambda buffer: (buffer.address, buffer.frame_offset))
    return CodeScan(name, tuple(buffers), sweep.constants, sweep.instructions, sweep.complete)


def disassembler_for(bits: int) -> Any | None:
    """The shared capstone x86 disassembler for 32- or 64-bit code; None without capstone."""
    return None if capstone is None else _disassembler(bits)


@cache
def _disassembler(bits: int) -> Any:
    disassembler = capstone.Cs(
        capstone.CS_ARCH_X86, capstone.CS_MODE_64 if bits == 64 else capstone.CS_MODE_32
    )
    disassembler.skipdata = True  # undecodable bytes come out as `.byte`, not as a stop
    return disassembler


def _interesting_stores(code: bytes, base: int, image: ElfImage, bits: int) -> list[_Store]:
    """Stores whose immediate is text (printable bytes) or a sock_filter field, read from the
    encodings without decoding (Intel SDM, MOV C6/C7 /0, REX.W B8+r, and the 16-byte loads
    that copy a constant to the stack), sorted by position; at most MAX_CANDIDATE_STORES."""
    found: list[_Store] = []
    for match in _BYTE_TEXT_STORE.finditer(code):
        found.append((match.start(), "text", 1))
    for pattern in (_WORD_STORE, _DWORD_TEXT_STORE):
        for match in pattern.finditer(code):
            position = match.start()
            if pattern is _WORD_STORE:
                position += 1  # at the C7, as the other stores
            elif position and code[position - 1] == 0x66:
                continue  # a word store, read by _WORD_STORE
            store = _classify(position, match.group("immediate"))
            if store:
                found.append(store)
            if len(found) >= MAX_CANDIDATE_STORES:
                return sorted(found)
    if bits == 64:  # in 32-bit code 0x48/0x49 are `dec`, not REX.W
        for pattern in _MOVABS:
            for match in pattern.finditer(code):
                store = _classify(match.start(), code[match.start() + 2 : match.start() + 10])
                if store:
                    found.append(store)
    for match in _VECTOR_RIP_LOAD.finditer(code):
        position = match.start()
        displacement = code[position + 3 : position + 7]
        if len(displacement) < 4:
            break
        offset = int.from_bytes(displacement, "little", signed=bits == 64)
        target = base + position + 7 + offset if bits == 64 else offset & 0xFFFFFFFF
        constant = image.read_virtual(target, 16)
        store = _classify(position, constant) if constant is not None else None
        if store and store[1] == "text":
            found.append(store)
    found.sort()
    return found[:MAX_CANDIDATE_STORES]


def _classify(position: int, value: bytes) -> _Store | None:
    """A store of `value`: `text` (printable bytes and NULs; weight: the printable ones),
    `filter` (a sock_filter opcode as 16 bits, or a whole well-formed instruction as 64),
    `filter-other` (another opcode: extends a filter run, never starts one), or None."""
    width = len(value)
    if width == 2:
        code = int.from_bytes(value, "little")
        if code in _FILTER_CODES:
            return (position, "filter", 1)
        if code and code in op.ALLOWED_CODES:
            return (position, "filter-other", 0)
    if width == 8:
        code, jt, jf = int.from_bytes(value[:2], "little"), value[2], value[3]
        conditional = code & 0x07 == op.JMP and code & 0xF0 != op.JA
        if code in _FILTER_CODES and (conditional or jt == jf == 0):
            return (position, "filter", 1)
    printable = sum(1 for byte in value if 0x20 <= byte <= 0x7E)
    if printable and printable + value.count(0) == width and printable * 2 >= width:
        return (position, "text", printable)
    return None


def _store_windows(code: bytes, stores: list[_Store]) -> list[tuple[int, int, int]]:
    """(start, end, score) of the stretches where interesting stores cluster (within
    CLUSTER_GAP of each other) and write at least MIN_TEXT_BYTES printable bytes or
    MIN_FILTER_STORES filter opcodes; the score is what they write."""
    windows: list[tuple[int, int, int]] = []
    group: list[_Store] = []

    def close() -> None:
        text = sum(weight for _, kind, weight in group if kind == "text")
        filters = sum(weight for _, kind, weight in group if kind == "filter")
        if text >= MIN_TEXT_BYTES or filters >= MIN_FILTER_STORES:
            start = max(0, group[0][0] - WINDOW_LEAD)
            end = min(len(code), group[-1][0] + WINDOW_TAIL)
            score = text + 4 * filters
            if windows and start <= windows[-1][1]:
                previous = windows[-1]
                windows[-1] = (previous[0], end, previous[2] + score)
            else:
                windows.append((start, end, score))

    for store in stores:
        if group and store[0] - group[-1][0] > CLUSTER_GAP:
            close()
            group = []
        group.append(store)
    if group:
        close()
    return windows


def _decode(disassembler: Any, sweep: _Sweep, code: bytes, base: int, start: int, end: int) -> None:
    position = start
    # capstone decodes a whole buffer before yielding: pieces bound its memory.
    while position < end and sweep.budget_left():
        piece = code[position : min(end, position + WINDOW_BYTES)]
        last_piece = position + len(piece) >= end
        stop = position
        for address, size, mnemonic, operands in disassembler.disasm_lite(piece, base + position):
            offset = address - base
            if not last_piece and offset + size > position + len(piece) - 16:
                break  # may cross the piece's end: decode it again in the next piece
            sweep.step(address, size, mnemonic, operands)
            stop = offset + size
            if not sweep.budget_left():
                break
        position = max(stop, position + 1)


def _confirm_immediate(
    disassembler: Any, constants: dict[int, int], code: bytes, base: int, value: int, bits: int
) -> None:
    """Record `value` when an instruction ends with it as its immediate operand, in the
    encodings x86 gives it: the value's own width, or sign-extended to 32 bits (whose
    little-endian bytes start with the value's own: one search finds both)."""
    forms = _immediate_forms(value, bits)
    encoding = value.to_bytes(bits // 8, "little")
    extended = bits == 16 and forms[-1] != value
    position = code.find(encoding)
    seen = 0
    while position != -1 and seen < MAX_IMMEDIATE_CANDIDATES:
        seen += 1
        ends = [position + len(encoding)]
        if extended and code[position + 2 : position + 4] == b"\xff\xff":
            ends.append(position + 4)
        for end in ends:
            address = _instruction_ending(disassembler, code, base, end, end - position, forms)
            if address is not None:
                for form in forms:
                    constants.setdefault(form, address)
                return
        position = code.find(encoding, position + 1)


def _instruction_ending(
    disassembler: Any, code: bytes, base: int, end: int, width: int, forms: tuple[int, ...]
) -> int | None:
    """The address of an instruction that ends at `end` with one of `forms` as its last
    (immediate) operand, `width` bytes long."""
    for back in range(width + 1, MAX_INSTRUCTION_BYTES + 1):
        start = end - back
        if start < 0:
            break
        window = code[start:end]
        decoded = next(iter(disassembler.disasm_lite(window, base + start, 1)), None)
        if decoded is None or decoded[1] != len(window):
            continue
        immediate = _LAST_IMMEDIATE.search(decoded[3])
        if immediate and _parse_number(immediate.group(1)) in forms:
            return base + start
    return None


def _immediate_forms(value: int, bits: int) -> tuple[int, ...]:
    """`value` as capstone may print it: unsigned, negative, or sign-extended to 32/64 bits."""
    if not value >> (bits - 1):
        return (value,)
    signed = value - (1 << bits)
    return (value, signed, signed & 0xFFFFFFFFFFFFFFFF, signed & 0xFFFFFFFF)


class _Sweep:
    """Register values and frame buffers along the decoded windows."""

    def __init__(self, image: ElfImage, bits: int) -> None:
        self.image = image
        self.bits = bits
        self.registers: dict[str, int] = {}
        self.vectors: dict[str, bytes] = {}
        self.frames: dict[str, dict[int, int]] = {"bp": {}, "sp": {}}
        self.first_store: dict[str, int] = {}
        self.buffers: list[StackBuffer] = []
        self.constants: dict[int, int] = {}
        self.instructions = 0
        self.complete = True

    def budget_left(self) -> bool:
        if self.instructions >= MAX_INSTRUCTIONS:
            self.complete = False
            return False
        return True

    def step(self, address: int, size: int, mnemonic: str, operands: str) -> None:
        self.instructions += 1
        if mnemonic in _ENDS_BLOCK or mnemonic == ".byte":
            self.end_block()
            return
        if mnemonic.startswith("call"):
            for name in _CALLER_SAVED:
                self.registers.pop(name, None)
            self.vectors.clear()
            return
        if (mnemonic == "mov" or mnemonic in _VECTOR_STORES) and self._store(address, operands):
            return
        if mnemonic in ("mov", "movabs") and self._load_immediate(operands):
            return
        if mnemonic in _ZEROING and self._zero_idiom(operands):
            return
        if mnemonic in ("movdqa", "movdqu", "movups", "movaps") and self._vector_load(
            address + size, operands
        ):
            return
        self._clobber(mnemonic, operands)

    def _store(self, address: int, operands: str) -> bool:
        match = _STORE.match(operands)
        if not match:
            return False
        width_name, base, sign, displacement, source = match.groups()
        width = _WIDTHS[width_name]
        offset = int(displacement, 0) if displacement else 0
        offset = -offset if sign == "-" else offset
        value = self._value_of(source, width)
        frame = _FRAME_REGISTERS[base]
        if value is None or abs(offset) > MAX_FRAME_OFFSET:
            return True
        buffer = self.frames[frame]
        if len(buffer) + width > MAX_BUFFER_BYTES:
            return True
        self.first_store.setdefault(frame, address)
        for index, byte in enumerate(value):
            buffer[offset + index] = byte
        return True

    def _value_of(self, source: str, width: int) -> bytes | None:
        if _IMMEDIATE.match(source):
            number = _parse_number(source)
            # A 64-bit store of an imm32 sign-extends it (Intel SDM, MOV C7 /0 with REX.W).
            if width == 8 and number < 0:
                number &= (1 << 64) - 1
            return (number & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
        if source.startswith("xmm"):
            vector = self.vectors.get(source)
            return vector if width == 16 else None
        register = _REGISTERS.get(source)
        if register is None or register[1] != width:
            return None
        known = self.registers.get(register[0])
        if known is None:
            return None
        return (known & ((1 << (8 * width)) - 1)).to_bytes(width, "little")

    def _load_immediate(self, operands: str) -> bool:
        target, _, source = operands.partition(", ")
        register = _REGISTERS.get(target)
        if register is None or not _IMMEDIATE.match(source):
            return False
        canonical, width = register
        if width == 0:
            self.registers.pop(canonical, None)
            return True
        value = _parse_number(source) & ((1 << (8 * width)) - 1)
        if width in (4, 8):
            # Writing a 32-bit register zero-extends into the 64-bit one.
            self.registers[canonical] = value
        else:
            previous = self.registers.get(canonical)
            if previous is None:
                self.registers.pop(canonical, None)
            else:
                mask = (1 << (8 * width)) - 1
                self.registers[canonical] = (previous & ~mask) | value
        return True

    def _zero_idiom(self, operands: str) -> bool:
        parts = operands.split(", ")
        if len(parts) < 2 or len(set(parts)) != 1:
            return False
        name = parts[0]
        if name.startswith(("xmm", "ymm")):
            self.vectors[name.replace("ymm", "xmm")] = bytes(16)
            return True
        register = _REGISTERS.get(name)
        if register is None or register[1] < 4:
            return False
        self.registers[register[0]] = 0
        return True

    def _vector_load(self, next_address: int, operands: str) -> bool:
        match = _RIP_LOAD.match(operands)
        if not match:
            return False
        name, sign, displacement = match.groups()
        delta = int(displacement, 0)
        source = next_address - delta if sign == "-" else next_address + delta
        data = self.image.read_virtual(source, 16)
        if data is None:
            self.vectors.pop(name, None)
        else:
            self.vectors[name] = data
        return True

    def _clobber(self, mnemonic: str, operands: str) -> None:
        """Forget what an unmodelled instruction may have written."""
        target = operands.split(", ", 1)[0]
        register = _REGISTERS.get(target)
        if register is not None:
            self.registers.pop(register[0], None)
            if register[0] in ("bp", "sp"):
                self._close_frame(register[0])
        elif target.startswith(("xmm", "ymm")):
            self.vectors.pop(target.replace("ymm", "xmm"), None)
        if mnemonic in _STACK_POINTER_WRITES:
            self._close_frame("sp")
            if mnemonic == "leave" or (mnemonic == "pop" and target in ("rbp", "ebp")):
                self._close_frame("bp")
        if mnemonic in ("mul", "imul", "div", "idiv", "cdq", "cqo", "cpuid", "rdtsc", "syscall"):
            for name in ("a", "d", "b", "c", "r11"):
                self.registers.pop(name, None)
        if mnemonic.startswith(("xchg", "cmpxchg", "xadd", "rep", "movs", "stos", "lods")):
            self.registers.clear()

    def _close_frame(self, frame: str) -> None:
        buffer = self.frames[frame]
        if buffer:
            self.buffers.extend(_contiguous_runs(buffer, frame, self.first_store[frame]))
            self.frames[frame] = {}
        self.first_store.pop(frame, None)

    def end_block(self) -> None:
        self._close_frame("bp")
        self._close_frame("sp")
        self.registers.clear()
        self.vectors.clear()


def _contiguous_runs(buffer: dict[int, int], frame: str, address: int) -> Iterator[StackBuffer]:
    offsets = sorted(buffer)
    start = previous = offsets[0]
    for offset in [*offsets[1:], None]:
        if offset is not None and offset == previous + 1:
            previous = offset
            continue
        if previous - start + 1 >= MIN_BUFFER_BYTES:
            data = bytes(buffer[index] for index in range(start, previous + 1))
            yield StackBuffer(address, frame, start, data)
        if offset is not None:
            start = previous = offset


def _parse_number(text: str) -> int:
    negative = text.startswith("-")
    value = int(text.lstrip("-"), 0)
    return -value if negative else value


__all__ = [
    "CodeScan",
    "StackBuffer",
    "disassembler_for",
    "supported_architecture",
    "sweep_code",
]
