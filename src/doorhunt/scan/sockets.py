"""The scanner's kernel side: one raw sender, one listener, route lookups, TCP connections.

- Sender: `socket(AF_INET, SOCK_RAW, IPPROTO_RAW)`, which implies IP_HDRINCL: the scanner
  writes the whole IPv4 header; the kernel fills in the header checksum and total length, and
  the packet id when it is 0 (raw(7)). It never sets SO_BROADCAST, so the kernel itself
  refuses a broadcast destination (EACCES, net/ipv4/raw.c).
- Listener: `socket(AF_INET, SOCK_RAW, IPPROTO_UDP)` gets a copy of every UDP datagram this
  network namespace receives, on any port (raw(7)); a classic BPF filter, assembled by
  doorhunt.bpf, keeps the ones to the nonce ports. One socket hears every ping-back whatever
  its port, without binding thousands of ports.
- Both need CAP_NET_RAW, checked before anything is opened.
"""

from __future__ import annotations

import ctypes
import errno
import selectors
import socket
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass

from doorhunt.bpf.disasm import assemble
from doorhunt.bpf.program import Program
from doorhunt.errors import DoorhuntError
from doorhunt.scan.route import NoRoute, Route, RouteResolver
from doorhunt.scan.targets import format_address

CAP_NET_RAW = 13  # include/uapi/linux/capability.h
SO_ATTACH_FILTER = 26
SO_SNDBUFFORCE = 32
SO_RCVBUFFORCE = 33
BUFFER_BYTES = 8 << 20
MAX_CONNECTIONS = 256


class ScanPermissionError(DoorhuntError):
    """The scanner may not open raw sockets."""


def effective_capabilities(status: str) -> int:
    """CapEff from the text of /proc/PID/status (proc(5)), 0 when absent."""
    for line in status.splitlines():
        if line.startswith("CapEff:"):
            try:
                return int(line.split(":", 1)[1].strip(), 16)
            except ValueError:
                return 0
    return 0


def has_cap_net_raw(status_path: str = "/proc/thread-self/status") -> bool:
    try:
        with open(status_path, encoding="ascii", errors="replace") as handle:
            return bool(effective_capabilities(handle.read()) >> CAP_NET_RAW & 1)
    except OSError:
        return False


def require_cap_net_raw(status_path: str = "/proc/thread-self/status") -> None:
    if not has_cap_net_raw(status_path):
        raise ScanPermissionError(
            "doorhunt scan sends raw packets and needs CAP_NET_RAW: run it as root "
            "(sudo doorhunt scan ...) or give the interpreter the capability"
        )


def listener_filter(first_port: int, last_port: int) -> Program:
    """UDP datagrams to ports first..last, first fragments only (offset 0: the IP header)."""
    return assemble(
        "(000) ldh      [6]\n"
        "(001) jset     #0x1fff          jt 7\tjf 2\n"
        "(002) ldxb     4*([0]&0xf)\n"
        "(003) ldh      [x + 2]\n"
        f"(004) jge      #{first_port:#x}          jt 5\tjf 7\n"
        f"(005) jgt      #{last_port:#x}          jt 7\tjf 6\n"
        "(006) ret      #512\n"
        "(007) ret      #0\n"
    )


def attach_filter(sock: socket.socket, program: Program) -> None:
    """setsockopt(SOL_SOCKET, SO_ATTACH_FILTER, struct sock_fprog)."""
    array = b"".join(struct.pack("=HBBI", *instruction) for instruction in program)
    buffer = ctypes.create_string_buffer(array, len(array))
    fprog = struct.pack("HL", len(program), ctypes.addressof(buffer))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)


def _grow_buffer(sock: socket.socket, forced: int, plain: int) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, forced, BUFFER_BYTES)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, plain, BUFFER_BYTES)


def _drain(sock: socket.socket) -> None:
    """Drop what arrived before the filter was attached."""
    while True:
        try:
            sock.recv(2048)
        except (BlockingIOError, InterruptedError):
            return


@dataclass(slots=True)
class _Connection:
    sock: socket.socket
    data: bytes
    deadline: int


