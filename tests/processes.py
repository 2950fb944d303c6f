"""Starting and ending test processes by pid (TESTING.md: never kill by name)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

HOLDER = str(Path(__file__).with_name("holder.py"))


class Processes:
    """Processes a test started; `close()` ends them all by pid, even after a failure."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []
        self.paths: list[str] = []

    def holder(
        self,
        config: dict[str, object],
        *,
        executable: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        """tests/holder.py run with `config`, by `executable` (a Python interpreter, maybe
        a copy) or this one; returns once it said ready."""
        command = [executable or sys.executable, HOLDER, json.dumps(config)]
        child = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            env=env if env is not None else dict(os.environ),
        )
        self.started.append(child)
        assert child.stdout is not None
        line = child.stdout.readline()
        if line.strip() != b"ready":
            assert child.stderr is not None
            raise AssertionError(f"holder failed: {child.stderr.read().decode()}")
        return child

    def run(
        self,
        argv: Sequence[str],
        *,
        executable: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        child = subprocess.Popen(
            list(argv),
            executable=executable,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=env if env is not None else dict(os.environ),
        )
        self.started.append(child)
        return child

    def copy(self, source: str, directory: str, name: str) -> str:
        """A copy of the binary `source` under `directory`/`name`, removed at close."""
        Path(directory).mkdir(parents=True, exist_ok=True)
        target = str(Path(directory) / name)
        shutil.copyfile(os.path.realpath(source), target)
        os.chmod(target, 0o755)
        self.paths.append(target)
        return target

    def close(self) -> None:
        for child in self.started:
            if child.poll() is None:
                try:
                    os.killpg(child.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            child.wait(timeout=10)
            for stream in (child.stdin, child.stdout, child.stderr):
                if stream is not None:
                    stream.close()
        for path in self.paths:
            Path(path).unlink(missing_ok=True)


@contextmanager
def processes() -> Iterator[Processes]:
    started = Processes()
    try:
        yield started
    finally:
        started.close()


def scratch_directory(under: str) -> str:
    return tempfile.mkdtemp(prefix="doorhunt-test-", dir=under)
