"""The scan loop: one thread, one sender, one listener, a token bucket, and a nonce per try.

Each (target, probe kind) gets up to 1 + retries tries. Each try takes a reply port (its
nonce) from the nonce space for `timeout` seconds; when that wait ends unanswered, the next
try goes out (after a random extra wait of up to `jitter` × timeout) with a new nonce, and
after the last one the probe is over. A target's result is final when all its probes are.

Replies are matched by nonce alone, then judged by source address: from the target, it is a
hit; from any other address, it is reported as such and never as a hit. A port keeps a memory
of its previous try, so a ping-back that comes after its wait still counts (as late) for the
address it came from, and never for the try that holds the port now.

In flight at once: at most one try per nonce, so the scan is bounded by
`nonces / timeout` probes per second whatever `rate` asks; memory is bounded by the nonce
space, not by the number of targets (targets are pulled from an iterator).
"""

from __future__ import annotations

import errno
import os
import random
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from doorhunt.i18n import Message
from doorhunt.scan.probes import TCP_CONNECT, ProbeKind, payload
from doorhunt.scan.replies import parse_datagram
from doorhunt.scan.results import MESSAGES, HostResult, Reply, ScanSummary, Status
from doorhunt.scan.route import SENDABLE, NoRoute, Route

NANOSECONDS = 1_000_000_000
ROUTE_BATCH = 64
RECEIVE_BATCH = 256
PROGRESS_INTERVAL_NS = 100_000_000
MAX_OTHER_REPLIES = 16  # per target; the rest are counted only
BACKOFF_SECONDS = 0.001  # when the send queue is full
# epoll waits in whole milliseconds (epoll_wait(2)): a shorter wait for the next token is
# spent polling the listener instead of sleeping a whole millisecond.
MIN_SLEEP_NS = 1_000_000
# Send errors that mean "the queue is full, try again", not "this target cannot be reached".
_TRY_AGAIN = frozenset({errno.EAGAIN, errno.ENOBUFS})


class Network(Protocol):
    """What the scan loop needs from the kernel (a fake one in unit tests)."""

    def routes(self, destinations: Sequence[int]) -> list[Route | NoRoute]: ...

    def send(self, packet: bytes, destination: int) -> int:
        """Send one IPv4 packet (from its header); 0, or the errno."""
        ...

    def receive(self, limit: int) -> list[tuple[bytes, int]]:
        """Up to `limit` packets that reached the listener, with their arrival (ns)."""
        ...

    def wait(self, seconds: float) -> None:
        """Until the listener or a connection is ready, or `seconds` pass."""
        ...

    def connect(self, token: int, destination: int, port: int, data: bytes, deadline: int) -> int:
        """Start a TCP connection that sends `data` once established; 0, or the errno."""
        ...

    def connections(self, now: int) -> list[tuple[int, int, int]]:
        """Connections settled since the last call: (token, errno or 0, when in ns)."""
        ...


@dataclass(frozen=True, slots=True)
class ScanConfig:
    kinds: tuple[ProbeKind, ...]
    ports: Sequence[int]  # the nonce space: reply port of each nonce
    rate: float = 1000.0  # probes per second, every try counted
    retries: int = 1
    timeout: float = 2.0  # seconds to wait for a ping-back after each try
    jitter: float = 0.1  # extra random wait before a retry, as a fraction of timeout
    reply_address: int | None = None  # None: the route's source; ANSWER_TO_SOURCE for NAT
    burst: int | None = None  # token bucket depth; default: 10 ms worth, 1 to 256
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    targets: int
    targets_done: int
    probes_planned: int  # first tries: targets × kinds
    probes_started: int
    probes_sent: int  # every try
    responded: int
    elapsed: float


