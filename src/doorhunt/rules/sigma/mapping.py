"""doorhunt's Linux→ECS mapping for Sigma rules, as data: which Sigma log sources become which
EQL event queries, and which Sigma field becomes which ECS field.

A Sigma field is mapped only when an ECS field has the same meaning *and* an event source
doorhunt reads writes it: doorhunt's sensor, its audit-log ingest (docs/ingest.md), or Elastic
Defend's Linux data (DESIGN.md, principle 3). Anything else is reported as not convertible,
with the reason below, rather than turned into a query that can never match. docs/sigma.md
prints these tables. Nothing here imports pySigma.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

# Sigma field → ECS field, shared by the Sysmon-for-Linux style categories.
_PROCESS_ACTOR: Final = {
    "Image": "process.executable",
    "User": "process.user.name",
    "ProcessId": "process.pid",
}


@dataclass(frozen=True, slots=True)
class LogSource:
    """One Sigma log source doorhunt converts: the event query it becomes and its fields."""

    key: str
    category: str | None
    service: str | None
    eql_category: str
    event_filter: str
    fields: Mapping[str, str]
    meaning: str
    # Sigma fields that look mappable but are not, with why (shown to the user).
    unmapped: Mapping[str, str] = field(default_factory=dict)


PROCESS_CREATION: Final = LogSource(
    key="process_creation",
    category="process_creation",
    service=None,
    eql_category="process",
    # A fork carries its parent's image and arguments until the exec; matching forks too would
    # raise every process-creation rule twice. "exec" is Elastic Defend's action as well.
    event_filter='event.type == "start" and event.action == "exec"',
    fields={
        **_PROCESS_ACTOR,
        "CommandLine": "process.command_line",
        "ParentImage": "process.parent.executable",
        "ParentCommandLine": "process.parent.command_line",
        "ParentProcessId": "process.parent.pid",
        "CurrentDirectory": "process.working_directory",
    },
    meaning="a program executed (execve)",
    unmapped={
        "LogonId": "Sysmon's logon session id has no ECS field (audit sessions are "
        "doorhunt.audit.session, only on audit events)",
        "ParentUser": "no doorhunt source records the parent's user",
        "OriginalFileName": "a Windows PE header field",
        "Hashes": "doorhunt does not hash executables at exec time",
    },
)


def _file_source(category: str, event_filter: str, meaning: str, **extra_fields: str) -> LogSource:
    """A Sysmon-style file category: the acting process and the file's path."""
    return LogSource(
        key=category,
        category=category,
        service=None,
        eql_category="file",
        event_filter=event_filter,
        fields={**_PROCESS_ACTOR, "TargetFilename": "file.path", **extra_fields},
        meaning=meaning,
    )


# Sysmon's FileCreate (which Sigma's file_event follows) fires when a file is created or
# overwritten; a rename puts a new file in place under the target name.
FILE_EVENT: Final = _file_source(
    "file_event",
    'event.action in ("creation", "modification", "rename")',
    "a file created, overwritten or renamed into place",
)
FILE_DELETE: Final = _file_source("file_delete", 'event.type == "deletion"', "a file deleted")
FILE_RENAME: Final = _file_source(
    "file_rename",
    'event.action == "rename"',
    "a file renamed",
    SourceFilename="file.Ext.original.path",
)
# Sigma's file_change is Sysmon event 2, "a process changed a file creation time": on Linux
# that is doorhunt's `timestomp` (utimes/utimensat with explicit times).
FILE_CHANGE: Final = _file_source(
    "file_change", 'event.action == "timestomp"', "a file's times set back (timestomp)"
)

