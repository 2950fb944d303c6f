"""Reading the filter on another process's socket, and the eBPF programs loaded on the host.

`pidfd_open` + `pidfd_getfd` (Linux 5.6+) give this process a duplicate of the target's socket
descriptor; `getsockopt(SO_GET_FILTER)` on it returns the classic program attached to *any*
socket, AF_INET raw sockets included, which sock_diag never reports (BPFDOOR.md §4).
sk_get_filter() (net/core/filter.c) counts in instructions, not bytes: asked with a length of
0 it returns the instruction count, and it fails with EACCES when the filter was attached as
eBPF (no original program) — which is itself worth knowing. Python's socket.getsockopt would
pass a byte count and let the kernel write eight times past its buffer, so this goes through
libc directly with a buffer of the right size.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import struct
from dataclasses import dataclass
from enum import StrEnum

SYS_PIDFD_OPEN = 434  # the same number on every architecture (asm-generic/unistd.h)
SYS_PIDFD_GETFD = 438
SYS_BPF = {"x86_64": 321, "aarch64": 280, "i686": 357, "armv7l": 386}
SOL_SOCKET = 1
SO_GET_FILTER = 26  # = SO_ATTACH_FILTER
MAX_INSTRUCTIONS = 4096

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class FilterState(StrEnum):
    NONE = "none"  # no filter on the socket
    CLASSIC = "classic"  # a classic program, in `program`
    EBPF = "ebpf"  # an eBPF program attached with SO_ATTACH_BPF: not readable from the socket
    UNREADABLE = "unreadable"  # could not be read; `reason` says why


@dataclass(frozen=True, slots=True)
class FilterRead:
    state: FilterState
    program: bytes | None = None  # the sock_filter array, host byte order
    reason: str | None = None


def _errno_name(code: int) -> str:
    return errno.errorcode.get(code, str(code))


def syscall(number: int, *arguments: int) -> int:
    result = _libc.syscall(ctypes.c_long(number), *(ctypes.c_long(a) for a in arguments))
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return int(result)


def duplicate_descriptor(pid: int, fd: int) -> int:
    """A local duplicate of `fd` in process `pid` (needs PTRACE_MODE_ATTACH: root)."""
    pidfd = syscall(SYS_PIDFD_OPEN, pid, 0)
    try:
        return syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
    finally:
        os.close(pidfd)


def get_filter(descriptor: int) -> FilterRead:
    """The classic filter on our own socket `descriptor`."""
    length = ctypes.c_uint(0)
    dummy = ctypes.create_string_buffer(8)
    if _libc.getsockopt(descriptor, SOL_SOCKET, SO_GET_FILTER, dummy, ctypes.byref(length)) != 0:
        code = ctypes.get_errno()
        if code == errno.EACCES:
            return FilterRead(FilterState.EBPF)
        return FilterRead(FilterState.UNREADABLE, reason=f"SO_GET_FILTER: {_errno_name(code)}")
    count = length.value
    if count == 0:
        return FilterRead(FilterState.NONE)
    if count > MAX_INSTRUCTIONS:
        return FilterRead(FilterState.UNREADABLE, reason=f"{count} instructions reported")
    buffer = ctypes.create_string_buffer(count * 8)
    length = ctypes.c_uint(count)  # in instructions (sk_get_filter)
    if _libc.getsockopt(descriptor, SOL_SOCKET, SO_GET_FILTER, buffer, ctypes.byref(length)) != 0:
        code = ctypes.get_errno()
        if code == errno.EACCES:
            return FilterRead(FilterState.EBPF)
        return FilterRead(FilterState.UNREADABLE, reason=f"SO_GET_FILTER: {_errno_name(code)}")
    return FilterRead(FilterState.CLASSIC, program=buffer.raw[: length.value * 8])


def read_remote_filter(pid: int, fd: int) -> FilterRead:
    """The filter on socket `fd` of process `pid`."""
    try:
        local = duplicate_descriptor(pid, fd)
    except OSError as error:
        code = error.errno or 0
        if code == errno.ENOSYS:
            reason = "pidfd_getfd needs Linux 5.6 or newer"
        elif code in (errno.EPERM, errno.EACCES):
            reason = "pidfd_getfd not permitted (needs root)"
        elif code in (errno.ESRCH, errno.EBADF):
            reason = "the process or descriptor is gone"
        else:
            reason = f"pidfd_getfd: {_errno_name(code)}"
        return FilterRead(FilterState.UNREADABLE, reason=reason)
    try:
        return get_filter(local)
    finally:
        os.close(local)


# --- eBPF programs --------------------------------------------------------------------------

BPF_PROG_GET_NEXT_ID = 11
BPF_PROG_GET_FD_BY_ID = 13
BPF_OBJ_GET_INFO_BY_FD = 15
BPF_PROG_TYPE_SOCKET_FILTER = 1
_PROG_INFO_SIZE = (
    88  # through `name` and `ifindex` of struct bpf_prog_info (include/uapi/linux/bpf.h)
)


@dataclass(frozen=True, slots=True)
class EbpfProgram:
    id: int
    type: int
    tag: str
    name: str
    uid: int
    load_time_ns: int  # since boot

    @property
    def socket_filter(self) -> bool:
        return self.type == BPF_PROG_TYPE_SOCKET_FILTER


def _bpf(command: int, attribute: ctypes.Array[ctypes.c_char], machine: str) -> int:
    number = SYS_BPF.get(machine)
    if number is None:
        raise OSError(errno.ENOSYS, "bpf(2) number unknown for this architecture")
    return syscall(number, command, ctypes.addressof(attribute), len(attribute))


def loaded_programs(machine: str, limit: int = 65536) -> list[EbpfProgram]:
    """Every eBPF program loaded on the host (needs CAP_SYS_ADMIN or CAP_BPF)."""
    programs: list[EbpfProgram] = []
    current = 0
    for _ in range(limit):
        attribute = ctypes.create_string_buffer(struct.pack("=III", current, 0, 0), 16)
        try:
            _bpf(BPF_PROG_GET_NEXT_ID, attribute, machine)
        except OSError as error:
            if error.errno == errno.ENOENT:
                break
            raise
        current = struct.unpack_from("=I", attribute.raw, 4)[0]
        request = ctypes.create_string_buffer(struct.pack("=III", current, 0, 0), 16)
        try:
            descriptor = _bpf(BPF_PROG_GET_FD_BY_ID, request, machine)
        except OSError:
            continue  # unloaded meanwhile
        try:
            info = ctypes.create_string_buffer(_PROG_INFO_SIZE)
            query = ctypes.create_string_buffer(
                struct.pack("=IIQ", descriptor, _PROG_INFO_SIZE, ctypes.addressof(info)), 16
            )
            _bpf(BPF_OBJ_GET_INFO_BY_FD, query, machine)
        finally:
            os.close(descriptor)
        kind, identity = struct.unpack_from("=II", info.raw, 0)
        tag = info.raw[8:16].hex()
        load_time = struct.unpack_from("=Q", info.raw, 40)[0]
        uid = struct.unpack_from("=I", info.raw, 48)[0]
        name = info.raw[64:80].split(b"\0", 1)[0].decode("ascii", "replace")
        programs.append(EbpfProgram(identity, kind, tag, name, uid, load_time))
    return programs


__all__ = [
    "EbpfProgram",
    "FilterRead",
    "FilterState",
    "duplicate_descriptor",
    "get_filter",
    "loaded_programs",
    "read_remote_filter",
    "syscall",
]
