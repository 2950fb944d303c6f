"""An in-memory network for the scan loop: a fake clock, hosts that answer magic packets the
way the emulator does (its own parser, doorhunt.emulate.implant.parse_probe), and a record of
every packet sent, so unit tests need no root and no kernel."""

from __future__ import annotations

import errno
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from doorhunt.bpf.interpreter import Link
from doorhunt.bpf.packets import finish, template
from doorhunt.emulate.implant import parse_probe
from doorhunt.scan.route import NoRoute, Route
from doorhunt.scan.targets import parse_address

SCANNER = parse_address("198.18.1.2")
ETHERNET_HEADER = bytes(12) + b"\x08\x00"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000_000

    def __call__(self) -> int:
        return self.now


def udp_datagram(
    source: int, destination: int, port: int, data: bytes, sport: int = 33333
) -> bytes:
    """An IPv4 UDP datagram as the listener's raw socket would read it."""
    packet = bytearray(template(Link.IP, "ipv4", "udp"))
    packet[12:20] = struct.pack("!II", source, destination)
    packet[20:24] = struct.pack("!HH", sport, port)
    return finish(bytes(packet) + data, Link.IP)


@dataclass
class Implant:
    """Answers magic packets without a password with "1", as BPFDOOR.md §1 step 7 says."""

    magics: tuple[int, ...] = (0x7255, 0x5293)
    latency: int = 2_000_000  # ns
    answer_from: int | None = None  # another address (a relay, a spoofer)
    copies: int = 1  # >1: duplicates
    skip_tries: int = 0  # ignore the first N magic packets (loss)
    seen: int = 0

    def answer(self, packet: bytes) -> tuple[int, int] | None:
        """(reply ip, reply port) if this packet triggers a ping-back."""
        probe = parse_probe(ETHERNET_HEADER + packet, list(self.magics))
        if probe is None or probe.has_password:
            return None
        self.seen += 1
        if self.seen <= self.skip_tries:
            return None
        reply_ip = parse_address(probe.reply_ip)
        return reply_ip, probe.reply_port


@dataclass
class FakeNetwork:
    clock: FakeClock
    implants: dict[int, Implant] = field(default_factory=dict)
    no_route: dict[int, int] = field(default_factory=dict)  # address -> errno
    route_kinds: dict[int, int] = field(default_factory=dict)  # address -> rtm_type
    send_errors: Callable[[bytes, int], int] = field(default=lambda packet, destination: 0)
    sent: list[tuple[int, int, bytes]] = field(default_factory=list)  # (time, to, packet)
    pending: list[tuple[int, bytes]] = field(default_factory=list)  # (deliver at, packet)
    connects: list[tuple[int, int, int, bytes]] = field(default_factory=list)
    settled: list[tuple[int, int, int]] = field(default_factory=list)
    connect_error: int = 0
    waited: float = 0.0

    def routes(self, destinations: Sequence[int]) -> list[Route | NoRoute]:
        answers: list[Route | NoRoute] = []
        for destination in destinations:
            if destination in self.no_route:
                answers.append(NoRoute(destination, self.no_route[destination]))
            else:
                kind = self.route_kinds.get(destination, 1)
                answers.append(Route(destination, SCANNER, kind, 2, None))
        return answers

    def send(self, packet: bytes, destination: int) -> int:
        status = self.send_errors(packet, destination)
        if status:
            return status
        assert struct.unpack("!I", packet[16:20])[0] == destination
        self.sent.append((self.clock.now, destination, packet))
        self._deliver(packet, destination)
        return 0

    def _deliver(self, packet: bytes, destination: int) -> None:
        implant = self.implants.get(destination)
        if implant is None:
            return
        answer = implant.answer(packet)
        if answer is None:
            return
        reply_ip, reply_port = answer
        if reply_ip == 0xFFFFFFFF:
            reply_ip = struct.unpack("!I", packet[12:16])[0]  # the probe's source
        source = destination if implant.answer_from is None else implant.answer_from
        datagram = udp_datagram(source, reply_ip, reply_port, b"1")
        for _ in range(implant.copies):
            self.pending.append((self.clock.now + implant.latency, datagram))

    def inject(self, packet: bytes, delay: int = 0) -> None:
        self.pending.append((self.clock.now + delay, packet))

    def receive(self, limit: int) -> list[tuple[bytes, int]]:
        due = sorted(
            (item for item in self.pending if item[0] <= self.clock.now), key=lambda i: i[0]
        )[:limit]
        for item in due:
            self.pending.remove(item)
        return [(packet, when) for when, packet in due]

    def wait(self, seconds: float) -> None:
        self.waited += seconds
        step = max(10_000, int(seconds * 1_000_000_000))  # a turn of the loop takes time
        upcoming = [when for when, _ in self.pending if when > self.clock.now]
        if upcoming:
            step = min(step, min(upcoming) - self.clock.now)
        self.clock.now += step

    def connect(self, token: int, destination: int, port: int, data: bytes, deadline: int) -> int:
        self.connects.append((token, destination, port, data))
        if self.connect_error:
            self.settled.append((token, self.connect_error, self.clock.now))
            return 0
        self.settled.append((token, 0, self.clock.now))
        # What the implant's filter sees: the data in a TCP segment of the connection.
        segment = bytearray(template(Link.IP, "ipv4", "tcp"))
        segment[12:20] = struct.pack("!II", SCANNER, destination)
        self._deliver(finish(bytes(segment) + data, Link.IP), destination)
        return 0

    def connections(self, now: int) -> list[tuple[int, int, int]]:
        settled, self.settled = self.settled, []
        return settled


def try_again_every(n: int) -> Callable[[bytes, int], int]:
    """A send function that reports a full queue on every n-th call."""
    calls = [0]

    def send(packet: bytes, destination: int) -> int:
        calls[0] += 1
        return errno.ENOBUFS if calls[0] % n == 0 else 0

    return send
