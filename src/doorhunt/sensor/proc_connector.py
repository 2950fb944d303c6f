"""The kernel's process events connector (NETLINK_CONNECTOR, CN_IDX_PROC): fork, exec, exit,
uid/gid/sid changes and comm changes of every process, as they happen.

Layouts from include/uapi/linux/connector.h and include/uapi/linux/cn_proc.h:
  struct cn_msg     { u32 idx, val; u32 seq, ack; u16 len, flags; u8 data[]; }
  struct proc_event { u32 what; u32 cpu; u64 timestamp_ns; union event_data; }
The timestamp is ktime_get_ns(), CLOCK_MONOTONIC. Pids are in the initial PID namespace.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import struct
import time
from dataclasses import dataclass
from enum import IntEnum

NETLINK_CONNECTOR = 11
CN_IDX_PROC = 1
CN_VAL_PROC = 1
PROC_CN_MCAST_LISTEN = 1
PROC_CN_MCAST_IGNORE = 2
NLMSG_DONE = 3
SO_RCVBUFFORCE = 33
RECEIVE_BUFFER = 16 * 1024 * 1024  # absorbs exec storms between reads

_NLMSG = struct.Struct("=IHHII")
_CN_MSG = struct.Struct("=IIIIHH")
_EVENT = struct.Struct("=IIQ")


class ProcEventKind(IntEnum):
    NONE = 0x0
    FORK = 0x1
    EXEC = 0x2
    UID = 0x4
    PTRACE = 0x100
    GID = 0x40
    SID = 0x80
    COMM = 0x200
    COREDUMP = 0x40000000
    EXIT = 0x80000000


@dataclass(frozen=True, slots=True)
class ProcEvent:
    kind: ProcEventKind
    timestamp: float  # seconds since the epoch
    pid: int  # the thread the event is about
    tgid: int  # its process
    parent_pid: int | None = None  # fork: the parent; exit: the parent (Linux 5.x+)
    parent_tgid: int | None = None
    real_id: int | None = None  # uid/gid changes
    effective_id: int | None = None
    exit_code: int | None = None
    comm: str | None = None

    @property
    def is_process(self) -> bool:
        """About a process (thread-group leader), not about one of its threads."""
        return self.pid == self.tgid


def parse_event(data: bytes, monotonic_to_wall: float) -> ProcEvent | None:
    """One struct proc_event; None for kinds the sensor does not use or short data."""
    if len(data) < _EVENT.size:
        return None
    what, _cpu, timestamp_ns = _EVENT.unpack_from(data)
    body = data[_EVENT.size :]
    timestamp = monotonic_to_wall + timestamp_ns / 1e9
    try:
        kind = ProcEventKind(what)
    except ValueError:
        return None
    if kind is ProcEventKind.FORK and len(body) >= 16:
        parent_pid, parent_tgid, child_pid, child_tgid = struct.unpack_from("=IIII", body)
        return ProcEvent(kind, timestamp, child_pid, child_tgid, parent_pid, parent_tgid)
    if kind in (ProcEventKind.EXEC, ProcEventKind.SID) and len(body) >= 8:
        pid, tgid = struct.unpack_from("=II", body)
        return ProcEvent(kind, timestamp, pid, tgid)
    if kind in (ProcEventKind.UID, ProcEventKind.GID) and len(body) >= 16:
        pid, tgid, real, effective = struct.unpack_from("=IIII", body)
        return ProcEvent(kind, timestamp, pid, tgid, real_id=real, effective_id=effective)
    if kind is ProcEventKind.COMM and len(body) >= 24:
        pid, tgid = struct.unpack_from("=II", body)
        name = body[8:24].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        return ProcEvent(kind, timestamp, pid, tgid, comm=name)
    if kind is ProcEventKind.EXIT and len(body) >= 16:
        pid, tgid, code, _signal = struct.unpack_from("=IIII", body)
        parent = struct.unpack_from("=II", body, 16) if len(body) >= 24 else (None, None)
        return ProcEvent(kind, timestamp, pid, tgid, parent[0], parent[1], exit_code=code)
    if kind is ProcEventKind.PTRACE and len(body) >= 16:
        pid, tgid, tracer_pid, tracer_tgid = struct.unpack_from("=IIII", body)
        return ProcEvent(kind, timestamp, pid, tgid, tracer_pid, tracer_tgid)
    return None


class SequenceGaps:
    """Counts the events the kernel sent that never arrived.

    The connector numbers its messages per CPU (cn_msg.seq from a per-CPU counter, the CPU in
    proc_event.cpu: drivers/connector/cn_proc.c, send_msg), so a jump in one CPU's numbers is
    exactly how many were dropped — where ENOBUFS only says that some were.
    """

    def __init__(self) -> None:
        self.lost = 0
        self._next: dict[int, int] = {}

    def see(self, cpu: int, sequence: int) -> None:
        expected = self._next.get(cpu)
        if expected is not None and sequence != expected:
            self.lost += (sequence - expected) & 0xFFFFFFFF
        self._next[cpu] = (sequence + 1) & 0xFFFFFFFF


def parse_datagram(
    datagram: bytes, monotonic_to_wall: float, gaps: SequenceGaps | None = None
) -> list[ProcEvent]:
    events: list[ProcEvent] = []
    offset = 0
    while offset + _NLMSG.size <= len(datagram):
        length = _NLMSG.unpack_from(datagram, offset)[0]
        if length < _NLMSG.size or offset + length > len(datagram):
            return events
        message = datagram[offset + _NLMSG.size : offset + length]
        offset += (length + 3) & ~3
        if len(message) < _CN_MSG.size:
            continue
        idx, val, sequence, _ack, size, _flags = _CN_MSG.unpack_from(message)
        if (idx, val) != (CN_IDX_PROC, CN_VAL_PROC):
            continue
        data = message[_CN_MSG.size : _CN_MSG.size + size]
        if gaps is not None and len(data) >= _EVENT.size:
            what, cpu, _ = _EVENT.unpack_from(data)
            # The acknowledgement of a listener's subscription (PROC_EVENT_NONE, cpu -1, any
            # listener's) is numbered by the listener, not by the per-CPU counter.
            if what != ProcEventKind.NONE:
                gaps.see(cpu, sequence)
        event = parse_event(data, monotonic_to_wall)
        if event is not None:
            events.append(event)
    return events


def monotonic_offset() -> float:
    """Wall time minus CLOCK_MONOTONIC: adding it to a ktime_get_ns() stamp gives wall time."""
    return time.time() - time.clock_gettime(time.CLOCK_MONOTONIC)


class ProcConnector:
    """A subscription to process events; `lost` counts the events the kernel dropped when
    the receive buffer overflowed (from the per-CPU sequence numbers), `overflows` how often
    that happened (ENOBUFS)."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RECEIVE_BUFFER)
        except OSError:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        self.socket.bind((0, CN_IDX_PROC))
        self.gaps = SequenceGaps()
        self.overflows = 0
        self._timeout: float | None = None
        self.offset = monotonic_offset()
        self._control(PROC_CN_MCAST_LISTEN)

    def _control(self, operation: int) -> None:
        payload = struct.pack("=I", operation)
        message = _CN_MSG.pack(CN_IDX_PROC, CN_VAL_PROC, 0, 0, len(payload), 0) + payload
        header = _NLMSG.pack(_NLMSG.size + len(message), NLMSG_DONE, 0, 0, os.getpid())
        self.socket.send(header + message)

    def fileno(self) -> int:
        return self.socket.fileno()

    def read(self, timeout: float | None = None) -> list[ProcEvent]:
        """The events of the next datagram (each holds one event), waiting at most `timeout`
        seconds (forever with None); an empty list when none came. Events are handled as they
        arrive: every microsecond before /proc is read loses short-lived processes."""
        if timeout != self._timeout:
            self.socket.settimeout(timeout)
            self._timeout = timeout
        while True:
            try:
                datagram = self.socket.recv(65536)
            except (BlockingIOError, TimeoutError):
                return []
            except OSError as error:
                if error.errno == errno.ENOBUFS:
                    self.overflows += 1
                    continue
                raise
            return parse_datagram(datagram, self.offset, self.gaps)

    @property
    def lost(self) -> int:
        return self.gaps.lost

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._control(PROC_CN_MCAST_IGNORE)
        self.socket.close()


__all__ = [
    "ProcConnector",
    "ProcEvent",
    "ProcEventKind",
    "SequenceGaps",
    "parse_datagram",
    "parse_event",
]