class TokenBucket:
    """`rate` tokens a second, at most `depth` saved up."""

    __slots__ = ("_last", "_per_ns", "depth", "tokens")

    def __init__(self, rate: float, depth: int, now: int) -> None:
        self._per_ns = rate / NANOSECONDS
        self.depth = float(depth)
        self.tokens = float(depth)
        self._last = now

    def take(self, now: int) -> bool:
        if self.tokens < 1.0:
            self.tokens = min(self.depth, self.tokens + (now - self._last) * self._per_ns)
            self._last = now
            if self.tokens < 1.0:
                return False
        self.tokens -= 1.0
        return True

    def refund(self) -> None:
        self.tokens += 1.0

    def next_token(self, now: int) -> int:
        """When the next token will be there (ns)."""
        missing = 1.0 - (self.tokens + (now - self._last) * self._per_ns)
        return now if missing <= 0 else now + int(missing / self._per_ns) + 1


class _Target:
    __slots__ = (
        "address",
        "answered",
        "error",
        "error_code",
        "finished",
        "live",
        "others",
        "pending",
        "replies",
        "reply_ip",
        "send_errors",
        "sent",
        "source",
        "status",
    )

    def __init__(self, address: int, source: int, reply_ip: int, pending: int) -> None:
        self.address = address
        self.source = source
        self.reply_ip = reply_ip
        self.pending = pending  # kinds not started yet
        self.live = 0  # tries waiting for their ping-back
        self.sent = 0
        # Most targets never answer: nothing per target is allocated until something happens.
        self.answered = 0  # bit i: kind i was answered
        self.replies: tuple[Reply, ...] = ()
        self.others: tuple[Reply, ...] = ()
        self.send_errors: dict[str, int] | None = None
        self.error: Message | None = None
        self.error_code: str | None = None
        self.finished = False
        self.status: Status | None = None


