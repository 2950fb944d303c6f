"""`doorhunt yara`: scan files, folders and live processes with doorhunt's YARA rules."""

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
    run_command,
    subcommands,
)
from doorhunt.cli.exitcodes import ExitCode
from doorhunt.ecs import host_fields
from doorhunt.sample.documents import scan_documents
from doorhunt.sample.terminal import render_scan_report
from doorhunt.sample.yara import (
    DEFAULT_TIMEOUT_SECONDS,
    MAX_FILE_BYTES,
    ScanReport,
    YaraScanner,
    builtin_rule_files,
    check_rules,
    compile_rules,
    read_rule_files,
)

MAX_FILES = 1_000_000

DESCRIPTION = """\
Scan with doorhunt's YARA rules for BPFDoor-style implants (or your own, --rules), using
yara-x (pip install 'doorhunt[yara]').

  scan    files, folders (-r) and processes (--pid, --all-processes): a process's
          executable, even deleted, and its anonymous, heap, stack, memfd and deleted-file
          memory (needs root, or ptrace rights over it). Exit 1 on any match, 3 when
          something could not be read and nothing matched, 0 otherwise. --ndjson writes ECS
          9.4.0 documents: an alert per hit, an event per target without one.
  rules   print doorhunt's rules (to use them with another YARA tool), or --list them
  check   compile rule files and report every error with file:line:column (exit 2)

examples:
  doorhunt yara scan /dev/shm /tmp -r
  doorhunt yara scan --pid 4437 --json
  doorhunt yara scan --all-processes --ndjson
  doorhunt yara rules > doorhunt.yar && yara doorhunt.yar /usr/sbin
  doorhunt yara check my-rules/
"""


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="doorhunt yara", description=DESCRIPTION, formatter_class=HelpFormatter
    )
    command = subcommands(parser)

    scan = command("scan", "scan files, folders and processes (exit 1 on a match)")
    scan.add_argument("paths", nargs="*", metavar="PATH", help="files or folders")
    scan.add_argument(
        "--pid", type=int, action="append", default=[], metavar="PID", help="a process (repeatable)"
    )
    scan.add_argument(
        "--all-processes",
        action="store_true",
        help="every process with an executable (kernel threads have none), this one excepted",
    )
    scan.add_argument("-r", "--recursive", action="store_true", help="descend into folders")
    scan.add_argument("--no-memory", action="store_true", help="scan a process's executable only")
    scan.add_argument(
        "--max-size",
        type=int,
        default=MAX_FILE_BYTES // (1024 * 1024),
        metavar="MIB",
        help="scan at most this much of each file (default 256)",
    )
    scan.add_argument(
        "--timeout",
        type=int,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help=f"give up on one target after this long (default {DEFAULT_TIMEOUT_SECONDS})",
    )
    _add_rule_options(scan)
    rules = command("rules", "print doorhunt's YARA rules")
    rules.add_argument("--list", action="store_true", help="one line per rule instead")
    check = command("check", "compile rule files and list every error")
    check.add_argument("rules", nargs="+", metavar="RULES", help="rule files or folders")
    return parser


def _add_rule_options(parser: ArgumentParser) -> None:
    group = parser.add_argument_group("rules")
    group.add_argument(
        "--rules",
        action="append",
        default=[],
        metavar="PATH",
        help="more rules: a file or a folder of .yar/.yara files (repeatable)",
    )
    group.add_argument(
        "--no-builtin-rules", action="store_true", help="leave doorhunt's own rules out"
    )


def cmd_scan(args: argparse.Namespace) -> int:
    if not args.paths and not args.pid and not args.all_processes:
        raise UsageError("nothing to scan: give a PATH, --pid or --all-processes")
    if args.max_size <= 0 or args.timeout <= 0:
        raise UsageError("--max-size and --timeout must be positive")
    output = Output.from_args(args)
    scanner = YaraScanner(
        read_rule_files(args.rules), builtin=not args.no_builtin_rules, timeout=args.timeout
    )
    reports: list[ScanReport] = []
    host = host_fields() if output.mode == "ndjson" else {}
    for report in _scan_all(scanner, args):
        reports.append(report)
        if output.mode == "ndjson":
            output.json_lines(scan_documents(report, host=host, executable=_executable_of(report)))
        elif output.mode == "terminal":
            render_scan_report(output.console, report, output.language)
    if output.mode == "json":
        output.json_document(
            {"rules": len(scanner.rule_names), "targets": [r.to_json() for r in reports]}
        )
    if any(report.hits for report in reports):
        return ExitCode.FINDINGS
    return ExitCode.DEGRADED if any(report.gaps for report in reports) else ExitCode.CLEAN


