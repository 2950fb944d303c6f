"""Audit events as ECS documents, with Elastic Defend's field names and `event.action` values.

One function per kind of system call turns an event's records into the fields of one
document; `MAPPERS` lists them by syscall name. The table in docs/ingest.md is the contract.
Defend's Linux actions (BPFDOOR.md §7) are used where Defend has them; doorhunt's own
(`socket_opened`, `filter_attached`, `timestomp`, `name_change`) cover what Defend lacks.
"""

from __future__ import annotations

import ipaddress
import posixpath
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from doorhunt.ecs import entity_id, new_event
from doorhunt.ingest.auditd.coalesce import AuditEvent
from doorhunt.ingest.auditd.records import AuditRecord, decode_text
from doorhunt.ingest.auditd.syscalls import little_endian, syscall_name

EVENT_MODULE: Final = "auditd"
EVENT_DATASET: Final = "auditd.log"

# include/linux/socket.h, include/linux/net.h
_FAMILIES: Final = {1: "unix", 2: "inet", 10: "inet6", 16: "netlink", 17: "packet"}
_SOCKET_TYPES: Final = {1: "stream", 2: "dgram", 3: "raw", 4: "rdm", 5: "seqpacket", 10: "packet"}
_AF_INET: Final = 2
_AF_INET6: Final = 10
_AF_PACKET: Final = 17
_SOCK_RAW: Final = 3
_SOCK_PACKET: Final = 10  # the obsolete AF_INET packet socket (packet(7))
_SOCK_TYPE_MASK: Final = 0xF  # SOCK_NONBLOCK and SOCK_CLOEXEC sit above it
# include/uapi/asm-generic/socket.h (x86_64 and arm64 use these values)
_SOL_SOCKET: Final = 1
_FILTER_OPTIONS: Final = {
    26: "SO_ATTACH_FILTER",
    50: "SO_ATTACH_BPF",
    51: "SO_ATTACH_REUSEPORT_CBPF",
    52: "SO_ATTACH_REUSEPORT_EBPF",
}
_CLONE_THREAD: Final = 0x00010000  # include/uapi/linux/sched.h
_PR_SET_NAME: Final = 15  # include/uapi/linux/prctl.h
# include/uapi/asm-generic/fcntl.h (x86_64 and arm64)
_O_ACCMODE: Final = 0o3
_O_TRUNC: Final = 0o1000
_EINPROGRESS: Final = -115
_UNSET_ID: Final = "4294967295"  # (uid_t)-1: auid and ses before login
# include/uapi/linux/ptrace.h
_PTRACE_REQUESTS: Final = {
    0: "PTRACE_TRACEME",
    1: "PTRACE_PEEKTEXT",
    2: "PTRACE_PEEKDATA",
    4: "PTRACE_POKETEXT",
    5: "PTRACE_POKEDATA",
    13: "PTRACE_SETREGS",
    16: "PTRACE_ATTACH",
    17: "PTRACE_DETACH",
    0x4206: "PTRACE_SEIZE",
}
# Which argument holds the `times` pointer (utime(2), utimes(2), futimesat(2), utimensat(2)).
_TIMES_ARGUMENT: Final = {"utime": 1, "utimes": 1, "futimesat": 2, "utimensat": 2}


@dataclass(frozen=True, slots=True)
class Mapped:
    """What a mapper decided: the event's category, type and action, and its fields."""

    category: str
    type: str
    action: str
    fields: dict[str, object]


class Lineage:
    """Process entity ids for audit-derived events, remembered per pid.

    Audit records carry no process start time, so these ids are made from the host id, the pid
    and the time doorhunt first saw the process (its fork when the log has it), under the boot
    id `auditd`: stable within one ingest, never equal to the live sensor's ids.
    """

    def __init__(self, host_id: str, *, capacity: int = 65_536) -> None:
        self.host_id = host_id or "unknown"
        self.capacity = capacity
        self._ids: OrderedDict[int, str] = OrderedDict()

    def entity(self, pid: int, timestamp: float) -> str:
        found = self._ids.get(pid)
        if found is None:
            return self.started(pid, timestamp)
        self._ids.move_to_end(pid)
        return found

    def started(self, pid: int, timestamp: float) -> str:
        created = entity_id(self.host_id, pid, max(0, int(timestamp * 1000)), boot_id="auditd")
        self._ids[pid] = created
        self._ids.move_to_end(pid)
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
        return created

    def ended(self, pid: int) -> None:
        self._ids.pop(pid, None)


