"""`doorhunt sensor`: process, file, network and socket-filter events as ECS, continuously."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from doorhunt.cli.common import (
    ArgumentParser,
    HelpFormatter,
    UsageError,
    run_command,
)
from doorhunt.cli.exitcodes import ExitCode
from doorhunt.datadir import data_directory
from doorhunt.errors import DoorhuntError
from doorhunt.es import ElasticsearchSink
from doorhunt.es.options import add_es_options, es_config
from doorhunt.response import PreventMode, Quarantine, Responder
from doorhunt.rules.pack import load_rules
from doorhunt.sensor.audit import AuditClient, remove_rules
from doorhunt.sensor.detection import AlertProcessor, alert_line
from doorhunt.sensor.pipeline import DEFAULT_WATCH, NdjsonSink, Sensor, SensorOptions, Sink
from doorhunt.store import Store

DESCRIPTION = """\
Watch this host continuously and record what it does as ECS documents with Elastic Defend's
field names: processes (fork, exec, end, uid/gid/session changes, name changes, with
entity ids and ancestry), the syscalls that matter for BPFDoor-style implants (packet and raw
sockets opened, socket filters attached — with the filter read and classified —, times set
back, memfd_create, connections), and files created, deleted, renamed or modified in /dev/shm,
/run, /tmp, /var/tmp and /etc.

Documents go to the embedded store under the data directory (read them with `doorhunt events`),
to standard output with --ndjson, and to Elasticsearch with --es URL. SIGINT or SIGTERM stops
it cleanly: queued documents are flushed and the audit rules it added are removed (rules left
by a sensor that was killed are removed when the next one starts, or by `doorhunt sensor
cleanup`). It coexists with a running auditd: it then reads the audit multicast group.

Every document goes through the detection rules (the shipped pack, plus --rules DIR); alerts
are written beside the events and printed on standard error. With --prevent, the response
actions a rule declares run on what its alert is about: the process is killed (after checking
its pid still holds it; never pid 1, kernel threads or doorhunt) and its file is moved to the
quarantine (`doorhunt quarantine list`). --prevent=dry-run records what would be done.

examples:
  sudo doorhunt sensor
  sudo doorhunt sensor --ndjson --no-store | jq .event.action
  sudo doorhunt sensor --rules /etc/doorhunt/rules --prevent=dry-run
  sudo doorhunt sensor install-service && sudo systemctl enable --now doorhunt-sensor
"""

UNIT = """\
[Unit]
Description=doorhunt sensor: process, file, network and socket-filter events
Documentation=https://github.com/doorhunt/doorhunt/blob/main/docs/sensor.md
After=network.target auditd.service

[Service]
Type=simple
ExecStart={executable} sensor run --data {data}
ExecStopPost={executable} sensor cleanup
Restart=on-failure
RestartSec=5
KillSignal=SIGTERM
TimeoutStopSec=30