class KernelNetwork:
    """The Network of doorhunt.scan.engine over real sockets, in the calling thread's netns."""

    def __init__(
        self,
        first_port: int,
        last_port: int,
        *,
        listen_address: int | None = None,
    ) -> None:
        require_cap_net_raw()
        self._selector = selectors.DefaultSelector()
        self._opened: list[socket.socket] = []
        try:
            self.sender = self._open(socket.IPPROTO_RAW)
            _grow_buffer(self.sender, SO_SNDBUFFORCE, socket.SO_SNDBUF)
            self.listener = self._open(socket.IPPROTO_UDP)
            _grow_buffer(self.listener, SO_RCVBUFFORCE, socket.SO_RCVBUF)
            attach_filter(self.listener, listener_filter(first_port, last_port))
            if listen_address is not None:
                # A raw socket bound to an address gets only packets to that address.
                self.listener.bind((format_address(listen_address), 0))
            _drain(self.listener)
            self._selector.register(self.listener, selectors.EVENT_READ)
            self._routes = RouteResolver()
        except OSError as error:
            self.close()
            if error.errno in (errno.EPERM, errno.EACCES):
                raise ScanPermissionError(
                    f"cannot open raw sockets ({error.strerror}): doorhunt scan needs "
                    "CAP_NET_RAW in this network namespace"
                ) from None
            if error.errno == errno.EADDRNOTAVAIL and listen_address is not None:
                raise DoorhuntError(
                    f"--listen {format_address(listen_address)} is not an address of this "
                    "host: ping-backs would go elsewhere"
                ) from None
            raise DoorhuntError(f"cannot open the scanner's sockets: {error}") from None
        except DoorhuntError:
            self.close()
            raise
        self._connections: dict[int, _Connection] = {}
        self._settled: list[tuple[int, int, int]] = []
        self._writable: set[int] = set()

    def _open(self, protocol: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, protocol)
        self._opened.append(sock)
        sock.setblocking(False)
        return sock

    def routes(self, destinations: Sequence[int]) -> list[Route | NoRoute]:
        return self._routes.resolve(destinations)

    def send(self, packet: bytes, destination: int) -> int:
        try:
            self.sender.sendto(packet, (format_address(destination), 0))
        except OSError as error:
            return error.errno or errno.EIO
        return 0

    def receive(self, limit: int) -> list[tuple[bytes, int]]:
        packets: list[tuple[bytes, int]] = []
        recv = self.listener.recv
        while len(packets) < limit:
            try:
                packet = recv(2048)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break  # a queued socket error, reported once: read again next turn
            packets.append((packet, time.monotonic_ns()))
        return packets

    def wait(self, seconds: float) -> None:
        self._writable.clear()
        for key, _ in self._selector.select(seconds):
            if key.data is not None:
                self._writable.add(key.data)

    def connect(self, token: int, destination: int, port: int, data: bytes, deadline: int) -> int:
        if len(self._connections) >= MAX_CONNECTIONS:
            return errno.EAGAIN
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        except OSError as error:
            busy = error.errno in (errno.EMFILE, errno.ENFILE)
            return errno.EAGAIN if busy else error.errno or errno.EIO
        sock.setblocking(False)
        code = sock.connect_ex((format_address(destination), port))
        if code not in (0, errno.EINPROGRESS):
            sock.close()
            return code
        self._connections[token] = _Connection(sock, data, deadline)
        self._selector.register(sock, selectors.EVENT_WRITE, token)
        return 0

    def connections(self, now: int) -> list[tuple[int, int, int]]:
        for token, connection in list(self._connections.items()):
            if token in self._writable:
                code = connection.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if not code:
                    try:
                        connection.sock.send(connection.data)
                    except OSError as error:
                        code = error.errno or errno.EIO
                self._close_connection(token, code, time.monotonic_ns())
            elif now >= connection.deadline:
                self._close_connection(token, errno.ETIMEDOUT, now)
        self._writable.clear()
        settled, self._settled = self._settled, []
        return settled

    def _close_connection(self, token: int, code: int, when: int) -> None:
        connection = self._connections.pop(token)
        self._selector.unregister(connection.sock)
        connection.sock.close()
        self._settled.append((token, code, when))

    def close(self) -> None:
        for token in list(getattr(self, "_connections", {})):
            self._close_connection(token, errno.ECANCELED, time.monotonic_ns())
        for sock in self._opened:
            sock.close()
        if hasattr(self, "_routes"):
            self._routes.close()
        self._selector.close()


__all__ = [
    "KernelNetwork",
    "ScanPermissionError",
    "attach_filter",
    "effective_capabilities",
    "has_cap_net_raw",
    "listener_filter",
    "require_cap_net_raw",
]