NETWORK_CONNECTION: Final = LogSource(
    key="network_connection",
    category="network_connection",
    service=None,
    eql_category="network",
    event_filter='event.action in ("connection_attempted", "connection_accepted")',
    fields={
        **_PROCESS_ACTOR,
        "DestinationIp": "destination.ip",
        "DestinationPort": "destination.port",
        "SourceIp": "source.ip",
        "SourcePort": "source.port",
        "Initiated": "network.direction",
        "Protocol": "network.transport",
    },
    meaning="an outgoing connection attempted or an incoming one accepted",
    unmapped={
        "DestinationHostname": "doorhunt's network events carry addresses, not host names "
        "(destination.domain is never written)",
        "SourceHostname": "doorhunt's network events carry addresses, not host names "
        "(source.domain is never written)",
        "DestinationPortName": "no doorhunt source names ports",
    },
)

AUDITD: Final = LogSource(
    key="auditd",
    category=None,
    service="auditd",
    eql_category="any",
    event_filter='event.module == "auditd"',
    fields={
        "type": "doorhunt.audit.records",
        "SYSCALL": "doorhunt.audit.syscall",
        "syscall": "doorhunt.audit.syscall",
        "key": "doorhunt.audit.key",
        "exe": "process.executable",
        "cwd": "process.working_directory",
        "pid": "process.pid",
        "ppid": "process.parent.pid",
        "uid": "user.id",
        "euid": "user.effective.id",
        "gid": "group.id",
        "egid": "user.effective.group.id",
        "auid": "doorhunt.audit.auid",
        "ses": "doorhunt.audit.session",
        "exit": "doorhunt.audit.exit",
        "success": "event.outcome",
        # Context dependent (see AUDIT_ARGUMENT and the pipeline): EXECVE's aN and PATH's name.
        "name": "file.path",
        "nametype": "event.type",
    },
    meaning="an audit event (a syscall and its records) from doorhunt's auditd ingest",
    unmapped={
        "comm": "doorhunt's audit ingest names the process after `exe`, not the task name "
        "`comm` (insmod runs as kmod, for one)",
        "unit": "systemd unit names come in SERVICE_START/STOP user-space records, which "
        "doorhunt's audit ingest does not map",
        "proctitle": "PROCTITLE is decoded into process.args; write the rule on the "
        "arguments (aN of EXECVE)",
        "fsuid": "not recorded by doorhunt's audit ingest",
        "tty": "not recorded by doorhunt's audit ingest",
        "arch": "the architecture is used to name syscalls, not kept",
        "items": "the record count is not kept",
        "inode": "PATH inodes are kept only as file.inode of file events",
        "mode": "PATH modes are kept only as file.mode of file events",
    },
)

LOG_SOURCES: Final[tuple[LogSource, ...]] = (
    PROCESS_CREATION,
    FILE_EVENT,
    FILE_DELETE,
    FILE_RENAME,
    FILE_CHANGE,
    NETWORK_CONNECTION,
    AUDITD,
)

# Why the other Linux log sources are not converted (by category or service).
UNSUPPORTED_LOG_SOURCES: Final[Mapping[str, str]] = {
    "file_access": "doorhunt records no file reads",
    "image_load": "doorhunt records no library loads",
    "dns_query": "doorhunt records no DNS queries",
    "process_termination": "Sigma's process_termination has no Linux fields doorhunt writes",
    "raw_access_thread": "a Windows log source",
}
RAW_LOG_REASON: Final = (
    "raw log lines (syslog, sshd, sudo, cron, ...) are not stored by doorhunt, so keyword and "
    "message rules on them have nothing to match"
)

# -- auditd ---------------------------------------------------------------------------------

# EXECVE's a0, a1, ...: argv, kept whole as process.args (docs/ingest.md).
AUDIT_ARGUMENT: Final = re.compile(r"a([0-9]+)")
AUDIT_ARGUMENTS_FIELD: Final = "process.args"
# Unbound keywords of an auditd rule search the raw record; the text of an EXECVE record is its
# arguments, which doorhunt keeps joined in process.command_line.
AUDIT_KEYWORD_FIELD: Final = "process.command_line"

