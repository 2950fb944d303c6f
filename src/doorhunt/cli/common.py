"""What every command shares: output options and renderers, input reading, error handling."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from rich.console import Console

from doorhunt import __version__
from doorhunt.cli.exitcodes import ExitCode
from doorhunt.errors import DoorhuntError, InputError
from doorhunt.i18n import LANGUAGES, default_language

PROGRAM = "doorhunt"
MAX_INPUT_BYTES = 16 * 1024 * 1024

log = logging.getLogger("doorhunt")


class UsageError(DoorhuntError):
    """A command line that asks for something impossible."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports errors as UsageError instead of exiting, so every error path goes
    through one handler and one exit code."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see `{self.prog} --help`)")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples in descriptions as written."""


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Options every command takes: output format, language, verbosity."""
    output = parser.add_argument_group("output")
    formats = output.add_mutually_exclusive_group()
    formats.add_argument("--json", action="store_true", help="print one JSON document")
    formats.add_argument(
        "--ndjson", action="store_true", help="print one JSON document per line (one per result)"
    )
    output.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=None,
        help="language of the report (default: from the locale; en or ko)",
    )
    output.add_argument(
        "--no-color", action="store_true", help="plain text even on a terminal (also NO_COLOR=1)"
    )
    output.add_argument("-v", "--verbose", action="store_true", help="log what is being done")
    output.add_argument(
        "--debug", action="store_true", help="log everything and show tracebacks of internal errors"
    )
    parser.add_argument("--version", action="version", version=f"{PROGRAM} {__version__}")


@dataclass(slots=True)
class Output:
    """Where a command's result goes, and in which form."""

    mode: str  # "terminal", "json" or "ndjson"
    language: str
    stream: TextIO
    console: Console

    @classmethod
    def from_args(cls, args: argparse.Namespace, stream: TextIO | None = None) -> Output:
        stream = stream or sys.stdout
        mode = "json" if args.json else "ndjson" if args.ndjson else "terminal"
        plain = args.no_color or bool(os.environ.get("NO_COLOR"))
        console = Console(
            file=stream,
            highlight=False,
            markup=False,
            emoji=False,
            no_color=plain,
            color_system=None if plain else "auto",
            soft_wrap=False,
        )
        return cls(mode, args.lang or default_language(), stream, console)

    @property
    def structured(self) -> bool:
        return self.mode != "terminal"

    def json_document(self, document: Mapping[str, object]) -> None:
        self.stream.write(_dumps(document, indent=2) + "\n")

    def json_lines(self, documents: Iterable[Mapping[str, object]]) -> None:
        for document in documents:
            self.stream.write(_dumps(document, indent=None) + "\n")
            self.stream.flush()


def _dumps(document: Mapping[str, object], indent: int | None) -> str:
    separators = (",", ":") if indent is None else None
    text = json.dumps(document, ensure_ascii=False, indent=indent, separators=separators)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (from undecodable host data) cannot be written as UTF-8; escaped
        # JSON keeps every byte of evidence.
        text = json.dumps(document, ensure_ascii=True, indent=indent, separators=separators)
    return text


def configure_logging(args: argparse.Namespace) -> None:
    level = logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(
        level=level, stream=sys.stderr, format=f"{PROGRAM}: %(levelname)s: %(message)s"
    )
    log.setLevel(level)


def read_input(path: str | None, *, limit: int = MAX_INPUT_BYTES) -> tuple[bytes, str]:
    """The bytes of FILE, or standard input for `-` (or no FILE when stdin is not a terminal);
    returns (data, name for messages)."""
    if path in (None, "-"):
        if path is None and sys.stdin.isatty():
            raise UsageError("no input: give a FILE, `-` for standard input, or see --help")
        data = sys.stdin.buffer.read(limit + 1)
        name = "<stdin>"
    else:
        file = Path(path)
        try:
            with file.open("rb") as handle:
                data = handle.read(limit + 1)
        except IsADirectoryError:
            raise InputError("is a directory", location=path) from None
        except FileNotFoundError:
            raise InputError("no such file", location=path) from None
        except PermissionError:
            raise InputError("permission denied", location=path) from None
        except OSError as error:
            raise InputError(error.strerror or str(error), location=path) from None
        name = path
    if len(data) > limit:
        raise InputError(f"input is larger than {limit // (1024 * 1024)} MiB", location=name)
    return data, name


def subcommands(parser: ArgumentParser) -> Callable[..., ArgumentParser]:
    """A factory `command(name, help_text, examples="")` for the required subcommands of
    `parser` (stored in `args.command`), each with the common options."""
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=ArgumentParser
    )

    def command(name: str, help_text: str, examples: str = "") -> ArgumentParser:
        description = f"{help_text}\n\nexamples:\n{examples}" if examples else help_text
        sub: ArgumentParser = commands.add_parser(
            name, help=help_text, description=description, formatter_class=HelpFormatter
        )
        add_common_options(sub)
        return sub

    return command


def run_command(
    parser: argparse.ArgumentParser,
    argv: Sequence[str],
    handler: Callable[[argparse.Namespace], int],
) -> int:
    """A subcommand's `main`: parse `argv` (a usage error is one line and exit 2), set up
    logging, and run `handler` guarded."""
    try:
        args = parser.parse_args(list(argv))
    except UsageError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return ExitCode.USAGE
    configure_logging(args)
    return run_guarded(handler, args)


def run_guarded(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command; every failure becomes one line on stderr and a named exit code."""
    try:
        return handler(args)
    except DoorhuntError as error:
        print(f"{PROGRAM}: error: {_one_line(str(error))}", file=sys.stderr)
        return ExitCode.USAGE
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`); nothing left to report to.
        _silence_stdout()
        return ExitCode.CLEAN
    except Exception as error:
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(
            f"{PROGRAM}: internal error: {_one_line(repr(error))} "
            "(run again with --debug for the traceback, and please report it)",
            file=sys.stderr,
        )
        return ExitCode.INTERNAL


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "unknown error"


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


__all__ = [
    "ArgumentParser",
    "HelpFormatter",
    "Output",
    "UsageError",
    "add_common_options",
    "configure_logging",
    "read_input",
    "run_guarded",
]
