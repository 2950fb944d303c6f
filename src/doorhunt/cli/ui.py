"""`doorhunt ui`: the triage web UI over the data directory (docs/ui.md)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from doorhunt.cli.common import (
    ArgumentParser,
    HelpFormatter,
    UsageError,
    run_command,
)
from doorhunt.cli.exitcodes import ExitCode
from doorhunt.datadir import data_directory

DESCRIPTION = """\
Serve the triage web UI: overview, alerts, explore (hosts, network, users), timeline and the
process-tree analyzer, over the embedded store of the data directory. English and Korean.

It listens on 127.0.0.1 unless told otherwise. On any other address it prints a URL with a
random access token, once: share it only with whom may read the data. Everything is
read-only except alert status, pins and notes (DATA/triage.sqlite).

exit codes: 0 stopped cleanly, 2 usage error or the address cannot be used

examples:
  doorhunt ui --open
  doorhunt ui --data /var/lib/doorhunt --port 9000
  doorhunt ui --host 10.0.0.5        # prints http://10.0.0.5:8765/?token=...
"""


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="doorhunt ui", description=DESCRIPTION, formatter_class=HelpFormatter
    )
    parser.add_argument("--data", metavar="DIR", help="data directory (the store is DIR/store)")
    parser.add_argument(
        "--host", default="127.0.0.1", metavar="ADDRESS", help="address to listen on (127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=8765, metavar="PORT", help="port (8765)")
    parser.add_argument("--open", action="store_true", help="open the UI in a web browser")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is being done")
    parser.add_argument(
        "--debug", action="store_true", help="log everything and show tracebacks of internal errors"
    )
    return parser


def cmd_ui(args: argparse.Namespace) -> int:
    if not 1 <= args.port <= 65535:
        raise UsageError(f"--port must be between 1 and 65535, got {args.port}")
    if not args.host or any(c.isspace() for c in args.host):
        raise UsageError(f"--host must be an address, got {args.host!r}")
    try:
        from doorhunt.web import plan, serve  # noqa: PLC0415 - the `web` extra is optional
    except ImportError as error:
        raise UsageError(
            f"the web UI needs the `web` extra (pip install 'doorhunt[web]'): {error}"
        ) from None
    data = data_directory(args.data)
    try:
        serve(data, plan(args.host, args.port), open_browser=args.open, out=sys.stdout)
    except OSError as error:
        raise UsageError(str(error)) from None
    return ExitCode.CLEAN


def main(argv: Sequence[str]) -> int:
    return run_command(build_parser(), argv, cmd_ui)


__all__ = ["build_parser", "main"]
