"""The scan loop over an in-memory network: nonces, matching, retries, rate, bounded memory."""

from __future__ import annotations

import errno
import struct
import tracemalloc
from collections.abc import Iterator

import pytest

from doorhunt.scan.engine import Progress, ScanConfig, Scanner, TokenBucket
from doorhunt.scan.nonce import ANSWER_TO_SOURCE
from doorhunt.scan.probes import ProbeKind, ProbeOptions, builtin_kinds, parse_magics
from doorhunt.scan.results import HostResult, ScanSummary, Status
from doorhunt.scan.route import RTN_BROADCAST
from doorhunt.scan.targets import TargetSet, parse_address, parse_spec
from tests.scan.fakes import SCANNER, FakeClock, FakeNetwork, Implant, try_again_every, udp_datagram

INFECTED = parse_address("198.18.10.10")
CLEAN = parse_address("198.18.11.10")
ELSEWHERE = parse_address("198.18.12.10")
PORTS = range(40000, 40064)
CLASSIC = tuple(builtin_kinds(None, ("udp", "icmp", "tcp"), ProbeOptions()))


def scan(
    network: FakeNetwork,
    targets: list[int],
    *,
    kinds: tuple[ProbeKind, ...] = CLASSIC,
    ports: range = PORTS,
    progress: list[Progress] | None = None,
    **options: object,
) -> tuple[dict[int, HostResult], ScanSummary, list[HostResult]]:
    config = ScanConfig(kinds=kinds, ports=ports, seed=1, **options)  # type: ignore[arg-type]
    emitted: list[HostResult] = []
    summary = Scanner(config, network, clock=network.clock).run(
        targets, len(targets), emitted.append, progress.append if progress is not None else None
    )
    return {result.address: result for result in emitted}, summary, emitted


@pytest.fixture
def network() -> FakeNetwork:
    return FakeNetwork(FakeClock(), implants={INFECTED: Implant()})


def test_an_implant_answers_each_trigger_shape_and_a_clean_host_is_silent(
    network: FakeNetwork,
) -> None:
    results, summary, _ = scan(network, [INFECTED, CLEAN], timeout=0.5)
    infected = results[INFECTED]
    assert infected.status is Status.RESPONDED
    assert {(r.protocol, r.magic) for r in infected.replies} == {
        ("udp", "7255"),
        ("icmp", "7255"),
        ("tcp", "5293"),
    }
    assert all(r.source == INFECTED and r.attempt == 1 and not r.late for r in infected.replies)
    assert all(abs(r.latency - 0.002) < 0.001 for r in infected.replies)
    assert infected.probes == 3  # answered at the first try: no retries
    assert results[CLEAN].status is Status.NO_RESPONSE
    assert results[CLEAN].probes == 6  # 3 kinds, 2 tries each
    assert (summary.responded, summary.silent, summary.probes_sent) == (1, 1, 9)
    # Every nonce in a probe is distinct among the probes in flight; each names one try.
    ports = [struct.unpack("!H", p[-2:])[0] for _, _, p in network.sent]
    assert len(set(ports)) == len(ports)


def test_each_reply_maps_to_its_own_protocol_and_magic(network: FakeNetwork) -> None:
    network.implants[INFECTED] = Implant(magics=(0x5571,))
    kinds = tuple(builtin_kinds(parse_magics(["7255", "5571"]), ("udp", "tcp"), ProbeOptions()))
    results, _, _ = scan(network, [INFECTED], kinds=kinds, timeout=0.2, retries=0)
    assert {(r.protocol, r.magic) for r in results[INFECTED].replies} == {
        ("udp", "5571"),
        ("tcp", "5571"),
    }


def test_a_reply_from_another_address_is_never_a_hit(network: FakeNetwork) -> None:
    network.implants[CLEAN] = Implant(answer_from=ELSEWHERE)
    results, summary, _ = scan(network, [CLEAN], timeout=0.2)
    result = results[CLEAN]
    assert result.status is Status.OTHER_ADDRESS and not result.replies
    assert {r.source for r in result.others} == {ELSEWHERE}
    assert summary.responded == 0 and summary.other_address == 1


