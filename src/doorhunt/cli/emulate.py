"""`doorhunt emulate`: a benign BPFDoor look-alike, to validate detection end to end."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import asdict

from doorhunt.cli.common import (
    ArgumentParser,
    HelpFormatter,
    Output,
    add_common_options,
    run_command,
)
from doorhunt.cli.exitcodes import ExitCode
from doorhunt.datadir import data_directory
from doorhunt.emulate.launch import VARIANTS, Instance, instances, start, stop

DESCRIPTION = """\
Start, list and stop a benign emulator that leaves BPFDoor's observable traces (BPFDOOR.md §1):
an executable copied to /dev/shm and deleted once running, its time set back to 2008-10-30,
argv and process name of a system daemon, an empty environment, an empty locked PID file in
/var/run, and an unbound AF_PACKET raw socket with a classic filter of BPFDoor's shape, on which
it waits in recvfrom().

It cannot do anything an implant does beyond that: it has no code that runs commands, opens a
shell or forwards traffic. With --pingback it answers a magic packet that carries no password
with one UDP datagram "1" to the address and port in the packet (the way scanners find
implants), and nothing else. `stop` removes every trace it made. Use it on hosts you own.

examples:
  sudo doorhunt emulate start --pingback
  sudo doorhunt emulate start --netns lab1 --magic 5571 --name '/sbin/udevd -d'
  sudo doorhunt emulate start --variant kthread
  sudo doorhunt emulate status
  sudo doorhunt emulate stop
"""


def _magic(text: str) -> int:
    try:
        value = int(text, 16)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not hexadecimal") from None
    if not 0 < value <= 0xFFFF:
        raise argparse.ArgumentTypeError(f"{text}: a magic is 1 to 4 hex digits (2 bytes)")
    return value


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="doorhunt emulate", description=DESCRIPTION, formatter_class=HelpFormatter
    )
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=ArgumentParser
    )
    starting = commands.add_parser("start", help="start an emulator", formatter_class=HelpFormatter)
    starting.add_argument(
        "--netns", metavar="NAME", help="run inside this network namespace (/run/netns/NAME)"
    )
    starting.add_argument(
        "--name",
        metavar="ARGV",
        help="what ps shows (default: /usr/sbin/console-kit-daemon --no-daemon)",
    )
    starting.add_argument(
        "--magic",
        metavar="HEX",
        nargs="+",
        type=_magic,
        help="2-byte magics the filter accepts on UDP, ICMP and TCP "
        "(default: the classic 7255 and 5293)",
    )
    starting.add_argument(
        "--pingback", action="store_true", help="answer a password-less magic packet with a UDP '1'"
    )
    starting.add_argument(
        "--variant",
        choices=VARIANTS,
        default="classic",
        help="classic (a daemon's name) or kthread (a fake [watchdogd])",
    )
    starting.add_argument(
        "--pid-file",
        default="/var/run/haldrund.pid",
        metavar="PATH",
        help="the empty locked PID file (default /var/run/haldrund.pid)",
    )
    stopping = commands.add_parser("stop", help="stop emulators and remove their traces")
    stopping.add_argument("--pid", type=int, help="stop only this one")
    commands.add_parser("status", help="list the emulators this data directory knows")
    for sub in (starting, stopping, commands.choices["status"]):
        add_common_options(sub)
        sub.add_argument("--data", metavar="DIR", help="data directory (state files)")
    return parser


def _document(instance: Instance) -> dict[str, object]:
    return asdict(instance) | {"alive": instance.alive()}


def cmd_emulate(args: argparse.Namespace) -> int:
    output = Output.from_args(args)
    data = data_directory(args.data)
    if args.command == "start":
        found = [
            start(
                data,
                name=args.name,
                netns=args.netns,
                magics=args.magic,
                pingback=args.pingback,
                variant=args.variant,
                pid_file=args.pid_file,
            )
        ]
    elif args.command == "stop":
        found = stop(data, args.pid)
    else:
        found = instances(data)
    documents = [_document(instance) for instance in found]
    if output.mode == "json":
        output.json_document({"command": args.command, "emulators": documents})
    elif output.mode == "ndjson":
        output.json_lines(documents)
    else:
        verb = {"start": "started", "stop": "stopped", "status": "known"}[args.command]
        if not found:
            output.console.print(f"no emulator {verb}")
        for instance in found:
            state = "running" if instance.alive() else "not running"
            output.console.print(
                f"{verb}: pid {instance.pid} ({state}) '{instance.name}' variant "
                f"{instance.variant}, magics {', '.join(f'{m:#06x}' for m in instance.magics)}, "
                f"netns {instance.netns or '(host)'}, "
                f"pingback {'on' if instance.pingback else 'off'}"
            )
    return ExitCode.CLEAN


def main(argv: Sequence[str]) -> int:
    return run_command(build_parser(), argv, cmd_emulate)


__all__ = ["build_parser", "main"]
