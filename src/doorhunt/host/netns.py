"""Network namespaces: finding every one on the host, and running code inside one.

A packet socket is visible to sock_diag and /proc/net only from inside its own namespace
(BPFDOOR.md §4), so the sweep enumerates the distinct /proc/*/ns/net inodes and /run/netns/*
mounts and enters each with setns(2) from a helper thread: setns changes only the calling
thread, so the sweep's own thread never moves.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from doorhunt.errors import DoorhuntError

CLONE_NEWNET = 0x40000000
T = TypeVar("T")

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


class NamespaceError(DoorhuntError):
    """A namespace could not be entered."""


@dataclass(frozen=True, slots=True)
class NetworkNamespace:
    inode: int
    path: str  # something setns() can open: /proc/PID/ns/net or /run/netns/NAME
    name: str | None  # the /run/netns name, when it has one
    pid: int | None  # a process inside it, for /proc/PID/net/*


def setns(fd: int, kind: int = CLONE_NEWNET) -> None:
    if _libc.setns(fd, kind) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def own_namespace() -> int:
    return os.stat("/proc/thread-self/ns/net").st_ino


def namespaces(
    holders: Iterable[tuple[int, int]], run_netns: str = "/run/netns"
) -> list[NetworkNamespace]:
    """Distinct namespaces from (pid, netns inode) pairs of the processes, plus named ones."""
    found: dict[int, NetworkNamespace] = {}
    for pid, inode in holders:
        if inode not in found:
            found[inode] = NetworkNamespace(inode, f"/proc/{pid}/ns/net", None, pid)
    try:
        names = sorted(os.listdir(run_netns))
    except OSError:
        names = []
    for name in names:
        path = f"{run_netns}/{name}"
        try:
            inode = os.stat(path).st_ino
        except OSError:
            continue
        known = found.get(inode)
        found[inode] = NetworkNamespace(
            inode, known.path if known else path, name, known.pid if known else None
        )
    return sorted(found.values(), key=lambda ns: (ns.pid is None, ns.pid or 0, ns.inode))


def run_inside(namespace: NetworkNamespace, work: Callable[[], T], timeout: float = 30.0) -> T:
    """`work()` run by a thread inside `namespace`; its exception, if any, is raised here."""
    if namespace.inode == own_namespace():
        return work()
    outcome: list[T] = []
    failure: list[BaseException] = []

    def inside() -> None:
        try:
            descriptor = os.open(namespace.path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                setns(descriptor)
            finally:
                os.close(descriptor)
            outcome.append(work())
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=inside, name=f"netns-{namespace.inode}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise NamespaceError(f"namespace {namespace.inode}: no answer in {timeout:g} s")
    if failure:
        error = failure[0]
        if isinstance(error, OSError) and error.errno in (errno.EPERM, errno.EACCES):
            raise NamespaceError(
                f"namespace {namespace.inode}: not allowed to enter (needs CAP_SYS_ADMIN)"
            ) from None
        raise error
    return outcome[0]


__all__ = [
    "NamespaceError",
    "NetworkNamespace",
    "namespaces",
    "own_namespace",
    "run_inside",
    "setns",
]
