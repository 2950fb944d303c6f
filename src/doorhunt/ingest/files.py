"""Reading log files line by line: plain, gzip, bzip2 or xz (by their magic bytes, not their
names), rotated sets in time order, lines of bounded length, damage reported, never fatal."""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final, Protocol

from doorhunt.errors import InputError

_ROTATED: Final = re.compile(r"(?P<base>.+?)\.(?P<number>\d{1,6})(?:\.(?:gz|bz2|xz))?")


class _Readable(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


_MAGIC: Final[tuple[tuple[bytes, Callable[[IO[bytes]], _Readable]], ...]] = (
    (b"\x1f\x8b", lambda raw: gzip.GzipFile(fileobj=raw, mode="rb")),
    (b"BZh", lambda raw: bz2.BZ2File(raw, mode="rb")),
    (b"\xfd7zXZ\x00", lambda raw: lzma.LZMAFile(raw, mode="rb")),  # noqa: SIM115 (closed with its file)
)
# What the decompressors raise for a damaged or cut-off stream.
DAMAGE: Final = (EOFError, OSError, zlib.error, lzma.LZMAError, ValueError)


class UnreadableInputError(InputError):
    """A file that cannot be opened at all (missing, a directory, no permission)."""


@dataclass(slots=True)
class FileDamage:
    """Where a file stopped being readable, and why (a truncated gzip, say)."""

    path: str
    line: int
    reason: str


@dataclass(slots=True)
class LineStats:
    lines: int = 0
    oversized: int = 0


def order_rotated(paths: Sequence[str]) -> list[str]:
    """Rotated logs oldest first: `audit.log.3.gz`, `audit.log.2`, `audit.log.1`, `audit.log`
    (logrotate's and auditd's numbering: a higher number is older). Other files keep their
    order, each set placed where its first member was."""
    groups: dict[str, list[tuple[int, str]]] = {}
    order: list[str] = []
    for path in paths:
        match = _ROTATED.fullmatch(path)
        base, number = (match.group("base"), int(match.group("number"))) if match else (path, 0)
        if base not in groups:
            groups[base] = []
            order.append(base)
        groups[base].append((number, path))
    result: list[str] = []
    for base in order:
        result.extend(path for _, path in sorted(groups[base], key=lambda item: -item[0]))
    return result


def check_readable(path: str) -> None:
    """Raise UnreadableInputError unless `path` can be opened for reading."""
    file = Path(path)
    try:
        with file.open("rb"):
            pass
    except IsADirectoryError:
        raise UnreadableInputError("is a directory", location=path) from None
    except FileNotFoundError:
        raise UnreadableInputError("no such file", location=path) from None
    except PermissionError:
        raise UnreadableInputError("permission denied", location=path) from None
    except OSError as error:
        raise UnreadableInputError(error.strerror or str(error), location=path) from None


def read_lines(
    path: str,
    *,
    max_line: int,
    stats: LineStats,
    damage: list[FileDamage],
    stream: IO[bytes] | None = None,
) -> Iterator[tuple[int, str]]:
    """(line number, text) for each line of the file; a line longer than `max_line` bytes is
    counted in `stats.oversized` and skipped; damage ends the file and is added to `damage`.
    Text is UTF-8, undecodable bytes kept as surrogates."""
    number = 0
    if stream is None and path == "-":
        stream = sys.stdin.buffer
    try:
        raw = stream if stream is not None else Path(path).open("rb")  # noqa: SIM115
    except OSError as error:
        damage.append(FileDamage(path, 0, error.strerror or str(error)))
        return
    try:
        handle = _decompressed(raw)
        while True:
            line = handle.readline(max_line + 1)
            if not line:
                break
            number += 1
            stats.lines += 1
            if len(line) > max_line and not line.endswith(b"\n"):
                stats.oversized += 1
                while line and not line.endswith(b"\n"):  # skip to the end of the long line
                    line = handle.readline(max_line + 1)
                continue
            yield number, line.decode("utf-8", "surrogateescape")
    except DAMAGE as error:
        reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        damage.append(FileDamage(path, number + 1, f"unreadable from here on ({reason})"))
    finally:
        if stream is None:
            raw.close()


def _decompressed(raw: IO[bytes]) -> _Readable:
    peek = getattr(raw, "peek", None)
    if peek is not None:  # buffered files and standard input: look without consuming
        head = bytes(peek(6)[:6])
    else:
        head = raw.read(6)
        raw.seek(0)
    for magic, opener in _MAGIC:
        if head.startswith(magic):
            return opener(raw)
    return raw


__all__ = [
    "DAMAGE",
    "FileDamage",
    "LineStats",
    "UnreadableInputError",
    "check_readable",
    "order_rotated",
    "read_lines",
]
