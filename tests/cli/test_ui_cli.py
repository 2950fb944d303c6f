"""`doorhunt ui`: options, a real server started and stopped, addresses it cannot use."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the UI needs the `web` extra")

from doorhunt.cli import ui as ui_cli
from tests.investigate.fixtures import build

RUN = [
    sys.executable,
    "-c",
    "import sys; from doorhunt.cli import ui; sys.exit(ui.main(sys.argv[1:]))",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "0"], "--port must be between 1 and 65535"),
        (["--port", "70000"], "--port must be between 1 and 65535"),
        (["--port", "http"], "invalid int value"),
        (["--host", "a b"], "--host must be an address"),
        (["--colour"], "unrecognized arguments"),
    ],
)
def test_usage_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert ui_cli.main(argv) == 2
    assert message in capsys.readouterr().err


def test_serves_until_interrupted(tmp_path: Path) -> None:
    build(tmp_path)
    port = free_port()
    process = subprocess.Popen(
        [*RUN, "--data", str(tmp_path), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.strip() == f"doorhunt ui: serving {tmp_path} at http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/info", timeout=5
                ) as answer:
                    info = json.load(answer)
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert info["hosts"] == ["db-1", "web-1"]
        os.kill(process.pid, signal.SIGTERM)  # as systemd stops it; Ctrl-C the same
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        assert process.stdout is not None
        process.stdout.close()


def test_an_address_it_cannot_use_is_a_usage_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(  # noqa: PLW1510 - the exit code is what is tested
            [*RUN, "--data", str(tmp_path), "--port", str(port)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "serving" not in result.stdout  # no URL for a server that never listened
