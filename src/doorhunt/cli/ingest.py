"""`doorhunt ingest`: read auditd logs or ECS NDJSON into the store (or Elasticsearch)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Final
from urllib.parse import urlsplit

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
from doorhunt.ecs import host_fields
from doorhunt.es.options import add_es_options, es_config
from doorhunt.i18n import Catalog
from doorhunt.ingest import IngestReport, ingest_auditd, ingest_ecs
from doorhunt.ingest.files import check_readable
from doorhunt.ingest.pipeline import DocumentSink
from doorhunt.report.terminal import safe_text
from doorhunt.store import Store, StoreBusyError

DESCRIPTION = """\
Read recorded events into the embedded store (or into Elasticsearch with --es).

  --format auditd   audit.log files, raw or ENRICHED, rotated sets (audit.log.1, ...) in time
                    order, gzip/bzip2/xz by content; multi-record events joined by serial;
                    process, file and network syscalls become ECS documents (docs/ingest.md)
  --format ecs      one ECS document per line (Elasticsearch hits are unwrapped from _source);
                    each is validated, invalid ones are reported and not stored

Malformed lines, records out of order and cut-off files are counted and reported, never
fatal. `-` reads standard input. Ingest runs beside a running sensor.

host.name: --host NAME for every document; else each audit record's node= name; else (auditd)
this machine's name. For ECS, --host only fills documents that have no host.name.

exit codes: 0 ingested, 2 usage error or a file that cannot be opened, 3 part of a file could
not be read (a truncated gzip, say): what came before was ingested

examples:
  doorhunt ingest /var/log/audit/audit.log* --format auditd
  doorhunt ingest copied/audit.log.2.gz --format auditd --host web-1
  doorhunt ingest export.ndjson --format ecs
  doorhunt ingest /var/log/audit/audit.log --format auditd --es https://es:9200 --es-api-key K
