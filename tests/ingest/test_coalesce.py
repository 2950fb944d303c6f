"""Grouping records into events: by serial, out of order, bounded."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from doorhunt.ingest.auditd import AuditRecord, Coalescer


def record(
    kind: str, serial: int, timestamp: float = 100.0, node: str | None = None
) -> AuditRecord:
    fields = {"node": node} if node else {}
    return AuditRecord(kind, serial, timestamp, fields, f"type={kind}")


def test_an_event_ends_with_its_eoe() -> None:
    coalescer = Coalescer()
    assert coalescer.add(record("SYSCALL", 1)) == []
    assert coalescer.add(record("PATH", 1)) == []
    (event,) = coalescer.add(record("EOE", 1))
    assert [r.type for r in event.records] == ["SYSCALL", "PATH"]
    assert event.complete and event.serial == 1


def test_interleaved_events_stay_apart() -> None:
    coalescer = Coalescer()
    done = []
    for kind, serial in [
        ("SYSCALL", 1),
        ("SYSCALL", 2),
        ("PATH", 2),
        ("CWD", 1),
        ("EOE", 2),
        ("EOE", 1),
    ]:
        done += coalescer.add(record(kind, serial))
    assert [(e.serial, [r.type for r in e.records]) for e in done] == [
        (2, ["SYSCALL", "PATH"]),
        (1, ["SYSCALL", "CWD"]),
    ]


def test_same_serial_on_another_node_or_time_is_another_event() -> None:
    coalescer = Coalescer()
    coalescer.add(record("SYSCALL", 1, node="a"))
    coalescer.add(record("SYSCALL", 1, node="b"))
    coalescer.add(record("SYSCALL", 1, timestamp=101.0, node="a"))
    assert coalescer.open_events == 3


def test_user_records_stand_alone() -> None:
    coalescer = Coalescer()
    (event,) = coalescer.add(record("USER_LOGIN", 5))
    assert event.complete and len(event.records) == 1


def test_events_without_eoe_end_by_age_and_at_flush() -> None:
    coalescer = Coalescer(max_age=5.0)
    coalescer.add(record("SYSCALL", 1, timestamp=100.0))
    assert coalescer.add(record("SYSCALL", 2, timestamp=104.0)) == []
    (old,) = coalescer.add(record("SYSCALL", 3, timestamp=106.0))
    assert old.serial == 1 and not old.complete
    assert [e.serial for e in coalescer.flush()] == [2, 3]
    assert coalescer.stats.incomplete == 3


def test_late_records_are_counted_not_made_events() -> None:
    coalescer = Coalescer()
    coalescer.add(record("SYSCALL", 1))
    coalescer.add(record("EOE", 1))
    assert coalescer.add(record("PATH", 1)) == []
    assert coalescer.stats.late == 1 and coalescer.open_events == 0


def test_memory_is_bounded() -> None:
    coalescer = Coalescer(max_open=10, max_records=3)
    for serial in range(20):
        coalescer.add(record("SYSCALL", serial))
    assert coalescer.open_events == 10 and coalescer.stats.evicted == 10
    for _ in range(5):
        coalescer.add(record("EXECVE", 19))
    (event,) = coalescer.add(record("EOE", 19))
    assert len(event.records) == 3 and event.truncated and coalescer.stats.truncated == 3


KINDS = st.sampled_from(
    ["SYSCALL", "PATH", "CWD", "EXECVE", "PROCTITLE", "EOE", "USER_LOGIN", "UNKNOWN[1400]", "X"]
)


@given(st.lists(st.tuples(KINDS, st.integers(0, 6), st.integers(0, 20)), max_size=80))
def test_every_record_is_accounted_for(stream: list[tuple[str, int, int]]) -> None:
    coalescer = Coalescer(max_age=5.0, max_open=4, max_records=5)
    events = []
    for kind, serial, second in stream:
        events += coalescer.add(record(kind, serial, float(second)))
    events += coalescer.flush()
    kept = sum(len(event.records) for event in events)
    eoe = sum(1 for kind, _, _ in stream if kind == "EOE")
    stats = coalescer.stats
    # Every record is in an event, counted as late or truncated, or is an EOE that ended one.
    assert kept + stats.late + stats.truncated + eoe >= len(stream)
    assert kept + stats.truncated <= len(stream) - eoe + stats.late
    assert all(event.records for event in events)
    assert coalescer.open_events == 0
