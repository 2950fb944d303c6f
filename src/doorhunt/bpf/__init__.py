"""Classic BPF as a first-class object: read, write, run, analyse, classify, and make packets
that a socket filter accepts."""

from __future__ import annotations

from doorhunt.bpf.classify import Classification, FilterClass, MagicCompare
from doorhunt.bpf.codec import (
    Format,
    ParsedProgram,
    detect_format,
    format_program,
    parse_program,
    parse_programs,
)
from doorhunt.bpf.disasm import assemble, disassemble
from doorhunt.bpf.explain import Explanation, explain
from doorhunt.bpf.interpreter import Link, Metadata, execute
from doorhunt.bpf.jit import compile_filter
from doorhunt.bpf.probe import Probe, ProbeFailure
from doorhunt.bpf.program import BpfFormatError, BpfProgramError, Instruction, Program

__all__ = [
    "BpfFormatError",
    "BpfProgramError",
    "Classification",
    "Explanation",
    "FilterClass",
    "Format",
    "Instruction",
    "Link",
    "MagicCompare",
    "Metadata",
    "ParsedProgram",
    "Probe",
    "ProbeFailure",
    "Program",
    "assemble",
    "compile_filter",
    "detect_format",
    "disassemble",
    "execute",
    "explain",
    "format_program",
    "parse_program",
    "parse_programs",
]