"""

MESSAGES: Final = Catalog(
    {
        "summary": {
            "en": "Ingested {documents} documents from {files} files into {target}.",
            "ko": "파일 {files}개에서 문서 {documents}건을 {target}에 넣었습니다.",
        },
        "audit_counts": {
            "en": "{lines} lines, {records} audit records, {events} events; "
            "{unmapped} events not mapped (other syscalls, failed calls, threads).",
            "ko": "{lines}줄, 감사 레코드 {records}개, 이벤트 {events}건; "
            "매핑하지 않은 이벤트 {unmapped}건 (다른 시스템 호출, 실패한 호출, 스레드).",
        },
        "ecs_counts": {
            "en": "{lines} lines; {invalid} invalid documents not stored; "
            "{unknown} stored with fields outside ECS.",
            "ko": "{lines}줄; 유효하지 않은 문서 {invalid}건은 저장하지 않음; "
            "ECS 밖의 필드가 있는 문서 {unknown}건은 저장함.",
        },
        "problems": {
            "en": "{malformed} malformed lines, {oversized} over-long lines, "
            "{incomplete} events without their end record, {late} late records.",
            "ko": "형식이 잘못된 줄 {malformed}개, 너무 긴 줄 {oversized}개, "
            "끝 레코드가 없는 이벤트 {incomplete}건, 늦게 도착한 레코드 {late}개.",
        },
        "problem": {"en": "  {location}: {message}", "ko": "  {location}: {message}"},
        "damage": {
            "en": "{path}: line {line}: {reason}",
            "ko": "{path}: {line}번째 줄: {reason}",
        },
        "target_store": {"en": "the store at {path}", "ko": "저장소 {path}"},
        "target_es": {"en": "Elasticsearch at {url}", "ko": "Elasticsearch {url}"},
        "spooled": {
            "en": "Elasticsearch did not answer: {count} documents wait in {path} and are "
            "sent by the next run with --es.",
            "ko": "Elasticsearch가 응답하지 않아 문서 {count}건이 {path}에서 대기하며, "
            "다음 --es 실행 때 전송됩니다.",
        },
        "rejected": {
            "en": "Elasticsearch refused {count} documents; they are kept in {path}.",
            "ko": "Elasticsearch가 문서 {count}건을 거부했습니다. {path}에 보관했습니다.",
        },
    }
)


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="doorhunt ingest", description=DESCRIPTION, formatter_class=HelpFormatter
    )
    add_common_options(parser)
    parser.add_argument("files", nargs="+", metavar="FILE", help="files to read (- for stdin)")
    parser.add_argument(
        "--format", required=True, choices=("auditd", "ecs"), help="what the files hold"
    )
    parser.add_argument("--host", metavar="NAME", help="host.name for the documents (see above)")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="ecs: refuse documents with fields outside ECS and doorhunt's extensions too",
    )
    parser.add_argument("--data", metavar="DIR", help="data directory (the store is DIR/store)")
    add_es_options(parser)
    return parser


def cmd_ingest(args: argparse.Namespace) -> int:
    output = Output.from_args(args)
    for path in args.files:
        if path != "-":
            check_readable(path)
    if args.files.count("-") > 1:
        raise UsageError("standard input (-) can be read only once")
    data = data_directory(args.data)
    config = es_config(args)
    with ExitStack() as stack:
        sink: DocumentSink
        if config is not None:
            from doorhunt.es import ElasticsearchSink  # noqa: PLC0415 (optional extra)

            es_sink = ElasticsearchSink(
                config, spool_directory=data / "es-spool" / _spool_name(config.url)
            )
            stack.callback(es_sink.close)
            sink = es_sink
            target = MESSAGES("target_es", url=config.display)
        else:
            store = Store(data / "store")
            writer = store.writer(exclusive=False, wait_when_full=True)
            stack.callback(writer.close)
            sink = writer
            target = MESSAGES("target_store", path=str(store.directory))
        report = _run(args, sink)
    extra: dict[str, object] = {}
    if config is not None:
        stats = es_sink.stats
        extra = {
            "elasticsearch": {
                "sent": stats.sent,
                "spooled": stats.spooled,
                "rejected": stats.rejected,
                "dropped": stats.dropped,
            }
        }
    else:
        # Many small segments from a big file: merge them now if nobody else is at it.
        with contextlib.suppress(StoreBusyError):
            store.compact(wait=0.0)
    if output.structured:
        output.json_document({**report.to_json(), **extra})
    else:
        render_report(output, report, target.render(output.language))
        if config is not None:
            stats = es_sink.stats
            spool = str(es_sink.spool_directory)
            if stats.spooled:
                output.console.print(
                    MESSAGES.text("spooled", output.language, count=stats.spooled, path=spool)
                )
            if stats.rejected:
                output.console.print(
                    MESSAGES.text(
                        "rejected", output.language, count=stats.rejected, path=spool + "/rejected"
                    )
                )
    for damage in report.damage:
        print(
            "doorhunt: warning: "
            + MESSAGES.text(
                "damage",
                output.language,
                path=safe_text(damage.path),
                line=damage.line,
                reason=safe_text(damage.reason),
            ),
            file=sys.stderr,
        )
    return ExitCode.DEGRADED if report.degraded else ExitCode.CLEAN


def _run(args: argparse.Namespace, sink: DocumentSink) -> IngestReport:
    if args.format == "auditd":
        host = {"name": args.host} if args.host else host_fields()
        return ingest_auditd(args.files, sink, host=host, host_override=bool(args.host))
    return ingest_ecs(args.files, sink, host_name=args.host, strict=args.strict)


def _spool_name(url: str) -> str:
    """One spool per cluster: a file-name-safe form of the URL's host and port."""
    parts = urlsplit(url)
    name = f"{parts.hostname or 'cluster'}_{parts.port or ''}"
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)


def render_report(output: Output, report: IngestReport, target: str) -> None:
    language = output.language
    console = output.console
    console.print(
        MESSAGES.text(
            "summary", language, documents=report.documents, files=len(report.files), target=target
        )
    )
    if report.format == "auditd":
        console.print(
            MESSAGES.text(
                "audit_counts",
                language,
                lines=report.lines,
                records=report.records,
                events=report.events,
                unmapped=report.unmapped,
            )
        )
    else:
        console.print(
            MESSAGES.text(
                "ecs_counts",
                language,
                lines=report.lines,
                invalid=report.invalid,
                unknown=report.unknown_fields,
            )
        )
    if report.malformed or report.oversized or report.incomplete or report.late:
        console.print(
            MESSAGES.text(
                "problems",
                language,
                malformed=report.malformed,
                oversized=report.oversized,
                incomplete=report.incomplete,
                late=report.late,
            )
        )
    for problem in report.problems:
        console.print(
            MESSAGES.text(
                "problem",
                language,
                location=safe_text(problem.location),
                message=safe_text(problem.message),
            )
        )


def main(argv: Sequence[str]) -> int:
    return run_command(build_parser(), argv, cmd_ingest)


__all__ = ["MESSAGES", "build_parser", "main"]
