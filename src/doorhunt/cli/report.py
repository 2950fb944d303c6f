"""`doorhunt report`: the incident report of stored data, as printable HTML (and PDF) or JSON."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from datetime import UTC, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from doorhunt import __version__
from doorhunt.cli.common import (
    PROGRAM,
    ArgumentParser,
    HelpFormatter,
    Output,
    UsageError,
    run_command,
)
from doorhunt.cli.exitcodes import ExitCode
from doorhunt.datadir import data_directory
from doorhunt.i18n import LANGUAGES, Catalog
from doorhunt.report.incident import gather_report
from doorhunt.report.incident_html import render_html
from doorhunt.report.pdf import (
    MISSING,
    PdfError,
    find_converter,
    html_to_pdf,
    write_file_atomically,
)
from doorhunt.rules.pack import load_rules
from doorhunt.store.units import parse_moment

DESCRIPTION = """\
Write the incident report of what doorhunt stored: each host's latest sweep verdict and its
findings with evidence, the detection alerts grouped by rule (severity, ATT&CK, triage note),
the process trees of alerted processes drawn as SVG, a timeline of the alerts and the events
around them, the socket filters explained, and the files the sensor quarantined (SHA-256).

The HTML file is self-contained (no script, no external resource): open it in any browser,
print it, or mail it. --pdf prints it with headless Chromium or wkhtmltopdf when one is
installed. An empty store gives a report that says so. Times are ISO 8601 (UTC unless an
offset is given) or an age: 15m, 2h, 7d.

exit codes: 0 written, 2 usage error or unreadable store, 3 written, but damaged store
segments were skipped (the report may be incomplete)

examples:
  doorhunt report --html report.html
  doorhunt report --host web-1 --since 7d --html web-1.html --pdf web-1.pdf
  doorhunt report --lang ko --tz Asia/Seoul --since 2025-05-01T00:00+09:00 \\
      --until 2025-05-02T00:00+09:00 --html 침해사고-보고서.html
  doorhunt report --data /srv/case-42 --json | jq '.alert_groups[].title'