# Record types found inside one syscall event, which doorhunt keeps in doorhunt.audit.records.
# User-space messages (USER_*, SERVICE_*, ADD_USER, TTY, ...) are not mapped by the ingest.
AUDIT_KERNEL_RECORDS: Final = frozenset(
    {
        "SYSCALL", "EXECVE", "PATH", "CWD", "PROCTITLE", "SOCKADDR", "KERN_MODULE",
        "BPRM_FCAPS", "CAPSET", "FD_PAIR", "MMAP", "OBJ_PID", "SOCKETCALL", "IPC",
        "IPC_SET_PERM", "MQ_OPEN", "MQ_SENDRECV", "MQ_NOTIFY", "MQ_GETSETATTR", "NETFILTER_CFG",
        "BPF", "TIME_ADJNTPVAL", "TIME_INJOFFSET", "OPENAT2", "URINGOP",
    }
)  # fmt: skip
AUDIT_NAMETYPES: Final[Mapping[str, str]] = {"CREATE": "creation", "DELETE": "deletion"}
AUDIT_SUCCESS: Final[Mapping[str, str]] = {"yes": "success", "no": "failure"}

# ECS fields that only some of the sources doorhunt reads write: a rule on them converts, and
# the report says where it will not match.
COVERAGE_NOTES: Final[Mapping[str, str]] = {
    "process.parent.command_line": "process.parent.command_line is written by Elastic Defend, "
    "not by doorhunt's sensor or audit ingest",
    "network.transport": "network.transport is written by Elastic Defend, not by doorhunt's "
    "sensor or audit ingest",
    "file.Ext.original.path": "file.Ext.original.path is set on rename events only",
    "file.path/auditd": "an audit PATH name is kept as file.path only on file creation, "
    "deletion, change, rename and timestomp events: reads of a watched file are not ingested",
}


def log_source_for(
    product: str | None, category: str | None, service: str | None
) -> LogSource | None:
    """The mapped log source for a Sigma `logsource`, or None."""
    if (product or "").lower() != "linux":
        return None
    for source in LOG_SOURCES:
        if source.category is not None and category == source.category:
            return source
        if source.service is not None and service == source.service and category is None:
            return source
    return None


def unsupported_reason(product: str | None, category: str | None, service: str | None) -> str:
    """Why a log source has no mapping, in one line."""
    described = ", ".join(
        f"{name}: {value}"
        for name, value in (("product", product), ("category", category), ("service", service))
        if value
    )
    if (product or "").lower() != "linux":
        return f"log source ({described}) is not Linux; doorhunt maps product: linux only"
    if category is not None and category in UNSUPPORTED_LOG_SOURCES:
        return f"log source ({described}): {UNSUPPORTED_LOG_SOURCES[category]}"
    if category is None:
        return f"log source ({described}): {RAW_LOG_REASON}"
    return f"log source ({described}) has no mapping in doorhunt"


def target_fields() -> frozenset[str]:
    """Every ECS field a Sigma field may become."""
    targets = {target for source in LOG_SOURCES for target in source.fields.values()}
    return frozenset({*targets, AUDIT_ARGUMENTS_FIELD, AUDIT_KEYWORD_FIELD})


__all__ = [
    "AUDITD",
    "AUDIT_ARGUMENT",
    "AUDIT_ARGUMENTS_FIELD",
    "AUDIT_KERNEL_RECORDS",
    "AUDIT_KEYWORD_FIELD",
    "AUDIT_NAMETYPES",
    "AUDIT_SUCCESS",
    "COVERAGE_NOTES",
    "FILE_CHANGE",
    "FILE_DELETE",
    "FILE_EVENT",
    "FILE_RENAME",
    "LOG_SOURCES",
    "NETWORK_CONNECTION",
    "PROCESS_CREATION",
    "RAW_LOG_REASON",
    "UNSUPPORTED_LOG_SOURCES",
    "LogSource",
    "log_source_for",
    "target_fields",
    "unsupported_reason",
]