class _Context:
    """An event's records, read once."""

    def __init__(self, event: AuditEvent, syscall: AuditRecord, name: str) -> None:
        self.event = event
        self.syscall = syscall
        self.name = name
        self.fields = syscall.fields
        self.arch = _hex(self.fields.get("arch"))
        self.success = self.fields.get("success") == "yes"
        self.exit = _int(self.fields.get("exit"))
        cwd = event.first("CWD")
        self.cwd = cwd.fields.get("cwd") if cwd else None
        self.paths = event.all("PATH")

    def argument(self, index: int) -> int | None:
        return _hex(self.fields.get(f"a{index}"))


Mapper = Callable[[_Context], Mapped | None]


def to_ecs(
    event: AuditEvent, host: Mapping[str, object], *, lineage: Lineage | None = None
) -> dict[str, object] | None:
    """The ECS document for a syscall event, or None when doorhunt does not map it (other
    syscalls, failed calls where Defend would report nothing, threads, user messages)."""
    syscall = event.first("SYSCALL")
    if syscall is None:
        return None
    name = syscall_of(syscall)
    mapper = MAPPERS.get(name or "")
    if name is None or mapper is None:
        return None
    context = _Context(event, syscall, name)
    mapped = mapper(context)
    if mapped is None:
        return None
    fields = _common_fields(context, mapped)
    fields.update(mapped.fields)
    host_value = dict(host)
    if not host_value.get("name") and event.node:
        host_value["name"] = event.node
    if lineage is not None:
        _entity_ids(context, mapped, fields, lineage)
    fields = {name: _unicode(value) for name, value in fields.items() if value is not None}
    host_value = {name: _unicode(value) for name, value in host_value.items()}
    return new_event(
        kind="event",
        category=mapped.category,
        type=mapped.type,
        action=mapped.action,
        timestamp=datetime.fromtimestamp(event.timestamp, UTC),
        host=host_value,
        **fields,
    )


def syscall_of(record: AuditRecord) -> str | None:
    """The syscall's name: ENRICHED `SYSCALL=`, else the architecture's table."""
    named = record.fields.get("SYSCALL")
    if named and named.isidentifier():
        return named
    number = _int(record.fields.get("syscall"))
    if number is None:
        return None
    return syscall_name(_hex(record.fields.get("arch")), number)


# -- the fields every document gets ---------------------------------------------------------


def _common_fields(context: _Context, mapped: Mapped) -> dict[str, object]:
    fields: dict[str, object] = {
        "event.module": EVENT_MODULE,
        "event.dataset": EVENT_DATASET,
        "event.outcome": "success" if context.success else "failure",
        "doorhunt.audit.serial": _long(context.event.serial),
        "doorhunt.audit.syscall": context.name,
        "doorhunt.audit.records": sorted({record.type for record in context.event.records}),
    }
    if not context.event.complete:
        fields["doorhunt.audit.complete"] = False
    if _long(context.exit) is not None:
        fields["doorhunt.audit.exit"] = context.exit
    key = context.fields.get("key")
    if key and key != "(null)":
        # Several rule keys are joined with \x01 (auditctl(8), AUDIT_KEY_SEPARATOR).
        fields["doorhunt.audit.key"] = key.split("\x01")
    for source, target in (("auid", "doorhunt.audit.auid"), ("ses", "doorhunt.audit.session")):
        value = context.fields.get(source)
        if value and value.isdigit() and value != _UNSET_ID:
            fields[target] = value
    fields.update(_user_fields(context.fields))
    if mapped.category == "process" and mapped.action == "fork":
        return fields  # the child's fields are set by the fork mapper
    fields.update(_actor_fields(context, prefix="process"))
    return fields


