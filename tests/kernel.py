"""Real-kernel test fixtures: private network namespaces with veth pairs, and packet sockets
with classic filters attached (TESTING.md). Everything is created with names unique to this
process and removed in `close()`, even after failures; nothing touches the host's interfaces.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import socket
import struct
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from doorhunt.bpf.program import Program

ETH_P_ALL = 0x0003
SOL_SOCKET = 1
SO_ATTACH_FILTER = 26
SO_DETACH_FILTER = 27
CLONE_NEWNET = 0x40000000

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def setns(fd: int, kind: int) -> None:
    if _libc.setns(fd, kind) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))


def ip(*arguments: str) -> None:
    subprocess.run(["ip", *arguments], check=True, capture_output=True, timeout=30)


@contextmanager
def inside(namespace: str) -> Iterator[None]:
    """Run the block in network namespace `namespace` (this thread only)."""
    original = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
    try:
        setns(target, CLONE_NEWNET)
        yield
    finally:
        setns(original, CLONE_NEWNET)
        os.close(original)
        os.close(target)


class FilterRefused(Exception):
    """The kernel refused the program (setsockopt returned an error)."""


def attach_filter(
    sock: socket.socket, program: Program | Sequence[tuple[int, int, int, int]]
) -> None:
    """setsockopt(SOL_SOCKET, SO_ATTACH_FILTER, struct sock_fprog)."""
    instructions = list(program)
    array = b"".join(struct.pack("=HBBI", *insn) for insn in instructions)
    buffer = ctypes.create_string_buffer(array, max(len(array), 1))
    fprog = struct.pack("HL", len(instructions), ctypes.addressof(buffer))
    try:
        sock.setsockopt(SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    except OSError as error:
        raise FilterRefused(str(error)) from error


@dataclass
class VethLab:
    """One namespace holding a veth pair `a` ↔ `b`, up, with no addresses and IPv6 off, so
    that the only packets on it are the ones a test sends."""

    name: str = field(default_factory=lambda: f"dhns{os.getpid()}")
    a: str = field(default_factory=lambda: f"dha{os.getpid() % 100000}")
    b: str = field(default_factory=lambda: f"dhb{os.getpid() % 100000}")

    def __post_init__(self) -> None:
        self.close()
        ip("netns", "add", self.name)
        try:
            ip("-n", self.name, "link", "add", self.a, "type", "veth", "peer", "name", self.b)
            for sysctl in ("all", "default"):
                subprocess.run(
                    [
                        "ip",
                        "netns",
                        "exec",
                        self.name,
                        "sysctl",
                        "-qw",
                        f"net.ipv6.conf.{sysctl}.disable_ipv6=1",
                    ],
                    check=True,
                    capture_output=True,
                )
            for device in (self.a, self.b, "lo"):
                ip("-n", self.name, "link", "set", device, "up")
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if Path(f"/run/netns/{self.name}").exists():
            subprocess.run(["ip", "netns", "del", self.name], capture_output=True, check=False)

    def packet_socket(
        self, device: str, kind: int = socket.SOCK_RAW, protocol: int = ETH_P_ALL
    ) -> socket.socket:
        with inside(self.name):
            sock = socket.socket(socket.AF_PACKET, kind, socket.htons(protocol))
            sock.bind((device, protocol))
        return sock

    def mac(self, device: str) -> bytes:
        with inside(self.name), socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sock:
            sock.bind((device, 0))
            return bytes(sock.getsockname()[4])

    def ifindex(self, device: str) -> int:
        with inside(self.name):
            return socket.if_nametoindex(device)


class FilterOracle:
    """Sends frames from `a` and reports what a socket on `b` with a filter receives: the
    kernel's verdict on each frame, as the number of bytes delivered (0 = dropped)."""

    def __init__(self, lab: VethLab, *, datagram: bool = False) -> None:
        self.lab = lab
        self.datagram = datagram
        self.sender = lab.packet_socket(lab.a)
        self.witness = lab.packet_socket(lab.b)
        self.witness.settimeout(2.0)
        self.receiver: socket.socket | None = None
        self.b_mac = lab.mac(lab.b)
        self.b_ifindex = lab.ifindex(lab.b)

    def attach(self, program: Program | Sequence[tuple[int, int, int, int]]) -> None:
        """A fresh receiving socket with `program` attached (raises FilterRefused)."""
        if self.receiver is not None:
            self.receiver.close()
        kind = socket.SOCK_DGRAM if self.datagram else socket.SOCK_RAW
        self.receiver = self.lab.packet_socket(self.lab.b, kind)
        self.receiver.setblocking(False)
        attach_filter(self.receiver, program)
        self._drain(self.receiver)
        self._drain(self.witness)

    @staticmethod
    def _drain(sock: socket.socket) -> None:
        blocking = sock.gettimeout()
        sock.setblocking(False)
        try:
            while True:
                sock.recv(65536)
        except BlockingIOError:
            pass
        finally:
            sock.settimeout(blocking)

    def verdict(self, frame: bytes) -> int:
        """Send `frame` (an Ethernet frame, at least 14 bytes) and return the length the
        filtered socket received (0 when the filter dropped it)."""
        assert self.receiver is not None
        self.sender.send(frame)
        while self.witness.recv(65536) != frame:
            pass  # the witness sees every frame on b, ours among them
        ready, _, _ = select.select([self.receiver], [], [], 0)
        if not ready:
            return 0
        data = self.receiver.recv(65536)
        expected = frame[14:] if self.datagram else frame
        assert expected.startswith(data), "the filtered socket received a frame we did not send"
        return len(data)

    def close(self) -> None:
        for sock in (self.sender, self.witness, self.receiver):
            if sock is not None:
                sock.close()


