"""Autostart places that refer to implant locations or names (BPFDOOR.md §3): the 2025
incident's `[ -f /path ] && /path` lines in /etc/sysconfig/*, systemd units, cron, rc.local and
/etc/ld.so.preload."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

# Where implants run from (BPFDOOR.md §1, §7) and names seen on disk in the 2025 incident (§3).
SUSPICIOUS_DIRECTORIES = (
    "/dev/shm/",
    "/run/shm/",
    "/tmp/",
    "/var/tmp/",
    "/var/run/",
    "/run/",
    "/var/lock/",
)
KNOWN_NAMES = (
    "kdmtmpflush",
    "dbus-srv",
    "hpasmmld",
    "smartadm",
    "hald-addon-volume",
    "inode262394",
)
_GUARDED_START = re.compile(r"\[\s*-[fx]\s+(\S+)\s*\]\s*&&\s*(\S+)")
_PATH = re.compile(r"(/[\w.+@%-]+(?:/[\w.+@%-]+)*)")
MAX_FILE = 1024 * 1024
MAX_FILES = 5000

SYSTEMD_DIRECTORIES = (
    "etc/systemd/system",
    "run/systemd/system",
    "usr/lib/systemd/system",
    "lib/systemd/system",
    "usr/local/lib/systemd/system",
)
CRON_FILES = ("etc/crontab",)
CRON_DIRECTORIES = (
    "etc/cron.d",
    "etc/cron.hourly",
    "etc/cron.daily",
    "etc/cron.weekly",
    "etc/cron.monthly",
    "var/spool/cron",
    "var/spool/cron/crontabs",
)
RC_FILES = ("etc/rc.local", "etc/rc.d/rc.local")


@dataclass(frozen=True, slots=True)
class AutostartEntry:
    kind: str  # "sysconfig", "systemd", "cron", "rc.local", "ld.so.preload"
    path: str  # the file holding the line
    line: int
    text: str
    references: tuple[str, ...]  # paths the line starts or loads
    guarded_start: bool  # the `[ -f X ] && X` shape of the 2025 incident


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE)
    except OSError:
        return
    for number, line in enumerate(data.decode("utf-8", "surrogateescape").splitlines(), 1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield number, stripped


def suspicious_reference(path: str) -> str | None:
    """Why a referenced path looks like an implant's, or None."""
    if path.startswith(SUSPICIOUS_DIRECTORIES):
        return "in a shared-memory, temporary or run directory"
    name = path.rsplit("/", 1)[-1]
    if name in KNOWN_NAMES:
        return f"a file name seen in BPFDoor incidents ({name})"
    return None


_SEGMENTS = re.compile(r"&&|\|\||;|\||`|\$\(")
_WRAPPERS = frozenset(
    {
        "nohup",
        "exec",
        "sudo",
        "setsid",
        "env",
        "nice",
        "ionice",
        "sh",
        "-c",
        "bash",
        "/bin/sh",
        "/bin/bash",
    }
)


def started_paths(command: str) -> tuple[str, ...]:
    """The absolute paths a shell line starts: the first word of each command in it
    (arguments such as --pidfile=/run/x.pid are not started, and are not counted)."""
    found = []
    for segment in _SEGMENTS.split(command):
        words = segment.replace("'", " ").replace('"', " ").split()
        while words and (
            words[0] in _WRAPPERS or ("=" in words[0] and not words[0].startswith("/"))
        ):
            words.pop(0)
        if words and words[0] in ("[", "test", "[["):
            continue  # a test of a file starts nothing; `[ -f X ] && X` starts X next
        if words and words[0].startswith("/"):
            found.append(words[0].rstrip("]"))
    return tuple(dict.fromkeys(found))


def _command_of(kind: str, path: Path, text: str) -> str | None:
    """The command part of an autostart line, or None when the line starts nothing."""
    if kind == "systemd":
        match = re.match(r"Exec\w*\s*=\s*(.*)", text)
        return match.group(1).lstrip("@-:+!") if match else None
    if kind == "cron":
        if text.startswith("@"):
            return text.split(None, 1)[1] if " " in text else None
        fields = text.split(None, 6)
        if len(fields) < 6 or "=" in fields[0]:
            return None
        system_table = "spool" not in path.parts
        return (fields[6] if len(fields) > 6 else None) if system_table else " ".join(fields[5:])
    return text


def _entries(
    kind: str, path: Path, root: Path, lines: Iterable[tuple[int, str]]
) -> Iterator[AutostartEntry]:
    for number, text in lines:
        command = _command_of(kind, path, text)
        if command is None:
            continue
        references = (
            tuple(dict.fromkeys(_PATH.findall(text)))
            if kind == "ld.so.preload"
            else started_paths(command)
        )
        guarded = bool(_GUARDED_START.search(text))
        if guarded or any(suspicious_reference(r) for r in references) or kind == "ld.so.preload":
            shown = "/" + str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
            yield AutostartEntry(kind, shown, number, text[:500], references, guarded)


def _files(directory: Path, recursive: bool) -> list[Path]:
    try:
        iterator = directory.rglob("*") if recursive else directory.iterdir()
        found: list[Path] = []
        for path in iterator:
            if len(found) >= MAX_FILES:
                break
            if path.is_file():
                found.append(path)
        return sorted(found)
    except OSError:
        return []


def autostart_entries(root: Path = Path("/")) -> list[AutostartEntry]:
    """Lines that start or preload something suspicious, from every autostart place."""
    entries: list[AutostartEntry] = []
    for path in _files(root / "etc/sysconfig", recursive=True):
        entries += _entries("sysconfig", path, root, _lines(path))
    for directory in SYSTEMD_DIRECTORIES:
        for path in _files(root / directory, recursive=True):
            if path.suffix in (".service", ".timer", ".socket", ".conf"):
                entries += _entries("systemd", path, root, _lines(path))
    for name in CRON_FILES:
        entries += _entries("cron", root / name, root, _lines(root / name))
    for directory in CRON_DIRECTORIES:
        for path in _files(root / directory, recursive=False):
            entries += _entries("cron", path, root, _lines(path))
    for name in RC_FILES:
        entries += _entries("rc.local", root / name, root, _lines(root / name))
    preload = root / "etc/ld.so.preload"
    entries += _entries("ld.so.preload", preload, root, _lines(preload))
    return entries


__all__ = [
    "KNOWN_NAMES",
    "AutostartEntry",
    "autostart_entries",
    "started_paths",
    "suspicious_reference",
]
