"""`doorhunt scan`: find BPFDoor implants from the network by the magic packets they answer."""

from __future__ import annotations

import argparse
import math
import secrets
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from rich.console import Console

from doorhunt.bpf.codec import Format, parse_programs
from doorhunt.bpf.interpreter import Link
from doorhunt.bpf.program import Program
from doorhunt.cli.common import (
    ArgumentParser,
    HelpFormatter,
    Output,
    UsageError,
    add_common_options,
    read_input,
    run_command,
)
from doorhunt.cli.exitcodes import ExitCode
from doorhunt.ecs import host_fields
from doorhunt.errors import InputError
from doorhunt.i18n import Catalog, Message
from doorhunt.scan.nonce import ListenSpec, parse_listen
from doorhunt.scan.probes import (
    PROTOCOLS,
    ProbeKind,
    ProbeOptions,
    builtin_kinds,
    connect_kinds,
    filter_kinds,
    parse_magics,
    parse_protocols,
)
from doorhunt.scan.results import HostResult, ScanSummary, Status
from doorhunt.scan.run import (
    MAX_RATE,
    MAX_RETRIES,
    MAX_TIMEOUT,
    MIN_TIMEOUT,
    ScanPlan,
    ScanSession,
)
from doorhunt.scan.sockets import require_cap_net_raw
from doorhunt.scan.targets import Span, TargetSet, parse_list, parse_spec
from doorhunt.scan.terminal import (
    MAX_LISTED,
    ProgressBar,
    render_header,
    render_notes,
    render_results,
)

MAX_JSON_LISTED = 10_000  # errors and silent hosts listed in --json; the rest are counted

DESCRIPTION = """\
Send BPFDoor magic packets to hosts and listen for the ping-back an implant answers with
(BPFDOOR.md §2): a UDP datagram "1" to the address and port the probe carried. Every trigger
shape is probed: UDP, ICMP echo and a raw TCP segment (and, with --tcp-connect, the magic on an
established connection), for each magic asked for. Each probe's reply port is a nonce, so a
ping-back names exactly one (target, protocol, magic); one from another address is reported as
such, never as a hit.

Targets: addresses, CIDR ranges up to a /8 and A.B.C.D-E ranges, on the command line or one a
line in files (-iL). Network, broadcast, multicast and reserved addresses are never probed.
Needs CAP_NET_RAW (root). Scan only networks you are responsible for.

examples:
  sudo doorhunt scan 10.20.0.0/16 --exclude 10.20.99.0/24
  sudo doorhunt scan -iL servers.txt --magic known --rate 5000 --json
  sudo doorhunt scan 10.0.0.5 --from-filter filter.txt     # a filter from `doorhunt sample`
  sudo doorhunt scan 10.0.0.0/24 --tcp-connect 443 --ndjson
  sudo doorhunt scan 203.0.113.7 --listen 255.255.255.255:40000-40999   # across NAT
  doorhunt scan 10.0.0.0/8 --dry-run                     # what would be sent, sends nothing

exit codes: 0 no host answered, 1 a host answered, 2 usage or input error, 130 interrupted.
"""

MESSAGES = Catalog(
    {
        "rate_capped": {
            "en": "--rate {rate} is more than {nonces} reply ports allow with --timeout {timeout} "
            "(about {cap} probes/s): the scan will go at that speed; widen --listen's port range "
            "or shorten --timeout",
            "ko": "--rate {rate}은(는) 응답 포트 {nonces}개와 --timeout {timeout}으로 가능한 속도"
            "(초당 약 {cap}개)보다 큼: 그 속도로 스캔함; --listen 포트 범위를 넓히거나 "
            "--timeout을 줄이세요",
        },
        "unmatched_kinds": {
            "en": "{count} filter probes cannot carry the ping-back address: they are sent, "
            "but an answer to them cannot be matched",
            "ko": "필터 탐지 패킷 {count}개는 응답 주소를 담을 수 없음: 보내지만 응답을 "
            "대응시킬 수 없음",
        },
    }
)