def _actor_fields(context: _Context, *, prefix: str) -> dict[str, object]:
    """The calling process: pid, parent pid, executable, name, args (from PROCTITLE), cwd."""
    fields: dict[str, object] = {}
    pid = _id(_int(context.fields.get("pid")))
    if pid is not None:
        fields[f"{prefix}.pid"] = pid
    ppid = _id(_int(context.fields.get("ppid")))
    if ppid is not None:
        fields[f"{prefix}.parent.pid"] = ppid
    executable = _present(context.fields.get("exe"))
    comm = _present(context.fields.get("comm"))
    if executable:
        fields[f"{prefix}.executable"] = executable
        fields[f"{prefix}.name"] = posixpath.basename(executable.removesuffix(" (deleted)"))
    elif comm:
        fields[f"{prefix}.name"] = comm
    args = _proctitle(context.event)
    if args:
        # PROCTITLE is the process's current argv, cut at 128 bytes by the kernel
        # (kernel/auditsc.c, MAX_PROCTITLE_AUDIT_LEN): what `ps` would show.
        fields[f"{prefix}.args"] = args
        fields[f"{prefix}.args_count"] = len(args)
        fields[f"{prefix}.command_line"] = " ".join(args)
    if context.cwd:
        fields[f"{prefix}.working_directory"] = context.cwd
    return fields


# (audit field, ENRICHED name, ECS objects that get `.id` and `.name`): real ids are `user` and
# `group`, effective ones `user.effective` and the process's `user`/`group`, as Auditbeat and
# Defend place them.
_IDENTITIES: Final = (
    ("uid", "UID", ("user", "process.real_user")),
    ("euid", "EUID", ("user.effective", "process.user")),
    ("suid", "SUID", ("process.saved_user",)),
    ("gid", "GID", ("group", "process.real_group")),
    ("egid", "EGID", ("user.effective.group", "process.group")),
    ("sgid", "SGID", ("process.saved_group",)),
)


