"""One consistent read of everything the sweep judges, so that checks are pure functions of a
`HostSnapshot` (and unit tests can build one in memory, as dissect builds virtual hosts)."""

from __future__ import annotations

import dataclasses
import logging
import os
import platform
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from doorhunt.ecs import host_fields
from doorhunt.host.files import (
    FileFacts,
    FileLock,
    PidFile,
    TempExecutable,
    pid_files,
    read_locks,
    temp_executables,
)
from doorhunt.host.firewall import FirewallRule, read_rules
from doorhunt.host.netns import namespaces
from doorhunt.host.packages import PackageIndex
from doorhunt.host.persistence import AutostartEntry, autostart_entries
from doorhunt.host.procfs import Process, boot_time, read_processes
from doorhunt.host.socketfilters import (
    EbpfProgram,
    FilterRead,
    FilterState,
    loaded_programs,
    read_remote_filter,
)
from doorhunt.host.sockets import NamespaceSockets, collect
from doorhunt.host.visibility import Gap, visibility_gaps
from doorhunt.sample.yara import ScanReport, YaraScanner, YaraUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Holder:
    """A process holding a descriptor (socket, eBPF program) open."""

    pid: int
    fd: int


@dataclass(slots=True)
class HostSnapshot:
    taken_at: datetime
    host: dict[str, object]  # ECS host.* fields
    machine: str
    boot_time: float | None
    processes: dict[int, Process]
    sockets: list[NamespaceSockets]
    socket_holders: dict[int, list[Holder]]  # socket inode → holders
    orphan_sockets: set[int]  # inodes no visible process holds, checked twice
    exe_facts: dict[int, FileFacts]  # pid → stat of /proc/PID/exe (deleted files included)
    pid_files: list[PidFile]
    locks: list[FileLock]
    temp_executables: list[TempExecutable]
    firewall: list[FirewallRule]
    autostart: list[AutostartEntry]
    ebpf_programs: list[EbpfProgram]
    ebpf_holders: dict[int, list[Holder]]  # program id → holders
    packages: PackageIndex
    gaps: list[Gap] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    yara: dict[int, ScanReport] = field(default_factory=dict)  # pid → YARA report

    def holders(self, inode: int) -> list[Holder]:
        return self.socket_holders.get(inode, [])


def _holders(processes: Iterable[Process]) -> dict[int, list[Holder]]:
    found: dict[int, list[Holder]] = {}
    for process in processes:
        for inode, fd in process.socket_inodes().items():
            found.setdefault(inode, []).append(Holder(process.pid, fd))
    return found


def _ebpf_holders(processes: Iterable[Process], proc: str) -> dict[int, list[Holder]]:
    """Program id → processes with a bpf-prog descriptor for it (/proc/PID/fdinfo prog_id)."""
    found: dict[int, list[Holder]] = {}
    for process in processes:
        if not isinstance(process.files, tuple):
            continue
        for opened in process.files:
            if opened.target != "anon_inode:bpf-prog":
                continue
            try:
                with open(f"{proc}/{process.pid}/fdinfo/{opened.fd}", "rb") as handle:
                    info = handle.read(4096)
            except OSError:
                continue
            for line in info.split(b"\n"):
                if line.startswith(b"prog_id:"):
                    found.setdefault(int(line.split()[1]), []).append(
                        Holder(process.pid, opened.fd)
                    )
    return found


def _rescan(inodes: set[int], proc: str) -> set[int]:
    """The inodes still held by nobody after a second look at every /proc/PID/fd."""
    missing = set(inodes)
    if not missing:
        return missing
    for name in os.listdir(proc):
        if not name.isdigit():
            continue
        try:
            descriptors = os.listdir(f"{proc}/{name}/fd")
        except OSError:
            continue
        for descriptor in descriptors:
            try:
                target = os.readlink(f"{proc}/{name}/fd/{descriptor}")
            except OSError:
                continue
            if target.startswith("socket:["):
                missing.discard(int(target[8:-1]) if target[8:-1].isdigit() else -1)
        if not missing:
            break
    return missing


def _fill_filters(sockets: list[NamespaceSockets], holders: dict[int, list[Holder]]) -> None:
    """Read, through a holder's descriptor, the filters sock_diag cannot give: those of AF_INET
    raw sockets, and of packet sockets when sock_diag hid them."""
    for group in sockets:
        for index, raw in enumerate(group.raw):
            group.raw[index] = dataclasses.replace(raw, filter=_remote(holders.get(raw.inode)))
        for index, packet in enumerate(group.packet):
            if packet.filter.state is FilterState.UNREADABLE:
                read = _remote(holders.get(packet.inode))
                if read.state is not FilterState.UNREADABLE:
                    group.packet[index] = dataclasses.replace(packet, filter=read)
            elif packet.filter.state is FilterState.NONE and holders.get(packet.inode):
                # No classic program in sock_diag: SO_GET_FILTER tells "none" from "eBPF".
                read = _remote(holders.get(packet.inode))
                if read.state is FilterState.EBPF:
                    group.packet[index] = dataclasses.replace(packet, filter=read)