def _number(
    kind: Callable[[str], float], low: float, high: float, name: str
) -> Callable[[str], float]:
    def convert(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} must be from {low:g} to {high:g}")
        return value

    return convert


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="doorhunt scan", description=DESCRIPTION, formatter_class=HelpFormatter
    )
    parser.add_argument(
        "targets", nargs="*", metavar="TARGET", help="A.B.C.D, A.B.C.D/N, A.B.C.D-E.F.G.H"
    )
    chosen = parser.add_argument_group("targets")
    chosen.add_argument(
        "-iL",
        "--input-list",
        dest="lists",
        action="append",
        default=[],
        metavar="FILE",
        help="targets from a file, one a line (`#` comments; `-` for standard input)",
    )
    chosen.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="SPEC",
        help="addresses or ranges not to scan (repeatable, or comma-separated)",
    )
    chosen.add_argument(
        "--exclude-file",
        action="append",
        default=[],
        metavar="FILE",
        help="exclusions, a line each",
    )
    probes = parser.add_argument_group("probes")
    probes.add_argument(
        "--protocols",
        default=",".join(PROTOCOLS),
        metavar="LIST",
        help="trigger shapes to send: udp,icmp,tcp (default: all three)",
    )
    probes.add_argument(
        "--magic",
        nargs="+",
        metavar="HEX",
        help="magics to send on every protocol: `known` (every published one) and/or hex "
        "values; default: the classic pairs (7255 on UDP and ICMP, 5293 on TCP)",
    )
    probes.add_argument(
        "--from-filter",
        metavar="FILE",
        help="also send the packets `doorhunt bpf probe` makes for this filter (any format "
        "`doorhunt bpf` reads; every filter of an `ss` listing); alone, only those",
    )
    probes.add_argument(
        "--filter-format", choices=[f.value for f in Format], help="format of --from-filter"
    )
    probes.add_argument(
        "--filter-link",
        choices=[link.value for link in Link],
        default=Link.ETHERNET.value,
        help="what the filter's offset 0 is (default ethernet, as on BPFDoor's packet socket)",
    )
    probes.add_argument(
        "--tcp-connect",
        type=_number(int, 1, 65535, "--tcp-connect"),
        metavar="PORT",
        help="also send each TCP magic on an established connection to this open port",
    )
    probes.add_argument(
        "--udp-port",
        type=_number(int, 1, 65535, "--udp-port"),
        default=53,
        metavar="PORT",
        help="destination port of UDP probes (default 53; the filter does not look)",
    )
    probes.add_argument(
        "--tcp-port",
        type=_number(int, 1, 65535, "--tcp-port"),
        default=443,
        metavar="PORT",
        help="destination port of raw TCP probes (default 443)",
    )
    timing = parser.add_argument_group("timing and listening")
    timing.add_argument(
        "--rate",
        type=_number(float, 1, MAX_RATE, "--rate"),
        default=1000.0,
        metavar="PPS",
        help="packets per second, retries included (default 1000)",
    )
    timing.add_argument(
        "--retries",
        type=_number(int, 0, MAX_RETRIES, "--retries"),
        default=1,
        metavar="N",
        help="tries after the first for a probe left unanswered (default 1)",
    )
    timing.add_argument(
        "--timeout",
        type=_number(float, MIN_TIMEOUT, MAX_TIMEOUT, "--timeout"),
        default=2.0,
        metavar="S",
        help="seconds to wait for a ping-back after each try (default 2)",
    )
    timing.add_argument(
        "--listen",
        metavar="IP[:PORT[-PORT]]",
        help="ping-back address written in probes (default: the kernel's source address "
        "towards each target; 255.255.255.255: the implant answers the probe's source, for "
        "NAT) and the reply ports, one per probe in flight (default 10000-65535)",
    )
    shown = parser.add_argument_group("results")
    shown.add_argument(
        "--all", action="store_true", help="also list the addresses that did not answer"
    )
    shown.add_argument(
        "--dry-run", action="store_true", help="show what would be sent, and send nothing"
    )
    shown.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_common_options(parser)
    return parser


def _targets(args: argparse.Namespace) -> TargetSet:
    spans: list[Span] = []
    for text in args.targets:
        spans += parse_spec(text, location=f"target {text[:40]!r}")
    for path in args.lists:
        data, name = read_input(path)
        spans += parse_list(data, name=name)
    if not spans:
        raise UsageError("no targets: give addresses or ranges, or -iL FILE (see --help)")
    excluded: list[Span] = []
    for text in args.exclude:
        for word in text.replace(",", " ").split():
            excluded += parse_spec(word, location=f"--exclude {word[:40]!r}", exclusion=True)
    for path in args.exclude_file:
        data, name = read_input(path)
        excluded += parse_list(data, name=name, exclusion=True)
    return TargetSet(spans, excluded)


def _filter_programs(args: argparse.Namespace) -> list[tuple[Program, Link]]:
    data, name = read_input(args.from_filter)
    fmt = Format(args.filter_format) if args.filter_format else None
    try:
        parsed = parse_programs(data, fmt)
    except InputError as error:
        raise error.at(name) from None
    link = Link(args.filter_link)
    return [(program.program, link) for program in parsed]


