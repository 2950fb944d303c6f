"""Overview, hosts, a host's page (sockets with filters explained), network, users."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from doorhunt.investigate import (
    InvestigationError,
    SegmentIndex,
    SweepArchive,
    TriageDatabase,
    Window,
    default_window,
    explain_filter,
    host_list,
    host_page,
    network,
    overview,
    users,
)
from doorhunt.store import StoreReader
from tests.investigate.fixtures import BPFDOOR, T0, Fixture

WINDOW = Window(T0 - timedelta(hours=2), T0 + timedelta(hours=22))


@pytest.fixture
def triage(tmp_path: Path) -> TriageDatabase:
    return TriageDatabase.in_directory(tmp_path)


def test_overview(reader: StoreReader, index: SegmentIndex, triage: TriageDatabase) -> None:
    result = overview(reader, index, triage)
    assert result["hosts"] == 2
    assert result["verdicts"] == {"compromised": 1, "suspicious": 0, "degraded": 0, "clean": 1}
    assert [s["host"] for s in result["sweeps"]] == ["web-1", "db-1"]  # type: ignore[index]
    assert result["open_by_severity"] == {"low": 0, "medium": 1, "high": 1, "critical": 3}
    first_rule = result["open_by_rule"][0]  # type: ignore[index]
    assert first_rule["severity"] == "critical"
    alerts = index.alerts()
    triage.set_status(alerts[0].ref, "closed", note="done")
    assert overview(reader, index, triage)["open_alerts"] == len(alerts) - 1
    volume = result["volume"]
    assert sum(sum(b["counts"].values()) for b in volume["buckets"]) == sum(index.volume().values())  # type: ignore[index]


def test_hosts_worst_first(index: SegmentIndex, triage: TriageDatabase) -> None:
    hosts = host_list(index, triage)
    assert [h.name for h in hosts] == ["web-1", "db-1"]
    assert (
        hosts[0].verdict == "compromised"
        and hosts[0].severity == "critical"
        and hosts[0].open_alerts == 4
    )


def test_host_page_explains_the_filters(
    reader: StoreReader, index: SegmentIndex, triage: TriageDatabase, fixture: Fixture
) -> None:
    archive = SweepArchive.in_directory(fixture.data)
    page = host_page(reader, index, triage, archive, "web-1", WINDOW, language="ko")
    assert page is not None
    sockets = page["sockets"]
    assert [(s["source"], s["inode"]) for s in sockets] == [  # type: ignore[index, union-attr]
        ("sweep result", 913242),
        ("sweep result", 11873),
        ("sensor", 913242),
    ]
    bpfdoor = sockets[0]  # type: ignore[index]
    assert bpfdoor["explanation"]["class"] == "bpfdoor" and bpfdoor["link"] == "ethernet"
    assert "받아들이는 패킷" in bpfdoor["explanation"]["summary"]  # in the reader's language
    assert any(p["ok"] for p in bpfdoor["explanation"]["probes"])
    dhcp = sockets[1]  # type: ignore[index]
    assert dhcp["link"] == "ethernet" and dhcp["explanation"]["class"] == "dhcp"
    assert page["sweep_report"]["visibility"]["gaps"]  # type: ignore[index]
    assert [f["rule"]["name"] for f in page["findings"]] == ["BPFDoor socket filter"]  # type: ignore[index, union-attr]
    uncommon = {p["executable"] for p in page["uncommon_processes"]}  # type: ignore[union-attr]
    assert "/dev/shm/kdmtmpflush" in uncommon
    assert page["categories"]["process"] > 0  # type: ignore[index]
    assert host_page(reader, index, triage, archive, "nobody", WINDOW) is None


def test_network_and_users(reader: StoreReader, index: SegmentIndex) -> None:
    result = network(reader, index, "web-1", WINDOW)
    destinations = {(d["ip"], d["port"]) for d in result["destinations"]}  # type: ignore[union-attr]
    assert ("198.51.100.77", 443) in destinations and ("198.51.100.77", 80) in destinations
    listeners = result["listeners"]
    assert listeners[0]["port"] == 42391 and listeners[0]["bind_shell_range"]  # type: ignore[index]
    assert [r["fields"]["process.name"] for r in result["firewall"]] == ["iptables"]  # type: ignore[index]
    assert {s["action"] for s in result["sockets"]} == {"filter_attached", "sweep_finding"}  # type: ignore[union-attr]
    everyone = users(reader, index, None, WINDOW)
    names = {(u["host"], u["name"]) for u in everyone["users"]}  # type: ignore[union-attr]
    assert ("db-1", "postgres") in names and ("web-1", "deploy") in names
    assert [r["fields"]["event.action"] for r in everyone["privilege_changes"]] == ["uid_change"]  # type: ignore[index]
    actions = {r["fields"]["event.action"] for r in everyone["sessions"]}  # type: ignore[index]
    assert actions == {"session_id_change", "connection_accepted"}


def test_default_window_and_filters(reader: StoreReader) -> None:
    window = default_window(reader, None, None)
    assert window.until - window.since == timedelta(days=1)
    assert default_window(reader, WINDOW.since, WINDOW.until) == WINDOW
    assert explain_filter(BPFDOOR["bytecode"])["class"] == "bpfdoor"  # type: ignore[index]
    for bad, message in (("zz", "hexadecimal"), ("00" * 7, "8-byte"), ("00" * 8 * 5000, "4,096")):
        with pytest.raises(InvestigationError, match=message):
            explain_filter(bad)
    with pytest.raises(InvestigationError, match="ethernet or ip"):
        explain_filter(BPFDOOR["bytecode"], "token-ring")  # type: ignore[arg-type]