def _user_fields(fields: Mapping[str, str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for source, enriched, objects in _IDENTITIES:
        value = fields.get(source)
        if not value or not value.isdigit() or value == _UNSET_ID:
            continue
        name = fields.get(enriched)
        if name in ("?", "unset") or (name and name.startswith("unknown(")):
            name = None
        for target in objects:
            out[f"{target}.id"] = value
            if name:
                out[f"{target}.name"] = name
    return out


def _entity_ids(
    context: _Context, mapped: Mapped, fields: dict[str, object], lineage: Lineage
) -> None:
    timestamp = context.event.timestamp
    pid = fields.get("process.pid")
    ppid = fields.get("process.parent.pid")
    if mapped.action == "fork" and isinstance(pid, int):
        fields["process.entity_id"] = lineage.started(pid, timestamp)
    elif isinstance(pid, int):
        fields["process.entity_id"] = lineage.entity(pid, timestamp)
    if isinstance(ppid, int):
        fields["process.parent.entity_id"] = lineage.entity(ppid, timestamp)
    if mapped.action == "end" and isinstance(pid, int):
        lineage.ended(pid)


# -- process ----------------------------------------------------------------------------------


def _exec(context: _Context) -> Mapped | None:
    if not context.success:
        return None  # failed execs are a shell searching PATH; Defend reports none either
    fields: dict[str, object] = {}
    args = execve_arguments(context.event)
    if args is not None:
        fields["process.args"] = args
        fields["process.args_count"] = len(args)
        fields["process.command_line"] = " ".join(args)
    return Mapped("process", "start", "exec", fields)


def _fork(context: _Context) -> Mapped | None:
    flags = context.argument(0) or 0
    if context.name == "clone" and flags & _CLONE_THREAD:
        return None  # a thread, not a process
    child = _id(context.exit)
    if not context.success or not child:
        return None
    fields = _actor_fields(context, prefix="process.parent")
    fields.pop("process.parent.parent.pid", None)
    fields["process.pid"] = child
    parent_pid = _id(_int(context.fields.get("pid")))
    if parent_pid is not None:
        fields["process.parent.pid"] = parent_pid
    # The child starts as a copy of its parent: same executable, name, argv, directory.
    for name in ("executable", "name", "args", "args_count", "command_line", "working_directory"):
        if f"process.parent.{name}" in fields:
            fields[f"process.{name}"] = fields[f"process.parent.{name}"]
    return Mapped("process", "start", "fork", fields)


def _end(context: _Context) -> Mapped | None:
    status = context.argument(0)
    fields: dict[str, object] = {}
    if status is not None:
        fields["process.exit_code"] = status & 0xFF  # what wait(2) reports (WEXITSTATUS)
    return Mapped("process", "end", "end", fields)


def _on_success(category: str, event_type: str, action: str) -> Mapper:
    def mapper(context: _Context) -> Mapped | None:
        return Mapped(category, event_type, action, {}) if context.success else None

    return mapper


def _setsid(context: _Context) -> Mapped | None:
    if not context.success or _id(context.exit) is None:
        return None
    return Mapped(
        "process", "change", "session_id_change", {"process.session_leader.pid": context.exit}
    )


def _ptrace(context: _Context) -> Mapped | None:
    if not context.success:
        return None
    fields: dict[str, object] = {}
    request = context.argument(0)
    if request is not None:
        fields["doorhunt.ptrace.request"] = _PTRACE_REQUESTS.get(request, str(request))
    target = _id(context.argument(1))
    if target is not None and request != 0:  # PTRACE_TRACEME has no target
        fields["doorhunt.ptrace.target_pid"] = target
    return Mapped("process", "change", "ptrace", fields)


def _load_module(context: _Context) -> Mapped | None:
    if not context.success:
        return None
    fields: dict[str, object] = {}
    module = context.event.first("KERN_MODULE")
    if module is not None and _present(module.fields.get("name")):
        fields["doorhunt.module.name"] = module.fields["name"]
    fields.update(_file_fields(context, _first_path(context, ("NORMAL",))))
    return Mapped("driver", "start", "load_module", fields)


def _name_change(context: _Context) -> Mapped | None:
    if not context.success or context.argument(0) != _PR_SET_NAME:
        return None
    fields: dict[str, object] = {}
    comm = _present(context.fields.get("comm"))
    if comm is not None:
        # The SYSCALL record is written at syscall exit, after the rename: comm is the new name.
        fields["process.name"] = comm
    return Mapped("process", "change", "name_change", fields)


# -- file -----------------------------------------------------------------------------------


def _file_change(context: _Context) -> Mapped | None:
    """Creation or deletion by the PATH records' nametype; for open, truncation."""
    if not context.success:
        return None
    created = _first_path(context, ("CREATE",))
    if created is not None:
        return Mapped("file", "creation", "creation", _file_fields(context, created))
    deleted = _first_path(context, ("DELETE",))
    if deleted is not None:
        return Mapped("file", "deletion", "deletion", _file_fields(context, deleted))
    if context.name in ("open", "openat"):
        flags = context.argument(1 if context.name == "open" else 2) or 0
        if flags & _O_TRUNC and flags & _O_ACCMODE:
            target = _first_path(context, ("NORMAL",))
            return Mapped("file", "change", "modification", _file_fields(context, target))
    return None


def _rename(context: _Context) -> Mapped | None:
    if not context.success:
        return None
    created = _first_path(context, ("CREATE",))
    deleted = _first_path(context, ("DELETE",))
    fields = _file_fields(context, created)
    if deleted is not None:
        original = _resolve(context, deleted)
        if original:
            fields["file.Ext.original.path"] = original
    return Mapped("file", "change", "rename", fields)


def _modification(context: _Context) -> Mapped | None:
    if not context.success:
        return None
    return Mapped(
        "file", "change", "modification", _file_fields(context, _first_path(context, ("NORMAL",)))
    )


def _timestomp(context: _Context) -> Mapped | None:
    if not context.success:
        return None
    fields = _file_fields(context, _first_path(context, ("NORMAL",)))
    times = context.argument(_TIMES_ARGUMENT[context.name])
    if not times:
        # A NULL times pointer sets both times to now (utimensat(2)): a touch, not a forgery.
        return Mapped("file", "change", "modification", fields)
    return Mapped("file", "change", "timestomp", fields)


def _first_path(context: _Context, nametypes: tuple[str, ...]) -> AuditRecord | None:
    for record in context.paths:
        if record.fields.get("nametype") in nametypes:
            return record
    return None


def _resolve(context: _Context, record: AuditRecord) -> str | None:
    """The PATH record's name as an absolute path where the records allow it."""
    name = _present(record.fields.get("name"))
    if name is None:
        return None
    if name.startswith("/"):
        return posixpath.normpath(name)
    # A relative name: relative to the parent directory record when that one is absolute
    # (the *at() calls), else to the working directory.
    for parent in context.paths:
        parent_name = parent.fields.get("name") or ""
        if parent.fields.get("nametype") == "PARENT" and parent_name.startswith("/"):
            return posixpath.normpath(posixpath.join(parent_name, posixpath.basename(name)))
    if context.cwd and context.cwd.startswith("/"):
        return posixpath.normpath(posixpath.join(context.cwd, name))
    return name


def _file_fields(context: _Context, record: AuditRecord | None) -> dict[str, object]:
    if record is None:
        return {}
    fields: dict[str, object] = {}
    path = _resolve(context, record)
    if path:
        fields["file.path"] = path
        directory, name = posixpath.split(path)
        if name:
            fields["file.name"] = name
        if directory:
            fields["file.directory"] = directory
    inode = record.fields.get("inode")
    if inode and inode.isdigit():
        fields["file.inode"] = inode
    mode = record.fields.get("mode")
    if mode and all(c in "01234567" for c in mode):
        fields["file.mode"] = f"{int(mode, 8) & 0o7777:04o}"
    for source, target in (("ouid", "file.uid"), ("ogid", "file.gid")):
        value = record.fields.get(source)
        if value and value.isdigit():
            fields[target] = value
    return fields


# -- network ----------------------------------------------------------------------------------


def _connect(context: _Context) -> Mapped | None:
    address = _sockaddr(context)
    if address is None or address.family not in (_AF_INET, _AF_INET6):
        return None
    fields: dict[str, object] = {
        "network.type": "ipv4" if address.family == _AF_INET else "ipv6",
        "network.direction": "egress",
    }
    if address.ip is not None:
        fields["destination.ip"] = address.ip
        fields["destination.address"] = address.ip
    if address.port is not None:
        fields["destination.port"] = address.port
    mapped = Mapped("network", "start", "connection_attempted", fields)
    if context.exit == _EINPROGRESS:
        # A non-blocking connect that is under way: the attempt itself succeeded.
        fields["event.outcome"] = "unknown"
    return mapped


def _accept(context: _Context) -> Mapped | None:
    if not context.success:
        return None
    address = _sockaddr(context)
    if address is None or address.family not in (_AF_INET, _AF_INET6):
        return None
    fields: dict[str, object] = {
        "network.type": "ipv4" if address.family == _AF_INET else "ipv6",
        "network.direction": "ingress",
    }
    if address.ip is not None:
        fields["source.ip"] = address.ip
        fields["source.address"] = address.ip
    if address.port is not None:
        fields["source.port"] = address.port
    return Mapped("network", "start", "connection_accepted", fields)


def _socket(context: _Context) -> Mapped | None:
    family = context.argument(0)
    kind = context.argument(1)
    protocol = context.argument(2)
    if family is None or kind is None:
        return None
    socket_type = kind & _SOCK_TYPE_MASK
    if family != _AF_PACKET and socket_type not in (_SOCK_RAW, _SOCK_PACKET):
        return None  # only packet and raw sockets matter here (BPFDOOR.md §1, step 5)
    fields: dict[str, object] = {
        "doorhunt.socket.family": _FAMILIES.get(family, str(family)),
        "doorhunt.socket.type": _SOCKET_TYPES.get(socket_type, str(socket_type)),
    }
    if protocol is not None:
        if family == _AF_PACKET and little_endian(context.arch):
            # The protocol of a packet socket is htons(ETH_P_*): swap it back to the EtherType.
            protocol = int.from_bytes((protocol & 0xFFFF).to_bytes(2, "little"), "big")
        fields["doorhunt.socket.protocol"] = protocol & 0xFFFFFFFF  # an int in the kernel
    if context.success and _id(context.exit) is not None:
        fields["doorhunt.socket.fd"] = context.exit
    return Mapped("network", "start", "socket_opened", fields)


def _setsockopt(context: _Context) -> Mapped | None:
    level = context.argument(1)
    option = context.argument(2)
    if level != _SOL_SOCKET or option not in _FILTER_OPTIONS:
        return None
    fields: dict[str, object] = {"doorhunt.bpf.attach": _FILTER_OPTIONS[option]}
    descriptor = _id(context.argument(0))
    if descriptor is not None:
        fields["doorhunt.socket.fd"] = descriptor
    return Mapped("network", "change", "filter_attached", fields)


@dataclass(frozen=True, slots=True)
class SocketAddress:
    family: int
    ip: str | None = None
    port: int | None = None
    path: str | None = None


def _sockaddr(context: _Context) -> SocketAddress | None:
    record = context.event.first("SOCKADDR")
    if record is None:
        return None
    return parse_sockaddr(record.fields.get("saddr", ""), little_endian=little_endian(context.arch))


def parse_sockaddr(text: str, *, little_endian: bool = True) -> SocketAddress | None:
    """A SOCKADDR record's `saddr` (hex of the struct sockaddr the process passed)."""
    try:
        data = bytes.fromhex(text)
    except ValueError:
        return None
    if len(data) < 2:
        return None
    family = int.from_bytes(data[:2], "little" if little_endian else "big")
    if family == _AF_INET and len(data) >= 8:
        return SocketAddress(
            family, str(ipaddress.IPv4Address(data[4:8])), int.from_bytes(data[2:4], "big")
        )
    if family == _AF_INET6 and len(data) >= 24:
        address = ipaddress.IPv6Address(data[8:24])
        ip = str(address.ipv4_mapped) if address.ipv4_mapped else str(address)
        return SocketAddress(family, ip, int.from_bytes(data[2:4], "big"))
    if family == 1:
        raw = data[2:]
        # An abstract socket's name starts with NUL; `ss` shows it with a leading @.
        path = (
            "@" + decode_text(raw[1:].rstrip(b"\x00"))
            if raw[:1] == b"\x00"
            else decode_text(raw.split(b"\x00", 1)[0])
        )
        return SocketAddress(family, path=path)
    return SocketAddress(family)


# -- EXECVE and PROCTITLE ---------------------------------------------------------------------


def execve_arguments(event: AuditEvent) -> list[str] | None:
    """argv from the EXECVE records: `argc`, then `aN` (or `aN_len` and `aN[M]` pieces for
    long arguments, kernel/auditsc.c audit_log_execve_info), possibly over several records."""
    records = event.all("EXECVE")
    if not records:
        return None
    values: dict[str, str] = {}
    argc: int | None = None
    for record in records:
        for key, value in record.fields.items():
            if key == "argc":
                argc = _int(value)
            elif key not in values:
                values[key] = value
    count = argc if argc is not None and 0 <= argc <= 1_000_000 else _count_arguments(values)
    args = []
    for index in range(count):
        whole = values.get(f"a{index}")
        if whole is not None:
            args.append(whole)
            continue
        pieces = []
        piece = 0
        while f"a{index}[{piece}]" in values:
            pieces.append(values[f"a{index}[{piece}]"])
            piece += 1
        if not pieces and f"a{index}_len" not in values:
            break  # the records of the rest were lost
        args.append("".join(pieces))
    return args


def _count_arguments(values: Mapping[str, str]) -> int:
    count = 0
    while f"a{count}" in values or f"a{count}[0]" in values:
        count += 1
    return count


def _proctitle(event: AuditEvent) -> list[str]:
    record = event.first("PROCTITLE")
    if record is None:
        return []
    title = record.fields.get("proctitle", "")
    if title in ("", "(null)"):
        return []
    return [part for part in title.split("\x00") if part] or [title]


def _unicode(value: object) -> object:
    """Text that UTF-8 can carry: each undecodable byte (a surrogate from decode_text) becomes
    the four characters `\\xNN`, as the terminal view and the store write it. ECS documents
    must be valid Unicode (ecs/validate.py); the records keep the exact bytes."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "".join(
                f"\\x{ord(char) - 0xDC00:02x}" if 0xDC80 <= ord(char) <= 0xDCFF
                else (f"\\u{ord(char):04x}" if 0xD800 <= ord(char) <= 0xDFFF else char)
                for char in value
            )  # fmt: skip
        return value
    if isinstance(value, list):
        return [_unicode(item) for item in value]
    return value


# -- small readers ------------------------------------------------------------------------------


def _id(value: int | None) -> int | None:
    """A pid or descriptor: a non-negative int (pid_max and RLIMIT_NOFILE stay below 2**31)."""
    return value if value is not None and 0 <= value < 2**31 else None


def _long(value: int | None) -> int | None:
    """A value Elasticsearch's `long` can hold."""
    return value if value is not None and -(2**63) <= value < 2**63 else None


def _present(value: str | None) -> str | None:
    return None if value in (None, "", "(null)", "?") else value


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value, 10)
    except ValueError:
        return None


def _hex(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value, 16)
    except ValueError:
        return None


MAPPERS: Final[dict[str, Mapper]] = {
    "execve": _exec,
    "execveat": _exec,
    "fork": _fork,
    "vfork": _fork,
    "clone": _fork,
    # clone3 keeps its flags in memory the record does not show: a thread (glibc 2.34+ makes
    # every pthread with clone3) cannot be told from a process, so it is left out.
    "exit": _end,
    "exit_group": _end,
    "setsid": _setsid,
    "setuid": _on_success("process", "change", "uid_change"),
    "setreuid": _on_success("process", "change", "uid_change"),
    "setresuid": _on_success("process", "change", "uid_change"),
    "setfsuid": _on_success("process", "change", "uid_change"),
    "setgid": _on_success("process", "change", "gid_change"),
    "setregid": _on_success("process", "change", "gid_change"),
    "setresgid": _on_success("process", "change", "gid_change"),
    "setfsgid": _on_success("process", "change", "gid_change"),
    "memfd_create": _on_success("process", "change", "memfd_create"),
    "ptrace": _ptrace,
    "init_module": _load_module,
    "finit_module": _load_module,
    "prctl": _name_change,
    "open": _file_change,
    "openat": _file_change,
    "openat2": _file_change,
    "creat": _file_change,
    "mkdir": _file_change,
    "mkdirat": _file_change,
    "mknod": _file_change,
    "mknodat": _file_change,
    "link": _file_change,
    "linkat": _file_change,
    "symlink": _file_change,
    "symlinkat": _file_change,
    "unlink": _file_change,
    "unlinkat": _file_change,
    "rmdir": _file_change,
    "rename": _rename,
    "renameat": _rename,
    "renameat2": _rename,
    "truncate": _modification,
    "ftruncate": _modification,
    "chmod": _modification,
    "fchmod": _modification,
    "fchmodat": _modification,
    "fchmodat2": _modification,
    "chown": _modification,
    "fchown": _modification,
    "lchown": _modification,
    "fchownat": _modification,
    "utime": _timestomp,
    "utimes": _timestomp,
    "futimesat": _timestomp,
    "utimensat": _timestomp,
    "connect": _connect,
    "accept": _accept,
    "accept4": _accept,
    "socket": _socket,
    "setsockopt": _setsockopt,
}

__all__ = [
    "EVENT_DATASET",
    "EVENT_MODULE",
    "MAPPERS",
    "Lineage",
    "Mapped",
    "SocketAddress",
    "execve_arguments",
    "parse_sockaddr",
    "syscall_of",
    "to_ecs",
]
