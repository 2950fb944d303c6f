"""End to end on the real kernel: the sensor, with every source and the shipped pack, watches
`doorhunt emulate start` and raises the expected alerts; with prevention on, the emulator is
killed and its file quarantined; a benign workload raises nothing high.

Other tests run emulators and packet-socket holders at the same time, so every assertion (and
the test responder) looks only at the process tree the test itself started, by entity id.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from doorhunt.ecs import assert_valid, get_field
from doorhunt.emulate.launch import stop
from doorhunt.response import Outcome, PreventMode, Quarantine, QuarantinedFile, Responder
from doorhunt.rules.pack import load_rules
from doorhunt.sensor.detection import AlertProcessor
from doorhunt.sensor.pipeline import Sensor, SensorOptions
from tests.conftest import require_tool
from tests.kernel import VethLab
from tests.sensor.conftest import emulator_command
from tests.sensor.test_sensor_kernel import Collect, wait_for

pytestmark = [pytest.mark.root, pytest.mark.slow]

PACK = load_rules()
STEM = {rule.id: rule.path.stem for rule in PACK}
# What the emulator's traces (docs/emulate.md, BPFDOOR.md §1) must raise.
EXPECTED = {
    "defense_evasion_execution_from_shared_memory",
    "defense_evasion_timestomp_in_shared_memory",
    "defense_evasion_self_deleting_executable",
    "defense_evasion_masquerade_as_system_daemon",
    "defense_evasion_empty_pid_file_by_unusual_program",
    "discovery_raw_packet_socket_by_unexpected_program",
    "command_and_control_bpfdoor_socket_filter",
    "command_and_control_socket_filter_by_unexpected_program",
}


class Tree:
    """The processes a test started: a root (by entity id) and everything below it."""

    def __init__(self) -> None:
        self.roots: set[str] = set()

    def holds(self, document: Mapping[str, object]) -> bool:
        entity = get_field(document, "process.entity_id")
        ancestry = get_field(document, "process.Ext.ancestry")
        ids = {entity, *(ancestry if isinstance(ancestry, list) else [])}
        return bool(self.roots & ids)


class TreeResponder(Responder):
    """Acts only on the test's own tree: other tests' emulators are not this test's to kill."""

    def __init__(self, tree: Tree, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.tree = tree

    def respond(self, actions: Sequence[str], alert: Mapping[str, object]) -> list[Outcome]:
        return super().respond(actions, alert) if self.tree.holds(alert) else []


@pytest.fixture
def detecting(
    audit_host: None, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Sensor, Collect, Tree]]:
    mode = getattr(request, "param", PreventMode.OFF)
    collected, tree = Collect(), Tree()
    sensor = Sensor(
        [collected],
        SensorOptions(watch=("/dev/shm", "/run", "/tmp"), status_interval=3600, flush_interval=0.2),
    )
    responder = None
    if mode is not PreventMode.OFF:
        quarantine = Quarantine(tmp_path / "data" / "quarantine")
        responder = TreeResponder(tree, mode, quarantine, sensor.table.current_entity_id)
    sensor.processors.append(AlertProcessor(PACK, responder=responder))
    sensor.start()
    assert {"proc_connector", "audit", "fanotify"} <= set(sensor.sources), sensor.problems
    try:
        yield sensor, collected, tree
    finally:
        sensor.stop()


def alerts_in(collected: Collect, tree: Tree) -> list[Mapping[str, object]]:
    return [
        document
        for document in list(collected.documents)
        if get_field(document, "event.kind") == "alert" and tree.holds(document)
    ]


def fired(collected: Collect, tree: Tree) -> set[str]:
    return {STEM[str(get_field(alert, "rule.id"))] for alert in alerts_in(collected, tree)}


def launch(
    sensor: Sensor, tree: Tree, data: Path, pid_file: str
) -> subprocess.CompletedProcess[str]:
    """`doorhunt emulate start`, as an operator would run it, its process made the tree's root."""
    launcher = subprocess.Popen(
        emulator_command(data, pid_file), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    root = sensor.table.current_entity_id(launcher.pid)
    assert root is not None
    tree.roots.add(root)
    stdout, stderr = launcher.communicate(timeout=60)
    return subprocess.CompletedProcess(launcher.args, launcher.returncode, stdout, stderr)


def test_the_emulator_raises_the_expected_alerts(
    detecting: tuple[Sensor, Collect, Tree], tmp_path: Path
) -> None:
    sensor, collected, tree = detecting
    data = tmp_path / "data"
    try:
        launched = launch(sensor, tree, data, f"/run/dh-detect-{os.getpid()}.pid")
        assert launched.returncode == 0, launched.stderr
        started = time.monotonic()
        wait_for(lambda: fired(collected, tree) >= EXPECTED, timeout=20)
        print(f"all {len(EXPECTED)} alerts {time.monotonic() - started:.2f} s after the start")
    finally:
        stop(data)
    alerts = alerts_in(collected, tree)
    ids = {get_field(document, "event.id") for document in collected.documents}
    for alert in alerts:
        assert_valid(alert, require_core=True)
        assert get_field(alert, "threat.tactic.id")
        # Every source event an alert names was written too.
        assert set(get_field(alert, "doorhunt.alert.source_event_ids")) <= ids  # type: ignore[arg-type]
    bpfdoor = [
        a for a in alerts if STEM[str(get_field(a, "rule.id"))].endswith("bpfdoor_socket_filter")
    ]
    assert get_field(bpfdoor[0], "doorhunt.bpf.class") == "bpfdoor"
    assert get_field(bpfdoor[0], "doorhunt.alert.severity") == "critical"
    # Suppression: one alert per rule and process, however often the rule matched.
    keys = [(get_field(a, "rule.id"), get_field(a, "process.entity_id")) for a in alerts]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("detecting", [PreventMode.ON], indirect=True)
def test_prevention_kills_the_emulator_and_quarantines_its_file(
    detecting: tuple[Sensor, Collect, Tree], tmp_path: Path
) -> None:
    sensor, collected, tree = detecting
    data = tmp_path / "data"
    quarantine = Quarantine(data / "quarantine")
    interpreter = Path(os.path.realpath(sys.executable)).read_bytes()
    try:
        # Prevention may stop it before it is up (its copy quarantined at the timestomp) or
        # once it runs (killed at its first alert): either way nothing of it may survive.
        launched = launch(sensor, tree, data, f"/run/dh-prevent-{os.getpid()}.pid")
        assert launched.returncode in (0, 2), launched.stderr

        def quarantined() -> list[QuarantinedFile]:
            return [item for item in quarantine.items() if isinstance(item, QuarantinedFile)]

        wait_for(quarantined, timeout=20)
        if launched.returncode == 0:
            pid = json.loads(launched.stdout)["emulators"][0]["pid"]
            wait_for(lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid), timeout=20)
    finally:
        stop(data)
    # The copy, once or twice (moved at the timestomp, and read again from /proc/PID/exe).
    items = quarantined()
    assert items
    for item in items:
        assert item.original_path.startswith("/dev/shm/kdmtmpflush")
        assert item.sha256 == hashlib.sha256(interpreter).hexdigest()
    responses = [
        (entry["action"], entry["outcome"])
        for alert in alerts_in(collected, tree)
        for entry in get_field(alert, "doorhunt.alert.response") or []  # type: ignore[union-attr]
    ]
    assert ("quarantine_file", "done") in responses
    if launched.returncode == 0:
        assert ("kill_process", "done") in responses


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rpartition(b") ")[2][:1] == b"Z"
    except OSError:
        return True


