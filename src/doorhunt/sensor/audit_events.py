"""The audit source of the sensor: rules in, records out, coalesced and mapped to ECS by the
same code that ingests audit.log files (doorhunt.ingest.auditd), then completed with what only a
live sensor can add: the process table's entity ids and ancestry, the filter a process just
attached (read from its socket), the name it just took, the time it just set."""

from __future__ import annotations

import os
import socket
import time
from typing import TYPE_CHECKING

from doorhunt.bpf.codec import from_bytes
from doorhunt.bpf.explain import explain
from doorhunt.bpf.interpreter import Link
from doorhunt.bpf.program import BpfProgramError, Program
from doorhunt.ecs import format_epoch, get_field
from doorhunt.host.socketfilters import FilterState, duplicate_descriptor, get_filter
from doorhunt.ingest.auditd import Coalescer, parse_netlink, to_ecs
from doorhunt.sensor.audit import AuditClient, AuditStream, install_rules, remove_rules

if TYPE_CHECKING:
    from doorhunt.sensor.pipeline import Sensor

RECENT_SECONDS = 120  # utimensat that leaves a time this close to now is an ordinary touch


def _attached_filter(pid: int, fd: int) -> tuple[Program, Link] | None:
    """The classic filter on socket `fd` of `pid`, and the link layer it reads (None when the
    socket is gone, not readable, or carries no classic filter)."""
    try:
        local = duplicate_descriptor(pid, fd)
    except OSError:
        return None
    try:
        read = get_filter(local)
        if read.state is not FilterState.CLASSIC or read.program is None:
            return None
        # A SOCK_DGRAM packet socket or an inet raw socket hands the filter the IP header
        # (BPFDOOR.md §4); a SOCK_RAW packet socket, BPFDoor's choice, the Ethernet header.
        kind = socket.socket(fileno=os.dup(local))
        cooked = kind.family != socket.AF_PACKET or kind.type == socket.SOCK_DGRAM
        kind.close()
        return from_bytes(read.program), Link.IP if cooked else Link.ETHERNET
    except (OSError, BpfProgramError):
        return None
    finally:
        os.close(local)


class AuditSource:
    def __init__(self, sensor: Sensor) -> None:
        self.sensor = sensor
        self.client = AuditClient()
        self.rules = install_rules(self.client)
        try:
            self.stream = AuditStream()
        except Exception:
            remove_rules(self.client)
            self.client.close()
            raise
        self.coalescer = Coalescer()

    @property
    def lost(self) -> int:
        return self.stream.lost

    def fileno(self) -> int:
        return self.stream.fileno()

    def read(self) -> None:
        for kind, text in self.stream.read():
            record = parse_netlink(kind, text)
            if record is None:
                continue
            for event in self.coalescer.add(record):
                document = to_ecs(event, self.sensor.host)
                if document is not None and self.complete(document):
                    self.sensor.emit(document, "audit")

    def complete(self, document: dict[str, object]) -> bool:
        """Add what the live host knows; False drops the event (an ordinary touch)."""
        pid = get_field(document, "process.pid")
        if pid == self.sensor.pid:
            return False  # the sensor's own connections (to Elasticsearch, say)
        action = get_field(document, "event.action")
        table = self.sensor.table
        entry = table.get(pid) if isinstance(pid, int) else None
        if entry is not None:
            known = table.process_fields(entry)
            process = document.setdefault("process", {})
            assert isinstance(process, dict)
            for key in ("entity_id", "parent", "Ext", "start"):
                if key in known:
                    process[key] = known[key]
        if action == "filter_attached" and isinstance(pid, int):
            fd = get_field(document, "doorhunt.socket.fd")
            if isinstance(fd, int):
                self._filter(document, pid, fd)
        elif action == "timestomp":
            return self._timestomp(document)
        return True

    def _filter(self, document: dict[str, object], pid: int, fd: int) -> None:
        attached = _attached_filter(pid, fd)
        if attached is None:
            return
        extensions = document.setdefault("doorhunt", {})
        assert isinstance(extensions, dict)
        bpf = extensions.setdefault("bpf", {})
        assert isinstance(bpf, dict)
        bpf.update(explain(*attached).ecs_bpf_fields())

    def _timestomp(self, document: dict[str, object]) -> bool:
        path = get_field(document, "file.path")
        if not isinstance(path, str):
            return True
        try:
            modified = os.stat(path).st_mtime
        except OSError:
            return True
        if modified > time.time() - RECENT_SECONDS:
            return False
        file_fields = document.setdefault("file", {})
        assert isinstance(file_fields, dict)
        file_fields["mtime"] = format_epoch(modified)
        return True

    def close(self) -> None:
        for event in self.coalescer.flush():
            document = to_ecs(event, self.sensor.host)
            if document is not None and self.complete(document):
                self.sensor.emit(document, "audit")
        self.stream.close()
        remove_rules(self.client)
        self.client.close()


__all__ = ["AuditSource"]
