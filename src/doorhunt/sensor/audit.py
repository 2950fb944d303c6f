"""The kernel audit subsystem over netlink, in Python: the sensor's rules (added, listed and
removed by key) and the record stream.

Coexistence with auditd: when an audit daemon is registered, the sensor never takes its place;
it reads the multicast group AUDIT_NLGRP_READLOG (needs CAP_AUDIT_READ). Only when no daemon
is registered does it register itself, so records are not printed to the kernel log, and it
gives the place back on exit. Its rules carry the key `doorhunt` and only those are ever
deleted; rules left by a sensor that was killed are removed at the next start.

Layouts from include/uapi/linux/audit.h (struct audit_status, struct audit_rule_data).
"""

from __future__ import annotations

import contextlib
import errno
import os
import platform
import socket
import struct
from dataclasses import dataclass

from doorhunt.errors import DoorhuntError

NETLINK_AUDIT = 9
AUDIT_NLGRP_READLOG = 1
AUDIT_GET, AUDIT_SET = 1000, 1001
AUDIT_ADD_RULE, AUDIT_DEL_RULE, AUDIT_LIST_RULES = 1011, 1012, 1013
AUDIT_FIRST_USER_MSG = 1100
NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4
NLMSG_ERROR, NLMSG_DONE = 2, 3
AUDIT_STATUS_ENABLED, AUDIT_STATUS_PID, AUDIT_STATUS_BACKLOG_LIMIT = 0x1, 0x4, 0x10
BACKLOG_LIMIT = 8192
AUDIT_FILTER_EXIT, AUDIT_ALWAYS = 0x04, 2
AUDIT_ARCH_FIELD, AUDIT_FILTERKEY = 11, 210
AUDIT_ARG0 = 200
AUDIT_SUCCESS = 104
AUDIT_EQUAL, AUDIT_NOT_EQUAL, AUDIT_BIT_TEST = 0x40000000, 0x30000000, 0x48000000
KEY = "doorhunt"
SO_RCVBUFFORCE = 33

_HEADER = struct.Struct("=IHHII")
_STATUS = struct.Struct("=IIIIIIIIIII")

ARCHITECTURES = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
# (syscall, number per architecture, conditions as (argument index, operator, value)).
# Sources: arch/x86/entry/syscalls/syscall_64.tbl, include/uapi/asm-generic/unistd.h.
SYSCALLS = {
    "socket": {"x86_64": 41, "aarch64": 198},
    "setsockopt": {"x86_64": 54, "aarch64": 208},
    "utimensat": {"x86_64": 280, "aarch64": 88},
    "utimes": {"x86_64": 235},
    "futimesat": {"x86_64": 261},
    "utime": {"x86_64": 132},
    "memfd_create": {"x86_64": 319, "aarch64": 279},
    "connect": {"x86_64": 42, "aarch64": 203},
    "accept": {"x86_64": 43, "aarch64": 202},
    "accept4": {"x86_64": 288, "aarch64": 242},
}
AF_PACKET, AF_INET, AF_INET6, SOCK_RAW, SOL_SOCKET = 17, 2, 10, 3, 1
SO_ATTACH_FILTER, SO_ATTACH_BPF = 26, 50


class AuditError(DoorhuntError):
    """The audit subsystem refused a request, or is missing."""