def plan_scan(args: argparse.Namespace) -> tuple[ScanPlan, list[Message]]:
    """The plan the command line asks for, and notes about it."""
    protocols = parse_protocols(args.protocols)
    options = ProbeOptions(
        udp_port=args.udp_port,
        tcp_port=args.tcp_port,
        source_port=49152 + secrets.randbelow(16384),
        icmp_id=secrets.randbelow(0x10000),
    )
    if args.tcp_connect is not None and "tcp" not in protocols:
        raise UsageError("--tcp-connect sends the TCP magics: keep tcp in --protocols")
    notes: list[Message] = []
    kinds: list[ProbeKind] = []
    magics = parse_magics(args.magic) if args.magic else None
    if args.from_filter is None or magics is not None:
        kinds += builtin_kinds(magics, protocols, options)
    if args.from_filter is not None:
        found = filter_kinds(_filter_programs(args), protocols, start=len(kinds))
        kinds += found.kinds
        notes += found.notes
        if not found.kinds and not kinds:
            raise InputError(
                "the filter gives no probe that can be sent (see `doorhunt bpf probe`)",
                location=args.from_filter,
            )
        unmatched = sum(1 for kind in found.kinds if not kind.carries_reply)
        if unmatched:
            notes.append(MESSAGES("unmatched_kinds", count=unmatched))
    if args.tcp_connect is not None:
        kinds += connect_kinds(kinds, args.tcp_connect, start=len(kinds))
    if not kinds:
        raise UsageError("nothing to send: --protocols leaves no probe (see --help)")
    listen = parse_listen(args.listen) if args.listen else ListenSpec(None)
    plan = ScanPlan(
        targets=_targets(args),
        kinds=tuple(kinds),
        listen=listen,
        rate=args.rate,
        retries=args.retries,
        timeout=args.timeout,
    )
    nonces = listen.last_port - listen.first_port + 1
    cap = nonces / plan.timeout
    if plan.rate > cap:
        notes.append(
            MESSAGES(
                "rate_capped",
                rate=f"{plan.rate:g}",
                nonces=nonces,
                timeout=f"{plan.timeout:g}",
                cap=f"{cap:,.0f}",
            )
        )
    return plan, notes


class Collector:
    """Keeps the results a renderer will show, and writes NDJSON as they come."""

    def __init__(self, output: Output, args: argparse.Namespace) -> None:
        self.output = output
        self.show_silent = bool(args.all)
        self.limit = MAX_LISTED if output.mode == "terminal" else MAX_JSON_LISTED
        self.kept: dict[int, HostResult] = {}
        self.hidden: dict[Status, int] = dict.fromkeys(Status, 0)
        self.listed: dict[Status, int] = dict.fromkeys(Status, 0)
        self.host = host_fields() if output.mode == "ndjson" else {}

    def __call__(self, result: HostResult) -> None:
        if result.status is Status.NO_RESPONSE and not self.show_silent:
            return
        if self.output.mode == "ndjson":
            self.output.json_lines([result.ecs(self.host, self.output.language)])
            return
        bounded = result.status in (Status.ERROR, Status.NO_RESPONSE)
        if result.address not in self.kept and bounded:
            if self.listed[result.status] >= self.limit:
                self.hidden[result.status] += 1
                return
            self.listed[result.status] += 1
        self.kept[result.address] = result

    def results(self) -> list[HostResult]:
        return sorted(self.kept.values(), key=lambda result: result.address)


# The sockets a scan runs on; tests put an in-memory network here.
open_session: Callable[[ScanPlan], ScanSession] = ScanSession


def cmd_scan(args: argparse.Namespace) -> int:
    output = Output.from_args(args)
    plan, notes = plan_scan(args)
    if args.dry_run:
        return _dry_run(output, plan, notes)
    require_cap_net_raw()
    collector = Collector(output, args)
    errors = Console(file=sys.stderr, highlight=False, markup=False, emoji=False)
    with open_session(plan) as session:
        started = datetime.now(UTC)
        if not output.structured:
            render_header(output.console, plan, output.language)
            render_notes(output.console, notes, output.language)
        else:
            for note in notes:
                print(f"doorhunt: note: {note.render(output.language)}", file=sys.stderr)
        if not args.no_progress and errors.is_terminal:
            with ProgressBar(errors, plan.first_tries, output.language) as bar:
                summary = session.run(collector, bar.update)
        else:
            summary = session.run(collector)
    _report(output, plan, notes, collector, summary, started)
    if summary.interrupted:
        return ExitCode.INTERRUPTED
    return ExitCode.FINDINGS if summary.responded else ExitCode.CLEAN


def _report(
    output: Output,
    plan: ScanPlan,
    notes: list[Message],
    collector: Collector,
    summary: ScanSummary,
    started: datetime,
) -> None:
    language = output.language
    if output.mode == "ndjson":
        output.json_lines([summary.ecs(collector.host or host_fields(), language, started=started)])
    elif output.mode == "json":
        output.json_document(
            {
                "plan": plan.to_json(),
                "notes": [note.render(language) for note in notes],
                "hosts": [result.to_json(language) for result in collector.results()],
                "not_listed": {
                    status.value: count for status, count in collector.hidden.items() if count
                },
                "summary": summary.to_json(),
                "message": summary.message(language),
            }
        )
    else:
        render_results(
            output.console, collector.results(), summary, language, hidden=collector.hidden
        )


def _dry_run(output: Output, plan: ScanPlan, notes: list[Message]) -> int:
    if output.mode == "ndjson":
        raise UsageError("--dry-run prints a plan, not events: use --json")
    if output.mode == "json":
        document = {"plan": plan.to_json(), "notes": [n.render(output.language) for n in notes]}
        output.json_document(document)
    else:
        render_header(output.console, plan, output.language)
        render_notes(output.console, notes, output.language)
    return ExitCode.CLEAN


def main(argv: Sequence[str]) -> int:
    return run_command(build_parser(), argv, cmd_scan)


__all__ = ["build_parser", "main"]