def _scan_all(scanner: YaraScanner, args: argparse.Namespace) -> Iterator[ScanReport]:
    max_bytes = args.max_size * 1024 * 1024
    for path in args.paths:
        for file, problem in _files(Path(path), args.recursive):
            if problem:
                yield ScanReport(str(file), "file", (), 0, (f"{file}: {problem}",))
            else:
                yield scanner.scan_path(file, max_bytes=max_bytes)
    pids = list(args.pid)
    if args.all_processes:
        pids += [pid for pid in _all_processes() if pid not in pids]
    for pid in pids:
        yield scanner.scan_process(pid, memory=not args.no_memory)


def _all_processes(proc: Path = Path("/proc")) -> list[int]:
    """Every process with an executable, this one excepted (its own memory holds the rules'
    strings). Kernel threads have no `exe` link and no memory map (BPFDOOR.md §3)."""
    pids = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            (entry / "exe").readlink()
        except FileNotFoundError:
            continue  # a kernel thread, or gone
        except OSError:
            pass  # exists but unreadable: scan_process reports the gap
        pids.append(int(entry.name))
    return sorted(pids)


def _executable_of(report: ScanReport) -> str | None:
    if report.kind != "process":
        return None
    try:
        return str(Path("/proc", report.target.removeprefix("pid "), "exe").readlink())
    except OSError:
        return None


def _files(path: Path, recursive: bool) -> Iterator[tuple[Path, str | None]]:
    """Regular files under `path`, symlinks not followed (a hostile tree can loop)."""
    try:
        mode = path.lstat().st_mode
    except OSError as error:
        yield path, error.strerror or type(error).__name__
        return
    if stat.S_ISREG(mode):
        yield path, None
        return
    if not stat.S_ISDIR(mode):
        yield path, "not a regular file or folder"
        return
    if not recursive:
        yield path, "is a folder (use -r)"
        return
    count = 0
    for root, folders, names in os.walk(path, followlinks=False):
        folders.sort()
        for name in sorted(names):
            file = Path(root) / name
            try:
                if not stat.S_ISREG(file.lstat().st_mode):
                    continue
            except OSError:
                continue
            count += 1
            if count > MAX_FILES:
                yield path, f"stopped after {MAX_FILES} files"
                return
            yield file, None


def cmd_rules(args: argparse.Namespace) -> int:
    output = Output.from_args(args)
    sources = builtin_rule_files()
    if not args.list and output.mode == "terminal":
        for source in sources:
            sys.stdout.write(source.text)
        return ExitCode.CLEAN
    rules = compile_rules(sources)
    documents = [
        {"rule": rule.identifier, "namespace": rule.namespace, **dict(rule.metadata)}
        for rule in rules
    ]
    if output.mode == "json":
        output.json_document({"rules": documents})
    elif output.mode == "ndjson":
        output.json_lines(documents)
    else:
        for document in documents:
            output.console.print(
                f"{document['rule']:<44} {document.get('severity', ''):>3}  "
                f"{document.get('description', '')}"
            )
    return ExitCode.CLEAN


def cmd_check(args: argparse.Namespace) -> int:
    output = Output.from_args(args)
    sources = read_rule_files(args.rules)
    problems = check_rules(sources)
    documents = [{"location": p.location, "error": p.message} for p in problems]
    if output.mode == "json":
        output.json_document({"files": len(sources), "errors": documents})
    elif output.mode == "ndjson":
        output.json_lines(documents)
    else:
        for problem in problems:
            print(f"doorhunt: error: {problem}", file=sys.stderr)
        if not problems:
            output.console.print(f"{len(sources)} rule files compile")
    return ExitCode.USAGE if problems else ExitCode.CLEAN


HANDLERS = {"scan": cmd_scan, "rules": cmd_rules, "check": cmd_check}


def main(argv: Sequence[str]) -> int:
    return run_command(build_parser(), argv, lambda args: HANDLERS[args.command](args))


__all__ = ["build_parser", "main"]
