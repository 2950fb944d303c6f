"""Linux audit records (audit.log lines and audit netlink messages) into ECS documents.

The same parser serves `doorhunt ingest --format auditd` and the live sensor's audit source:

    record = parse_line(line)                # or parse_netlink(message_type, text)
    for event in coalescer.add(record):      # records grouped by serial, ended by EOE
        document = to_ecs(event, host)       # None for what doorhunt does not map

The mapping is documented in docs/ingest.md.
"""

from __future__ import annotations

from doorhunt.ingest.auditd.coalesce import AuditEvent, Coalescer, CoalescerStats
from doorhunt.ingest.auditd.ecs import (
    EVENT_DATASET,
    EVENT_MODULE,
    MAPPERS,
    Lineage,
    SocketAddress,
    execve_arguments,
    parse_sockaddr,
    syscall_of,
    to_ecs,
)
from doorhunt.ingest.auditd.records import (
    RECORD_NUMBERS,
    RECORD_TYPES,
    AuditRecord,
    decode_text,
    parse_line,
    parse_netlink,
)

__all__ = [
    "EVENT_DATASET",
    "EVENT_MODULE",
    "MAPPERS",
    "RECORD_NUMBERS",
    "RECORD_TYPES",
    "AuditEvent",
    "AuditRecord",
    "Coalescer",
    "CoalescerStats",
    "Lineage",
    "SocketAddress",
    "decode_text",
    "execve_arguments",
    "parse_line",
    "parse_netlink",
    "parse_sockaddr",
    "syscall_of",
    "to_ecs",
]