def _remote(holders: list[Holder] | None) -> FilterRead:
    if not holders:
        return FilterRead(FilterState.UNREADABLE, reason="no visible process holds this socket")
    read = FilterRead(FilterState.UNREADABLE, reason="not read")
    for holder in holders:
        read = read_remote_filter(holder.pid, holder.fd)
        if read.state is not FilterState.UNREADABLE:
            return read
    return read


def _yara_reports(
    processes: dict[int, Process],
    sockets: list[NamespaceSockets],
    holders: dict[int, list[Holder]],
    exe_facts: dict[int, FileFacts],
    packages: PackageIndex,
    notes: list[str],
) -> dict[int, ScanReport]:
    """YARA over the executables no package vouches for (each file once, deleted ones
    through /proc/PID/exe) and over the memory of processes that run from a risky place or
    hold packet/raw sockets: a package's own binaries are not implants, and scanning every
    process's memory would take the sweep past its time budget."""
    try:
        scanner = YaraScanner()
    except YaraUnavailable as error:
        notes.append(str(error))
        return {}
    socket_inodes = {s.inode for g in sockets for s in g.packet}
    socket_inodes |= {s.inode for g in sockets for s in g.raw}
    socket_pids = {h.pid for inode in socket_inodes for h in holders.get(inode, [])}
    reports: dict[int, ScanReport] = {}
    seen: dict[tuple[int, int], ScanReport] = {}
    for pid, process in processes.items():
        facts = exe_facts.get(pid)
        if facts is None or process.kernel_thread:
            continue
        risky = (
            process.exe_deleted
            or process.memfd
            or (process.executable or "").startswith(("/dev/shm/", "/tmp/", "/var/tmp/", "/run/"))
        )
        if not risky and pid not in socket_pids and packages.owner(process.executable):
            continue
        key = (facts.device, facts.inode)
        if risky or pid in socket_pids:
            reports[pid] = scanner.scan_process(pid, memory=True)
        elif key in seen:
            reports[pid] = seen[key]
        else:
            reports[pid] = seen[key] = scanner.scan_process(pid, memory=False)
    return {pid: report for pid, report in reports.items() if report.hits}


def take_snapshot(
    proc: str = "/proc", root: Path = Path("/"), *, firewall: bool = True, yara: bool = True
) -> HostSnapshot:
    """Read the live host."""
    timings: dict[str, float] = {}
    started = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal started
        now = time.perf_counter()
        timings[name] = now - started
        started = now

    gaps = visibility_gaps(proc)
    notes: list[str] = []
    processes = {process.pid: process for process in read_processes(proc)}
    lap("processes")
    holders = _holders(processes.values())
    spaces = namespaces(
        (process.pid, process.netns)
        for process in processes.values()
        if isinstance(process.netns, int)
    )
    sockets = collect(spaces)
    _fill_filters(sockets, holders)
    inodes = {s.inode for group in sockets for s in group.packet}
    inodes |= {s.inode for group in sockets for s in group.raw}
    orphans = _rescan({inode for inode in inodes if inode not in holders}, proc)
    lap("sockets")
    machine = platform.machine()
    programs: list[EbpfProgram] = []
    try:
        programs = loaded_programs(machine)
    except OSError as error:
        notes.append(f"eBPF programs not listed: {error.strerror or error}")
    ebpf = _ebpf_holders(processes.values(), proc)
    exe_facts: dict[int, FileFacts] = {}
    for process in processes.values():
        if isinstance(process.exe, str):
            try:
                exe_facts[process.pid] = FileFacts.of(
                    process.exe, os.stat(f"{proc}/{process.pid}/exe")
                )
            except OSError:
                continue
    lap("executables")
    rules: list[FirewallRule] = []
    if firewall:
        for group in sockets:
            found, problems = read_rules(group.namespace.inode, group.namespace.path)
            rules += found
            notes += [p for p in problems if p not in notes]
    lap("firewall")
    snapshot = HostSnapshot(
        taken_at=datetime.now(UTC),
        host=host_fields(root=root),
        machine=machine,
        boot_time=boot_time(proc),
        processes=processes,
        sockets=sockets,
        socket_holders=holders,
        orphan_sockets=orphans,
        exe_facts=exe_facts,
        pid_files=pid_files((str(root / "run"), str(root / "var/run"))),
        locks=read_locks(proc),
        temp_executables=temp_executables(
            tuple(str(root / d.lstrip("/")) for d in ("/dev/shm", "/tmp", "/var/tmp", "/run"))
        ),
        firewall=rules,
        autostart=autostart_entries(root),
        ebpf_programs=programs,
        ebpf_holders=ebpf,
        packages=PackageIndex(root),
        gaps=gaps,
        notes=notes,
        timings=timings,
    )
    lap("files")
    if yara:
        snapshot.yara = _yara_reports(
            processes, sockets, holders, exe_facts, snapshot.packages, snapshot.notes
        )
        lap("yara")
    for group in sockets:
        snapshot.gaps += [
            Gap("sockets", text)
            for text in group.gaps
            if all(text != gap.detail for gap in snapshot.gaps)
        ]
    return snapshot


__all__ = ["Holder", "HostSnapshot", "take_snapshot"]
