"""`doorhunt rules import-sigma`: Sigma rules to doorhunt rule files (docs/sigma.md).

Mounted by `doorhunt rules` (cli/rules.py):

    add_import_sigma_parser(commands)   # `commands` from rules' add_subparsers()
    ...
    return run_guarded(args.handler, args)

`main(argv)` runs it on its own, as the tests do.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from doorhunt.cli.common import (
    ArgumentParser,
    HelpFormatter,
    Output,
    add_common_options,
    run_command,
)
from doorhunt.cli.exitcodes import ExitCode
from doorhunt.errors import InputError
from doorhunt.report.terminal import safe_text
from doorhunt.rules.sigma.convert import Converter, write_rules
from doorhunt.rules.sigma.report import ConversionReport

COMMAND = "import-sigma"
HELP = "convert Sigma rules into doorhunt EQL rule files (through pySigma)"
DESCRIPTION = """\
Convert Sigma rules (YAML files, or directories searched for *.yml and *.yaml) into
doorhunt rule files: EQL with Elasticsearch's semantics, through pySigma and doorhunt's
Linux→ECS mapping (process_creation, file_event, file_delete, file_rename, file_change,
network_connection, and auditd where its fields survive into ECS). Needs pySigma:
pip install 'doorhunt[sigma]'.

Every rule either converts, to a query doorhunt's engine compiles, or is reported with the
reason it does not (a field nothing writes, a log source doorhunt does not keep, a regular
expression Elasticsearch cannot run, ...), grouped by reason. Approximations (auditd's
positional arguments matched against any of process.args, for one) are reported and
written into the rule's description; --strict refuses them.

Without -o, prints each converted rule's file name and query; with -o DIR, writes one
<tactic>_<title>.toml per rule into DIR (tagged `sigma-converted`, with the Sigma author and
licence). Exit 0 when every rule converted, 1 when some did not, 2 on a usage error.

examples:
  doorhunt rules import-sigma rules/linux/process_creation/proc_creation_lnx_base64_decode.yml
  doorhunt rules import-sigma sigma/rules/linux -o my-rules/ --report sigma-report.json
  doorhunt rules import-sigma sigma/rules/linux --strict --json | jq .failures_by_kind
  doorhunt rules import-sigma my.yml -o my-rules/ && doorhunt hunt --rules my-rules/ --pack
"""


def add_import_sigma_parser(subparsers: Any) -> ArgumentParser:
    """Add `import-sigma` to the `doorhunt rules` sub-commands (`args.handler` runs it)."""
    parser: ArgumentParser = subparsers.add_parser(
        COMMAND, help=HELP, description=DESCRIPTION, formatter_class=HelpFormatter
    )
    configure_parser(parser)
    return parser


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="+", metavar="FILE", help="Sigma rule files or directories (recursive)"
    )
    parser.add_argument(
        "-o", "--output", metavar="DIR", help="write one rule file per converted rule into DIR"
    )
    parser.add_argument(
        "--report", metavar="FILE", help="also write the full report as JSON to FILE"
    )
    parser.add_argument(
        "--strict", action="store_true", help="refuse approximate conversions (count them failed)"
    )
    add_common_options(parser)
    parser.set_defaults(handler=run_import_sigma)


def run_import_sigma(args: argparse.Namespace) -> int:
    """Convert, write and report; the exit code says whether every rule converted."""
    output = Output.from_args(args)
    converter = Converter(strict=args.strict)
    report = converter.convert_paths(args.paths)
    written: list[str] = []
    if args.output:
        try:
            written = write_rules(report.converted, args.output)
        except OSError as error:
            raise InputError(error.strerror or str(error), location=args.output) from None
    document: dict[str, object] = {**report.to_json(), "written": written}
    if args.report:
        try:
            Path(args.report).write_text(
                json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
        except OSError as error:
            raise InputError(error.strerror or str(error), location=args.report) from None
    if output.mode == "json":
        output.json_document(document)
    elif output.mode == "ndjson":
        output.json_lines(
            [*(r.to_json() for r in report.converted), *(f.to_json() for f in report.failures)]
        )
    else:
        render(report, written, args.output, output)
    return ExitCode.CLEAN if report.complete else ExitCode.FINDINGS


def render(
    report: ConversionReport, written: Sequence[str], directory: str | None, output: Output
) -> None:
    """The terminal view: the rules (or where they were written), then the summary."""
    console = output.console

    def say(text: str = "") -> None:
        # Queries and paths are long; a wrapped query would not read as one.
        console.print(text, soft_wrap=True)

    if directory:
        say(f"wrote {len(written)} rule files to {safe_text(directory)}")
    else:
        for rule in report.converted:
            say(f"# {safe_text(rule.file_name)}  ({safe_text(rule.source)})")
            for line in rule.query.splitlines():
                say(f"  {safe_text(line)}")
            say()
    say(
        f"converted {len(report.converted)} / {report.total} Sigma rules "
        f"from {report.files} files in {report.seconds:.2f} s"
    )
    approximate = [rule for rule in report.converted if rule.warnings]
    if approximate:
        say(f"{len(approximate)} converted with notes (written in each description):")
        notes: dict[str, int] = {}
        for rule in approximate:
            for warning in rule.warnings:
                notes[warning] = notes.get(warning, 0) + 1
        for warning, count in sorted(notes.items(), key=lambda item: -item[1]):
            say(f"  {count:4d}  {safe_text(warning)}")
    for kind, failures in report.by_kind().items():
        say(f"not converted, {kind} ({len(failures)}):")
        for failure in failures:
            say(f"  {safe_text(failure.line())}")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="doorhunt rules import-sigma", description=DESCRIPTION, formatter_class=HelpFormatter
    )
    configure_parser(parser)
    return parser


def main(argv: Sequence[str]) -> int:
    """`doorhunt rules import-sigma ARGS`, standalone."""
    return run_command(build_parser(), argv, lambda args: args.handler(args))


__all__ = ["COMMAND", "add_import_sigma_parser", "build_parser", "main", "run_import_sigma"]
