"""doorhunt's exit codes (README "Exit codes"); scripts and CI gates depend on them."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    CLEAN = 0  # ran, and found nothing at or above the threshold
    FINDINGS = 1  # ran, and found something at or above the threshold
    USAGE = 2  # bad command line or unreadable input
    DEGRADED = 3  # ran with reduced visibility (not root, hidepid, old kernel) and found nothing
    INTERNAL = 70  # a bug in doorhunt (sysexits EX_SOFTWARE); run with --debug and report it
    INTERRUPTED = 130  # SIGINT, as shells report it


__all__ = ["ExitCode"]
