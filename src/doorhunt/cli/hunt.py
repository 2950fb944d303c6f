"""`doorhunt hunt`: run EQL (a query, chosen rules, or the whole pack) over what was stored."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from rich.table import Table

from doorhunt.cli.common import (
    ArgumentParser,
    HelpFormatter,
    Output,
    UsageError,
    add_common_options,
    run_command,
)
from doorhunt.cli.events import detail_text, field_text, process_text, time_text
from doorhunt.cli.exitcodes import ExitCode
from doorhunt.datadir import data_directory
from doorhunt.ecs import get_field
from doorhunt.es.options import add_es_options, es_config
from doorhunt.i18n import Catalog
from doorhunt.report.terminal import safe_text
from doorhunt.rules.alerts import alert_document
from doorhunt.rules.engine import CompiledRule, Match, compile_rule, es_eql_search, run_hunt
from doorhunt.rules.pack import find_rule, load_rules
from doorhunt.store import Store
from doorhunt.store.units import parse_moment

if TYPE_CHECKING:
    from doorhunt.es import EsConfig
    from doorhunt.rules.pack import Rule
    from doorhunt.store.reader import StoreReader

DESCRIPTION = """\
Hunt through stored events with EQL (Elasticsearch's syntax and semantics; docs/eql.md): an
ad-hoc query, chosen rules (--rule), or the whole shipped pack (--pack). It runs as SQL over
the embedded store, or on an Elasticsearch cluster's EQL API with --es, unchanged.

With --save, the matches of rules are written back to the store as alerts (the UI and
`doorhunt events --category ...` then show them), one alert per match.

exit codes: 0 nothing found, 1 matches found, 2 usage, query or store error

examples:
  doorhunt hunt 'process where process.executable : "/dev/shm/*"'
  doorhunt hunt 'sequence by process.entity_id with maxspan=1m
      [network where event.action == "socket_opened" and doorhunt.socket.family == "packet"]
      [network where event.action == "filter_attached"]' --since 7d
  doorhunt hunt --pack --since 30d --save
  doorhunt hunt --rule 5e9d --json | jq '.rules[].matches | length'
  doorhunt hunt --pack --es https://es.example:9200 --es-api-key $KEY
"""

MESSAGES: Final = Catalog(
    {
        "rule_header": {
            "en": "{name}: {count} matches",
            "ko": "{name}: {count}건 탐지",
        },
        "summary": {
            "en": "{rules} queries over {source}: {matches} matches.",
            "ko": "{source}에서 쿼리 {rules}개 실행: {matches}건 탐지.",
        },
        "saved": {
            "en": "{count} alerts written to the store.",
            "ko": "경보 {count}건을 저장소에 기록했습니다.",
        },
        "more": {
            "en": "... {count} more (use --json, or --limit)",
            "ko": "... 외 {count}건 (--json 또는 --limit 사용)",
        },
        "source_store": {"en": "the store at {path}", "ko": "저장소 {path}"},
        "source_es": {"en": "Elasticsearch at {url}", "ko": "Elasticsearch {url}"},
        "column_time": {"en": "time (UTC)", "ko": "시각 (UTC)"},
        "column_host": {"en": "host", "ko": "호스트"},
        "column_action": {"en": "action", "ko": "동작"},
        "column_process": {"en": "process", "ko": "프로세스"},
        "column_detail": {"en": "detail", "ko": "내용"},
    }
)


@dataclass(slots=True)
class Hunted:
    """One query's matches; `rule` is None for an ad-hoc query."""

    compiled: CompiledRule
    rule: Rule | None
    matches: list[Match] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        identity: dict[str, object] = {"query": self.compiled.text}
        if self.rule is not None:
            identity = {"id": self.rule.id, "name": self.rule.name, **identity}
        return {
            **identity,
            "matches": [{"events": [dict(event) for event in m.events]} for m in self.matches],
        }


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="doorhunt hunt", description=DESCRIPTION, formatter_class=HelpFormatter
    )
    parser.add_argument("query", metavar="EQL", nargs="?", help="an EQL query")
    chosen = parser.add_argument_group("rules")
    chosen.add_argument(
        "--rule",
        metavar="ID",
        action="append",
        default=[],
        help="run this rule (its id, a unique id prefix, or a name prefix; repeatable)",
    )
    chosen.add_argument("--pack", action="store_true", help="run every rule")
    chosen.add_argument(
        "--rules", metavar="DIR", action="append", default=[], help="also load rules from DIR"
    )
    window = parser.add_argument_group("what to search")
    window.add_argument(
        "--since", metavar="TIME", help="from this time on (ISO 8601 or 15m, 2h, 7d)"
    )
    window.add_argument("--until", metavar="TIME", help="before this time")
    window.add_argument("--host", metavar="NAME", help="only matches on this host.name")
    window.add_argument("--data", metavar="DIR", help="data directory (the store is DIR/store)")
    add_es_options(parser, index=True)
    results = parser.add_argument_group("results")
    results.add_argument(
        "--limit", type=int, default=20, metavar="N", help="matches shown per query (default 20)"
    )
    results.add_argument(
        "--save", action="store_true", help="write the rules' matches to the store as alerts"
    )
    add_common_options(parser)
    return parser


