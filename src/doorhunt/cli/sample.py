"""`doorhunt sample`: extract a BPFDoor-style implant's configuration from ELF files."""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from doorhunt.cli.common import (
    ArgumentParser,
    HelpFormatter,
    Output,
    UsageError,
    add_common_options,
    run_command,
)
from doorhunt.cli.exitcodes import ExitCode
from doorhunt.ecs import host_fields
from doorhunt.errors import InputError
from doorhunt.report.terminal import safe_text
from doorhunt.sample.analysis import DEFAULT_THRESHOLD, MAX_SAMPLE_BYTES, analyze_file
from doorhunt.sample.documents import error_document, sample_documents
from doorhunt.sample.elf import ELF_MAGIC
from doorhunt.sample.terminal import render_analysis
from doorhunt.sample.yara import YaraScanner, read_rule_files, yara_available

DESCRIPTION = """\
Analyse ELF files (or raw memory dumps) for BPFDoor-style implants and extract what they
carry: the socket filter (explained and classified as `doorhunt bpf explain` does, with the
trigger packets it accepts), the magic values, passwords (stack-built strings, verified
against stored digests and salts), decoy process names, PID/lock files, iptables templates,
the shell's environment and disguise, the bind-port range and the back-dating timestamp.
doorhunt's YARA rules run too when yara-x is installed.

Also extracted: libpcap filter expressions kept as text (compiled with tcpdump and
classified), controller addresses and domains, crypto library markers (TLS libraries, RC4),
and the magic packet's layout when the code that reads it is recognisable. Every item says
where it is and how sure doorhunt is of it.

A FOLDER stands for every ELF file under it (symlinks are not followed; other files are
skipped, and counted on standard error). --ndjson writes ECS 9.4.0 documents: one per file
(an alert when the verdict is bpfdoor or suspicious) and one per YARA hit.

Nothing in a sample is ever run. Exit code 1 when a file scores at or above --threshold or
a YARA rule matches it; 0 otherwise; 2 when a file cannot be read as ELF.

examples:
  doorhunt sample suspect.elf
  doorhunt sample /dev/shm/kdmtmpflush --json
  doorhunt sample dump.bin --raw --lang ko
  doorhunt sample /usr/sbin --ndjson --rules my-rules/
"""


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="doorhunt sample", description=DESCRIPTION, formatter_class=HelpFormatter
    )
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE|FOLDER",
        help="ELF files, or folders whose ELF files to analyse (recursively)",
    )
    analysis = parser.add_argument_group("analysis")
    analysis.add_argument(
        "--raw",
        action="store_true",
        help="read the files as raw bytes (memory dumps), not as ELF",
    )
    analysis.add_argument(
        "--threshold",
        type=int,
        default=DEFAULT_THRESHOLD,
        metavar="N",
        help=f"score (0-100) at or above which the exit code is 1 (default {DEFAULT_THRESHOLD})",
    )
    analysis.add_argument(
        "--max-size",
        type=int,
        default=MAX_SAMPLE_BYTES // (1024 * 1024),
        metavar="MIB",
        help="refuse files larger than this (default 64)",
    )
    yara = parser.add_argument_group("YARA")
    yara.add_argument("--no-yara", action="store_true", help="do not run YARA rules")
    yara.add_argument(
        "--rules",
        action="append",
        default=[],
        metavar="PATH",
        help="more YARA rules: a file or a folder of .yar/.yara files (repeatable)",
    )
    yara.add_argument(
        "--no-builtin-rules", action="store_true", help="leave doorhunt's own rules out"
    )
    add_common_options(parser)
    return parser


def make_scanner(args: argparse.Namespace) -> YaraScanner | None:
    if args.no_yara:
        if args.rules:
            raise UsageError("--rules and --no-yara contradict each other")
        return None
    if not yara_available():
        if args.rules:
            raise UsageError("--rules needs yara-x: pip install 'doorhunt[yara]'")
        return None  # the analysis reports the gap
    return YaraScanner(read_rule_files(args.rules), builtin=not args.no_builtin_rules)


def cmd_sample(args: argparse.Namespace) -> int:
    if not 0 <= args.threshold <= 100:
        raise UsageError("--threshold must be between 0 and 100")
    if args.max_size <= 0:
        raise UsageError("--max-size must be positive")
    output = Output.from_args(args)
    scanner = make_scanner(args)
    host = host_fields() if output.mode == "ndjson" else {}
    single = len(args.files) == 1 and not Path(args.files[0]).is_dir()
    documents: list[dict[str, object]] = []
    flagged = failed = False
    skipped = 0
    shown = 0
    for path, problem in _targets(args.files, raw=args.raw):
        if problem == _NOT_ELF:
            skipped += 1
            continue
        try:
            if problem:
                raise InputError(problem, location=path)
            analysis = analyze_file(
                path, raw=args.raw, yara=scanner, max_bytes=args.max_size * 1024 * 1024
            )
        except InputError as error:
            if single:
                raise
            failed = True
            print(f"doorhunt: error: {safe_text(str(error))}", file=sys.stderr)
            if output.mode == "ndjson":
                output.json_lines([error_document(path, str(error), host=host)])
            else:
                documents.append({"file": {"name": path}, "error": str(error)})
            continue
        flagged |= analysis.flagged(args.threshold)
        if output.mode == "ndjson":
            output.json_lines(sample_documents(analysis, host=host, language=output.language))
        elif output.mode == "json":
            documents.append(analysis.to_json(output.language))
        else:
            if shown:
                output.console.print()
            render_analysis(output.console, analysis, output.language)
        shown += 1
    if skipped:
        print(f"doorhunt: {skipped} files in folders skipped: not ELF", file=sys.stderr)
    if output.mode == "json":
        output.json_document(documents[0] if single and documents else {"samples": documents})
    if flagged:
        return ExitCode.FINDINGS
    return ExitCode.USAGE if failed else ExitCode.CLEAN


_NOT_ELF = "not ELF"
MAX_FILES = 1_000_000


def _targets(paths: Sequence[str], *, raw: bool) -> Iterator[tuple[str, str | None]]:
    """(path, problem) for each file to analyse: the files named, and the regular files
    under the folders named (sorted, symlinks not followed, non-ELF ones marked _NOT_ELF
    unless --raw). A problem is a reason the file cannot be read."""
    count = 0
    for name in paths:
        if not Path(name).is_dir():
            yield name, None
            continue
        for root, folders, files in os.walk(name, followlinks=False):
            folders.sort()
            for file in sorted(files):
                path = os.path.join(root, file)
                count += 1
                if count > MAX_FILES:
                    yield name, f"stopped after {MAX_FILES} files"
                    return
                yield path, _check_file(path, raw)


def _check_file(path: str, raw: bool) -> str | None:
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return _NOT_ELF  # symlinks, devices, sockets: not followed, not read
        if raw:
            return None
        with open(path, "rb") as handle:
            magic = handle.read(4)
    except OSError as error:
        return error.strerror or type(error).__name__
    return None if magic == ELF_MAGIC else _NOT_ELF


def main(argv: Sequence[str]) -> int:
    return run_command(build_parser(), argv, cmd_sample)


__all__ = ["build_parser", "main"]