"""

MESSAGES: Final = Catalog(
    {
        "written": {"en": "Report written: {path}", "ko": "보고서 작성: {path}"},
        "summary": {
            "en": "{hosts} hosts, {alerts} alerts, verdict: {verdict}",
            "ko": "호스트 {hosts}대, 경보 {alerts}건, 판정: {verdict}",
        },
        "no_sweep": {"en": "no sweep", "ko": "점검 결과 없음"},
        "empty": {
            "en": "The store holds nothing for this scope; the report says so.",
            "ko": "이 범위에 저장된 자료가 없습니다. 보고서에 그렇게 적었습니다.",
        },
        "skipped": {
            "en": "{count} damaged store segments were skipped: the report may be incomplete "
            "(see `doorhunt store info`).",
            "ko": "손상된 저장소 세그먼트 {count}개를 건너뛰었습니다. 보고서가 불완전할 수 "
            "있습니다 (`doorhunt store info` 참고).",
        },
    }
)

_OFFSET: Final = re.compile(r"([+-])(\d{1,2}):?(\d{2})")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="doorhunt report", description=DESCRIPTION, formatter_class=HelpFormatter
    )
    scope = parser.add_argument_group("scope")
    scope.add_argument("--data", metavar="DIR", help="data directory (the store is DIR/store)")
    scope.add_argument("--host", metavar="NAME", help="only this host.name")
    scope.add_argument("--since", metavar="TIME", help="from this time on (ISO 8601 or 7d, 2h)")
    scope.add_argument("--until", metavar="TIME", help="before this time")
    scope.add_argument(
        "--rules",
        metavar="DIR",
        action="append",
        default=[],
        help="rule directories besides the shipped pack, for their triage notes (repeatable)",
    )
    output = parser.add_argument_group("output")
    output.add_argument("--html", metavar="OUT", help="write the HTML report to OUT (- for stdout)")
    output.add_argument(
        "--pdf", metavar="OUT", help="print it to the PDF file OUT (with chromium or wkhtmltopdf)"
    )
    output.add_argument("--json", action="store_true", help="print the report's data as JSON")
    output.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=None,
        help="language of the report (default: from the locale; en or ko)",
    )
    output.add_argument(
        "--tz",
        metavar="ZONE",
        default="UTC",
        help="time zone of the times shown: UTC (default), Asia/Seoul, +09:00, ...",
    )
    output.add_argument("-v", "--verbose", action="store_true", help="log what is being done")
    output.add_argument(
        "--debug", action="store_true", help="log everything and show tracebacks of internal errors"
    )
    parser.add_argument("--version", action="version", version=f"{PROGRAM} {__version__}")
    parser.set_defaults(ndjson=False, no_color=True)
    return parser


def parse_zone(text: str) -> tzinfo:
    """A time zone by IANA name (Asia/Seoul), `UTC`, or a fixed offset (+09:00)."""
    value = text.strip()
    if value.upper() in ("UTC", "Z"):
        return UTC
    match = _OFFSET.fullmatch(value)
    if match:
        hours, minutes = int(match.group(2)), int(match.group(3))
        if hours > 23 or minutes > 59:
            raise UsageError(f"--tz: offset out of range: {text!r}")
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(-delta if match.group(1) == "-" else delta)
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"--tz: unknown time zone {text!r} (use UTC, an IANA name such as Asia/Seoul, "
            "or an offset such as +09:00)"
        ) from None


def cmd_report(args: argparse.Namespace) -> int:
    output = Output.from_args(args)
    language = output.language
    if not (args.html or args.pdf or args.json):
        raise UsageError("say what to write: --html OUT, --pdf OUT or --json")
    if args.html == "-" and args.json:
        raise UsageError("--html - and --json both write to standard output; choose one")
    zone = parse_zone(args.tz)
    since = parse_moment(args.since, option="--since") if args.since else None
    until = parse_moment(args.until, option="--until") if args.until else None
    if since is not None and until is not None and since >= until:
        raise UsageError("--since must be before --until")
    converter = None
    if args.pdf:
        converter = find_converter()
        if converter is None:
            raise PdfError(MISSING)
    rules = load_rules([Path(directory) for directory in args.rules]) if args.rules else None
    report = gather_report(
        data_directory(args.data),
        host=args.host,
        since=since,
        until=until,
        language=language,
        rules=rules,
    )
    written: list[str] = []
    if args.html or args.pdf:
        html = render_html(report, zone=zone)
        if args.html == "-":
            sys.stdout.write(html)
        elif args.html:
            write_file_atomically(Path(args.html), html.encode("utf-8"))
            written.append(args.html)
        if args.pdf:
            html_to_pdf(html, Path(args.pdf), converter=converter)
            written.append(args.pdf)
    if args.json:
        output.json_document(report.to_json())
    elif args.html != "-":
        stream = sys.stdout
        for path in written:
            print(MESSAGES.text("written", language, path=path), file=stream)
        verdict = report.verdict_text or MESSAGES.text("no_sweep", language)
        print(
            MESSAGES.text(
                "summary", language, hosts=len(report.hosts), alerts=report.alerts, verdict=verdict
            ),
            file=stream,
        )
        if report.empty:
            print(MESSAGES.text("empty", language), file=stream)
    if report.skipped_segments:
        warning = MESSAGES.text("skipped", language, count=report.skipped_segments)
        print(f"{PROGRAM}: warning: {warning}", file=sys.stderr)
        return ExitCode.DEGRADED
    return ExitCode.CLEAN


def main(argv: Sequence[str]) -> int:
    return run_command(build_parser(), argv, cmd_report)


__all__ = ["MESSAGES", "build_parser", "main", "parse_zone"]
