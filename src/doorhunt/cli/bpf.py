"""`doorhunt bpf`: classic BPF programs as first-class objects."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from doorhunt.bpf.codec import Format, detect_format, format_program, from_bytes, parse_programs
from doorhunt.bpf.examples import EXAMPLES
from doorhunt.bpf.explain import explain, probe_json
from doorhunt.bpf.interpreter import Link, execute
from doorhunt.bpf.jit import compile_filter
from doorhunt.bpf.pcap import read_pcap
from doorhunt.bpf.program import Program
from doorhunt.cli.common import (
    ArgumentParser,
    HelpFormatter,
    Output,
    UsageError,
    read_input,
    run_command,
    subcommands,
)
from doorhunt.cli.exitcodes import ExitCode
from doorhunt.errors import DoorhuntError, InputError
from doorhunt.report.bpf import render_explanation, render_probes

DESCRIPTION = """\
Read, explain, classify and probe classic BPF socket filters.

A program can be given as a FILE (or `-` for standard input) in any of these formats, which
are detected automatically:
  raw      the struct sock_filter array itself (8 bytes an instruction, host byte order)
  c        `tcpdump -dd` output:   { 0x28, 0, 0, 0x0000000c },
  decimal  `tcpdump -ddd` output:  a count line, then `40 0 0 12` lines
  ss       `ss -0 -b -p` output:   bpf filter (30):  0x28 0 0 12, ...   (every filter in it)
  asm      `tcpdump -d` output:    (000) ldh      [12]
or as --example NAME (see `doorhunt bpf examples`), or as --expr 'EXPR', a libpcap expression
compiled by the installed tcpdump.

examples:
  doorhunt bpf explain --example bpfdoor-classic
  ss -0 -b -p | doorhunt bpf explain
  doorhunt bpf explain --expr 'udp port 67 or udp port 68' --json
  doorhunt bpf probe filter.txt --json
  doorhunt bpf convert --example bpfdoor-classic --to c
  doorhunt bpf run filter.txt --pcap capture.pcap
