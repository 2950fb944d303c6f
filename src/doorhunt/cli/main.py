"""`doorhunt`: the command-line entry point; dispatches to one module per subcommand."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from doorhunt import __version__
from doorhunt.cli.exitcodes import ExitCode

# (name, module, one-line description); each module has `main(argv) -> int`.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    (
        "sweep",
        "doorhunt.cli.sweep",
        "find BPFDoor-style implants and their traces on this host, with evidence",
    ),
    ("bpf", "doorhunt.cli.bpf", "classic BPF toolkit: explain, classify and probe socket filters"),
    (
        "sensor",
        "doorhunt.cli.sensor",
        "live process, file, network and socket-filter events as ECS",
    ),
    (
        "events",
        "doorhunt.cli.events",
        "list stored events, filtered, newest first (store or Elasticsearch)",
    ),
    ("store", "doorhunt.cli.store", "embedded event store: info, compact, prune"),
    (
        "ingest",
        "doorhunt.cli.ingest",
        "read auditd logs or ECS NDJSON into the store or Elasticsearch",
    ),
    (
        "rules",
        "doorhunt.cli.rules",
        "detection rules: list, show, test, lint, export for Kibana, import Sigma",
    ),
    ("hunt", "doorhunt.cli.hunt", "run EQL or the rule pack over stored events or Elasticsearch"),
    (
        "report",
        "doorhunt.cli.report",
        "incident report as printable HTML/PDF (or JSON): verdicts, alerts, trees, timeline",
    ),
    (
        "quarantine",
        "doorhunt.cli.quarantine",
        "files `sensor --prevent` quarantined: list, restore",
    ),
    (
        "ui",
        "doorhunt.cli.ui",
        "triage web UI: overview, alerts, explore, timeline, process-tree analyzer",
    ),
    ("sample", "doorhunt.cli.sample", "sample analysis: configuration of a BPFDoor-style ELF file"),
    ("yara", "doorhunt.cli.yara", "YARA rules over files, folders and live processes"),
    (
        "scan",
        "doorhunt.cli.scan",
        "find BPFDoor implants from the network: magic-packet probes and ping-back listener",
    ),
    (
        "emulate",
        "doorhunt.cli.emulate",
        "a benign BPFDoor look-alike to validate detection end to end",
    ),
)

USAGE = f"""\
usage: doorhunt COMMAND [OPTIONS] ...

doorhunt {__version__}: find BPFDoor-style passive backdoors on Linux, with evidence.

commands:
{{commands}}

Run `doorhunt COMMAND --help` for a command's options and examples.
Exit codes: 0 clean, 1 findings, 2 usage or input error, 3 degraded visibility,
70 internal error. Documentation: docs/ in the source tree, one page per command.
"""


def usage() -> str:
    width = max(len(name) for name, _, _ in COMMANDS)
    return USAGE.format(
        commands="\n".join(f"  {name:<{width}}  {description}" for name, _, description in COMMANDS)
    )


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] in ("-h", "--help", "help"):
        print(usage(), end="")
        return ExitCode.CLEAN if arguments else ExitCode.USAGE
    if arguments[0] == "--version":
        print(f"doorhunt {__version__}")
        return ExitCode.CLEAN
    modules = {name: module for name, module, _ in COMMANDS}
    module_name = modules.get(arguments[0])
    if module_name is None:
        print(
            f"doorhunt: error: unknown command {arguments[0]!r}\n\n{usage()}",
            end="",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    module = importlib.import_module(module_name)
    result: int = module.main(arguments[1:])
    return result


def entry_point() -> NoReturn:
    sys.exit(main())


__all__ = ["COMMANDS", "entry_point", "main"]
