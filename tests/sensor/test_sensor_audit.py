"""The sensor's audit source against the real kernel: socket filters read at attach time,
timestomping, memfd_create and connections; its rules removed after a clean stop, after
`kill -9` by `doorhunt sensor cleanup`, and its coexistence with a running auditd.

Audit rules and the audit daemon slot are one per host: these tests hold `audit_host`.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from doorhunt.bpf.codec import to_bytes
from doorhunt.bpf.examples import EXAMPLES
from doorhunt.ecs import assert_valid, get_field
from doorhunt.sensor.audit import KEY, AuditClient, rule_key
from doorhunt.sensor.pipeline import Sensor, SensorOptions
from tests.auditd import audit_daemon
from tests.conftest import require_tool
from tests.processes import Processes, processes
from tests.sensor.test_sensor_kernel import Collect, wait_for

pytestmark = pytest.mark.root


def start_sensor(tmp_path: Path) -> tuple[Sensor, Collect]:
    collected = Collect()
    sensor = Sensor(
        [collected],
        SensorOptions(
            audit=True,
            fanotify=False,
            watch=(str(tmp_path),),
            status_interval=3600,
            flush_interval=0.2,
        ),
    )
    sensor.start()
    assert "audit" in sensor.sources, sensor.problems
    return sensor, collected


@pytest.fixture
def audited(audit_host: None, tmp_path: Path) -> Iterator[tuple[Sensor, Collect]]:
    sensor, collected = start_sensor(tmp_path)
    try:
        yield sensor, collected
    finally:
        sensor.stop()


@pytest.fixture
def started() -> Iterator[Processes]:
    with processes() as running:
        yield running


def doorhunt_rules() -> int:
    client = AuditClient()
    try:
        return sum(rule_key(rule) == KEY for rule in client.rules())
    finally:
        client.close()


def test_filter_attach_carries_the_bytecode_and_its_classification(
    audited: tuple[Sensor, Collect], started: Processes
) -> None:
    _, collected = audited
    program = EXAMPLES["bpfdoor-classic"].build()
    holder = started.holder({"socket": "packet-raw", "filter": [list(i) for i in program]})
    wait_for(lambda: collected.where(event__action="filter_attached", process__pid=holder.pid))
    (attached,) = collected.where(event__action="filter_attached", process__pid=holder.pid)
    assert (
        get_field(attached, "doorhunt.bpf.bytecode") == to_bytes(program, byteorder="little").hex()
    )
    assert get_field(attached, "doorhunt.bpf.class") == "bpfdoor"
    assert get_field(attached, "doorhunt.bpf.suspicious") is True
    assert get_field(attached, "doorhunt.bpf.link") == "ethernet"
    assert get_field(attached, "doorhunt.bpf.attach") == "SO_ATTACH_FILTER"
    # The document is about the holder as the process table knows it.
    assert str(get_field(attached, "process.entity_id"))
    (opened,) = collected.where(event__action="socket_opened", process__pid=holder.pid)
    assert get_field(opened, "doorhunt.socket.family") == "packet"
    assert get_field(opened, "doorhunt.socket.type") == "raw"
    assert get_field(opened, "doorhunt.socket.protocol") == 0x0800
    for document in (attached, opened):
        assert_valid(document, require_core=True)


def test_timestomp_is_reported_and_a_touch_is_not(
    audited: tuple[Sensor, Collect], tmp_path: Path
) -> None:
    _, collected = audited
    forged, touched = tmp_path / "forged", tmp_path / "touched"
    code = (
        f"import os; open({str(forged)!r}, 'w').close(); open({str(touched)!r}, 'w').close(); "
        f"os.utime({str(forged)!r}, (1262304000, 1262304000)); os.utime({str(touched)!r})"
    )
    child = subprocess.Popen([sys.executable, "-c", code])
    child.wait()
    wait_for(lambda: collected.where(event__action="timestomp", process__pid=child.pid))
    (stomped,) = collected.where(event__action="timestomp", process__pid=child.pid)
    assert get_field(stomped, "file.path") == str(forged)
    assert str(get_field(stomped, "file.mtime")).startswith("2010-01-01T00:00:00")
    assert_valid(stomped, require_core=True)
    about_touched = [d for d in collected.documents if get_field(d, "file.path") == str(touched)]
    assert about_touched == []


def test_memfd_create_and_connections_with_peer_addresses(
    audited: tuple[Sensor, Collect],
) -> None:
    _, collected = audited
    code = (
        "import os, socket; os.memfd_create('dh-audit'); "
        "server = socket.socket(); server.bind(('127.0.0.1', 0)); server.listen(); "
        "client = socket.create_connection(server.getsockname()); peer, _ = server.accept(); "
        "print(server.getsockname()[1], client.getsockname()[1], flush=True)"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    output, _ = child.communicate(timeout=30)
    server_port, client_port = (int(port) for port in output.split())
    wait_for(lambda: collected.where(event__action="connection_accepted", process__pid=child.pid))
    (memfd,) = collected.where(event__action="memfd_create", process__pid=child.pid)
    (attempt,) = collected.where(event__action="connection_attempted", process__pid=child.pid)
    assert get_field(attempt, "destination.ip") == "127.0.0.1"
    assert get_field(attempt, "destination.port") == server_port
    (accepted,) = collected.where(event__action="connection_accepted", process__pid=child.pid)
    assert get_field(accepted, "source.ip") == "127.0.0.1"
    assert get_field(accepted, "source.port") == client_port
    for document in (memfd, attempt, accepted):
        assert_valid(document, require_core=True)
        assert get_field(document, "process.entity_id")


def sensor_with_rules(tmp_path: Path, log: str) -> subprocess.Popen[bytes]:
    """`doorhunt sensor run` in a child, once its audit rules are in place."""
    options = ["--data", str(tmp_path), "--no-store", "--ndjson", "--no-fanotify", "--no-rules"]
    with open(tmp_path / log, "wb") as errors:
        sensor = subprocess.Popen(
            [sys.executable, "-m", "doorhunt", "sensor", "run", *options],
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    try:
        wait_for(lambda: doorhunt_rules() > 0 or sensor.poll() is not None, timeout=30)
    except AssertionError:
        sensor.kill()
        sensor.wait()
        raise
    assert sensor.poll() is None, (tmp_path / log).read_text(errors="replace")
    return sensor


def test_rules_are_removed_on_stop_and_after_kill_9_by_cleanup(
    audit_host: None, tmp_path: Path
) -> None:
    assert doorhunt_rules() == 0
    # A clean stop (SIGTERM) removes them. (Exit 3 would only say messages were lost.)
    sensor = sensor_with_rules(tmp_path, "first.log")
    sensor.send_signal(signal.SIGTERM)
    assert sensor.wait(timeout=30) in (0, 3), (tmp_path / "first.log").read_text()
    assert doorhunt_rules() == 0
    # kill -9 leaves them; `cleanup` (or the next sensor's start) removes them.
    sensor = sensor_with_rules(tmp_path, "second.log")
    sensor.kill()
    sensor.wait()
    assert doorhunt_rules() > 0
    cleanup = subprocess.run(
        [sys.executable, "-m", "doorhunt", "sensor", "cleanup"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert cleanup.returncode == 0, cleanup.stderr
    assert "removed" in cleanup.stdout
    assert doorhunt_rules() == 0


def test_coexists_with_a_running_auditd(
    audit_host: None, tmp_path: Path, started: Processes
) -> None:
    auditd = require_tool("auditd")
    auditctl = require_tool("auditctl")
    other_rule = ["-F", "arch=b64", "-S", "sethostname", "-k", "someone-else"]
    client = AuditClient()
    with audit_daemon(auditd, tmp_path) as daemon:
        subprocess.run([auditctl, "-a", "always,exit", *other_rule], check=True, timeout=30)
        try:
            sensor, collected = start_sensor(tmp_path)
            try:
                # The sensor reads the multicast group; auditd stays the audit daemon.
                assert client.status().pid == daemon.pid
                holder = started.holder({"socket": "packet-raw", "filter": [[6, 0, 0, 0x40000]]})
                wait_for(
                    lambda: collected.where(
                        event__action="filter_attached", process__pid=holder.pid
                    )
                )
            finally:
                sensor.stop()
            assert client.status().pid == daemon.pid
            assert doorhunt_rules() == 0
            keys = [rule_key(rule) for rule in client.rules()]
            assert "someone-else" in keys, "the sensor removed a rule that was not its own"
            # auditd logged throughout, the attach included.
            wait_for(lambda: f"pid={holder.pid} " in daemon.log.read_text(errors="replace"))
        finally:
            subprocess.run([auditctl, "-d", "always,exit", *other_rule], check=False, timeout=30)
            client.close()