"""


@dataclass(frozen=True, slots=True)
class Source:
    """A program to work on, and how to name it."""

    program: Program
    link: Link
    title: str
    context: str | None = None

    def json(self) -> dict[str, object]:
        document: dict[str, object] = {"name": self.title}
        if self.context:
            document["context"] = self.context
        return document


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="doorhunt bpf", description=DESCRIPTION, formatter_class=HelpFormatter
    )
    command = subcommands(parser)

    explain_parser = command(
        "explain",
        "what a program accepts: class, suspicious, score, magic compares, "
        "protocols, summary, paths and disassembly (exit 1 when suspicious)",
    )
    _add_input_options(explain_parser)
    explain_parser.add_argument(
        "--no-disassembly",
        action="store_true",
        help="leave the disassembly out of the terminal view",
    )
    probe_parser = command(
        "probe",
        "for each accepting path, a packet the program accepts "
        "(hex, from the IP header; checked by the interpreter)",
    )
    _add_input_options(probe_parser)
    convert_parser = command("convert", "write a program in another format")
    _add_input_options(convert_parser)
    convert_parser.add_argument(
        "--to", required=True, choices=[f.value for f in Format], help="output format"
    )
    convert_parser.add_argument(
        "-o", "--output", metavar="FILE", help="write here instead of standard output"
    )
    convert_parser.add_argument(
        "--output-byte-order",
        choices=("host", "little", "big"),
        default="host",
        help="byte order of raw output (default: this machine's)",
    )
    run_parser = command(
        "run",
        "run a program over packets, as the kernel would (exit 1 when any packet is accepted)",
    )
    _add_input_options(run_parser)
    packets = run_parser.add_mutually_exclusive_group(required=True)
    packets.add_argument(
        "--pcap", metavar="FILE", help="a classic pcap capture (Ethernet or raw IP link type)"
    )
    packets.add_argument(
        "--packet",
        metavar="HEX",
        action="append",
        help="one packet as hex, from the filter's offset 0 (repeatable)",
    )
    run_parser.add_argument(
        "--engine",
        choices=("fast", "reference"),
        default="fast",
        help="the translated program (default) or the reference interpreter",
    )
    command("examples", "list the built-in example programs")
    return parser


def _add_input_options(parser: ArgumentParser) -> None:
    parser.add_argument(
        "file", nargs="?", metavar="FILE", help="the program (or `-` for standard input)"
    )
    source = parser.add_argument_group("program source")
    source.add_argument(
        "--example", metavar="NAME", choices=sorted(EXAMPLES), help="a built-in example program"
    )
    source.add_argument(
        "--expr", metavar="EXPR", help="a libpcap filter expression, compiled with tcpdump"
    )
    source.add_argument(
        "--format", choices=[f.value for f in Format], help="input format (default: detected)"
    )
    source.add_argument(
        "--byte-order",
        choices=("host", "little", "big"),
        default="host",
        help="byte order of raw input (default: this machine's)",
    )
    source.add_argument(
        "--link",
        choices=[link.value for link in Link],
        help="what offset 0 is: `ethernet` for a SOCK_RAW packet socket "
        "(default), `ip` for SOCK_DGRAM and AF_INET raw sockets",
    )
    source.add_argument(
        "--max-paths",
        type=int,
        default=256,
        metavar="N",
        help="paths to list before switching to covering every comparison (default 256)",
    )


def load_sources(args: argparse.Namespace) -> list[Source]:
    chosen = [
        name
        for name, value in (("FILE", args.file), ("--example", args.example), ("--expr", args.expr))
        if value is not None
    ]
    if len(chosen) > 1:
        raise UsageError(f"give only one program source, not {' and '.join(chosen)}")
    link = Link(args.link) if args.link else None
    if args.example:
        example = EXAMPLES[args.example]
        return [Source(example.build(), link or example.link, f"example {example.name}")]
    if args.expr is not None:
        link = link or Link.ETHERNET
        return [Source(compile_expression(args.expr, link), link, f"expression {args.expr!r}")]
    data, name = read_input(args.file)
    fmt = Format(args.format) if args.format else None
    programs: list[tuple[Program, str, str | None]]
    try:
        if args.byte_order != "host" and (fmt or detect_format(data)) is Format.RAW:
            programs = [(from_bytes(data, byteorder=args.byte_order), "byte 0", None)]
        else:
            programs = [(p.program, p.location, p.context) for p in parse_programs(data, fmt)]
    except InputError as error:
        raise error.at(name) from None
    return [
        Source(program, link or Link.ETHERNET, f"{name} ({location})", context)
        for program, location, context in programs
    ]


def compile_expression(expression: str, link: Link) -> Program:
    """Compile a libpcap expression with tcpdump (`-ddd`), as the tests do."""
    tcpdump = shutil.which("tcpdump") or next(
        (path for path in ("/usr/sbin/tcpdump", "/usr/bin/tcpdump") if Path(path).exists()), None
    )
    if tcpdump is None:
        raise DoorhuntError(
            "--expr needs tcpdump (apt install tcpdump); or give the compiled program as a FILE"
        )
    linktype = "EN10MB" if link is Link.ETHERNET else "RAW"
    try:
        result = subprocess.run(
            [tcpdump, "-y", linktype, "-ddd", "--", expression],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DoorhuntError("tcpdump did not finish compiling the expression in 30 s") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"tcpdump: {message[-1] if message else 'failed'}", location="--expr")
    return parse_programs(result.stdout, Format.DECIMAL)[0].program


def cmd_explain(args: argparse.Namespace) -> int:
    output = Output.from_args(args)
    sources = load_sources(args)
    results = [
        (source, explain(source.program, source.link, max_paths=args.max_paths))
        for source in sources
    ]
    documents = [
        {"source": source.json(), **result.to_json(output.language)} for source, result in results
    ]
    if output.mode == "json":
        output.json_document(documents[0] if len(documents) == 1 else {"programs": documents})
    elif output.mode == "ndjson":
        output.json_lines(documents)
    else:
        for number, (source, result) in enumerate(results):
            if number:
                output.console.print()
            render_explanation(
                output.console,
                result,
                output.language,
                title=source.title,
                context=source.context,
                show_disassembly=not args.no_disassembly,
            )
    suspicious = any(result.classification.suspicious for _, result in results)
    return ExitCode.FINDINGS if suspicious else ExitCode.CLEAN


def cmd_probe(args: argparse.Namespace) -> int:
    output = Output.from_args(args)
    documents = []
    for source in load_sources(args):
        result = explain(source.program, source.link, max_paths=args.max_paths)
        probes = result.probes()
        documents.append(
            {
                "source": source.json(),
                "instructions": len(source.program),
                "link": source.link.value,
                "class": result.classification.filter_class.value,
                "probes": [probe_json(probe, output.language) for probe in probes],
            }
        )
        if not output.structured:
            render_probes(output.console, result, probes, output.language, title=source.title)
    if output.mode == "json":
        output.json_document(documents[0] if len(documents) == 1 else {"programs": documents})
    elif output.mode == "ndjson":
        output.json_lines(documents)
    return ExitCode.CLEAN


def cmd_convert(args: argparse.Namespace) -> int:
    sources = load_sources(args)
    fmt = Format(args.to)
    if fmt is Format.RAW and len(sources) > 1:
        raise UsageError(f"the input holds {len(sources)} programs; raw output takes one")
    byteorder = sys.byteorder if args.output_byte_order == "host" else args.output_byte_order
    data = b"".join(format_program(source.program, fmt, byteorder=byteorder) for source in sources)
    if args.output:
        try:
            Path(args.output).write_bytes(data)
        except OSError as error:
            raise InputError(error.strerror or str(error), location=args.output) from None
    elif fmt is Format.RAW and sys.stdout.isatty():
        raise UsageError("refusing to write binary to a terminal: use -o FILE or a pipe")
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return ExitCode.CLEAN


def cmd_run(args: argparse.Namespace) -> int:
    output = Output.from_args(args)
    sources = load_sources(args)
    if len(sources) != 1:
        raise UsageError(f"the input holds {len(sources)} programs; `run` takes one")
    source = sources[0]
    link = source.link
    if args.pcap:
        try:
            with Path(args.pcap).open("rb") as handle:
                capture = read_pcap(handle)
                if args.link is None:
                    link = capture.link
                packets = list(capture.packets)
        except InputError as error:
            raise error.at(args.pcap) from None
        except OSError as error:
            raise InputError(error.strerror or str(error), location=args.pcap) from None
    else:
        packets = []
        for number, text in enumerate(args.packet, 1):
            try:
                packets.append(bytes.fromhex(text))
            except ValueError:
                raise InputError("not hexadecimal", location=f"--packet #{number}") from None
    if args.engine == "fast":
        run = compile_filter(source.program, link)
        verdicts = [run(packet) for packet in packets]
    else:
        verdicts = [execute(source.program, packet, link=link) for packet in packets]
    accepted = [(index, verdict) for index, verdict in enumerate(verdicts) if verdict]
    results = [{"index": index, "snaplen": verdict} for index, verdict in accepted]
    if output.mode == "json":
        output.json_document(
            {
                "source": source.json(),
                "link": link.value,
                "packets": len(packets),
                "accepted": len(accepted),
                "results": results,
            }
        )
    elif output.mode == "ndjson":
        output.json_lines(results)
    else:
        output.console.print(
            f"{len(packets)} packets, {len(accepted)} accepted ({source.title}, link {link.value})"
        )
        for index, verdict in accepted[:50]:
            output.console.print(f"  packet {index}: accepted, keeps {verdict} bytes")
        if len(accepted) > 50:
            output.console.print(f"  ... {len(accepted) - 50} more (use --json)")
    return ExitCode.FINDINGS if accepted else ExitCode.CLEAN


def cmd_examples(args: argparse.Namespace) -> int:
    output = Output.from_args(args)
    documents = [
        {
            "name": e.name,
            "description": e.description,
            "link": e.link.value,
            "instructions": len(e.build()),
        }
        for e in EXAMPLES.values()
    ]
    if output.mode == "json":
        output.json_document({"examples": documents})
    elif output.mode == "ndjson":
        output.json_lines(documents)
    else:
        for document in documents:
            output.console.print(
                f"{document['name']:<20} {document['instructions']:>4} "
                f"instructions  {document['description']}"
            )
    return ExitCode.CLEAN


HANDLERS = {
    "explain": cmd_explain,
    "probe": cmd_probe,
    "convert": cmd_convert,
    "run": cmd_run,
    "examples": cmd_examples,
}


def main(argv: Sequence[str]) -> int:
    return run_command(build_parser(), argv, lambda args: HANDLERS[args.command](args))


__all__ = ["build_parser", "main"]
