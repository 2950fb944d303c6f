"""`doorhunt sweep`: find BPFDoor-style implants and their traces on this host, with evidence."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from doorhunt.cli.common import (
    ArgumentParser,
    HelpFormatter,
    Output,
    add_common_options,
    run_command,
)
from doorhunt.cli.exitcodes import ExitCode
from doorhunt.datadir import data_directory, write_json_atomically
from doorhunt.errors import DoorhuntError
from doorhunt.host.snapshot import take_snapshot
from doorhunt.report.sweep import render_sweep
from doorhunt.store.store import Store
from doorhunt.sweep.findings import Severity
from doorhunt.sweep.run import SweepResult, run_checks

DESCRIPTION = """\
Sweep this host for BPFDoor-style passive backdoors and their traces, in every network
namespace: packet and raw sockets whose filters compare payload magics, unfiltered sniffers,
sockets no process holds, masquerading processes and fake kernel threads, executables run from
/dev/shm, memfd or deleted files, timestomped files, BPFDoor's PID/lock files, shell
environments, bind-shell listeners and firewall redirects, and autostart entries.

Run it as root: without root (or without CAP_NET_ADMIN, under hidepid, on a kernel without
pidfd_getfd) the sweep still runs, lists what it could not see, and exits 3 unless it found
something.

The result is stored under the data directory (--data, $DOORHUNT_HOME, /var/lib/doorhunt)
in sweeps/, for the other commands to show; --no-store skips that.

exit codes: 0 nothing at or above --threshold, 1 findings, 2 usage error, 3 degraded visibility

examples:
  sudo doorhunt sweep
  sudo doorhunt sweep --lang ko
  sudo doorhunt sweep --json > sweep.json
  sudo doorhunt sweep --ndjson | curl -s -H 'Content-Type: application/x-ndjson' ...
"""


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="doorhunt sweep", description=DESCRIPTION, formatter_class=HelpFormatter
    )
    add_common_options(parser)
    parser.add_argument(
        "--threshold",
        choices=[s.value for s in Severity],
        default="medium",
        help="lowest severity that counts as a finding for the exit code and the "
        "terminal view (default: medium)",
    )
    parser.add_argument(
        "--all", action="store_true", help="show every finding on the terminal, low ones included"
    )
    parser.add_argument("--data", metavar="DIR", help="data directory (see above)")
    parser.add_argument("--no-store", action="store_true", help="do not store the result")
    parser.add_argument(
        "--no-firewall",
        action="store_true",
        help="do not run iptables-save / nft to read firewall rules",
    )
    parser.add_argument(
        "--no-yara",
        action="store_true",
        help="do not scan executables and process memory with YARA",
    )
    return parser


def cmd_sweep(args: argparse.Namespace) -> int:
    output = Output.from_args(args)
    threshold = Severity(args.threshold)
    snapshot = take_snapshot(firewall=not args.no_firewall, yara=not args.no_yara)
    result = run_checks(snapshot)
    if not args.no_store:
        _store(result, data_directory(args.data))
    if output.mode == "json":
        output.json_document(result.to_json(output.language))
    elif output.mode == "ndjson":
        output.json_lines(result.ecs_documents(output.language))
    else:
        render_sweep(output.console, result, output.language, threshold, show_all=args.all)
    if Severity.of(result.score).rank >= threshold.rank and result.score > 0:
        return ExitCode.FINDINGS
    return ExitCode.CLEAN if result.complete else ExitCode.DEGRADED


def _store(result: SweepResult, data: Path) -> None:
    """The result as JSON in DATA/sweeps, and its findings and verdict in the event store
    (beside a running sensor), where hunts and the UI read them. Not being able to store is
    a warning: the verdict on the terminal is what matters."""
    snapshot = result.snapshot
    stamp = snapshot.taken_at.strftime("%Y%m%dT%H%M%SZ")
    host = str(snapshot.host.get("hostname", "host")).replace("/", "_")
    path = data / "sweeps" / f"{stamp}-{host}.json"
    try:
        write_json_atomically(path, result.to_json("en"))
        with Store(data / "store").writer(exclusive=False, wait_when_full=True) as writer:
            writer.extend([result.summary_ecs(), *result.ecs_documents("en")])
    except (OSError, DoorhuntError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        print(f"doorhunt: warning: result not stored in {data}: {reason}", file=sys.stderr)


def main(argv: Sequence[str]) -> int:
    return run_command(build_parser(), argv, cmd_sweep)


__all__ = ["build_parser", "main"]