[Install]
WantedBy=multi-user.target
"""


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="doorhunt sensor", description=DESCRIPTION, formatter_class=HelpFormatter
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    run = commands.add_parser(
        "run", help="run the sensor (the default)", formatter_class=HelpFormatter
    )
    install = commands.add_parser("install-service", help="write a systemd unit for the sensor")
    install.add_argument(
        "--unit",
        default="/etc/systemd/system/doorhunt-sensor.service",
        help="where to write the unit file",
    )
    commands.add_parser("cleanup", help="remove audit rules a killed sensor left behind")
    for sub in (parser, run, install, commands.choices["cleanup"]):
        sub.add_argument("--data", metavar="DIR", help="data directory")
        sub.add_argument("-v", "--verbose", action="store_true", help="log what is done")
        sub.add_argument("--debug", action="store_true", help="log everything, with tracebacks")
    for sub in (parser, run):
        _add_run_options(sub)
    return parser


def _add_run_options(parser: ArgumentParser) -> None:
    output = parser.add_argument_group("output")
    output.add_argument(
        "--ndjson",
        action="store_true",
        help="also print every document to standard output, one per line",
    )
    output.add_argument(
        "--no-store", action="store_true", help="do not write to the embedded store"
    )
    add_es_options(parser)
    detection = parser.add_argument_group("detection and prevention")
    detection.add_argument(
        "--rules",
        metavar="DIR",
        action="append",
        default=[],
        help="also load the rule files in DIR (repeatable; see `doorhunt rules`)",
    )
    detection.add_argument("--no-rules", action="store_true", help="run no detection rules at all")
    detection.add_argument(
        "--prevent",
        nargs="?",
        const=PreventMode.ON.value,
        default=PreventMode.OFF.value,
        choices=[PreventMode.ON.value, PreventMode.DRY_RUN.value],
        help="run the rules' response actions (kill_process, quarantine_file); "
        "--prevent=dry-run only records what would be done",
    )
    sources = parser.add_argument_group("sources")
    sources.add_argument("--no-audit", action="store_true", help="do not use the audit subsystem")
    sources.add_argument("--no-fanotify", action="store_true", help="do not watch directories")
    sources.add_argument(
        "--watch",
        metavar="DIR",
        action="append",
        default=[],
        help="watch this directory too (repeatable)",
    )
    sources.add_argument(
        "--status-interval",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds between sensor_status documents (default 60)",
    )
    sources.add_argument(
        "--duration",
        type=float,
        metavar="S",
        help="stop after S seconds (for tests and benchmarks)",
    )


def _sinks(args: argparse.Namespace) -> list[Sink]:
    sinks: list[Sink] = []
    if args.ndjson:
        sinks.append(NdjsonSink(sys.stdout.buffer))
    if not args.no_store:
        directory = data_directory(args.data) / "store"
        sinks.append(Store(directory).writer())
    config = es_config(args)
    if config is not None:
        spool = data_directory(args.data) / "es-spool"
        sinks.append(ElasticsearchSink(config, spool_directory=spool))
    if not sinks:
        raise UsageError("nothing to write to: drop --no-store, or add --ndjson or --es")
    return sinks


def cmd_run(args: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        raise DoorhuntError("the sensor needs root (netlink process events, audit, fanotify)")
    options = SensorOptions(
        audit=not args.no_audit,
        fanotify=not args.no_fanotify,
        # Default directories a distribution lacks (/etc/sysconfig on Debian) are no news.
        watch=(*(d for d in DEFAULT_WATCH if os.path.isdir(d)), *args.watch),
        status_interval=args.status_interval,
    )
    sensor = Sensor(_sinks(args), options)
    if not args.no_rules:
        sensor.processors.append(_alert_processor(args, sensor))
    finished = threading.Event()

    def stop(signum: int, frame: object) -> None:
        del signum, frame
        finished.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sensor.start()
    for problem in sensor.problems:
        print(f"doorhunt sensor: warning: {problem}", file=sys.stderr)
    print(f"doorhunt sensor: running ({', '.join(sensor.sources)})", file=sys.stderr)
    finished.wait(args.duration)
    totals = sensor.stop()
    print(
        f"doorhunt sensor: stopped: {totals['events']} documents, {totals['alerts']} alerts, "
        f"{totals['lost']} kernel messages lost, {totals['dropped']} dropped",
        file=sys.stderr,
    )
    return ExitCode.CLEAN if not totals["lost"] and not totals["dropped"] else ExitCode.DEGRADED


def _alert_processor(args: argparse.Namespace, sensor: Sensor) -> AlertProcessor:
    rules = load_rules([Path(directory) for directory in args.rules])
    mode = PreventMode(args.prevent)
    responder = None
    if mode is not PreventMode.OFF:
        quarantine = Quarantine(data_directory(args.data) / "quarantine")
        responder = Responder(mode, quarantine, sensor.table.current_entity_id)

    def announce(alert: Mapping[str, object]) -> None:
        print(f"doorhunt sensor: {alert_line(alert)}", file=sys.stderr, flush=True)

    print(
        f"doorhunt sensor: {len(rules)} rules"
        + (f", prevention {mode.value}" if responder else ""),
        file=sys.stderr,
    )
    return AlertProcessor(rules, responder=responder, announce=announce)


def cmd_install(args: argparse.Namespace) -> int:
    executable = Path(sys.argv[0]).resolve() if sys.argv[0].endswith("doorhunt") else None
    command = str(executable) if executable else f"{sys.executable} -m doorhunt"
    unit = UNIT.format(executable=command, data=data_directory(args.data))
    try:
        Path(args.unit).write_text(unit)
    except OSError as error:
        raise DoorhuntError(f"{args.unit}: {error.strerror or error}") from None
    print(
        f"wrote {args.unit}; start it with: systemctl daemon-reload && "
        f"systemctl enable --now {Path(args.unit).stem}"
    )
    return ExitCode.CLEAN


def cmd_cleanup(args: argparse.Namespace) -> int:
    client = AuditClient()
    try:
        removed = remove_rules(client)
    finally:
        client.close()
    print(f"removed {removed} audit rules keyed doorhunt")
    return ExitCode.CLEAN


def main(argv: Sequence[str]) -> int:
    handlers = {"install-service": cmd_install, "cleanup": cmd_cleanup}
    return run_command(
        build_parser(), argv, lambda args: handlers.get(args.command or "run", cmd_run)(args)
    )


__all__ = ["build_parser", "main"]
