"""In-memory hosts for unit tests of the checks (no root, no kernel): processes, sockets and
files are records, as dissect.target builds virtual hosts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from doorhunt.bpf.codec import to_bytes
from doorhunt.bpf.program import Program
from doorhunt.host.files import FileFacts, FileLock, PidFile, TempExecutable
from doorhunt.host.firewall import FirewallRule
from doorhunt.host.netns import NetworkNamespace
from doorhunt.host.packages import PackageIndex
from doorhunt.host.persistence import AutostartEntry
from doorhunt.host.procfs import OpenFile, Process, WaitState
from doorhunt.host.snapshot import Holder, HostSnapshot
from doorhunt.host.socketfilters import FilterRead, FilterState
from doorhunt.host.sockets import Listener, NamespaceSockets, PacketSocket, RawSocket

HOST_NS = 4026531833
BOOT = 1_700_000_000.0


def process(
    pid: int,
    *,
    exe: str | None = "/usr/bin/sleep",
    argv: tuple[str, ...] | None = None,
    comm: str | None = None,
    uid: int = 0,
    environ: tuple[str, ...] = ("PATH=/usr/bin",),
    deleted: bool = False,
    flags: int = 0,
    sockets: dict[int, int] | None = None,
    files: tuple[OpenFile, ...] = (),
    waits: tuple[WaitState, ...] = (),
    netns: int = HOST_NS,
) -> Process:
    shown_exe = f"{exe} (deleted)" if exe and deleted else exe
    opened = tuple(OpenFile(fd, f"socket:[{inode}]") for inode, fd in (sockets or {}).items())
    return Process(
        pid=pid,
        ppid=1,
        start_ticks=1000 + pid,
        state="S",
        flags=flags,
        comm=comm or (exe or "kthread").rsplit("/", 1)[-1][:15],
        uid=uid,
        euid=uid,
        exe=shown_exe,
        exe_deleted=deleted,
        argv=argv if argv is not None else ((exe,) if exe else ()),
        environ=environ,
        cwd="/",
        cgroup="0::/",
        netns=netns,
        pidns=4026531836,
        files=opened + files,
        waits=waits,
    )


def classic_read(program: Program) -> FilterRead:
    return FilterRead(FilterState.CLASSIC, program=to_bytes(program))


def packet_socket(
    inode: int,
    read: FilterRead,
    *,
    kind: str = "raw",
    protocol: int = 0x0800,
    ifindex: int = 0,
    netns: int = HOST_NS,
) -> PacketSocket:
    return PacketSocket(
        netns, inode, kind, protocol, ifindex, "eth0" if ifindex else None, 0, read, "sock_diag"
    )


def raw_socket(inode: int, read: FilterRead, protocol: int = 17) -> RawSocket:
    return RawSocket(HOST_NS, inode, "inet", protocol, 0, read)


def facts(
    path: str,
    *,
    size: int = 0,
    mode: int = 0o644,
    uid: int = 0,
    mtime: float = BOOT + 100,
    inode: int = 1,
    device: int = 1,
) -> FileFacts:
    return FileFacts(path, size, mode, uid, 0, inode, device, mtime, mtime, mtime)


class FakePackages(PackageIndex):
    """A package database holding exactly `owned` (path → package)."""

    def __init__(self, owned: dict[str, str] | None = None) -> None:
        super().__init__(Path("/nonexistent"))
        self._owners = dict(owned or {})


def snapshot(
    processes: Sequence[Process] = (),
    *,
    packet: Sequence[PacketSocket] = (),
    raw: Sequence[RawSocket] = (),
    listeners: Sequence[Listener] = (),
    pid_files: Sequence[PidFile] = (),
    locks: Sequence[FileLock] = (),
    temp: Sequence[TempExecutable] = (),
    firewall: Sequence[FirewallRule] = (),
    autostart: Sequence[AutostartEntry] = (),
    orphans: set[int] | None = None,
    exe_facts: dict[int, FileFacts] | None = None,
    packages: dict[str, str] | None = None,
) -> HostSnapshot:
    holders: dict[int, list[Holder]] = {}
    for item in processes:
        for inode, fd in item.socket_inodes().items():
            holders.setdefault(inode, []).append(Holder(item.pid, fd))
    group = NamespaceSockets(
        NetworkNamespace(HOST_NS, "/proc/1/ns/net", None, 1),
        list(packet),
        list(raw),
        list(listeners),
    )
    return HostSnapshot(
        taken_at=datetime(2026, 11, 27, tzinfo=UTC),
        host={"hostname": "test", "name": "test"},
        machine="x86_64",
        boot_time=BOOT,
        processes={p.pid: p for p in processes},
        sockets=[group],
        socket_holders=holders,
        orphan_sockets=set(orphans or ()),
        exe_facts=dict(exe_facts or {}),
        pid_files=list(pid_files),
        locks=list(locks),
        temp_executables=list(temp),
        firewall=list(firewall),
        autostart=list(autostart),
        ebpf_programs=[],
        ebpf_holders={},
        packages=FakePackages(packages),
    )