@dataclass(frozen=True, slots=True)
class Rule:
    """An exit-filter rule: these syscalls, when all conditions hold."""

    syscalls: tuple[str, ...]
    conditions: tuple[tuple[int, int, int], ...] = ()  # (argument, operator, value)
    success: bool = False  # only calls that succeeded

    def encode(self, machine: str) -> bytes | None:
        """struct audit_rule_data, or None when no syscall exists on this architecture."""
        arch = ARCHITECTURES.get(machine)
        numbers = [SYSCALLS[name][machine] for name in self.syscalls if machine in SYSCALLS[name]]
        if arch is None or not numbers:
            return None
        mask = [0] * 64
        for number in numbers:
            mask[number // 32] |= 1 << (number % 32)
        fields = [(AUDIT_ARCH_FIELD, AUDIT_EQUAL, arch)]
        fields += [
            (AUDIT_ARG0 + argument, operator, value)
            for argument, operator, value in self.conditions
        ]
        if self.success:
            fields.append((AUDIT_SUCCESS, AUDIT_EQUAL, 1))
        key = KEY.encode()
        fields.append((AUDIT_FILTERKEY, AUDIT_EQUAL, len(key)))
        padded = fields + [(0, 0, 0)] * (64 - len(fields))
        return (
            struct.pack(
                "=III64I64I64I64II",
                AUDIT_FILTER_EXIT,
                AUDIT_ALWAYS,
                len(fields),
                *mask,
                *(f[0] for f in padded),
                *(f[2] for f in padded),
                *(f[1] for f in padded),
                len(key),
            )
            + key
        )


def _equal(argument: int, value: int) -> tuple[int, int, int]:
    return (argument, AUDIT_EQUAL, value)


# What the sensor asks the kernel to report (the syscalls of issue #4 and BPFDOOR.md §1).
RULES: tuple[Rule, ...] = (
    Rule(("socket",), (_equal(0, AF_PACKET),)),
    # SOCK_RAW may carry SOCK_CLOEXEC/SOCK_NONBLOCK: test the low bits (a1 & 3 == 3).
    Rule(("socket",), (_equal(0, AF_INET), (1, AUDIT_BIT_TEST, SOCK_RAW))),
    Rule(("socket",), (_equal(0, AF_INET6), (1, AUDIT_BIT_TEST, SOCK_RAW))),
    Rule(("setsockopt",), (_equal(1, SOL_SOCKET), _equal(2, SO_ATTACH_FILTER))),
    Rule(("setsockopt",), (_equal(1, SOL_SOCKET), _equal(2, SO_ATTACH_BPF))),
    # Setting file times only when the caller gives them: a NULL `times` is a touch to now.
    Rule(("utimensat", "futimesat"), ((2, AUDIT_NOT_EQUAL, 0),), success=True),
    Rule(("utimes", "utime"), ((1, AUDIT_NOT_EQUAL, 0),), success=True),
    # prctl(PR_SET_NAME) is left to the proc connector, whose PROC_EVENT_COMM also sees
    # writes to /proc/PID/comm; a rule here would report each name change twice.
    Rule(("memfd_create",)),
    # Only IP peers: addrlen 16 (sockaddr_in) or 28 (sockaddr_in6); AF_UNIX connects, which
    # busy hosts make constantly, stay out. Accepts only when they succeed.
    Rule(("connect",), (_equal(2, 16),)),
    Rule(("connect",), (_equal(2, 28),)),
    Rule(("accept", "accept4"), success=True),
)


@dataclass(frozen=True, slots=True)
class AuditStatus:
    enabled: int
    pid: int
    lost: int
    backlog_limit: int


class AuditClient:
    """A request/response channel to the audit subsystem."""

    def __init__(self) -> None:
        try:
            self.socket = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_AUDIT)
        except OSError as error:
            raise AuditError(f"audit netlink unavailable: {error.strerror or error}") from None
        self.sequence = 0

    def request(
        self, kind: int, payload: bytes = b"", *, flags: int = NLM_F_ACK
    ) -> list[tuple[int, bytes]]:
        """Send one message; return the replies (type, payload) up to the ACK or DONE."""
        self.sequence += 1
        message = (
            _HEADER.pack(_HEADER.size + len(payload), kind, NLM_F_REQUEST | flags, self.sequence, 0)
            + payload
        )
        self.socket.send(message)
        replies: list[tuple[int, bytes]] = []
        while True:
            data = self.socket.recv(1 << 20)
            offset = 0
            while offset + _HEADER.size <= len(data):
                length, reply, _, sequence, _ = _HEADER.unpack_from(data, offset)
                if length < _HEADER.size:
                    raise AuditError("audit: malformed reply")
                body = data[offset + _HEADER.size : offset + length]
                offset += (length + 3) & ~3
                if sequence != self.sequence:
                    continue
                if reply == NLMSG_ERROR:
                    code = -struct.unpack_from("=i", body)[0] if len(body) >= 4 else 0
                    if code:
                        raise AuditError(
                            f"audit request {kind}: {os.strerror(code)}",
                        ) from OSError(code, os.strerror(code))
                    if kind not in (AUDIT_GET, AUDIT_LIST_RULES):
                        return replies
                    continue
                if reply == NLMSG_DONE:
                    return replies
                replies.append((reply, body))
                if kind == AUDIT_GET and reply == AUDIT_GET:
                    return replies

    def status(self) -> AuditStatus:
        for kind, body in self.request(AUDIT_GET, flags=0):
            if kind == AUDIT_GET and len(body) >= 32:
                values = struct.unpack_from("=IIIIIIII", body)
                return AuditStatus(values[1], values[3], values[6], values[5])
        raise AuditError("audit: no status reply")

    def set_status(
        self, *, enabled: int | None = None, pid: int | None = None, backlog: int | None = None
    ) -> None:
        mask = (
            (AUDIT_STATUS_ENABLED if enabled is not None else 0)
            | (AUDIT_STATUS_PID if pid is not None else 0)
            | (AUDIT_STATUS_BACKLOG_LIMIT if backlog is not None else 0)
        )
        values = (mask, enabled or 0, 0, pid or 0, 0, backlog or 0, 0, 0, 0, 0, 0)
        self.request(AUDIT_SET, _STATUS.pack(*values))

    def rules(self) -> list[bytes]:
        return [
            body
            for kind, body in self.request(AUDIT_LIST_RULES, flags=NLM_F_ACK)
            if kind == AUDIT_LIST_RULES
        ]

    def add(self, rule: bytes) -> None:
        self.request(AUDIT_ADD_RULE, rule)

    def delete(self, rule: bytes) -> None:
        self.request(AUDIT_DEL_RULE, rule)

    def close(self) -> None:
        self.socket.close()


