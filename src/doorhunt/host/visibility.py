"""What the sweep cannot see from where it runs: each limit is a gap in the report, never a
silent "clean" (DESIGN.md principle 1)."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass

from doorhunt.host.socketfilters import SYS_PIDFD_GETFD, syscall

CAP_NET_ADMIN = 12  # sock_diag shows packet-socket filters only with it (BPFDOOR.md §4)
CAP_SYS_PTRACE = 19  # pidfd_getfd needs PTRACE_MODE_ATTACH_REALCREDS
CAP_SYS_ADMIN = 21  # setns into other network namespaces


@dataclass(frozen=True, slots=True)
class Gap:
    code: str
    detail: str


def effective_capabilities(proc: str = "/proc") -> int | None:
    try:
        with open(f"{proc}/self/status", "rb") as handle:
            for line in handle.read().split(b"\n"):
                if line.startswith(b"CapEff:"):
                    return int(line.split()[1], 16)
    except (OSError, ValueError, IndexError):
        return None
    return None


def pidfd_getfd_available() -> bool:
    """Probe the syscall with invalid arguments: EBADF means it exists (Linux 5.6+)."""
    try:
        syscall(SYS_PIDFD_GETFD, -1, 0, 0)
    except OSError as error:
        return error.errno != errno.ENOSYS
    return True


def hidepid(proc: str = "/proc") -> str | None:
    """The hidepid= option of the /proc mount, if it hides processes."""
    try:
        with open(f"{proc}/self/mountinfo", "rb") as handle:
            text = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    for line in text.splitlines():
        fields = line.split()
        if len(fields) > 4 and fields[4] == proc:
            for option in line.replace(" ", ",").split(","):
                if option.startswith("hidepid=") and option not in ("hidepid=0", "hidepid=off"):
                    return option
    return None


def inside_pid_namespace(proc: str = "/proc") -> bool:
    """True inside a container's PID namespace: /proc/1/sched names pid 1 by its pid in the
    initial namespace, which is 1 only on the host."""
    try:
        with open(f"{proc}/1/sched", "rb") as handle:
            first = handle.readline().decode("ascii", "replace")
    except OSError:
        return False
    start = first.rfind("(")
    if start < 0:
        return False
    number = first[start + 1 :].split(",", 1)[0].strip()
    return number.isdigit() and number != "1"


def visibility_gaps(proc: str = "/proc") -> list[Gap]:
    gaps = []
    if os.geteuid() != 0:
        gaps.append(
            Gap(
                "not_root",
                "not running as root: other users' processes, environments "
                "and socket descriptors are hidden",
            )
        )
    capabilities = effective_capabilities(proc)
    if capabilities is not None:
        if not capabilities >> CAP_NET_ADMIN & 1:
            gaps.append(
                Gap("no_cap_net_admin", "no CAP_NET_ADMIN: sock_diag hides packet-socket filters")
            )
        if not capabilities >> CAP_SYS_PTRACE & 1:
            gaps.append(
                Gap(
                    "no_cap_sys_ptrace",
                    "no CAP_SYS_PTRACE: filters on raw sockets cannot be read through pidfd_getfd",
                )
            )
        if not capabilities >> CAP_SYS_ADMIN & 1:
            gaps.append(
                Gap(
                    "no_cap_sys_admin",
                    "no CAP_SYS_ADMIN: other network namespaces cannot be entered",
                )
            )
    if not pidfd_getfd_available():
        gaps.append(
            Gap(
                "no_pidfd_getfd",
                "kernel without pidfd_getfd (before 5.6): filters on raw sockets are not read",
            )
        )
    option = hidepid(proc)
    if option:
        gaps.append(Gap("hidepid", f"/proc is mounted with {option}: processes may be hidden"))
    if inside_pid_namespace(proc):
        gaps.append(
            Gap(
                "pid_namespace",
                "running inside a PID namespace (container): host processes are not visible",
            )
        )
    return gaps


__all__ = ["Gap", "effective_capabilities", "hidepid", "inside_pid_namespace", "visibility_gaps"]