def test_wrong_nonces_junk_and_duplicates_are_ignored(network: FakeNetwork) -> None:
    network.implants[INFECTED] = Implant(copies=3)
    # Before the scan: a "1" from the infected host to a port no probe holds, junk payloads,
    # a truncated packet and a datagram to a port outside the range.
    network.inject(udp_datagram(INFECTED, SCANNER, 40050, b"1"), delay=1_000_000)
    network.inject(udp_datagram(INFECTED, SCANNER, 40001, b"hello"), delay=1_000_000)
    network.inject(udp_datagram(INFECTED, SCANNER, 40001, b"1")[:25], delay=1_000_000)
    network.inject(udp_datagram(INFECTED, SCANNER, 9999, b"1"), delay=1_000_000)
    results, summary, _ = scan(network, [INFECTED], timeout=0.2)
    assert results[INFECTED].status is Status.RESPONDED
    assert len(results[INFECTED].replies) == 3
    assert summary.duplicates == 6  # two extra copies of each of the 3 ping-backs
    assert summary.unmatched == 1
    assert summary.junk == 3


def test_a_retry_finds_a_host_that_missed_the_first_try(network: FakeNetwork) -> None:
    network.implants[INFECTED] = Implant(skip_tries=3)
    results, _, _ = scan(network, [INFECTED], timeout=0.2, retries=2)
    replies = results[INFECTED].replies
    assert {r.attempt for r in replies} == {2}
    assert results[INFECTED].probes == 6
    # Retries leave after the try's wait plus up to 10 % jitter.
    udp = [t for t, _, p in network.sent if p[9] == 17]
    assert 200_000_000 <= udp[1] - udp[0] <= 220_000_000 + 5_000_000


def test_a_late_ping_back_counts_for_the_address_it_came_from(network: FakeNetwork) -> None:
    network.implants[INFECTED] = Implant(magics=(0x7255,), latency=150_000_000)
    udp = tuple(k for k in CLASSIC if k.protocol == "udp")
    targets = [INFECTED, *range(CLEAN, CLEAN + 30)]  # still scanning when the answer comes
    results, summary, emitted = scan(
        network, targets, kinds=udp, timeout=0.1, retries=0, ports=range(40000, 40016), rate=100
    )
    assert results[INFECTED].status is Status.RESPONDED
    assert results[INFECTED].replies[0].late
    assert abs(results[INFECTED].replies[0].latency - 0.15) < 0.001
    assert summary.late == 1 and summary.responded == 1 and summary.silent == 30
    # First reported silent, then again once the ping-back came.
    assert [r.status for r in emitted if r.address == INFECTED] == [
        Status.NO_RESPONSE,
        Status.RESPONDED,
    ]


def test_a_late_reply_to_a_reused_port_is_not_pinned_on_the_new_owner(
    network: FakeNetwork,
) -> None:
    # 16 ports, a try every 5 ms: the infected host's port goes to another try after 80 ms,
    # and its ping-back comes at 120 ms, while that other try holds the port.
    network.implants[INFECTED] = Implant(magics=(0x7255,), latency=120_000_000)
    udp = tuple(k for k in CLASSIC if k.protocol == "udp")
    targets = [INFECTED, *range(CLEAN, CLEAN + 60)]
    results, summary, _ = scan(
        network, targets, kinds=udp, timeout=0.05, retries=0, ports=range(40000, 40016), rate=200
    )
    sent_to = [d for _, d, p in network.sent if p[-2:] == b"\x9c\x40"]  # port 40000
    assert sent_to[:2] == [INFECTED, CLEAN + 15]
    assert results[INFECTED].status is Status.RESPONDED
    assert summary.other_address == 0
    assert all(results[a].status is Status.NO_RESPONSE for a in targets[1:])


def test_answer_to_source_mode_writes_all_ones_and_still_matches(network: FakeNetwork) -> None:
    results, _, _ = scan(network, [INFECTED], timeout=0.2, reply_address=ANSWER_TO_SOURCE)
    assert results[INFECTED].status is Status.RESPONDED
    assert all(p[-6:-2] == b"\xff\xff\xff\xff" for _, _, p in network.sent)


def test_tcp_connect_probes_send_the_magic_on_a_connection(network: FakeNetwork) -> None:
    kinds = tuple(builtin_kinds(None, ("tcp",), ProbeOptions(connect_port=2222)))
    assert [k.protocol for k in kinds] == ["tcp", "tcp-connect"]
    assert kinds[1].label == "tcp-connect 5293 (port 2222)"
    results, _, _ = scan(network, [INFECTED, CLEAN], kinds=kinds, timeout=0.2)
    assert {r.protocol for r in results[INFECTED].replies} == {"tcp", "tcp-connect"}
    assert [(d, port) for _, d, port, _ in network.connects] == [(INFECTED, 2222), (CLEAN, 2222)]


