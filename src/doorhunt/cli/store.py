"""`doorhunt store info|compact|prune`: what the embedded store holds, and keeping it small."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from rich.table import Table

from doorhunt.cli.common import (
    ArgumentParser,
    HelpFormatter,
    Output,
    UsageError,
    add_common_options,
    run_command,
)
from doorhunt.cli.exitcodes import ExitCode
from doorhunt.datadir import data_directory
from doorhunt.i18n import Catalog
from doorhunt.report.terminal import safe_text
from doorhunt.store import Store, StoreInfo
from doorhunt.store.units import format_size, parse_duration, parse_size

DESCRIPTION = """\
Inspect and maintain the embedded event store (DATA/store; docs/store.md).

  info      segments, events, size, time range, per day; damaged segments; the writer's pid
  compact   merge small segments (the sensor does this every minute); --full makes one
            sorted segment per day
  prune     delete whole segments older than --max-age, then the oldest ones until the
            store is at most --max-size

All three run safely while the sensor writes and other commands read.

exit codes: 0 done, 2 usage or store error, 3 (info) damaged segments are being skipped

examples:
  doorhunt store info
  doorhunt store compact --full
  doorhunt store prune --max-age 30d --max-size 20G
"""

MESSAGES: Final = Catalog(
    {
        "directory": {"en": "Store: {path}", "ko": "저장소: {path}"},
        "writer": {"en": "Writer: process {pid}", "ko": "쓰기 프로세스: {pid}"},
        "no_writer": {"en": "Writer: none running", "ko": "쓰기 프로세스: 없음"},
        "totals": {
            "en": "{events} events in {segments} segments, {size}",
            "ko": "세그먼트 {segments}개에 이벤트 {events}건, {size}",
        },
        "range": {"en": "From {first} to {last} (UTC)", "ko": "{first}부터 {last}까지 (UTC)"},
        "empty": {"en": "The store is empty.", "ko": "저장소가 비어 있습니다."},
        "superseded": {
            "en": "{count} merged-away segments await deletion (the next compaction).",
            "ko": "병합되어 삭제를 기다리는 세그먼트 {count}개 (다음 압축 때 삭제).",
        },
        "corrupt": {
            "en": "{count} damaged segments were set aside in corrupt/.",
            "ko": "손상된 세그먼트 {count}개를 corrupt/ 로 옮겨 두었습니다.",
        },
        "skipped": {
            "en": "Skipped, damaged: {path}: {reason}",
            "ko": "손상되어 건너뜀: {path}: {reason}",
        },
        "column_day": {"en": "day", "ko": "날짜"},
        "column_segments": {"en": "segments", "ko": "세그먼트"},
        "column_events": {"en": "events", "ko": "이벤트"},
        "column_size": {"en": "size", "ko": "크기"},
        "compacted": {
            "en": "Merged {merged} segments into {written} ({events} events): {before} -> {after}.",
            "ko": "세그먼트 {merged}개를 {written}개로 병합 (이벤트 {events}건): {before} -> {after}.",
        },
        "nothing_to_compact": {
            "en": "Nothing to merge.",
            "ko": "병합할 세그먼트가 없습니다.",
        },
        "pruned": {
            "en": "Deleted {removed} segments ({events} events, {size}).",
            "ko": "세그먼트 {removed}개 삭제 (이벤트 {events}건, {size}).",
        },
        "quarantined": {
            "en": "Moved {count} damaged segments to corrupt/.",
            "ko": "손상된 세그먼트 {count}개를 corrupt/ 로 옮겼습니다.",
        },
    }
)


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="doorhunt store", description=DESCRIPTION, formatter_class=HelpFormatter
    )
    add_common_options(parser)
    parser.add_argument("action", choices=("info", "compact", "prune"), help="what to do")
    parser.add_argument("--data", metavar="DIR", help="data directory (the store is DIR/store)")
    parser.add_argument("--full", action="store_true", help="compact: one sorted segment per day")
    parser.add_argument("--max-size", metavar="SIZE", help="prune: keep at most SIZE (e.g. 20G)")
    parser.add_argument("--max-age", metavar="AGE", help="prune: keep nothing older (e.g. 30d)")
    parser.add_argument(
        "--wait",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="wait this long for a compaction already running elsewhere (default: 60)",
    )
    return parser


def cmd_store(args: argparse.Namespace) -> int:
    output = Output.from_args(args)
    store = Store(data_directory(args.data) / "store")
    if args.action == "info":
        info = store.info()
        if output.structured:
            output.json_document(info.to_json())
        else:
            render_info(output, info)
        return ExitCode.DEGRADED if info.skipped else ExitCode.CLEAN
    if args.action == "compact":
        result = store.compact(full=args.full, wait=args.wait)
        if output.structured:
            output.json_document(result.to_json())
        else:
            language = output.language
            if result.written:
                output.console.print(
                    MESSAGES.text(
                        "compacted",
                        language,
                        merged=result.merged,
                        written=result.written,
                        events=result.events,
                        before=format_size(result.bytes_before),
                        after=format_size(result.bytes_after),
                    )
                )
            else:
                output.console.print(MESSAGES.text("nothing_to_compact", language))
            if result.quarantined:
                output.console.print(
                    MESSAGES.text("quarantined", language, count=result.quarantined)
                )
        return ExitCode.CLEAN
    if not args.max_size and not args.max_age:
        raise UsageError("prune needs --max-size, --max-age or both")
    max_bytes = parse_size(args.max_size, option="--max-size") if args.max_size else None
    max_age = parse_duration(args.max_age, option="--max-age") if args.max_age else None
    pruned = store.prune(max_bytes=max_bytes, max_age=max_age, wait=args.wait)
    if output.structured:
        output.json_document(pruned.to_json())
    else:
        output.console.print(
            MESSAGES.text(
                "pruned",
                output.language,
                removed=pruned.removed,
                events=pruned.events,
                size=format_size(pruned.bytes),
            )
        )
    return ExitCode.CLEAN


def render_info(output: Output, info: StoreInfo) -> None:
    language = output.language
    console = output.console
    console.print(MESSAGES.text("directory", language, path=safe_text(str(info.directory))))
    if info.writer_pid:
        console.print(MESSAGES.text("writer", language, pid=info.writer_pid))
    else:
        console.print(MESSAGES.text("no_writer", language))
    if not info.segments:
        console.print(MESSAGES.text("empty", language))
    else:
        console.print(
            MESSAGES.text(
                "totals",
                language,
                events=f"{info.events:,}",
                segments=info.segments,
                size=format_size(info.bytes),
            )
        )
        console.print(
            MESSAGES.text("range", language, first=_when(info.first), last=_when(info.last))
        )
        table = Table(box=None, pad_edge=False, show_edge=False)
        for code in ("column_day", "column_segments", "column_events", "column_size"):
            table.add_column(MESSAGES.text(code, language), justify="right")
        for day in info.days:
            table.add_row(day.day, str(day.segments), f"{day.events:,}", format_size(day.bytes))
        console.print(table)
    if info.superseded:
        console.print(MESSAGES.text("superseded", language, count=info.superseded))
    if info.corrupt:
        console.print(MESSAGES.text("corrupt", language, count=info.corrupt))
    for skipped in info.skipped:
        console.print(
            MESSAGES.text(
                "skipped",
                language,
                path=safe_text(str(skipped.path)),
                reason=safe_text(skipped.reason),
            )
        )


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def main(argv: Sequence[str]) -> int:
    return run_command(build_parser(), argv, cmd_store)


__all__ = ["MESSAGES", "build_parser", "main"]
