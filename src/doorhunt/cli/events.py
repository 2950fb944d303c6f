"""`doorhunt events`: list stored events, filtered, newest first (the embedded store or
Elasticsearch)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
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
from doorhunt.ecs import get_field
from doorhunt.es.options import add_es_options, es_config
from doorhunt.i18n import Catalog
from doorhunt.report.terminal import safe_text
from doorhunt.store import Store
from doorhunt.store.units import parse_moment

DESCRIPTION = """\
List events from the embedded store (or from Elasticsearch with --es), newest first.

Filters combine with AND. --query FIELD:VALUE matches any ECS field exactly (case-sensitive);
`*` in VALUE matches any run of characters; a field holding an array matches when any of its
elements does. Times are ISO 8601 (UTC unless an offset is given) or an age: 15m, 2h, 7d.

exit codes: 0 listed (whatever the count), 2 usage or store error, 3 some stored segments
were damaged and skipped (the listing may be incomplete)

examples:
  doorhunt events --since 1h
  doorhunt events --host web-1 --category process --action exec --since 2025-05-01T10:00Z
  doorhunt events --query process.executable:/dev/shm/* --query user.id:0
  doorhunt events --action filter_attached --ndjson | jq .process.pid
  doorhunt events --es https://es.example:9200 --es-api-key $KEY --host web-1
"""

MESSAGES: Final = Catalog(
    {
        "header": {
            "en": "{count} events from {source} (newest first)",
            "ko": "{source}에서 이벤트 {count}건 (최신순)",
        },
        "header_oldest": {
            "en": "{count} events from {source} (oldest first)",
            "ko": "{source}에서 이벤트 {count}건 (오래된 순)",
        },
        "none": {
            "en": "No events match.",
            "ko": "조건에 맞는 이벤트가 없습니다.",
        },
        "more": {
            "en": "Showing the first {limit}; use --limit for more.",
            "ko": "처음 {limit}건만 표시합니다. 더 보려면 --limit 을 쓰십시오.",
        },
        "skipped": {
            "en": "{count} damaged segments were skipped: the listing may be incomplete "
            "(see `doorhunt store info`).",
            "ko": "손상된 세그먼트 {count}개를 건너뛰었습니다. 목록이 불완전할 수 있습니다 "
            "(`doorhunt store info` 참고).",
        },
        "column_time": {"en": "time (UTC)", "ko": "시각 (UTC)"},
        "column_host": {"en": "host", "ko": "호스트"},
        "column_action": {"en": "action", "ko": "동작"},
        "column_process": {"en": "process", "ko": "프로세스"},
        "column_detail": {"en": "detail", "ko": "내용"},
        "source_store": {"en": "the store at {path}", "ko": "저장소 {path}"},
        "source_es": {"en": "Elasticsearch at {url}", "ko": "Elasticsearch {url}"},
    }
)


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="doorhunt events", description=DESCRIPTION, formatter_class=HelpFormatter
    )
    add_common_options(parser)
    parser.add_argument("--host", metavar="NAME", help="only events of this host.name")
    parser.add_argument(
        "--category", metavar="NAME", help="only this event.category (process, file, network, ...)"
    )
    parser.add_argument(
        "--action", metavar="NAME", help="only this event.action (exec, connection_attempted, ...)"
    )
    parser.add_argument("--since", metavar="TIME", help="from this time on (ISO 8601 or 15m, 2h)")
    parser.add_argument("--until", metavar="TIME", help="before this time")
    parser.add_argument(
        "--query",
        metavar="FIELD:VALUE",
        action="append",
        default=[],
        help="only events whose FIELD is VALUE (repeatable; * is a wildcard)",
    )
    parser.add_argument(
        "--limit", type=int, default=100, metavar="N", help="at most N events (default: 100)"
    )
    parser.add_argument(
        "--oldest-first", action="store_true", help="oldest first (within --since/--until)"
    )
    parser.add_argument("--data", metavar="DIR", help="data directory (the store is DIR/store)")
    add_es_options(parser, index=True)
    return parser


def parse_query(text: str) -> tuple[str, str]:
    """FIELD:VALUE, split at the first colon (values may hold colons: IPv6, times)."""
    field, separator, value = text.partition(":")
    if not separator or not field:
        raise UsageError(f"--query expects FIELD:VALUE, got {text!r}")
    return field, value


def cmd_events(args: argparse.Namespace) -> int:
    output = Output.from_args(args)
    if args.limit < 1:
        raise UsageError(f"--limit must be at least 1, got {args.limit}")
    since = parse_moment(args.since, option="--since") if args.since else None
    until = parse_moment(args.until, option="--until") if args.until else None
    where = [parse_query(text) for text in args.query]
    filters: dict[str, object] = {
        "host": args.host,
        "category": args.category,
        "action": args.action,
        "since": since,
        "until": until,
        "where": where,
        "limit": args.limit,
        "newest_first": not args.oldest_first,
    }
    skipped: list[dict[str, str]] = []
    config = es_config(args)
    if config is not None:
        from doorhunt.es import SEARCH_PATTERN, EsReader  # noqa: PLC0415 (optional extra)

        with EsReader(config, index=args.es_index or SEARCH_PATTERN) as es_reader:
            events = es_reader.events(**filters)  # type: ignore[arg-type]
        source = MESSAGES("source_es", url=config.display)
        source_json = {"kind": "elasticsearch", "url": config.display}
    else:
        store = Store(data_directory(args.data) / "store")
        with store.reader() as reader:
            events = reader.events(**filters)  # type: ignore[arg-type]
            skipped = [{"path": str(s.path), "reason": s.reason} for s in reader.segments().skipped]
        source = MESSAGES("source_store", path=str(store.directory))
        source_json = {"kind": "store", "directory": str(store.directory)}
    if output.mode == "json":
        output.json_document(
            {"source": source_json, "count": len(events), "events": events, "skipped": skipped}
        )
    elif output.mode == "ndjson":
        output.json_lines(events)
    else:
        render_events(output, events, source.render(output.language), args)
    if skipped:
        print(
            f"doorhunt: warning: {MESSAGES.text('skipped', output.language, count=len(skipped))}",
            file=sys.stderr,
        )
        return ExitCode.DEGRADED
    return ExitCode.CLEAN


def render_events(
    output: Output, events: list[dict[str, object]], source: str, args: argparse.Namespace
) -> None:
    language = output.language
    console = output.console
    code = "header_oldest" if args.oldest_first else "header"
    console.print(MESSAGES.text(code, language, count=len(events), source=source))
    if not events:
        console.print(MESSAGES.text("none", language))
        return
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in ("column_time", "column_host", "column_action", "column_process"):
        table.add_column(MESSAGES.text(column, language), no_wrap=True)
    table.add_column(MESSAGES.text("column_detail", language), overflow="fold")
    for event in events:
        table.add_row(
            time_text(event.get("@timestamp")),
            field_text(get_field(event, "host.name")),
            field_text(get_field(event, "event.action")),
            process_text(event),
            detail_text(event),
        )
    console.print(table)
    if len(events) >= args.limit:
        console.print(MESSAGES.text("more", language, limit=args.limit))


def time_text(value: object) -> str:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return safe_text(value)
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return safe_text(str(value)) if value is not None else ""


def field_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return safe_text(",".join(str(item) for item in value))
    return safe_text(str(value))


def process_text(event: Mapping[str, object]) -> str:
    pid = get_field(event, "process.pid")
    name = get_field(event, "process.name")
    if pid is None and name is None:
        return ""
    return f"{field_text(pid)} {field_text(name)}".strip()


def detail_text(event: Mapping[str, object]) -> str:
    """The one fact that says most about the event, by what kind of event it is."""
    for field in ("rule.name", "process.command_line", "file.path", "message"):
        value = get_field(event, field)
        if value:
            text = field_text(value)
            original = get_field(event, "file.Ext.original.path")
            if field == "file.path" and original:
                text = f"{field_text(original)} -> {text}"
            return text
    destination = get_field(event, "destination.ip")
    if destination:
        return f"-> {field_text(destination)}:{field_text(get_field(event, 'destination.port'))}"
    source = get_field(event, "source.ip")
    if source:
        return f"<- {field_text(source)}:{field_text(get_field(event, 'source.port'))}"
    family = get_field(event, "doorhunt.socket.family")
    if family:
        return f"socket {field_text(family)}/{field_text(get_field(event, 'doorhunt.socket.type'))}"
    return ""


def main(argv: Sequence[str]) -> int:
    return run_command(build_parser(), argv, cmd_events)


__all__ = ["MESSAGES", "build_parser", "main", "parse_query"]
