"""`doorhunt scan` from the command line: outputs, exit codes, languages and one-line errors.

The scan itself runs over the in-memory network of tests/scan/fakes.py here (no root); the
kernel tests in tests/scan/test_scan_kernel.py run the same command on real namespaces.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rich.console import Console

import doorhunt.cli.scan as scan_cli
from doorhunt.ecs import assert_valid
from doorhunt.scan import sockets
from doorhunt.scan.engine import Progress, ScanConfig, Scanner
from doorhunt.scan.nonce import NonceSpace
from doorhunt.scan.results import HostResult, ScanSummary
from doorhunt.scan.run import ScanPlan
from doorhunt.scan.targets import parse_address
from doorhunt.scan.terminal import ProgressBar
from tests.scan.fakes import FakeClock, FakeNetwork, Implant

INFECTED = "198.18.10.10"
CLEAN = "198.18.11.10"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = scan_cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


class FakeSession:
    """ScanSession over the in-memory network."""

    network: FakeNetwork

    def __init__(self, plan: ScanPlan) -> None:
        self.plan = plan

    def __enter__(self) -> FakeSession:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def run(
        self,
        on_result: Callable[[HostResult], None],
        on_progress: Callable[[Progress], None] | None = None,
    ) -> ScanSummary:
        plan = self.plan
        config = ScanConfig(
            kinds=plan.kinds,
            ports=NonceSpace(plan.listen).ports,
            rate=plan.rate,
            retries=plan.retries,
            timeout=plan.timeout,
            reply_address=plan.listen.address,
        )
        scanner = Scanner(config, self.network, clock=self.network.clock)
        return scanner.run(plan.targets, len(plan.targets), on_result, on_progress)


@pytest.fixture
def fake_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNetwork]:
    """`doorhunt scan` over an in-memory network with an implant at INFECTED."""
    network = FakeNetwork(FakeClock(), implants={parse_address(INFECTED): Implant()})
    monkeypatch.setattr(FakeSession, "network", network, raising=False)
    monkeypatch.setattr(scan_cli, "open_session", FakeSession)
    monkeypatch.setattr(sockets, "has_cap_net_raw", lambda *args: True)
    yield network


def test_json_lists_responders_and_counts_the_rest(
    fake_network: FakeNetwork, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run([INFECTED, "198.18.11.0/29", "--json", "--timeout", "0.2"], capsys)
    document = json.loads(out)
    assert code == 1
    assert [h["address"] for h in document["hosts"]] == [INFECTED]
    assert {r["protocol"] for r in document["hosts"][0]["replies"]} == {"udp", "icmp", "tcp"}
    assert document["summary"]["targets"] == 7 and document["summary"]["silent"] == 6
    assert document["plan"]["first_tries"] == 21
    assert "responded" in document["message"]


def test_all_lists_silent_hosts_and_a_clean_scan_exits_0(
    fake_network: FakeNetwork, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run([CLEAN, "--json", "--all", "--timeout", "0.1"], capsys)
    assert code == 0
    assert json.loads(out)["hosts"][0]["status"] == "no-response"


def test_ndjson_documents_are_ecs(
    fake_network: FakeNetwork, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_network.no_route[parse_address("198.18.12.1")] = 101  # ENETUNREACH
    code, out, _ = run(
        [INFECTED, CLEAN, "198.18.12.1", "--ndjson", "--timeout", "0.1", "--lang", "ko"], capsys
    )
    documents = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    for document in documents:
        assert_valid(document, require_core=True)
    kinds = [(d["event"]["kind"], d["event"]["action"]) for d in documents]
    assert kinds == [
        ("event", "scan_error"),  # routes are known before any reply
        ("alert", "magic_packet_reply"),
        ("event", "scan_summary"),
    ]
    assert documents[0]["error"]["code"] == "no-route"
    assert "경로" in documents[0]["message"]
    assert documents[1]["network"]["transport"] == ["icmp", "tcp", "udp"]


def test_terminal_report_in_english_and_korean(
    fake_network: FakeNetwork, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run([INFECTED, CLEAN, "--timeout", "0.1", "--no-color"], capsys)
    assert code == 1 and err == ""
    for text in ("doorhunt scan", "Hosts that answered", INFECTED, "udp 7255", "1 responded"):
        assert text in out
    code, out, _ = run([INFECTED, CLEAN, "--timeout", "0.1", "--lang", "ko"], capsys)
    for text in ("doorhunt 스캔", "응답한 호스트", INFECTED, "응답 1"):
        assert text in out
    code, out, _ = run([CLEAN, "--timeout", "0.1", "--all"], capsys)
    assert code == 0 and "No host answered" in out and "No response:" in out


def test_interrupt_keeps_what_was_found(
    fake_network: FakeNetwork, capsys: pytest.CaptureFixture[str]
) -> None:
    original = fake_network.wait
    calls = [0]

    def wait(seconds: float) -> None:
        calls[0] += 1
        if calls[0] == 3:
            raise KeyboardInterrupt
        original(seconds)

    fake_network.wait = wait  # type: ignore[method-assign]
    code, out, _ = run([INFECTED, CLEAN, "--json", "--timeout", "0.1"], capsys)
    document = json.loads(out)
    assert code == 130 and document["summary"]["interrupted"]
    assert document["hosts"][0]["address"] == INFECTED


def test_without_cap_net_raw_a_clear_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sockets, "has_cap_net_raw", lambda *args: False)
    code, out, err = run([CLEAN], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "CAP_NET_RAW" in err and "root" in err


def test_dry_run_shows_the_plan_and_sends_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sockets, "has_cap_net_raw", lambda *args: False)
    code, out, _ = run(["10.0.0.0/8", "--magic", "known", "--dry-run", "--json"], capsys)
    plan = json.loads(out)["plan"]
    assert code == 0 and plan["targets"] == 2**24 - 2 and len(plan["probes"]) == 42
    assert plan["most_packets"] == (2**24 - 2) * 42 * 2
    code, out, _ = run(["10.0.0.0/8", "--dry-run", "--rate", "900000"], capsys)
    text = " ".join(out.split())
    assert code == 0 and "3 probes each" in text and "about 27,768 probes/s" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "no targets"),
        (["10.0.0.0/7"], "larger than a /8"),
        (["224.0.0.1"], "multicast"),
        (["10.0.0.0/33"], "prefix length"),
        (["10.0.0.1", "--listen", "1.2.3.4:99999"], "--listen: "),
        (["10.0.0.1", "--listen", "[::1]:5"], "IPv6"),
        (["10.0.0.1", "--listen", "\x1b[31m"], "--listen: expected"),
        (["10.0.0.1", "--magic", "zz"], "--magic"),
        (["--magic", "5571", "10.0.0.1"], "not a magic"),
        (["10.0.0.1", "--protocols", "sctp"], "--protocols"),
        (["10.0.0.1", "--rate", "0"], "--rate must be"),
        (["10.0.0.1", "--rate", "nan"], "--rate must be"),
        (["10.0.0.1", "--timeout", "inf"], "--timeout must be"),
        (["10.0.0.1", "--retries", "99"], "--retries must be"),
        (["10.0.0.1", "--tcp-connect", "0"], "--tcp-connect must be"),
        (["10.0.0.1", "--tcp-connect", "22", "--protocols", "udp"], "keep tcp"),
        (["10.0.0.1", "--from-filter", "/nonexistent"], "no such file"),
        (["10.0.0.1", "--dry-run", "--ndjson"], "use --json"),
        (["10.0.0.1", "--exclude", "nothing"], "--exclude 'nothing'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and "\x1b" not in err


def test_junk_in_a_target_file_is_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hosts = tmp_path / "hosts.txt"
    hosts.write_bytes(b"198.18.0.1\n# comment\n198.18.0.0/24 bogus\n")
    code, _, err = run(["-iL", str(hosts), "--dry-run"], capsys)
    assert code == 2 and f"{hosts}:line 3: 'bogus'" in err
    hosts.write_bytes(b"10.0.0.0/8\n11.0.0.0/8\n")
    code, _, err = run(["-iL", str(hosts), "--dry-run"], capsys)
    assert code == 2 and "more than a /8" in err
    garbage = tmp_path / "filter.bin"
    garbage.write_bytes(b"\x00\x01garbage")
    code, _, err = run(["198.18.0.1", "--from-filter", str(garbage), "--dry-run"], capsys)
    assert code == 2 and str(garbage) in err and err.count("\n") == 1


def test_from_filter_plan_uses_the_filter_probes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from doorhunt.bpf.codec import Format, format_program
    from doorhunt.bpf.examples import EXAMPLES

    listing = tmp_path / "ss.txt"
    listing.write_bytes(format_program(EXAMPLES["bpfdoor-multi-229"].build(), Format.SS))
    code, out, _ = run(["198.18.0.1", "--from-filter", str(listing), "--dry-run", "--json"], capsys)
    probes = json.loads(out)["plan"]["probes"]
    assert code == 0
    magics = {p["magic"] for p in probes}
    assert {"7255", "5293", "39393939", "8d6c", "9f4f", "5571", "dead"} <= magics
    assert all(p["origin"] == "filter" and p["replies_matched"] for p in probes)


def test_progress_bar_shows_rate_responders_and_eta() -> None:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=120)
    with ProgressBar(console, 100, "en") as bar:
        bar.update(Progress(10, 3, 100, 40, 50, 1, 2.0))
        bar.progress.refresh()
    text = stream.getvalue()
    assert "40/100" in text and "25 probes/s" in text and "1 responded" in text
