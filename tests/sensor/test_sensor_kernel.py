"""The sensor against the real kernel: process events, file events, and the emulator's trace
(TESTING.md). Each test runs a Sensor in this process with an in-memory sink and looks only at
the documents about what it did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from doorhunt.ecs import assert_valid, get_field
from doorhunt.emulate.launch import stop
from doorhunt.sensor.pipeline import Sensor, SensorOptions
from tests.conftest import require_root
from tests.sensor.conftest import emulator_command

pytestmark = pytest.mark.root


class Collect:
    """A sink that keeps every document."""

    def __init__(self) -> None:
        self.documents: list[Mapping[str, object]] = []

    def write(self, document: Mapping[str, object]) -> None:
        self.documents.append(document)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def where(self, **fields: object) -> list[Mapping[str, object]]:
        return [
            d
            for d in self.documents
            if all(get_field(d, name.replace("__", ".")) == value for name, value in fields.items())
        ]


@pytest.fixture
def sensor(tmp_path: Path) -> Iterator[tuple[Sensor, Collect]]:
    require_root()
    collected = Collect()
    running = Sensor(
        [collected],
        SensorOptions(
            audit=False,
            watch=("/dev/shm", "/run", str(tmp_path)),
            status_interval=3600,
            flush_interval=0.2,
        ),
    )
    running.start()
    try:
        yield running, collected
    finally:
        running.stop()


def wait_for(condition: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the sensor")
        time.sleep(0.05)


def test_every_process_of_an_exec_storm_is_seen(sensor: tuple[Sensor, Collect]) -> None:
    running, collected = sensor
    children = [subprocess.Popen(["/bin/true"]) for _ in range(300)]
    pids = {child.pid for child in children}
    for child in children:
        child.wait()
    wait_for(
        lambda: pids <= {get_field(d, "process.pid") for d in collected.where(event__action="end")}
    )
    for action in ("fork", "exec", "end"):
        seen = {get_field(d, "process.pid") for d in collected.where(event__action=action)}
        assert pids <= seen, f"{len(pids - seen)} processes without a {action} event"
    execs = [
        d for d in collected.where(event__action="exec") if get_field(d, "process.pid") in pids
    ]
    assert all(
        str(get_field(d, "process.executable")).endswith("/true")
        for d in execs
        if not get_field(d, "doorhunt.event.partial")
    )
    assert running.totals()["lost"] == 0 and running.totals()["dropped"] == 0


def test_documents_are_valid_ecs_with_entity_ids_and_ancestry(
    sensor: tuple[Sensor, Collect],
) -> None:
    _, collected = sensor
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)"])
    child.wait()
    wait_for(lambda: collected.where(event__action="end", process__pid=child.pid))
    (exec_document,) = collected.where(event__action="exec", process__pid=child.pid)
    assert_valid(exec_document, require_core=True)
    me = collected.where(event__action="already_running", process__pid=os.getpid())
    assert me, "the sensor seeds the table with running processes"
    my_id = get_field(me[0], "process.entity_id")
    assert get_field(exec_document, "process.parent.entity_id") == my_id
    assert get_field(exec_document, "process.Ext.ancestry")[0] == my_id  # type: ignore[index]
    assert get_field(exec_document, "process.args") == [
        sys.executable,
        "-c",
        "import time; time.sleep(0.3)",
    ]
    (end,) = collected.where(event__action="end", process__pid=child.pid)
    assert get_field(end, "process.entity_id") == get_field(exec_document, "process.entity_id")
    for document in collected.documents[:200]:
        assert_valid(document, require_core=True)


def test_name_change_is_an_event_but_exec_is_not(sensor: tuple[Sensor, Collect]) -> None:
    _, collected = sensor
    code = "import ctypes, time; ctypes.CDLL(None).prctl(15, b'haldrund', 0, 0, 0); time.sleep(0.2)"
    child = subprocess.Popen([sys.executable, "-c", code])
    child.wait()
    wait_for(lambda: collected.where(event__action="end", process__pid=child.pid))
    (change,) = collected.where(event__action="name_change", process__pid=child.pid)
    assert get_field(change, "process.name") == "haldrund"
    assert get_field(change, "doorhunt.process.previous_name")


def test_files_created_renamed_and_deleted_in_dev_shm(sensor: tuple[Sensor, Collect]) -> None:
    _, collected = sensor
    name = f"/dev/shm/dh-sensor-{os.getpid()}"
    code = (
        f"import os; open({name!r}, 'w').write('x'); os.rename({name!r}, {name + '-b'!r}); "
        f"os.unlink({name + '-b'!r})"
    )
    child = subprocess.Popen([sys.executable, "-c", code])
    child.wait()
    wait_for(lambda: collected.where(event__action="deletion", file__path=name + "-b"))
    (created,) = collected.where(event__action="creation", file__path=name)
    (renamed,) = collected.where(event__action="rename", file__path=name + "-b")
    assert get_field(renamed, "file.Ext.original.path") == name
    for document in (created, renamed):
        assert get_field(document, "process.pid") == child.pid
        assert_valid(document, require_core=True)


def test_memfd_execution_is_seen_with_its_memfd_executable(sensor: tuple[Sensor, Collect]) -> None:
    _, collected = sensor
    code = (
        "import os; fd = os.memfd_create('dh-memfd'); "
        "os.write(fd, open('/bin/sleep', 'rb').read()); "
        "os.execve(fd, ['sleep', '0.2'], {})"
    )
    child = subprocess.Popen([sys.executable, "-c", code])
    child.wait()
    wait_for(lambda: collected.where(event__action="end", process__pid=child.pid))
    execs = collected.where(event__action="exec", process__pid=child.pid)
    assert any(str(get_field(d, "process.executable")).startswith("/memfd:dh-memfd") for d in execs)


def test_emulator_trace_with_ancestry(sensor: tuple[Sensor, Collect], tmp_path: Path) -> None:
    _, collected = sensor
    data = tmp_path / "data"
    pid_file = f"/run/dh-sensor-emu-{os.getpid()}.pid"
    launcher = subprocess.run(
        emulator_command(data, pid_file), capture_output=True, text=True, timeout=60, check=True
    )
    instance = json.loads(launcher.stdout)["emulators"][0]
    pid, copy = instance["pid"], instance["copy"]
    try:
        # Each source has its own thread: wait for the last document of each.
        wait_for(
            lambda: (
                collected.where(event__action="deletion", file__path=copy)
                and collected.where(event__action="name_change", process__pid=pid)
                and collected.where(event__action="creation", file__path=pid_file)
            )
        )
        execs = collected.where(event__action="exec", process__pid=pid)
        assert execs and get_field(execs[0], "process.executable") == copy
        (deleted,) = collected.where(event__action="deletion", file__path=copy)
        assert get_field(deleted, "process.pid") == pid
        assert get_field(deleted, "doorhunt.file.running_executable") is True
        (created,) = collected.where(event__action="creation", file__path=copy)
        launcher_pid = get_field(created, "process.pid")
        assert collected.where(event__action="creation", file__path=pid_file)
        renamed = collected.where(event__action="name_change", process__pid=pid)
        assert renamed and get_field(renamed[0], "process.name") == "console-kit-dae"
        # The launcher forked twice to detach the emulator: it is in the emulator's ancestry.
        launcher_ids = {
            get_field(d, "process.entity_id") for d in collected.where(process__pid=launcher_pid)
        }
        assert launcher_ids & set(get_field(execs[0], "process.Ext.ancestry"))  # type: ignore[arg-type]
    finally:
        stop(data)
