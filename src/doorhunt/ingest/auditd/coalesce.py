"""Grouping audit records into events: the records of one syscall share a serial number.

The kernel writes a syscall's records (SYSCALL, EXECVE, CWD, PATH, SOCKADDR, PROCTITLE, ...)
under one `audit(TIME:SERIAL)` and ends them with EOE. Records may interleave with other
events', arrive out of order (auditd's dispatcher, merged logs), or never get their EOE (a
dropped record, a log cut by rotation); so an event also ends when it is `max_age` seconds
older than the newest record seen, when too many events are open, or at `flush()`.
Memory is bounded by `max_open` events of at most `max_records` records each.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Final

from doorhunt.ingest.auditd.records import RECORD_NUMBERS, AuditRecord

_Key = tuple[str | None, int, float]

# Records below 1300 (user-space messages, LOGIN) and from 2100 on (user anomaly messages)
# are events of their own unless their serial is already open (libaudit.h's ranges; Elastic's
# go-libaudit reassembler makes the same split).
_FIRST_KERNEL_EVENT: Final = 1300
_FIRST_USER_MESSAGE_2: Final = 2100


@dataclass(slots=True)
class AuditEvent:
    """The records of one audit event, in arrival order; `complete` when it ended with EOE
    (or is a record that stands alone)."""

    serial: int
    timestamp: float
    records: list[AuditRecord]
    complete: bool = True
    truncated: bool = False

    @property
    def node(self) -> str | None:
        return self.records[0].node if self.records else None

    def first(self, record_type: str) -> AuditRecord | None:
        for record in self.records:
            if record.type == record_type:
                return record
        return None

    def all(self, record_type: str) -> list[AuditRecord]:
        return [record for record in self.records if record.type == record_type]


@dataclass(slots=True)
class CoalescerStats:
    events: int = 0
    incomplete: int = 0  # ended by age, size or flush rather than EOE
    late: int = 0  # records for an event already ended by EOE
    truncated: int = 0  # records dropped from events over max_records
    evicted: int = 0  # events ended early because max_open were open


class Coalescer:
    """Turns a stream of records into events (see the module docstring)."""

    def __init__(
        self, *, max_age: float = 5.0, max_open: int = 4096, max_records: int = 1024
    ) -> None:
        self.max_age = max_age
        self.max_open = max_open
        self.max_records = max_records
        self.stats = CoalescerStats()
        self._open: OrderedDict[_Key, AuditEvent] = OrderedDict()
        self._ended: deque[_Key] = deque()
        self._ended_set: set[_Key] = set()
        self._newest = float("-inf")

    def add(self, record: AuditRecord) -> list[AuditEvent]:
        """Events completed by this record (by EOE, or by age or size limits)."""
        key = (record.node, record.serial, record.timestamp)
        done: list[AuditEvent] = []
        self._newest = max(self._newest, record.timestamp)
        if key in self._ended_set:
            self.stats.late += 1
        elif record.type == "EOE":
            event = self._open.pop(key, None)
            if event is not None:
                self._finish(key, event, done, complete=True)
        elif key not in self._open and _stands_alone(record.type):
            self.stats.events += 1
            done.append(AuditEvent(record.serial, record.timestamp, [record]))
        else:
            event = self._open.get(key)
            if event is None:
                event = AuditEvent(record.serial, record.timestamp, [], complete=False)
                self._open[key] = event
            if len(event.records) < self.max_records:
                event.records.append(record)
            else:
                event.truncated = True
                self.stats.truncated += 1
        self._expire(done)
        return done

    def flush(self) -> list[AuditEvent]:
        """End every open event (at the end of the input)."""
        done: list[AuditEvent] = []
        while self._open:
            key, event = self._open.popitem(last=False)
            self._finish(key, event, done, complete=False)
        return done

    @property
    def open_events(self) -> int:
        return len(self._open)

    def _expire(self, done: list[AuditEvent]) -> None:
        horizon = self._newest - self.max_age
        while self._open:
            key, event = next(iter(self._open.items()))
            if event.timestamp >= horizon and len(self._open) <= self.max_open:
                break
            if len(self._open) > self.max_open:
                self.stats.evicted += 1
            del self._open[key]
            self._finish(key, event, done, complete=False)

    def _finish(
        self, key: _Key, event: AuditEvent, done: list[AuditEvent], *, complete: bool
    ) -> None:
        event.complete = complete
        self.stats.events += 1
        if not complete:
            self.stats.incomplete += 1
        done.append(event)
        # Remember ended events for a while, so a straggler is counted, not made a new event.
        self._ended.append(key)
        self._ended_set.add(key)
        if len(self._ended) > self.max_open:
            self._ended_set.discard(self._ended.popleft())


def _stands_alone(record_type: str) -> bool:
    number = RECORD_NUMBERS.get(record_type)
    if number is None and record_type.startswith("UNKNOWN[") and record_type.endswith("]"):
        digits = record_type[8:-1]  # auditd's name for a type it does not know: UNKNOWN[1341]
        number = int(digits) if digits.isdigit() else None
    if number is None:
        return False
    return number < _FIRST_KERNEL_EVENT or number >= _FIRST_USER_MESSAGE_2


__all__ = ["AuditEvent", "Coalescer", "CoalescerStats"]
