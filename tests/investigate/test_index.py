"""The segment index: alerts with severity, sweeps, sockets, volumes, refreshed as the store
grows and compacts; a summary made in a child process equals one made here."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from doorhunt.ecs import new_event
from doorhunt.investigate import SegmentIndex
from doorhunt.investigate.index import severity_of, summarize_isolated, summarize_segment
from doorhunt.store import Store, StoreReader
from tests.investigate.fixtures import T0, Fixture, build


def test_alerts_sweeps_and_sockets(index: SegmentIndex) -> None:
    alerts = index.alerts()
    assert [a.timestamp for a in alerts] == sorted((a.timestamp for a in alerts), reverse=True)
    by_rule = {a.rule_name: a for a in alerts}
    shm = by_rule["Executable run from shared memory"]
    assert shm.severity == "critical" and shm.source == "rule" and shm.host == "web-1"
    assert shm.process_entity_id == "web1-implant" and shm.entity_ids == ("web1-implant",)
    finding = by_rule["BPFDoor socket filter"]
    assert (
        finding.source == "sweep" and finding.severity == "critical" and finding.risk_score == 100.0
    )
    latest = index.latest_sweeps()
    assert latest["web-1"].verdict == "compromised" and latest["db-1"].verdict == "clean"
    assert [s.verdict for s in index.sweeps() if s.host == "web-1"] == ["compromised", "clean"]
    sockets = index.sockets()
    assert {(s.source, s.action) for s in sockets} == {
        ("sensor", "filter_attached"),
        ("sweep", "sweep_finding"),
    }
    assert all(s.bpf and s.bpf["class"] == "bpfdoor" for s in sockets)


def test_counts(index: SegmentIndex, fixture: Fixture) -> None:
    assert sum(index.volume().values()) == len(fixture.documents)
    assert all(bucket % 600_000_000 == 0 for bucket, _ in index.volume())
    hosts = index.hosts()
    assert set(hosts) == {"web-1", "db-1"}
    assert sum(t.count for t in hosts.values()) == len(fixture.documents)
    users = index.users()
    assert ("db-1", "postgres", "1000") in users  # from process.user: the sensor's shape
    assert ("web-1", "deploy", "1000") in users
    executables = index.executables()
    assert executables[("web-1", "/dev/shm/kdmtmpflush")][1] == "web1-implant"


def test_severity_words_and_bands() -> None:
    assert severity_of("HIGH", None, None) == "high"
    assert severity_of(None, "critical", 10) == "critical"
    assert [severity_of(None, None, s) for s in (None, 0, 21, 22, 47, 48, 73, 74, 100)] == [
        "low", "low", "low", "medium", "medium", "high", "high", "critical", "critical"
    ]  # fmt: skip


def test_refresh_follows_new_and_compacted_segments(tmp_path: Path) -> None:
    fixture = build(tmp_path)
    store = Store(fixture.data / "store")
    with store.reader() as reader:
        index = SegmentIndex(reader)
        assert index.refresh()
        before = len(index.alerts())
        assert not index.refresh()
        alert = new_event(kind="alert", category="process", type="start", action="exec",
                          timestamp=T0 + timedelta(days=1), host={"name": "db-1"},
                          rule={"id": "r", "name": "late rule"},
                          doorhunt={"alert": {"severity": "high", "status": "open"}})  # fmt: skip
        with store.writer(compact_interval=None) as writer:
            writer.extend([alert])
        assert index.refresh()
        assert len(index.alerts()) == before + 1
        store.compact(full=True)
        index.refresh()
        assert len(index.alerts()) == before + 1
        assert sum(index.volume().values()) == len(fixture.documents) + 1


def test_a_child_process_makes_the_same_summary(reader: StoreReader) -> None:
    segments = list(reader.segments().visible)
    here = [summarize_segment(reader, segment) for segment in segments]
    there = summarize_isolated(reader, segments)
    assert [s.alerts for s in here] == [s.alerts for s in there]
    assert [s.volume for s in here] == [s.volume for s in there]
    assert [s.users for s in here] == [s.users for s in there]
