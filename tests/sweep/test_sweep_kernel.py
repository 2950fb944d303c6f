"""The sweep against real kernel objects: processes, packet and raw sockets with filters, network
namespaces, PID files, firewall rules (TESTING.md). Each test checks the findings about the
objects it made; the rest of the host is not its business."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from doorhunt.bpf.examples import EXAMPLES
from doorhunt.bpf.interpreter import Link
from doorhunt.bpf.magic import KNOWN_MAGICS
from doorhunt.bpf.program import Program
from doorhunt.emulate.launch import start, stop
from doorhunt.host.snapshot import take_snapshot
from doorhunt.sweep.findings import Finding, Severity
from doorhunt.sweep.run import SweepResult, run_checks
from tests.bpf.conftest import compile_expression
from tests.conftest import require_root, require_tool
from tests.kernel import VethLab, ip
from tests.processes import Processes, processes

pytestmark = pytest.mark.root


@pytest.fixture
def started() -> Iterator[Processes]:
    with processes() as tracker:
        yield tracker


@pytest.fixture(scope="module")
def lab() -> Iterator[VethLab]:
    require_root()
    require_tool("ip")
    namespace = VethLab(
        name=f"dhsweep{os.getpid()}", a=f"dsa{os.getpid() % 100000}", b=f"dsb{os.getpid() % 100000}"
    )
    try:
        yield namespace
    finally:
        namespace.close()


def sweep() -> SweepResult:
    result = run_checks(take_snapshot())
    assert not result.failures, result.failures
    return result


def about(result: SweepResult, pid: int, check: str | None = None) -> list[Finding]:
    return [
        f
        for f in result.findings
        if f.process is not None and f.process.pid == pid and (check is None or f.check == check)
    ]


def program_json(program: Program) -> list[list[int]]:
    return [list(instruction) for instruction in program]


def test_emulator_is_found_with_every_trace(tmp_path: Path) -> None:
    require_root()
    instance = start(tmp_path, pingback=True)
    try:
        result = sweep()
        checks = {f.check: f for f in about(result, instance.pid)}
        assert {
            "socket_filter",
            "pid_file",
            "masquerade",
            "timestomp",
            "executable_provenance",
            "environment",
            "wait_state",
        } <= set(checks)
        assert checks["socket_filter"].severity is Severity.CRITICAL
        verdict = next(v for v in result.processes if v.process.pid == instance.pid)
        assert verdict.severity is Severity.CRITICAL and verdict.score == 100
        assert result.verdict() == "compromised"
        evidence = checks["pid_file"].evidence
        assert evidence["size"] == 0 and "/run/haldrund.pid" in [
            evidence["path"],
            *evidence["aliases"],
        ]
    finally:
        stop(tmp_path)
    assert not Path("/run/haldrund.pid").exists()
    assert not [p for p in os.listdir("/dev/shm") if p.startswith("kdmtmpflush")]


@pytest.mark.parametrize(
    "expression",
    [
        form
        for magic in KNOWN_MAGICS
        for form in (
            f"udp[8:{magic.width}] = {magic.value:#x}",
            f"udp[8:4] & 0xffff0000 = {magic.value << 16:#x}"
            if magic.width == 2
            else f"udp[8:2] = {magic.value >> 16:#x} and udp[10:2] = {magic.value & 0xFFFF:#x}",
        )
    ]
    + ["udp[8:2] = 0xbeef", "tcp[((tcp[12]&0xf0)>>2):4] = 0x0badf00d"],
)
def test_magic_filters_are_found(started: Processes, expression: str) -> None:
    program = compile_expression(expression)
    holder = started.holder({"socket": "packet-raw", "filter": program_json(program)})
    (finding,) = about(sweep(), holder.pid, "socket_filter")
    assert finding.severity.rank >= Severity.HIGH.rank
    assert finding.filter is not None and finding.filter.classification.suspicious


def _process_with_pid(wanted: int, started: Processes, config: dict[str, object]) -> int | None:
    """Start a holder whose pid is `wanted` (via ns_last_pid), for the pid-versus-port test."""
    for _ in range(20):
        Path("/proc/sys/kernel/ns_last_pid").write_text(str(wanted - 1))
        child = started.holder(config)
        if child.pid == wanted:
            return child.pid
    return None


def test_benign_port_filter_and_a_pid_equal_to_the_port_give_no_finding(started: Processes) -> None:
    program = compile_expression("tcp port 4437")
    pid = _process_with_pid(
        4437, started, {"socket": "packet-raw", "filter": program_json(program)}
    )
    if pid is None:
        pytest.skip("pid 4437 could not be had")
    result = sweep()
    assert about(result, 4437, "socket_filter") == []


def test_filter_inside_another_network_namespace(started: Processes, lab: VethLab) -> None:
    holder = started.holder(
        {
            "netns": lab.name,
            "socket": "packet-raw",
            "interface": lab.b,
            "filter": program_json(EXAMPLES["bpfdoor-classic"].build()),
        }
    )
    (finding,) = about(sweep(), holder.pid, "socket_filter")
    own = os.stat("/proc/self/ns/net").st_ino
    assert finding.evidence["netns"] != own
    assert finding.evidence["interface"] == lab.b


def test_inet_raw_socket_filter_is_read_through_pidfd(started: Processes) -> None:
    program = compile_expression("udp[8:2] = 0x7255", Link.IP)
    holder = started.holder({"socket": "inet-raw", "protocol": 17, "filter": program_json(program)})
    (finding,) = about(sweep(), holder.pid, "socket_filter")
    assert finding.evidence["socket"] == "AF_INET/RAW proto 17"
    assert finding.filter is not None and finding.filter.link is Link.IP
    assert finding.severity.rank >= Severity.HIGH.rank


def test_dgram_packet_socket_filter_is_read_from_the_ip_header(started: Processes) -> None:
    program = compile_expression("udp[8:2] = 0x7255 or icmp[8:2] = 0x7255", Link.IP)
    holder = started.holder({"socket": "packet-dgram", "filter": program_json(program)})
    (finding,) = about(sweep(), holder.pid, "socket_filter")
    assert finding.filter is not None
    assert finding.filter.classification.filter_class == "bpfdoor"


def test_tcpdump_and_packaged_dhclient_give_no_finding_but_a_tmp_copy_does(
    started: Processes, lab: VethLab, tmp_path: Path
) -> None:
    tcpdump = require_tool("tcpdump")
    dhclient = require_tool("dhclient")
    capture = started.run(
        ["ip", "netns", "exec", lab.name, tcpdump, "-i", lab.b, "-w", "/dev/null", "udp port 53"]
    )
    common = [
        "-d",
        "-pf",
        str(tmp_path / "dh.pid"),
        "-lf",
        str(tmp_path / "dh.leases"),
        "-sf",
        "/bin/true",
        lab.a,
    ]
    packaged = started.run(["ip", "netns", "exec", lab.name, dhclient, *common])
    copy = started.copy(dhclient, "/tmp", f"dhclient-copy-{os.getpid()}")
    copied = started.run(
        [
            "ip",
            "netns",
            "exec",
            lab.name,
            copy,
            "-d",
            "-pf",
            str(tmp_path / "dh2.pid"),
            "-lf",
            str(tmp_path / "dh2.leases"),
            "-sf",
            "/bin/true",
            lab.b,
        ]
    )
    result = _sweep_when(
        lambda r: (
            _pid_of(r, copy) is not None
            and _pid_of(r, dhclient) is not None
            and _pid_of(r, tcpdump) is not None
        )
    )
    for path in (tcpdump, dhclient):
        pid = _pid_of(result, path)
        assert pid is not None and about(result, pid) == [], path
    copy_pid = _pid_of(result, copy)
    assert copy_pid is not None
    checks = {f.check for f in about(result, copy_pid)}
    assert {"socket_filter", "executable_provenance"} <= checks
    del capture, packaged, copied


def _pid_of(result: SweepResult, executable: str) -> int | None:
    for process in result.snapshot.processes.values():
        if process.executable == executable and process.socket_inodes():
            holds_packet = any(
                inode in {s.inode for g in result.snapshot.sockets for s in g.packet}
                for inode in process.socket_inodes()
            )
            if holds_packet:
                return process.pid
    return None


def _sweep_when(ready: object, timeout: float = 30.0) -> SweepResult:
    deadline = time.monotonic() + timeout
    while True:
        result = sweep()
        if ready(result) or time.monotonic() > deadline:  # type: ignore[operator]
            return result
        time.sleep(0.2)


def test_processes_blocked_on_udp_and_unix_sockets_are_not_findings(started: Processes) -> None:
    udp = started.holder({"socket": "udp"})
    unix = started.holder({"socket": "unix-seqpacket"})
    result = sweep()
    assert [f for f in about(result, udp.pid) if f.check in ("wait_state", "socket_filter")] == []
    assert [f for f in about(result, unix.pid) if f.check in ("wait_state", "socket_filter")] == []


def test_poll_waiting_holder_is_still_found(started: Processes) -> None:
    holder = started.holder(
        {
            "socket": "packet-raw",
            "wait": "poll",
            "filter": program_json(EXAMPLES["bpfdoor-classic"].build()),
        }
    )
    result = sweep()
    assert about(result, holder.pid, "socket_filter")
    assert about(result, holder.pid, "wait_state") == []


def test_environment_triple_versus_the_same_text_in_another_variable(started: Processes) -> None:
    base = {"PATH": "/usr/bin:/bin"}
    shell = started.holder(
        {},
        env=base
        | {"HOME": "/tmp", "HISTFILE": "/dev/null", "MYSQL_HISTFILE": "/dev/null", "TERM": "vt100"},
    )
    decoy = started.holder(
        {}, env=base | {"NOTE": "HOME=/tmp HISTFILE=/dev/null MYSQL_HISTFILE=/dev/null"}
    )
    result = sweep()
    (finding,) = about(result, shell.pid, "environment")
    assert finding.severity is Severity.HIGH
    assert about(result, decoy.pid, "environment") == []


# A different BPFDoor name for each case: tests run in parallel and share /run.
@pytest.mark.parametrize(
    ("name", "holder_place", "mode"),
    [("kdevrund.pid", None, 0o644), ("aepmonend.pid", "tmp", 0o644), ("cma.lock", None, 0o600)],
)
def test_known_pid_file(started: Processes, name: str, holder_place: str | None, mode: int) -> None:
    path = Path(f"/run/{name}")
    path.unlink(missing_ok=True)
    try:
        path.touch(mode=mode)
        os.chmod(path, mode)
        holder_pid = None
        if holder_place == "tmp":
            copy = started.copy(sys.executable, "/tmp", f"pyholder-{os.getpid()}")
            holder_pid = started.holder({"pid_file": str(path)}, executable=copy).pid
        result = sweep()
        (finding,) = [
            f for f in result.findings if f.check == "pid_file" and f.evidence["path"] == str(path)
        ]
        if holder_pid is None:
            assert finding.severity is Severity.MEDIUM
        else:
            assert finding.process is not None and finding.process.pid == holder_pid
            assert finding.severity is Severity.CRITICAL
        assert finding.evidence["mode"] == f"{mode:04o}"
    finally:
        path.unlink(missing_ok=True)


def test_argv_spoofed_deleted_sleep_in_shm_and_a_fake_kernel_thread(
    started: Processes, tmp_path: Path
) -> None:
    copy = started.copy("/bin/sleep", "/dev/shm", f"dh-sleep-{os.getpid()}")
    spoofed = started.run(["/usr/sbin/cron", "1000"], executable=copy)
    time.sleep(0.2)
    os.unlink(copy)
    kthread = start(tmp_path, variant="kthread", pid_file=f"/run/dh-test-{os.getpid()}.lock")
    try:
        result = sweep()
        checks = {f.check: f for f in about(result, spoofed.pid)}
        assert {"masquerade", "executable_provenance"} <= set(checks)
        assert checks["executable_provenance"].severity.rank >= Severity.HIGH.rank
        (fake,) = about(result, kthread.pid, "masquerade")
        assert fake.severity is Severity.CRITICAL and "[watchdogd]" in fake.title.render()
    finally:
        stop(tmp_path)


def test_iptables_redirect_into_the_bind_shell_range(lab: VethLab) -> None:
    iptables = require_tool("iptables")
    source = "192.0.2.77"
    subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            lab.name,
            iptables,
            "-t",
            "nat",
            "-A",
            "PREROUTING",
            "-s",
            source,
            "-p",
            "tcp",
            "--dport",
            "22",
            "-j",
            "REDIRECT",
            "--to-ports",
            "42391",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["ip", "netns", "exec", lab.name, iptables, "-I", "INPUT", "-s", source, "-j", "ACCEPT"],
        check=True,
        capture_output=True,
    )
    try:
        result = sweep()
        redirects = [
            f
            for f in result.findings
            if f.check == "bind_shell" and "REDIRECT" in str(f.evidence.get("rule"))
        ]
        assert redirects and redirects[0].score == 95
    finally:
        for table in ("nat", "filter"):
            subprocess.run(
                ["ip", "netns", "exec", lab.name, iptables, "-t", table, "-F"],
                capture_output=True,
                check=False,
            )


def test_listener_in_the_bind_shell_range_is_found(started: Processes) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(("127.0.0.1", 43390))
    except OSError:
        pytest.skip("port 43390 is in use")
    listener.listen(1)
    try:
        result = sweep()
        found = [
            f
            for f in result.findings
            if f.check == "bind_shell" and f.evidence.get("port") == 43390
        ]
        assert found and found[0].process is not None
        assert found[0].process.pid == os.getpid()
    finally:
        listener.close()
    del started


def test_non_root_run_reports_gaps_not_clean() -> None:
    require_root()
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the unprivileged child
        try:
            os.close(reader)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            result = run_checks(take_snapshot(firewall=False))
            os.write(
                writer,
                json.dumps(
                    {
                        "complete": result.complete,
                        "gaps": [g.code for g in result.snapshot.gaps],
                        "verdict": result.verdict(),
                    }
                ).encode(),
            )
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        data = pipe.read()
    os.waitpid(child, 0)
    report = json.loads(data)
    assert report["complete"] is False
    assert {"not_root", "no_cap_net_admin"} <= set(report["gaps"])
    assert report["verdict"] != "clean"


def test_sweep_command_json_and_ndjson_are_valid(tmp_path: Path) -> None:
    from doorhunt.ecs import assert_valid

    instance = start(tmp_path, pingback=False, pid_file="/run/hald-addon.pid")
    try:
        command = [sys.executable, "-m", "doorhunt", "sweep", "--data", str(tmp_path)]
        done = subprocess.run([*command, "--json"], capture_output=True, timeout=120, check=False)
        assert done.returncode == 1, done.stderr
        document = json.loads(done.stdout)
        assert document["visibility"]["complete"] in (True, False)
        ours = [f for f in document["findings"] if f.get("process", {}).get("pid") == instance.pid]
        assert {"check", "severity", "score", "title", "process", "evidence", "threat"} <= set(
            ours[0]
        )
        assert set(ours[0]["process"]) >= {"pid", "executable", "name", "args"}
        assert list((tmp_path / "sweeps").glob("*.json"))
        lines = subprocess.run(
            [*command, "--ndjson", "--no-store"], capture_output=True, timeout=120, check=False
        ).stdout.splitlines()
        for line in lines:
            assert_valid(json.loads(line), require_core=True)
        assert any(json.loads(line).get("process", {}).get("pid") == instance.pid for line in lines)
    finally:
        stop(tmp_path)


_ = ip


def test_yara_hits_on_a_running_sample_executable_and_memory(
    started: Processes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from tests.sample.builds import require_module, session_samples

    require_module("yara_x", "yara-x")
    sample = session_samples(tmp_path_factory).path("classic-x86-64-O0")
    copy = started.copy(str(sample), "/tmp", f"dh-yara-sample-{os.getpid()}")
    # --hold: the benign sample waits on its standard input (tests/sample/sources).
    child = subprocess.Popen(
        [copy, "--hold"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, start_new_session=True
    )
    started.started.append(child)
    time.sleep(0.3)
    result = sweep()
    hits = about(result, child.pid, "yara")
    assert hits, "doorhunt's YARA rules must match the running sample"
    rules = {f.evidence["yara"]["rule"] for f in hits}  # type: ignore[index]
    assert "doorhunt_bpfdoor_filter_array" in rules or "doorhunt_bpfdoor_masquerade" in rules
    assert all(f.severity.rank >= Severity.HIGH.rank for f in hits)
