"""`doorhunt quarantine`: the files `sensor --prevent` moved out of the way."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from rich.table import Table

from doorhunt.cli.common import (
    ArgumentParser,
    HelpFormatter,
    Output,
    add_common_options,
    run_command,
)
from doorhunt.cli.exitcodes import ExitCode
from doorhunt.datadir import data_directory
from doorhunt.i18n import Catalog
from doorhunt.report.terminal import safe_text
from doorhunt.response import Quarantine, QuarantinedFile

DESCRIPTION = """\
List and restore the files `doorhunt sensor --prevent` quarantined.

A quarantined file is kept in DATA/quarantine as ID.bin (mode 0600) with ID.json: its
original path, SHA-256, size, mode, owner and times, and the rule that moved it. `restore`
puts it back with its mode, owner and times, after checking its SHA-256; it refuses to
overwrite an existing file unless --force, or writes elsewhere with --to.

examples:
  doorhunt quarantine list
  doorhunt quarantine list --json | jq '.[].sha256'
  doorhunt sample /var/lib/doorhunt/quarantine/20261127T101500Z-1a2b3c4d.bin
  doorhunt quarantine restore 20261127T101500Z-1a2b --to /root/evidence/implant
"""

MESSAGES: Final = Catalog(
    {
        "header": {
            "en": "{count} quarantined files in {path}",
            "ko": "{path} 에 격리된 파일 {count}개",
        },
        "none": {"en": "The quarantine is empty.", "ko": "격리된 파일이 없습니다."},
        "restored": {"en": "restored {id} to {path}", "ko": "{id} 을(를) {path} 에 복원했습니다"},
        "unreadable": {
            "en": "{path}: {reason}",
            "ko": "{path}: 읽을 수 없는 격리 기록 ({reason})",
        },
        "column_id": {"en": "id", "ko": "ID"},
        "column_when": {"en": "quarantined (UTC)", "ko": "격리 시각 (UTC)"},
        "column_path": {"en": "original path", "ko": "원래 경로"},
        "column_size": {"en": "size", "ko": "크기"},
        "column_sha256": {"en": "SHA-256", "ko": "SHA-256"},
        "column_reason": {"en": "rule", "ko": "규칙"},
    }
)


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="doorhunt quarantine", description=DESCRIPTION, formatter_class=HelpFormatter
    )
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=ArgumentParser
    )
    listing = commands.add_parser(
        "list", help="list quarantined files", formatter_class=HelpFormatter
    )
    restore = commands.add_parser(
        "restore", help="put a quarantined file back", formatter_class=HelpFormatter
    )
    restore.add_argument("id", metavar="ID", help="the item's id, or a unique prefix of it")
    restore.add_argument("--force", action="store_true", help="overwrite an existing file")
    restore.add_argument("--to", metavar="PATH", help="restore to PATH instead")
    for sub in (listing, restore):
        add_common_options(sub)
        sub.add_argument("--data", metavar="DIR", help="data directory (quarantine in DIR)")
    return parser


def cmd_list(args: argparse.Namespace) -> int:
    output = Output.from_args(args)
    quarantine = Quarantine(data_directory(args.data) / "quarantine")
    items, broken = [], []
    for entry in quarantine.items():
        if isinstance(entry, QuarantinedFile):
            items.append(entry)
        else:
            broken.append(entry)
    for path, reason in broken:
        text = MESSAGES.text("unreadable", output.language, path=str(path), reason=reason)
        print(f"doorhunt: warning: {text}", file=sys.stderr)
    if output.mode == "json":
        output.json_document({"items": [item.to_json() for item in items]})
    elif output.mode == "ndjson":
        output.json_lines(item.to_json() for item in items)
    else:
        language = output.language
        console = output.console
        console.print(
            MESSAGES.text("header", language, count=len(items), path=str(quarantine.directory))
        )
        if not items:
            console.print(MESSAGES.text("none", language))
        else:
            table = Table(box=None, pad_edge=False, show_edge=False)
            # The id is what `restore` takes: never cut; long paths and names fold instead.
            id_width = max(len(item.id) for item in items)
            table.add_column(MESSAGES.text("column_id", language), no_wrap=True, min_width=id_width)
            table.add_column(MESSAGES.text("column_when", language), no_wrap=True)
            table.add_column(MESSAGES.text("column_path", language), overflow="fold")
            table.add_column(MESSAGES.text("column_size", language), no_wrap=True)
            table.add_column(MESSAGES.text("column_sha256", language), no_wrap=True)
            table.add_column(MESSAGES.text("column_reason", language), overflow="fold")
            for item in items:
                when = datetime.fromtimestamp(item.quarantined_at, UTC)
                table.add_row(
                    item.id,
                    when.strftime("%Y-%m-%d %H:%M:%S"),
                    safe_text(item.original_path),
                    str(item.size),
                    item.sha256[:16],
                    safe_text(item.reason),
                )
            console.print(table)
    return ExitCode.DEGRADED if broken else ExitCode.CLEAN


def cmd_restore(args: argparse.Namespace) -> int:
    output = Output.from_args(args)
    quarantine = Quarantine(data_directory(args.data) / "quarantine")
    item = quarantine.find(args.id)
    to = None if args.to is None else str(Path(args.to).resolve())
    target = quarantine.restore(item.id, force=args.force, to=to)
    if output.structured:
        output.json_document({"restored": item.to_json(), "path": target})
    else:
        output.console.print(
            MESSAGES.text("restored", output.language, id=item.id, path=safe_text(target))
        )
    return ExitCode.CLEAN


def main(argv: Sequence[str]) -> int:
    handlers = {"list": cmd_list, "restore": cmd_restore}
    return run_command(build_parser(), argv, lambda args: handlers[args.command](args))