class Scanner:
    """Runs one scan over a network; results are handed out as each target finishes."""

    def __init__(
        self,
        config: ScanConfig,
        network: Network,
        *,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        if not config.kinds:
            raise ValueError("a scan needs at least one probe kind")
        self.config = config
        self.network = network
        self.clock = clock
        self.random = random.Random(config.seed)  # noqa: S311 - retry jitter, not secrecy
        self.kinds = config.kinds
        self.ports = config.ports
        size = len(self.ports)
        self.timeout_ns = int(config.timeout * NANOSECONDS)
        self.jitter_ns = int(config.jitter * config.timeout * NANOSECONDS)
        # Per nonce: the try holding it now, and the one before (for late ping-backs).
        self.owner: list[_Target | None] = [None] * size
        self.kind_of = [0] * size
        self.attempt = [0] * size
        self.sent_at = [0] * size
        self.previous: list[_Target | None] = [None] * size
        self.previous_kind = [0] * size
        self.previous_attempt = [0] * size
        self.previous_sent_at = [0] * size
        self.free: deque[int] = deque(range(size))
        self.slot_of_port: array[int] = array("l", [-1]) * 65536
        for slot, port in enumerate(self.ports):
            self.slot_of_port[port] = slot
        # (ends at, nonce), in sending order; connect tries wait twice as long, so apart.
        self.waits: deque[tuple[int, int]] = deque()
        self.connect_waits: deque[tuple[int, int]] = deque()
        self.retries: deque[tuple[int, _Target, int, int]] = deque()  # (due, target, kind, try)
        self.connecting: dict[int, int] = {}  # nonce -> deadline, for tcp-connect tries
        self.counts = dict.fromkeys(Status, 0)
        self.junk = self.unmatched = self.duplicates = self.late = 0
        self.sent = self.started = 0
        self.on_result: Callable[[HostResult], None] = lambda result: None

    # The loop ----------------------------------------------------------------------------

    def run(
        self,
        targets: Iterable[int],
        total: int,
        on_result: Callable[[HostResult], None],
        on_progress: Callable[[Progress], None] | None = None,
    ) -> ScanSummary:
        """Scan every address of `targets` (`total` of them); `on_result` gets each result."""
        self.on_result = on_result
        config = self.config
        start = self.clock()
        depth = config.burst or max(1, min(256, int(config.rate / 100)))
        bucket = TokenBucket(config.rate, depth, start)
        source: Iterator[int] = iter(targets)
        routes: deque[tuple[int, Route | NoRoute]] = deque()
        current: _Target | None = None
        next_kind = 0
        exhausted = False
        interrupted = False
        last_progress = start
        planned = total * len(self.kinds)
        try:
            while True:
                now = self.clock()
                self._receive()
                if self.connecting:
                    self._settle_connections(now)
                self._end_waits(now)
                blocked = full = False
                # Retries first: their targets are already holding nonces.
                while self.retries and self.retries[0][0] <= now and self.free:
                    if not bucket.take(now):
                        blocked = True
                        break
                    _, target, kind, attempt = self.retries.popleft()
                    if self._send_try(target, kind, attempt, now) == "again":
                        self.retries.appendleft((now, target, kind, attempt))
                        bucket.refund()
                        blocked = full = True
                        break
                # Then new probes, target by target.
                while not blocked and self.free:
                    if current is None or next_kind >= len(self.kinds):
                        current, next_kind = None, 0
                        if not routes and not exhausted:
                            exhausted = self._fetch_routes(source, routes)
                        if not routes:
                            break
                        address, route = routes.popleft()
                        current = self._open_target(address, route)
                        if current is None:
                            continue
                    if not bucket.take(now):
                        blocked = True
                        break
                    outcome = self._send_try(current, next_kind, 1, now)
                    if outcome == "again":
                        bucket.refund()
                        blocked = full = True
                        break
                    if outcome == "skipped":
                        bucket.refund()
                    next_kind += 1
                    self.started += 1
                    if next_kind >= len(self.kinds):
                        self._maybe_finish(current)
                if on_progress is not None and now - last_progress >= PROGRESS_INTERVAL_NS:
                    last_progress = now
                    on_progress(self._progress(total, planned, now - start))
                idle = current is None and not routes and exhausted
                if idle and not (self.waits or self.connect_waits or self.retries):
                    break
                self.network.wait(BACKOFF_SECONDS if full else self._sleep(now, bucket, idle))
        except KeyboardInterrupt:
            interrupted = True
            self._abandon(current)
        elapsed = (self.clock() - start) / NANOSECONDS
        if on_progress is not None:
            on_progress(self._progress(total, planned, int(elapsed * NANOSECONDS)))
        return ScanSummary(
            targets=total,
            scanned=sum(self.counts.values()),
            probes_sent=self.sent,
            responded=self.counts[Status.RESPONDED],
            other_address=self.counts[Status.OTHER_ADDRESS],
            silent=self.counts[Status.NO_RESPONSE],
            errors=self.counts[Status.ERROR],
            junk=self.junk,
            unmatched=self.unmatched,
            duplicates=self.duplicates,
            late=self.late,
            elapsed=elapsed,
            interrupted=interrupted,
            nonces=len(self.ports),
            rate=config.rate,
            nonce_rate=len(self.ports) / config.timeout,
        )

    def _sleep(self, now: int, bucket: TokenBucket, idle: bool) -> float:
        """How long nothing can happen but an arrival at the listener."""
        wake = now + PROGRESS_INTERVAL_NS
        for waits in (self.waits, self.connect_waits):
            if waits:
                wake = min(wake, waits[0][0])
        if self.free and (self.retries or not idle):
            due = self.retries[0][0] if self.retries and idle else now
            wake = min(wake, max(due, bucket.next_token(now)))
        if self.connecting:
            wake = min(wake, now + 10_000_000)  # connections settle in their own time
        if wake - now < MIN_SLEEP_NS:
            return 0.0
        return (wake - now) / NANOSECONDS

    def _progress(self, total: int, planned: int, elapsed_ns: int) -> Progress:
        return Progress(
            targets=total,
            targets_done=sum(self.counts.values()),
            probes_planned=planned,
            probes_started=self.started,
            probes_sent=self.sent,
            responded=self.counts[Status.RESPONDED],
            elapsed=elapsed_ns / NANOSECONDS,
        )

    # Targets -----------------------------------------------------------------------------

    def _fetch_routes(
        self, source: Iterator[int], routes: deque[tuple[int, Route | NoRoute]]
    ) -> bool:
        """Pull the next batch of targets and ask their routes; True when none are left."""
        batch: list[int] = []
        for address in source:
            batch.append(address)
            if len(batch) >= ROUTE_BATCH:
                break
        if batch:
            routes.extend(zip(batch, self.network.routes(batch), strict=True))
        return len(batch) < ROUTE_BATCH

    def _open_target(self, address: int, route: Route | NoRoute) -> _Target | None:
        if isinstance(route, NoRoute):
            self._fail(address, MESSAGES("no_route", reason=route.reason), "no-route")
            return None
        if not route.sendable:
            if route.source is None and route.kind in SENDABLE:
                self._fail(address, MESSAGES("no_source"), "no-source")
            else:
                message = MESSAGES("refused_route", kind=route.kind_name)
                self._fail(address, message, f"refused-{route.kind_name}")
            return None
        source = route.source
        assert source is not None
        reply = self.config.reply_address
        reply_ip = source if reply is None else reply
        return _Target(address, source, reply_ip, len(self.kinds))

    def _fail(self, address: int, error: Message, code: str) -> None:
        target = _Target(address, 0, 0, 0)
        target.error, target.error_code = error, code
        self._finish(target)

    def _maybe_finish(self, target: _Target) -> None:
        if target.pending == 0 and target.live == 0 and not target.finished:
            self._finish(target)

    def _finish(self, target: _Target) -> None:
        if target.replies:
            status = Status.RESPONDED
        elif target.others:
            status = Status.OTHER_ADDRESS
        elif target.sent == 0:
            status = Status.ERROR
            if target.error is None:
                if target.send_errors:
                    reason = next(iter(target.send_errors))
                    target.error = MESSAGES("send_failed", reason=reason)
                    target.error_code = "send-failed"
                else:
                    target.error, target.error_code = MESSAGES("no_probe"), "no-probe"
        else:
            status = Status.NO_RESPONSE
        if target.finished and target.status is not None:
            self.counts[target.status] -= 1  # a late ping-back changed a final result
        target.finished = True
        target.status = status
        self.counts[status] += 1
        self.on_result(self._result(target, status))

    def _result(self, target: _Target, status: Status) -> HostResult:
        return HostResult(
            address=target.address,
            status=status,
            replies=target.replies,
            others=target.others,
            probes=target.sent,
            error=target.error if status is Status.ERROR else None,
            error_code=target.error_code if status is Status.ERROR else None,
            send_errors=tuple(target.send_errors.items()) if target.send_errors else (),
        )

    def _abandon(self, current: _Target | None) -> None:
        """Ctrl-C: give every started target the result it has so far."""
        live = {id(t): t for t in self.owner if t is not None and not t.finished}
        for _, target, _, _ in self.retries:
            live.setdefault(id(target), target)
        if current is not None and not current.finished and current.sent:
            live.setdefault(id(current), current)
        for target in live.values():
            if target.sent or target.error:
                self._finish(target)

    # Sending -----------------------------------------------------------------------------

    def _send_try(self, target: _Target, kind_index: int, attempt: int, now: int) -> str:
        """Send one try; "sent", "again" (queue full: nothing consumed), "skipped" or
        "failed"."""
        kind = self.kinds[kind_index]
        target.pending -= 1
        slot = self.free[0]
        port = self.ports[slot]
        if kind.template is None:
            deadline = now + self.timeout_ns
            data = payload(kind.magic, target.reply_ip, port)
            assert kind.connect_port is not None
            status = self.network.connect(slot, target.address, kind.connect_port, data, deadline)
        else:
            packet = kind.template.render(target.source, target.address, target.reply_ip, port)
            if not kind.accepted_by_filter(packet):
                self._maybe_finish(target)
                return "skipped"
            status = self.network.send(packet, target.address)
        if status in _TRY_AGAIN:
            target.pending += 1
            return "again"
        if status:
            _count_error(target, os.strerror(status).lower())
            self._maybe_finish(target)
            return "failed"
        self.free.popleft()
        self.owner[slot] = target
        self.kind_of[slot] = kind_index
        self.attempt[slot] = attempt
        self.sent_at[slot] = now
        target.live += 1
        target.sent += 1
        self.sent += 1
        if kind.template is None:
            self.connecting[slot] = now + self.timeout_ns
            # Connecting and then waiting for the ping-back: two timeouts, no retries.
            self.connect_waits.append((now + 2 * self.timeout_ns, slot))
        else:
            self.waits.append((now + self.timeout_ns, slot))
        return "sent"

    def _hand_over(self, slot: int) -> None:
        """The nonce's last try becomes its previous one."""
        self.previous[slot] = self.owner[slot]
        self.previous_kind[slot] = self.kind_of[slot]
        self.previous_attempt[slot] = self.attempt[slot]
        self.previous_sent_at[slot] = self.sent_at[slot]
        self.owner[slot] = None

    def _end_waits(self, now: int) -> None:
        for waits in (self.waits, self.connect_waits):
            while waits and waits[0][0] <= now:
                self._end_wait(waits.popleft()[1], now)

    def _end_wait(self, slot: int, now: int) -> None:
        target = self.owner[slot]
        if target is None:
            return
        kind_index = self.kind_of[slot]
        attempt = self.attempt[slot]
        self._hand_over(slot)
        self.free.append(slot)
        self.connecting.pop(slot, None)
        target.live -= 1
        if (
            not target.answered >> kind_index & 1
            and attempt <= self.config.retries
            and self.kinds[kind_index].protocol != TCP_CONNECT
        ):
            jitter = self.random.randint(0, self.jitter_ns) if self.jitter_ns else 0
            self.retries.append((now + jitter, target, kind_index, attempt + 1))
            target.pending += 1
        else:
            self._maybe_finish(target)

    def _settle_connections(self, now: int) -> None:
        for slot, status, when in self.network.connections(now):
            self.connecting.pop(slot, None)
            target = self.owner[slot]
            if not status:
                self.sent_at[slot] = when  # latency counts from the magic on the wire
            elif target is not None:
                _count_error(target, f"connect: {os.strerror(status).lower()}")

    # Receiving ---------------------------------------------------------------------------

    def _receive(self) -> None:
        while True:
            packets = self.network.receive(RECEIVE_BATCH)
            for packet, when in packets:
                self._reply(packet, when)
            if len(packets) < RECEIVE_BATCH:
                return

    def _reply(self, packet: bytes, when: int) -> None:
        datagram = parse_datagram(packet)
        if datagram is None or not datagram.pingback:
            self.junk += 1
            return
        slot = self.slot_of_port[datagram.port]
        if slot < 0:
            self.junk += 1
            return
        owner, previous = self.owner[slot], self.previous[slot]
        if owner is not None and (
            datagram.source == owner.address
            or previous is None
            or datagram.source != previous.address
        ):
            target = owner
            kind_index, attempt, sent_at = (
                self.kind_of[slot],
                self.attempt[slot],
                self.sent_at[slot],
            )
            late = False
        elif previous is not None and datagram.source == previous.address:
            # The try before, answered after its wait (and maybe after the port moved on).
            target = previous
            kind_index, attempt = self.previous_kind[slot], self.previous_attempt[slot]
            sent_at, late = self.previous_sent_at[slot], True
        else:
            self.unmatched += 1  # no try holds this nonce: wrong, stale or forged
            return
        kind = self.kinds[kind_index]
        reply = Reply(
            protocol=kind.protocol,
            magic=kind.magic_hex,
            source=datagram.source,
            port=datagram.port,
            latency=max(0, when - sent_at) / NANOSECONDS,
            attempt=attempt,
            late=late,
        )
        if datagram.source != target.address:
            # Never a hit: something else answered with this target's nonce (BPFDOOR.md §6:
            # the public scanner accepts a "1" from anyone).
            if len(target.others) < MAX_OTHER_REPLIES and not any(
                other.source == reply.source and other.port == reply.port for other in target.others
            ):
                target.others = (*target.others, reply)
                if target.finished:
                    self._finish(target)
            else:
                self.duplicates += 1
            return
        if target.answered >> kind_index & 1:
            self.duplicates += 1
            return
        target.answered |= 1 << kind_index
        target.replies = (*target.replies, reply)
        if late:
            self.late += 1
            if target.finished:
                self._finish(target)  # the address answered after all: say so again


def _count_error(target: _Target, reason: str) -> None:
    if target.send_errors is None:
        target.send_errors = {}
    target.send_errors[reason] = target.send_errors.get(reason, 0) + 1


__all__ = ["Network", "Progress", "ScanConfig", "Scanner", "TokenBucket"]