def rule_key(rule: bytes) -> str | None:
    """The key of a listed rule (its AUDIT_FILTERKEY string), if it has one."""
    header = struct.calcsize("=III64I")
    if len(rule) < header + 3 * 256 + 4:
        return None
    count = struct.unpack_from("=I", rule, 8)[0]
    fields = struct.unpack_from("=64I", rule, header)
    values = struct.unpack_from("=64I", rule, header + 256)
    buffer = rule[header + 3 * 256 + 4 :]
    position = 0
    for index in range(min(count, 64)):
        if fields[index] in (AUDIT_FILTERKEY, 207, 208, 209):  # string fields use the buffer
            text = buffer[position : position + values[index]]
            position += values[index]
            if fields[index] == AUDIT_FILTERKEY:
                return text.decode("utf-8", "replace")
    return None


def remove_rules(client: AuditClient) -> int:
    """Delete every rule keyed `doorhunt` (left by this or an earlier, killed, sensor)."""
    removed = 0
    for rule in client.rules():
        if rule_key(rule) == KEY:
            client.delete(rule)
            removed += 1
    return removed


def install_rules(client: AuditClient, machine: str | None = None) -> int:
    machine = machine or platform.machine()
    remove_rules(client)
    count = 0
    for rule in RULES:
        encoded = rule.encode(machine)
        if encoded is not None:
            client.add(encoded)
            count += 1
    return count


class AuditStream:
    """Audit records as (type, text): unicast when the sensor is the audit daemon, else the
    read-only multicast group beside auditd."""

    def __init__(self) -> None:
        self.client = AuditClient()
        status = self.client.status()
        self.previous_enabled = status.enabled
        self.previous_backlog: int | None = None
        self.lost_at_start = status.lost
        self.registered = False
        if status.pid == 0:
            self.socket = self.client.socket
            _grow_buffer(self.socket)
            self.client.set_status(pid=os.getpid())
            self.registered = True
            if status.backlog_limit < BACKLOG_LIMIT:
                # The kernel's default of 64 makes audited processes wait for the reader
                # under a burst; auditd's own rules raise it the same way (-b 8192).
                self.client.set_status(backlog=BACKLOG_LIMIT)
                self.previous_backlog = status.backlog_limit
        else:
            self.socket = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_AUDIT)
            _grow_buffer(self.socket)
            try:
                self.socket.bind((0, 1 << (AUDIT_NLGRP_READLOG - 1)))
            except OSError as error:
                raise AuditError(
                    f"audit multicast: {error.strerror} (needs CAP_AUDIT_READ)"
                ) from None
        if status.enabled == 0:
            # Processes started before this are not audited (their audit context is made at
            # fork): a limit to report, not to hide.
            self.client.set_status(enabled=1)
        self.lost = 0

    def fileno(self) -> int:
        return self.socket.fileno()

    def read(self) -> list[tuple[int, str]]:
        try:
            data = self.socket.recv(1 << 20)
        except OSError as error:
            if error.errno == errno.ENOBUFS:
                self.lost += 1
                return []
            raise
        record = audit_record(data)
        return [record] if record is not None else []

    def close(self) -> None:
        try:
            if self.registered:
                self.client.set_status(pid=0)
            if self.previous_backlog is not None:
                self.client.set_status(backlog=self.previous_backlog)
            if self.previous_enabled == 0:
                self.client.set_status(enabled=0)
        except (AuditError, OSError):
            pass
        if self.socket is not self.client.socket:
            self.socket.close()
        self.client.close()


def audit_record(datagram: bytes) -> tuple[int, str] | None:
    """The (type, text) of one datagram from the kernel's audit stream, None for control
    messages. The kernel sends one record per datagram, and to the audit daemon (unicast) it
    sets nlmsg_len to the payload's length alone, header excluded, while the multicast copy gets
    the usual length (kernel/audit.c, audit_log_end and kauditd_send_multicast_skb): so the text
    is the whole datagram after the header, whatever nlmsg_len says."""
    if len(datagram) < _HEADER.size:
        return None
    kind = _HEADER.unpack_from(datagram)[1]
    if kind < AUDIT_FIRST_USER_MSG:
        return None
    text = datagram[_HEADER.size :].rstrip(b"\0")
    return kind, text.decode("utf-8", "surrogateescape")


def _grow_buffer(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 * 1024 * 1024)


__all__ = [
    "RULES",
    "AuditClient",
    "AuditError",
    "AuditStream",
    "Rule",
    "audit_record",
    "install_rules",
    "remove_rules",
    "rule_key",
]