@dataclass
class PairLab:
    """Two namespaces joined by a veth pair with addresses from 198.18.0.0/15 (RFC 2544, for
    test networks): `left` holds LEFT_ADDRESS, `right` holds RIGHT_ADDRESS."""

    left: str = field(default_factory=lambda: f"dhl{os.getpid()}")
    right: str = field(default_factory=lambda: f"dhr{os.getpid()}")
    left_address: str = "198.18.0.1"
    right_address: str = "198.18.0.2"

    def __post_init__(self) -> None:
        self.close()
        left_device, right_device = f"vl{os.getpid() % 100000}", f"vr{os.getpid() % 100000}"
        try:
            for name in (self.left, self.right):
                ip("netns", "add", name)
                ip("-n", name, "link", "set", "lo", "up")
            ip(
                "-n",
                self.left,
                "link",
                "add",
                left_device,
                "type",
                "veth",
                "peer",
                "name",
                right_device,
                "netns",
                self.right,
            )
            ip("-n", self.left, "addr", "add", f"{self.left_address}/30", "dev", left_device)
            ip("-n", self.right, "addr", "add", f"{self.right_address}/30", "dev", right_device)
            ip("-n", self.left, "link", "set", left_device, "up")
            ip("-n", self.right, "link", "set", right_device, "up")
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        for name in (self.left, self.right):
            if Path(f"/run/netns/{name}").exists():
                subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)

    def socket(self, side: str, family: int, kind: int, protocol: int = 0) -> socket.socket:
        with inside(self.left if side == "left" else self.right):
            return socket.socket(family, kind, protocol)


@dataclass
class RoutedLab:
    """A routed test network: a `scanner` namespace, a `router` namespace forwarding between
    them, and `count` target namespaces, each on its own /24 of 198.18.0.0/15 (RFC 2544).

        scanner 198.18.1.2 ── 198.18.1.1 router 198.18.(10+i).1 ── 198.18.(10+i).10 target i

    Each namespace routes 198.18.0.0/15 through the router and nothing else, so no packet has
    a way out of the lab. Names carry this process's id; `close()` removes everything.
    """

    count: int = 2
    tag: str = field(default_factory=lambda: f"{os.getpid() % 100000}")
    scanner_address: str = "198.18.1.2"
    router_address: str = "198.18.1.1"

    def __post_init__(self) -> None:
        self.scanner = f"dhsc{self.tag}"
        self.router = f"dhrt{self.tag}"
        self.targets = [f"dhtg{self.tag}x{index}" for index in range(self.count)]
        self.target_addresses = [f"198.18.{10 + index}.10" for index in range(self.count)]
        self.close()
        try:
            for name in (self.scanner, self.router, *self.targets):
                ip("netns", "add", name)
                ip("-n", name, "link", "set", "lo", "up")
                for setting in ("all", "default"):
                    self.sysctl(name, f"net.ipv6.conf.{setting}.disable_ipv6=1")
            self.sysctl(self.router, "net.ipv4.ip_forward=1")
            self._link(self.scanner, f"dsc{self.tag}", self.scanner_address, f"drs{self.tag}",
                       self.router_address, 30)  # fmt: skip
            for index, name in enumerate(self.targets):
                gateway = f"198.18.{10 + index}.1"
                self._link(name, f"dtg{self.tag}x{index}", self.target_addresses[index],
                           f"drt{self.tag}x{index}", gateway, 24)  # fmt: skip
                ip("-n", name, "route", "add", "198.18.0.0/15", "via", gateway)
            ip("-n", self.scanner, "route", "add", "198.18.0.0/15", "via", self.router_address)
        except Exception:
            self.close()
            raise

    @staticmethod
    def sysctl(namespace: str, setting: str) -> None:
        subprocess.run(
            ["ip", "netns", "exec", namespace, "sysctl", "-qw", setting],
            check=True,
            capture_output=True,
            timeout=30,
        )

    def _link(
        self, inner: str, device: str, address: str, router_device: str, gateway: str, prefix: int
    ) -> None:
        """A veth pair from `inner` to the router, addressed on both ends."""
        ip("-n", inner, "link", "add", device, "type", "veth", "peer", "name", router_device,
           "netns", self.router)  # fmt: skip
        ip("-n", inner, "addr", "add", f"{address}/{prefix}", "dev", device)
        ip("-n", self.router, "addr", "add", f"{gateway}/{prefix}", "dev", router_device)
        ip("-n", inner, "link", "set", device, "up")
        ip("-n", self.router, "link", "set", router_device, "up")

    @property
    def router_scanner_device(self) -> str:
        return f"drs{self.tag}"

    def namespaces(self) -> list[str]:
        return [self.scanner, self.router, *self.targets]

    def close(self) -> None:
        for name in self.namespaces():
            if Path(f"/run/netns/{name}").exists():
                subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
