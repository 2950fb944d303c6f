"""Audit events to ECS: each mapped syscall, read from a recorded audit.log (tests/ingest/data),
with Defend's actions and field names, and every document valid ECS."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorhunt.ecs import assert_valid, get_field
from doorhunt.ingest.auditd import (
    AuditEvent,
    AuditRecord,
    Coalescer,
    Lineage,
    execve_arguments,
    parse_line,
    parse_sockaddr,
    to_ecs,
)
from doorhunt.ingest.auditd.syscalls import AUDIT_ARCH_X86_64, syscall_name

DATA = Path(__file__).parent / "data"
HOST = {"name": "victim"}


def documents(lines: list[str], host: Mapping[str, object] = HOST) -> list[dict[str, object]]:
    coalescer = Coalescer()
    lineage = Lineage("victim")
    events: list[AuditEvent] = []
    for line in lines:
        record = parse_line(line)
        assert record is not None, line
        events += coalescer.add(record)
    events += coalescer.flush()
    found = [to_ecs(event, host, lineage=lineage) for event in events]
    return [doc for doc in found if doc is not None]


def fixture_documents() -> dict[str, dict[str, object]]:
    lines = (DATA / "audit.log").read_text().splitlines()
    docs = documents(lines)
    by_action = {str(get_field(doc, "event.action")): doc for doc in docs}
    assert len(by_action) == len(docs)
    return by_action


def enriched(line: str) -> str:
    """The ENRICHED form auditd writes with log_format=ENRICHED (auditd.conf(5))."""
    if "type=SYSCALL" not in line:
        return line
    number = int(line.split(" syscall=", 1)[1].split(" ", 1)[0])
    name = syscall_name(AUDIT_ARCH_X86_64, number)
    return line + f'\x1dARCH=x86_64 SYSCALL={name} AUID="alice" UID="root" GID="root" EUID="root"'


def test_every_document_is_valid_ecs() -> None:
    for document in fixture_documents().values():
        assert_valid(document, require_core=True)
        assert get_field(document, "event.module") == "auditd"
        assert get_field(document, "host.name") == "victim"


def test_the_actions_are_defends_and_doorhunts() -> None:
    assert sorted(fixture_documents()) == sorted(
        [
            "fork", "exec", "timestomp", "creation", "socket_opened", "filter_attached",
            "name_change", "deletion", "connection_attempted", "session_id_change",
            "connection_accepted", "rename", "end",
        ]
    )  # fmt: skip


def test_exec_has_full_argv_cwd_users_and_lineage() -> None:
    docs = fixture_documents()
    exec_ = docs["exec"]
    assert get_field(exec_, "event.category") == ["process"]
    assert get_field(exec_, "event.type") == ["start"]
    assert exec_["process"] == {
        "pid": 5000,
        "parent": {"pid": 4242, "entity_id": get_field(docs["fork"], "process.parent.entity_id")},
        "executable": "/dev/shm/kdmtmpflush",
        "name": "kdmtmpflush",
        "args": ["/dev/shm/kdmtmpflush", "--init"],
        "args_count": 2,
        "command_line": "/dev/shm/kdmtmpflush --init",
        "working_directory": "/root",
        "entity_id": get_field(docs["fork"], "process.entity_id"),
        "real_user": {"id": "0"},
        "user": {"id": "0"},
        "saved_user": {"id": "0"},
        "real_group": {"id": "0"},
        "group": {"id": "0"},
        "saved_group": {"id": "0"},
    }
    assert get_field(exec_, "user.id") == "0" and get_field(exec_, "doorhunt.audit.auid") == "1000"
    assert get_field(exec_, "doorhunt.audit.key") == ["exec"]
    assert get_field(exec_, "event.outcome") == "success"


def test_fork_describes_the_child() -> None:
    fork = fixture_documents()["fork"]
    assert get_field(fork, "process.pid") == 5000
    assert get_field(fork, "process.parent.pid") == 4242
    assert get_field(fork, "process.executable") == "/usr/bin/bash"


def test_file_events() -> None:
    docs = fixture_documents()
    assert docs["creation"]["file"] == {
        "path": "/var/run/haldrund.pid",
        "name": "haldrund.pid",
        "directory": "/var/run",
        "inode": "99",
        "mode": "0644",
        "uid": "0",
        "gid": "0",
    }
    assert get_field(docs["deletion"], "file.path") == "/dev/shm/kdmtmpflush"
    assert get_field(docs["deletion"], "process.name") == "kdmtmpflush"  # " (deleted)" removed
    assert get_field(docs["timestomp"], "file.path") == "/dev/shm/kdmtmpflush"
    assert get_field(docs["rename"], "file.path") == "/tmp/b"
    assert get_field(docs["rename"], "file.Ext.original.path") == "/tmp/a"


def test_network_and_socket_events() -> None:
    docs = fixture_documents()
    assert get_field(docs["connection_attempted"], "destination.ip") == "203.0.113.7"
    assert get_field(docs["connection_attempted"], "destination.port") == 443
    assert get_field(docs["connection_accepted"], "source.ip") == "198.51.100.9"
    assert get_field(docs["connection_accepted"], "source.port") == 51000
    socket = docs["socket_opened"]
    assert get_field(socket, "doorhunt.socket") == {
        "family": "packet",
        "type": "raw",
        "protocol": 0x0800,  # htons(ETH_P_IP) read back as the EtherType
        "fd": 4,
    }
    attached = docs["filter_attached"]
    assert get_field(attached, "doorhunt.socket.fd") == 4
    assert get_field(attached, "doorhunt.bpf.attach") == "SO_ATTACH_FILTER"


def test_name_change_and_session() -> None:
    docs = fixture_documents()
    assert get_field(docs["name_change"], "process.name") == "hald-addon-acpi"
    assert get_field(docs["session_id_change"], "process.session_leader.pid") == 5001
    assert get_field(docs["end"], "process.exit_code") == 0


def test_enriched_logs_give_names() -> None:
    lines = [enriched(line) for line in (DATA / "audit.log").read_text().splitlines()]
    docs = {str(get_field(d, "event.action")): d for d in documents(lines)}
    assert get_field(docs["exec"], "user.name") == "root"
    assert get_field(docs["exec"], "group.name") == "root"
    # SYSCALL= is what the call was, whatever the number says
    assert "exec" not in {str(get_field(d, "event.action")) for d in documents(
        [line.replace("SYSCALL=execve", "SYSCALL=read") for line in lines]
    )}  # fmt: skip


def syscall(
    number: int,
    *,
    success: str = "yes",
    exit: int = 0,
    args: tuple[str, ...] = (),
    arch: str = "c000003e",
    extra: str = "",
) -> str:
    a = " ".join(f"a{i}={value}" for i, value in enumerate((*args, "0", "0", "0", "0")[:4]))
    return (
        f"type=SYSCALL msg=audit(1700000000.000:9): arch={arch} syscall={number} success={success} "
        f"exit={exit} {a} items=0 ppid=1 pid=77 auid=4294967295 uid=0 gid=0 euid=0 suid=0 "
        f'fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="x" exe="/x" {extra}'
    )


@pytest.mark.parametrize(
    ("line", "action"),
    [
        (syscall(56, args=("10000",), exit=78), None),  # clone(CLONE_THREAD): a thread
        (syscall(435, exit=78), None),  # clone3: flags not visible
        (syscall(59, success="no", exit=-2), None),  # failed exec: PATH search
        (syscall(41, args=("2", "1", "6"), exit=3), None),  # an ordinary TCP socket
        (syscall(41, args=("2", "3", "1"), exit=3), "socket_opened"),  # AF_INET SOCK_RAW
        (syscall(41, args=("2", "80003", "1"), exit=-1, success="no"), "socket_opened"),
        (syscall(54, args=("3", "1", "32")), "filter_attached"),  # SO_ATTACH_BPF = 50
        (syscall(54, args=("3", "1", "7")), None),  # SO_SNDBUF
        (syscall(54, args=("3", "6", "1a")), None),  # not SOL_SOCKET
        (syscall(157, args=("16",)), None),  # PR_GET_NAME
        (syscall(280, args=("ffffff9c", "7ffd", "0")), "modification"),  # utimensat(NULL): touch
        (syscall(280, args=("ffffff9c", "7ffd", "7ffe")), "timestomp"),
        (syscall(101, args=("10", "1f4")), "ptrace"),
        (syscall(319, exit=3), "memfd_create"),
        (syscall(313, exit=0), "load_module"),
        (syscall(105), "uid_change"),
        (syscall(106), "gid_change"),
        (syscall(231, args=("101",)), "end"),
        (syscall(221, arch="c00000b7"), "exec"),  # execve on arm64
        (syscall(167, arch="c00000b7", args=("f",)), "name_change"),  # prctl on arm64
        (syscall(59, arch="40000003"), None),  # i386: no table, and no SYSCALL= name
        (syscall(42, exit=-115, extra=""), None),  # connect without SOCKADDR
        (syscall(0), None),  # read
    ],
)
def test_which_calls_become_documents(line: str, action: str | None) -> None:
    docs = documents(
        [line, line.split(" ", 1)[0].replace("SYSCALL", "EOE") + " msg=audit(1700000000.000:9): "]
    )
    if action is None:
        assert docs == []
        return
    (document,) = docs
    assert get_field(document, "event.action") == action
    assert_valid(document, require_core=True)
    assert get_field(document, "doorhunt.audit.auid") is None  # 4294967295 means unset


def test_ptrace_and_exit_details() -> None:
    (ptrace,) = documents([syscall(101, args=("10", "1f4"))])
    assert get_field(ptrace, "doorhunt.ptrace.request") == "PTRACE_ATTACH"
    assert get_field(ptrace, "doorhunt.ptrace.target_pid") == 500
    (end,) = documents([syscall(231, args=("101",))])
    assert get_field(end, "process.exit_code") == 1  # 0x101 & 0xff


def test_connect_in_progress_and_refused() -> None:
    address = "020001BBCB0071070000000000000000"
    for exit_code, success, outcome in (
        (-115, "no", "unknown"),
        (-111, "no", "failure"),
        (0, "yes", "success"),
    ):
        (document,) = documents([
            syscall(42, exit=exit_code, success=success),
            f"type=SOCKADDR msg=audit(1700000000.000:9): saddr={address}",
        ])  # fmt: skip
        assert get_field(document, "event.outcome") == outcome
        assert get_field(document, "event.action") == "connection_attempted"


def test_long_arguments_come_in_pieces() -> None:
    piece = "A" * 10
    records = [
        AuditRecord("SYSCALL", 1, 1.0, {}, ""),
        AuditRecord(
            "EXECVE", 1, 1.0, {"argc": "3", "a0": "sh", "a1_len": "20", "a1[0]": piece}, ""
        ),
        AuditRecord("EXECVE", 1, 1.0, {"a1[1]": piece, "a2": "end"}, ""),
    ]
    assert execve_arguments(AuditEvent(1, 1.0, records)) == ["sh", piece * 2, "end"]
    lost = [records[0], AuditRecord("EXECVE", 1, 1.0, {"argc": "5", "a0": "sh"}, "")]
    assert execve_arguments(AuditEvent(1, 1.0, lost)) == ["sh"]


@pytest.mark.parametrize(
    ("saddr", "family", "ip", "port", "path"),
    [
        ("0200005016000001" + "0" * 16, 2, "22.0.0.1", 80, None),
        (
            "0A0000350000000020010DB8000000000000000000000001" + "00000000",
            10,
            "2001:db8::1",
            53,
            None,
        ),
        ("01002F746D702F736F636B00", 1, None, None, "/tmp/sock"),
        ("0100006162737472616374", 1, None, None, "@abstract"),
        ("1100000800000000", 17, None, None, None),
    ],
)
def test_socket_addresses(
    saddr: str, family: int, ip: str | None, port: int | None, path: str | None
) -> None:
    address = parse_sockaddr(saddr)
    assert address is not None
    assert (address.family, address.ip, address.port, address.path) == (family, ip, port, path)


@given(st.text(max_size=80))
def test_arbitrary_saddr_never_breaks(text: str) -> None:
    parse_sockaddr(text)
    parse_sockaddr(text.encode("utf-8", "surrogatepass").hex(), little_endian=False)


FIELD_NAMES = st.sampled_from(
    ["syscall", "arch", "success", "exit", "a0", "a1", "a2", "pid", "ppid", "uid", "euid",
     "auid", "comm", "exe", "key", "SYSCALL", "UID", "argc", "a0_len", "a0[0]", "saddr",
     "cwd", "name", "nametype", "mode", "proctitle", "inode"]
)  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(["0", "1", "-1", "59", "c000003e", "c00000b7", "yes", "no", "3b", "(null)",
                     "4294967295", "CREATE", "DELETE", "PARENT", "0100755", "02000050160000010000"]),
    st.text(max_size=20),
)  # fmt: skip
RECORD = st.builds(
    lambda kind, fields: AuditRecord(kind, 1, 1700000000.5, fields, ""),
    st.sampled_from(["SYSCALL", "EXECVE", "PATH", "CWD", "SOCKADDR", "PROCTITLE", "KERN_MODULE"]),
    st.dictionaries(FIELD_NAMES, VALUES, max_size=12),
)


@given(
    st.lists(RECORD, min_size=1, max_size=6),
    st.sampled_from([59, 42, 41, 54, 87, 82, 257, 56, 157, 280]),
)
def test_arbitrary_events_give_valid_documents_or_none(
    records: list[AuditRecord], number: int
) -> None:
    head = AuditRecord(
        "SYSCALL",
        1,
        1700000000.5,
        {**records[0].fields, "syscall": str(number), "success": "yes"},
        "",
    )
    event = AuditEvent(1, 1700000000.5, [head, *records[1:]], complete=False)
    document = to_ecs(event, HOST, lineage=Lineage("h"))
    if document is not None:
        assert_valid(document, require_core=True)