def _queries(args: argparse.Namespace) -> list[Hunted]:
    if not args.query and not args.rule and not args.pack:
        raise UsageError("give an EQL query, --rule ID or --pack")
    hunted = []
    if args.query:
        hunted.append(Hunted(compile_rule(args.query, name="query"), None))
    if args.rule or args.pack:
        rules = load_rules([Path(directory) for directory in args.rules])
        chosen = list(rules) if args.pack else [find_rule(rules, key) for key in args.rule]
        hunted += [Hunted(rule.compiled, rule) for rule in chosen]
    return hunted


def _on_host(match: Match, host: str | None) -> bool:
    return host is None or any(get_field(event, "host.name") == host for event in match.events)


def cmd_hunt(args: argparse.Namespace) -> int:
    output = Output.from_args(args)
    if args.limit < 1:
        raise UsageError(f"--limit must be at least 1, got {args.limit}")
    since = parse_moment(args.since, option="--since") if args.since else None
    until = parse_moment(args.until, option="--until") if args.until else None
    hunted = _queries(args)
    config = es_config(args)
    if config is not None:
        source = MESSAGES("source_es", url=config.display)
        _search_es(config, args.es_index, hunted, since, until)
    else:
        store = Store(data_directory(args.data) / "store")
        source = MESSAGES("source_store", path=str(store.directory))
        with store.reader() as reader:
            _search_store(reader, hunted, since, until)
    for item in hunted:
        item.matches = [m for m in item.matches if _on_host(m, args.host)]
    total = sum(len(item.matches) for item in hunted)
    saved = _save(args, hunted) if args.save else 0
    if output.mode == "json":
        output.json_document(
            {
                "source": source.render("en"),
                "matches": total,
                "rules": [h.to_json() for h in hunted],
            }
        )
    elif output.mode == "ndjson":
        output.json_lines(
            {"rule": h.rule.id if h.rule else None, "events": [dict(e) for e in m.events]}
            for h in hunted
            for m in h.matches
        )
    else:
        _render(output, hunted, args.limit)
        output.console.print(
            MESSAGES.text(
                "summary",
                output.language,
                rules=len(hunted),
                source=source.render(output.language),
                matches=total,
            )
        )
        if saved:
            output.console.print(MESSAGES.text("saved", output.language, count=saved))
    return ExitCode.FINDINGS if total else ExitCode.CLEAN


def _search_store(
    reader: StoreReader, hunted: list[Hunted], since: datetime | None, until: datetime | None
) -> None:
    for item in hunted:
        item.matches = run_hunt(reader, item.compiled, since, until)


def _search_es(
    config: EsConfig,
    index: str | None,
    hunted: list[Hunted],
    since: datetime | None,
    until: datetime | None,
) -> None:
    from doorhunt.es import SEARCH_PATTERN  # noqa: PLC0415 (optional extra)

    for item in hunted:
        item.matches = es_eql_search(
            config, item.compiled, index or SEARCH_PATTERN, since=since, until=until
        )


def _save(args: argparse.Namespace, hunted: list[Hunted]) -> int:
    """Alerts for the rules' matches, written to the store beside the sensor if it runs."""
    alerts = [
        alert_document(item.rule, match, f"hunt-{item.rule.id[:8]}-{index}")
        for item in hunted
        if item.rule is not None
        for index, match in enumerate(item.matches)
    ]
    if alerts:
        store = Store(data_directory(args.data) / "store")
        with store.writer(exclusive=False, wait_when_full=True) as writer:
            writer.extend(alerts)
    return len(alerts)


def _render(output: Output, hunted: list[Hunted], limit: int) -> None:
    language = output.language
    console = output.console
    for item in hunted:
        name = item.rule.name if item.rule else item.compiled.text.strip()
        console.print(
            MESSAGES.text("rule_header", language, name=safe_text(name), count=len(item.matches))
        )
        if not item.matches:
            continue
        table = Table(box=None, pad_edge=False, show_edge=False)
        for column in ("column_time", "column_host", "column_action", "column_process"):
            table.add_column(MESSAGES.text(column, language), no_wrap=True)
        table.add_column(MESSAGES.text("column_detail", language), overflow="fold")
        for number, match in enumerate(item.matches[:limit]):
            for step, event in enumerate(match.events):
                table.add_row(
                    time_text(event.get("@timestamp")) if step == 0 else f"  +{step}",
                    field_text(get_field(event, "host.name")),
                    field_text(get_field(event, "event.action")),
                    process_text(event),
                    detail_text(event),
                    end_section=step == len(match.events) - 1 and number < limit - 1,
                )
        console.print(table)
        if len(item.matches) > limit:
            console.print(MESSAGES.text("more", language, count=len(item.matches) - limit))


def main(argv: Sequence[str]) -> int:
    return run_command(build_parser(), argv, cmd_hunt)