def test_a_benign_workload_raises_nothing_high(
    detecting: tuple[Sensor, Collect, Tree], tmp_path: Path
) -> None:
    """Package install and removal, tcpdump, a DHCP client, shell scripts in /tmp."""
    sensor, collected, tree = detecting
    tcpdump, dhclient = require_tool("tcpdump"), require_tool("dhclient")
    dpkg_deb = require_tool("dpkg-deb")
    lab = VethLab()
    scratch = Path(tempfile.mkdtemp(prefix="doorhunt-benign-", dir="/tmp"))
    try:
        package = build_package(tmp_path, dpkg_deb)
        (scratch / "work.sh").write_text(
            '#!/bin/sh\nset -e\ncd "$(dirname "$0")"\n'
            "printf 'b\\na\\n' | sort > sorted.txt\ngrep -c a sorted.txt\n"
            "cp /bin/true ./helper && chmod +x ./helper && ./helper\n"
            "mktemp -p . > /dev/null\nfind . -type f | wc -l\nrm -f helper\n"
        )
        workload = tmp_path / "workload.sh"
        workload.write_text(
            "#!/bin/sh\nset -e\n"
            f"sh {scratch}/work.sh\n"
            f"dpkg -i {package} >/dev/null\ndpkg -r doorhunt-benign-test >/dev/null\n"
            f"timeout -s INT 2 {tcpdump} -i lo -n -w {tmp_path}/lo.pcap 2>/dev/null || true\n"
            f"timeout 3 ip netns exec {lab.name} {dhclient} -d -1 -sf /bin/true "
            f"-pf {tmp_path}/dhclient.pid -lf {tmp_path}/dhclient.leases {lab.a} "
            "2>/dev/null || true\n"
        )
        runner = subprocess.Popen(["sh", str(workload)], stdout=subprocess.DEVNULL)
        root = sensor.table.current_entity_id(runner.pid)
        assert root is not None
        tree.roots.add(root)
        assert runner.wait(timeout=120) == 0
        # The DHCP client's filter is the last thing it does; the sensor sees it.
        wait_for(
            lambda: any(
                tree.holds(d)
                and get_field(d, "event.action") == "filter_attached"
                and str(get_field(d, "process.executable")).endswith("dhclient")
                for d in list(collected.documents)
            ),
            timeout=20,
        )
        time.sleep(1)
    finally:
        lab.close()
        shutil.rmtree(scratch, ignore_errors=True)
        subprocess.run(["dpkg", "-r", "doorhunt-benign-test"], capture_output=True, check=False)
    loud = [
        (STEM[str(get_field(a, "rule.id"))], get_field(a, "process.executable"))
        for a in alerts_in(collected, tree)
        if get_field(a, "doorhunt.alert.severity") in ("high", "critical")
    ]
    assert loud == []


def build_package(directory: Path, dpkg_deb: str) -> Path:
    """A tiny architecture-independent .deb with a maintainer script, built here."""
    root = directory / "package"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "usr/share/doc/doorhunt-benign-test").mkdir(parents=True)
    (root / "usr/share/doc/doorhunt-benign-test/README").write_text("benign\n")
    (root / "DEBIAN/control").write_text(
        "Package: doorhunt-benign-test\nVersion: 1.0\nArchitecture: all\n"
        "Maintainer: doorhunt tests <tests@invalid>\nDescription: benign workload for tests\n"
    )
    postinst = root / "DEBIAN/postinst"
    postinst.write_text(
        "#!/bin/sh\nset -e\nmkdir -p /run/doorhunt-benign-test\nrm -rf /run/doorhunt-benign-test\n"
    )
    postinst.chmod(0o755)
    output = directory / "doorhunt-benign-test.deb"
    subprocess.run(
        [dpkg_deb, "--root-owner-group", "--build", str(root), str(output)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return output
