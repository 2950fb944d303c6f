"""/proc parsing on fake process trees (no root), and on hostile contents (hypothesis)."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from doorhunt.host.procfs import Unreadable, WaitState, read_process, read_processes


def fake_process(
    proc: Path,
    pid: int,
    *,
    comm: bytes = b"sleep",
    state: bytes = b"S",
    ppid: int = 1,
    flags: int = 0,
    start: int = 4242,
    uid: int = 0,
    exe: str | None = "/usr/bin/sleep",
    cmdline: bytes = b"sleep\x001000\x00",
    environ: bytes = b"PATH=/bin\x00",
    fds: dict[int, str] | None = None,
    syscall: bytes = b"45 0x3 0x7f 0x10000 0x0 0x0 0x0 0x7ffc 0x7f",
    netns: str = "net",
) -> Path:
    base = proc / str(pid)
    (base / "fd").mkdir(parents=True)
    (base / "ns").mkdir()
    (base / f"task/{pid}").mkdir(parents=True)
    fields = [state, str(ppid).encode(), b"1", b"1", b"0", b"-1", str(flags).encode()]
    fields += [b"0"] * 12 + [str(start).encode()] + [b"0"] * 30
    (base / "stat").write_bytes(str(pid).encode() + b" (" + comm + b") " + b" ".join(fields))
    (base / "status").write_bytes(f"Name:\tx\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n".encode())
    (base / "cmdline").write_bytes(cmdline)
    (base / "environ").write_bytes(environ)
    (base / "cgroup").write_bytes(b"0::/system.slice/x.service\n")
    (base / f"task/{pid}/syscall").write_bytes(syscall)
    if exe is not None:
        os.symlink(exe, base / "exe")
    os.symlink("/", base / "cwd")
    shared = proc / f"{netns}-inode"
    if not shared.exists():
        shared.write_bytes(b"")
    os.link(shared, base / "ns/net")
    (base / "ns/pid").write_bytes(b"")
    for fd, target in (fds or {}).items():
        os.symlink(target, base / f"fd/{fd}")
    return base


def test_reads_every_field(tmp_path: Path) -> None:
    fake_process(
        tmp_path,
        700,
        comm=b"kdm tmp) x",
        cmdline=b"/sbin/udevd\x00-d\x00\x00\x00\x00",
        environ=b"",
        fds={3: "socket:[4321]", 4: "/run/x.pid"},
        exe="/dev/shm/kdmtmpflush (deleted)",
    )
    process = read_process(700, str(tmp_path), "x86_64")
    assert process is not None
    assert process.comm == "kdm tmp) x" and process.ppid == 1 and process.start_ticks == 4242
    assert process.argv == ("/sbin/udevd", "-d")
    assert process.environ == () and process.uid == 0
    assert process.exe_deleted and process.executable == "/dev/shm/kdmtmpflush"
    assert process.socket_inodes() == {4321: 3}
    assert process.waits == (WaitState(700, "recvfrom", 3),)
    assert process.name == "udevd"


def test_kernel_thread_and_shared_namespaces(tmp_path: Path) -> None:
    fake_process(tmp_path, 2, comm=b"kthreadd", flags=0x00200040, exe=None, cmdline=b"", ppid=0)
    fake_process(tmp_path, 10)
    fake_process(tmp_path, 11, netns="other")
    found = {p.pid: p for p in read_processes(str(tmp_path))}
    assert found[2].kernel_thread and found[2].exe is None and found[2].argv == ()
    assert found[10].netns != found[11].netns
    assert isinstance(found[10].netns, int)


def test_unreadable_fields_are_marked_not_empty(tmp_path: Path) -> None:
    base = fake_process(tmp_path, 12)
    (base / "environ").unlink()
    (base / "environ").mkdir()  # reading a directory fails with EISDIR
    process = read_process(12, str(tmp_path))
    assert process is not None
    assert isinstance(process.environ, Unreadable) and process.environ.reason == "EISDIR"


def test_vanished_process_is_skipped(tmp_path: Path) -> None:
    assert read_process(999, str(tmp_path)) is None
    base = fake_process(tmp_path, 13)
    (base / "stat").write_bytes(b"garbage")
    assert read_process(13, str(tmp_path)) is None


@given(st.binary(min_size=0, max_size=40).filter(lambda b: b"\x00" not in b and b"/" not in b))
def test_any_comm_is_read_back_exactly(comm: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        fake_process(Path(directory), 5, comm=comm)
        process = read_process(5, directory)
        assert process is not None
        assert process.comm.encode("utf-8", "surrogateescape") == comm


@given(st.lists(st.binary(max_size=20).filter(lambda b: b"\x00" not in b), min_size=1, max_size=6))
def test_argv_with_any_bytes_and_newlines(arguments: list[bytes]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        fake_process(Path(directory), 6, cmdline=b"\x00".join(arguments) + b"\x00")
        process = read_process(6, directory)
        assert process is not None and isinstance(process.argv, tuple)
        expected = list(arguments)
        while expected and expected[-1] == b"":
            expected.pop()
        assert [a.encode("utf-8", "surrogateescape") for a in process.argv] == expected


@given(st.binary(max_size=200))
def test_arbitrary_stat_and_syscall_contents_never_raise(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        base = fake_process(Path(directory), 7, syscall=data)
        read_process(7, directory)
        (base / "stat").write_bytes(data)
        read_process(7, directory)


def test_reads_this_process_exactly() -> None:
    me = read_process(os.getpid())
    assert me is not None and me.exe == os.path.realpath(f"/proc/{os.getpid()}/exe")
    assert me.environment() is not None and me.environment().get("PATH") == os.environ.get("PATH")  # type: ignore[union-attr]