def test_refused_connections_are_reported_per_target(network: FakeNetwork) -> None:
    network.connect_error = errno.ECONNREFUSED
    kinds = tuple(builtin_kinds(None, ("tcp",), ProbeOptions(connect_port=2222)))
    results, _, _ = scan(network, [CLEAN], kinds=kinds, timeout=0.1, retries=0)
    assert results[CLEAN].status is Status.NO_RESPONSE
    assert results[CLEAN].send_errors == (("connect: connection refused", 1),)


def test_route_failures_and_broadcast_routes_are_errors_and_never_sent_to(
    network: FakeNetwork,
) -> None:
    network.no_route[CLEAN] = errno.ENETUNREACH
    network.route_kinds[ELSEWHERE] = RTN_BROADCAST
    results, summary, _ = scan(network, [CLEAN, ELSEWHERE], timeout=0.1)
    assert results[CLEAN].status is Status.ERROR
    assert results[CLEAN].error_code == "no-route"
    assert results[ELSEWHERE].error_code == "refused-broadcast"
    assert summary.errors == 2 and network.sent == []


def test_send_failures_make_an_error_only_when_nothing_went_out(network: FakeNetwork) -> None:
    def refuse_tcp(packet: bytes, destination: int) -> int:
        return errno.EPERM if packet[9] == 6 or destination == CLEAN else 0

    network.send_errors = refuse_tcp
    results, _, _ = scan(network, [INFECTED, CLEAN], timeout=0.1)
    assert results[INFECTED].status is Status.RESPONDED
    assert dict(results[INFECTED].send_errors) == {"operation not permitted": 1}
    assert results[CLEAN].status is Status.ERROR
    assert results[CLEAN].error_code == "send-failed"


def test_a_full_send_queue_delays_probes_and_loses_none(network: FakeNetwork) -> None:
    network.send_errors = try_again_every(4)
    targets = list(range(CLEAN, CLEAN + 30))
    _, summary, _ = scan(network, targets, timeout=0.1, retries=0)
    assert summary.probes_sent == 90 and len(network.sent) == 90


def test_the_rate_limit_holds_in_every_window(network: FakeNetwork) -> None:
    targets = list(range(CLEAN, CLEAN + 100))
    _, summary, _ = scan(network, targets, rate=100.0, timeout=0.1, retries=0, burst=5)
    times = [t for t, _, _ in network.sent]
    assert len(times) == 300
    for start in times:
        in_window = sum(1 for t in times if start <= t < start + 1_000_000_000)
        assert in_window <= 100 + 5
    assert (times[-1] - times[0]) / 1e9 >= (300 - 5) / 100 * 0.99
    assert summary.elapsed >= 2.9


def test_in_flight_tries_never_exceed_the_nonces(network: FakeNetwork) -> None:
    targets = list(range(CLEAN, CLEAN + 200))
    progress: list[Progress] = []
    _, summary, _ = scan(
        network, targets, ports=range(50000, 50016), timeout=0.1, retries=1, progress=progress
    )
    assert summary.scanned == 200 and summary.probes_sent == 1200
    # 16 nonces, each held for 0.1 s: at most 160 probes a second, whatever the rate.
    assert summary.elapsed >= 1200 / 160 * 0.99
    assert progress and progress[-1].probes_started == 600


def test_token_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(1000.0, 2, now=0)
    assert bucket.take(0) and bucket.take(0) and not bucket.take(0)
    assert bucket.next_token(0) == 1_000_001
    assert bucket.take(1_000_001) and not bucket.take(1_000_001)


def test_memory_stays_flat_as_the_target_count_grows() -> None:
    udp = tuple(k for k in CLASSIC if k.protocol == "udp")

    def peak(count: int) -> int:
        network = FakeNetwork(FakeClock())
        targets = TargetSet(parse_spec("10.0.0.0/8", location="t"))
        tracemalloc.start()
        try:
            config = ScanConfig(kinds=udp, ports=range(40000, 40256), timeout=0.05, retries=0)
            network.sent = _Counter()
            Scanner(config, network, clock=network.clock).run(
                _first(targets, count), count, lambda result: None
            )
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(1_000), peak(6_000)
    assert large < small * 1.5 + 200_000


class _Counter(list[tuple[int, int, bytes]]):
    """Counts sends without keeping them."""

    def append(self, item: tuple[int, int, bytes]) -> None:
        del item


def _first(targets: TargetSet, count: int) -> Iterator[int]:
    for index, address in enumerate(targets):
        if index >= count:
            return
        yield address
