"""Parsers of the sensor's kernel messages: exact on real layouts, never raising on others."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from doorhunt.sensor.audit import KEY, RULES, Rule, audit_record, rule_key
from doorhunt.sensor.fanotify import FanotifyWatch
from doorhunt.sensor.proc_connector import (
    ProcEventKind,
    SequenceGaps,
    parse_datagram,
    parse_event,
)


def proc_datagram(
    what: int, body: bytes, timestamp_ns: int = 5_000_000_000, *, cpu: int = 0, seq: int = 0
) -> bytes:
    event = struct.pack("=IIQ", what, cpu, timestamp_ns) + body
    message = struct.pack("=IIIIHH", 1, 1, seq, 0, len(event), 0) + event
    return struct.pack("=IHHII", 16 + len(message), 3, 0, 0, 0) + message


def test_proc_connector_events() -> None:
    fork = parse_datagram(proc_datagram(0x1, struct.pack("=IIII", 10, 10, 11, 11)), 100.0)
    assert len(fork) == 1 and fork[0].kind is ProcEventKind.FORK
    assert (fork[0].parent_tgid, fork[0].tgid, fork[0].timestamp) == (10, 11, 105.0)
    (comm,) = parse_datagram(
        proc_datagram(0x200, struct.pack("=II", 7, 7) + b"haldrund".ljust(16, b"\0")), 0
    )
    assert comm.comm == "haldrund"
    (end,) = parse_datagram(
        proc_datagram(0x80000000, struct.pack("=IIIIII", 7, 7, 256, 17, 1, 1)), 0
    )
    assert end.kind is ProcEventKind.EXIT and end.exit_code == 256
    (thread,) = parse_datagram(proc_datagram(0x2, struct.pack("=II", 8, 7)), 0)
    assert not thread.is_process


def audit_datagram(kind: int, text: bytes, *, unicast: bool) -> bytes:
    # To the audit daemon the kernel puts the payload's length alone in nlmsg_len.
    length = len(text) + (0 if unicast else 16)
    return struct.pack("=IHHII", length, kind, 0, 0, 0) + text


def test_audit_records_whole_in_both_length_conventions() -> None:
    text = b'audit(1700000000.123:42): arch=c000003e syscall=54 key="doorhunt"'
    for unicast in (True, False):
        assert audit_record(audit_datagram(1300, text, unicast=unicast)) == (1300, text.decode())
    # The end-of-event record has an empty body, which a length taken at its word would cut.
    eoe = b"audit(1700000000.123:42): "
    assert audit_record(audit_datagram(1320, eoe, unicast=True)) == (1320, eoe.decode())
    assert audit_record(audit_datagram(2, b"\0" * 20, unicast=False)) is None  # NLMSG_ERROR
    assert audit_record(b"short") is None


@given(st.binary(max_size=300))
def test_audit_record_never_raises(data: bytes) -> None:
    record = audit_record(data)
    assert record is None or isinstance(record[1], str)


def test_lost_events_are_counted_from_per_cpu_sequence_numbers() -> None:
    gaps = SequenceGaps()
    exec_body = struct.pack("=II", 7, 7)
    for cpu, seq in [(0, 10), (1, 500), (0, 11), (1, 501), (0, 15), (1, 0xFFFFFFFF), (1, 1)]:
        parse_datagram(proc_datagram(0x2, exec_body, cpu=cpu, seq=seq), 0, gaps)
    # cpu 0 skipped 12-14; cpu 1 skipped 502..0xFFFFFFFE, then 0 (wrapping round)
    assert gaps.lost == 3 + (0xFFFFFFFF - 502) + 1
    # Another listener's subscription acknowledgement is not one of the counted events.
    before = gaps.lost
    parse_datagram(proc_datagram(0x0, b"\0" * 8, cpu=0xFFFFFFFF, seq=0), 0, gaps)
    parse_datagram(proc_datagram(0x2, exec_body, cpu=0, seq=16), 0, gaps)
    assert gaps.lost == before


@given(st.binary(max_size=200), st.floats(allow_nan=False, allow_infinity=False))
def test_proc_parsers_never_raise(data: bytes, offset: float) -> None:
    parse_datagram(data, offset)
    parse_event(data, offset)


def test_audit_rules_encode_as_auditctl_reads_them() -> None:
    for rule in RULES:
        encoded = rule.encode("x86_64")
        assert encoded is not None and rule_key(encoded) == KEY
    assert Rule(("utimes",)).encode("aarch64") is None  # no utimes on arm64
    assert Rule(("socket",)).encode("sparc") is None


@given(st.binary(max_size=2000))
def test_rule_key_never_raises(data: bytes) -> None:
    rule_key(data)


def fanotify_event(mask: int, pid: int, records: list[tuple[int, bytes, str]]) -> bytes:
    info = b""
    for kind, handle, name in records:
        body = b"\0" * 8 + struct.pack("=I", len(handle) - 4) + handle + name.encode() + b"\0"
        body += b"\0" * (-(4 + len(body)) % 4)
        info += struct.pack("=BBH", kind, 0, 4 + len(body)) + body
    return struct.pack("=IBBHQii", 24 + len(info), 3, 0, 24, mask, -1, pid) + info


class _Watch(FanotifyWatch):
    def __init__(self) -> None:  # no kernel object: only the parser is under test
        self.directories = {struct.pack("=i", 1) + b"handle-of-shm": "/dev/shm"}


def test_fanotify_records() -> None:
    watch = _Watch()
    handle = struct.pack("=i", 1) + b"handle-of-shm"
    data = (
        fanotify_event(0x100 | 0x2, 42, [(2, handle, "x")])
        + fanotify_event(0x10000000, 43, [(10, handle, "a"), (12, handle, "b")])
        + fanotify_event(0x200, 44, [(2, b"\x01\x00\x00\x00unknown-dir", "y")])
    )
    events = list(watch.parse(data))
    assert [(e.action, e.path, e.pid) for e in events] == [
        ("creation", "/dev/shm/x", 42),
        ("modification", "/dev/shm/x", 42),
        ("rename", "/dev/shm/b", 43),
    ]
    assert events[2].old_path == "/dev/shm/a"


@given(st.binary(max_size=400))
def test_fanotify_parser_never_raises(data: bytes) -> None:
    list(_Watch().parse(data))
