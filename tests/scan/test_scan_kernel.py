"""`doorhunt scan` against real kernels: a routed lab of namespaces with the emulator in it.

scanner 198.18.1.2 ── router ── 198.18.10.10 (emulator, classic magics, --pingback)
                            ├── 198.18.11.10 (clean, or an emulator with a custom magic)
                            └── 198.18.12.10 (a third host: forged ping-backs)
"""

from __future__ import annotations

import json
import select
import socket
import struct
import time
from pathlib import Path

import pytest

from doorhunt.bpf.codec import Format, format_program
from doorhunt.ecs import assert_valid
from doorhunt.emulate.launch import filter_program
from tests.kernel import inside
from tests.scan.conftest import Lab, host_watch, hosts, scan, scan_json, sending_ones

QUICK = ["--timeout", "0.4", "--retries", "0"]
SO_TIMESTAMPNS = 35  # asm-generic/socket.h; the socket module does not name it


@pytest.mark.root
def test_the_emulator_is_found_by_udp_icmp_and_tcp_and_a_clean_host_is_not(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    lab.emulate(0)
    with host_watch() as leaked:
        code, document = scan_json(lab, [lab.infected, lab.clean, *QUICK], capsys)
        found = hosts(document)
        assert code == 1
        assert found[lab.infected]["status"] == "responded"
        assert {(r["protocol"], r["magic"]) for r in found[lab.infected]["replies"]} == {
            ("udp", "7255"),
            ("icmp", "7255"),
            ("tcp", "5293"),
        }
        assert all(r["source"] == lab.infected for r in found[lab.infected]["replies"])
        assert lab.clean not in found  # silent hosts are counted, not listed
        assert document["summary"]["silent"] == 1 and document["summary"]["responded"] == 1
        for protocol in ("udp", "icmp", "tcp"):
            code, document = scan_json(
                lab, [lab.infected, lab.clean, "--protocols", protocol, *QUICK], capsys
            )
            replies = hosts(document)[lab.infected]["replies"]
            assert code == 1 and [r["protocol"] for r in replies] == [protocol]
        code, out, _ = scan(lab, [lab.infected, lab.clean, "--ndjson", "--all", *QUICK], capsys)
    assert leaked == []  # nothing reached the host's own interfaces
    lines = [json.loads(line) for line in out.splitlines()]
    for document in lines:
        assert_valid(document, require_core=True)
    alert = next(d for d in lines if d["event"]["kind"] == "alert")
    assert alert["destination"]["ip"] == lab.infected
    assert alert["doorhunt"]["scan"]["status"] == "responded"
    assert lines[-1]["event"]["action"] == "scan_summary"
    assert [d["doorhunt"]["scan"]["status"] for d in lines[:-1]] == ["responded", "no-response"]


@pytest.mark.root
def test_the_magic_on_an_established_connection(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    lab.emulate(0)
    with inside(lab.routed.targets[0]):
        server = socket.create_server(("0.0.0.0", 2222))
    try:
        code, document = scan_json(
            lab, [lab.infected, "--protocols", "tcp", "--tcp-connect", "2222", *QUICK], capsys
        )
        accepted, _ = server.accept()
        accepted.close()
    finally:
        server.close()
    assert code == 1
    replies = hosts(document)[lab.infected]["replies"]
    assert {(r["protocol"], r["magic"]) for r in replies} == {
        ("tcp", "5293"),
        ("tcp-connect", "5293"),
    }


@pytest.mark.root
def test_a_custom_magic_is_found_only_by_asking_for_it(
    lab: Lab, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lab.emulate(0)
    lab.emulate(1, magics=[0x5571])
    targets = [lab.infected, lab.clean]
    code, document = scan_json(lab, [*targets, *QUICK], capsys)
    assert code == 1 and list(hosts(document)) == [lab.infected]
    code, document = scan_json(lab, [*targets, "--magic", "5571", *QUICK], capsys)
    found = hosts(document)
    assert code == 1 and list(found) == [lab.clean]
    assert {r["magic"] for r in found[lab.clean]["replies"]} == {"5571"}
    assert len(found[lab.clean]["replies"]) == 3
    # The same, from the emulator's own filter, as `doorhunt sample` would extract it.
    listing = tmp_path / "filter.txt"
    listing.write_bytes(format_program(filter_program([0x5571]), Format.DECIMAL))
    code, document = scan_json(lab, [*targets, "--from-filter", str(listing), *QUICK], capsys)
    found = hosts(document)
    assert code == 1 and list(found) == [lab.clean]
    assert {(r["protocol"], r["magic"]) for r in found[lab.clean]["replies"]} == {
        ("udp", "5571"),
        ("icmp", "5571"),
        ("tcp", "5571"),
    }
    assert all(p["origin"] == "filter" for p in document["plan"]["probes"])


@pytest.mark.root
def test_forged_and_wrong_nonce_ping_backs_are_not_hits(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    ports = range(41000, 41064)
    scanner = lab.routed.scanner_address
    # The third host answers every port (a spoofer, or a relay); the clean target itself
    # sends "1" to ports no probe holds (probes take ports from the start of the range).
    with (
        sending_ones(lab.routed.targets[2], scanner, ports, 1.2),
        sending_ones(lab.routed.targets[1], scanner, range(41032, 41064), 1.2),
    ):
        code, document = scan_json(
            lab,
            [lab.clean, "--listen", ":41000-41063", "--timeout", "1", "--retries", "0"],
            capsys,
        )
    assert code == 0
    result = hosts(document)[lab.clean]
    assert result["status"] == "other-address" and result["replies"] == []
    assert {r["source"] for r in result["other_replies"]} == {lab.third}
    summary = document["summary"]
    assert summary["responded"] == 0 and summary["other_address"] == 1
    assert summary["unmatched"] > 0


@pytest.mark.root
def test_answer_to_source_mode(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    lab.emulate(0)
    code, document = scan_json(
        lab, [lab.infected, "--listen", "255.255.255.255:42000-42099", *QUICK], capsys
    )
    assert code == 1
    replies = hosts(document)[lab.infected]["replies"]
    assert {r["port"] for r in replies} <= set(range(42000, 42100)) and len(replies) == 3


@pytest.mark.root
def test_the_rate_limit_holds_on_the_wire(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    with inside(lab.routed.router):
        counter = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
        counter.bind((lab.routed.router_scanner_device, 0x0800))
    counter.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    try:
        code, document = scan_json(
            lab,
            ["198.18.11.0/26", "--rate", "300", "--retries", "0", "--timeout", "0.3"],
            capsys,
        )
        times = []
        while select.select([counter], [], [], 0.5)[0]:
            packet, ancillary, _, _ = counter.recvmsg(128, 64)
            if packet[12:16] != socket.inet_aton(lab.routed.scanner_address):
                continue
            for level, kind, data in ancillary:
                if (level, kind) == (socket.SOL_SOCKET, SO_TIMESTAMPNS):
                    seconds, nanoseconds = struct.unpack("qq", data[:16])
                    times.append(seconds + nanoseconds / 1e9)
    finally:
        counter.close()
    assert code == 0
    assert len(times) == document["summary"]["probes_sent"] == 62 * 3
    burst = 3  # 10 ms worth at 300/s
    assert times[-1] - times[0] >= (len(times) - burst) / 300 * 0.95
    for start in times:
        window = sum(1 for t in times if start <= t < start + 0.2)
        assert window <= 300 * 0.2 + burst + 1


@pytest.mark.root
def test_broadcast_blackhole_and_unrouted_targets_are_errors_and_not_sent_to(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.kernel import ip

    ip("-n", lab.routed.scanner, "route", "add", "blackhole", "198.18.200.0/24")
    started = time.monotonic()
    code, document = scan_json(lab, ["198.18.1.3", "198.18.200.7", "203.0.113.5", *QUICK], capsys)
    assert code == 0 and time.monotonic() - started < 5
    errors = {h["address"]: h["error"]["code"] for h in document["hosts"]}
    assert errors == {
        "198.18.1.3": "refused-broadcast",  # the broadcast address of the scanner's own /30
        "198.18.200.7": "no-route",
        "203.0.113.5": "no-route",
    }
    assert document["summary"]["probes_sent"] == 0
    assert "blackhole" in hosts(document)["198.18.200.7"]["error"]["message"]
    # A ping-back address that is not this host's would send answers elsewhere.
    code, out, err = scan(lab, [lab.clean, "--listen", "198.18.99.99"], capsys)
    assert code == 2 and out == "" and "not an address of this host" in err
    assert err.count("\n") == 1
