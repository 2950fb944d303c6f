"""Fixtures of the sensor's tests."""

from __future__ import annotations

import fcntl
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_root

AUDIT_LOCK = "/run/lock/doorhunt-tests-audit.lock"


@pytest.fixture
def audit_host() -> Iterator[None]:
    """This test alone uses the host's audit subsystem (its rules and daemon slot are one per
    host) while it runs; other xdist workers wait."""
    require_root()
    with open(AUDIT_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def emulator_command(data: Path, pid_file: str) -> list[str]:
    """`doorhunt emulate start`, run by another process as an operator would (the sensor
    ignores its own actions)."""
    return [
        sys.executable,
        "-m",
        "doorhunt",
        "emulate",
        "start",
        "--data",
        str(data),
        "--pid-file",
        pid_file,
        "--json",
    ]
