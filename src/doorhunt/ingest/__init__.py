"""Reading recorded events into the store or Elasticsearch: auditd logs and ECS NDJSON.

`doorhunt.ingest.auditd` turns audit records into ECS documents (and serves the live sensor
too); `pipeline` runs a whole ingest with its report; `files` reads plain, compressed and
rotated files. docs/ingest.md documents the mapping.
"""

from __future__ import annotations

from doorhunt.ingest.files import FileDamage, UnreadableInputError, order_rotated
from doorhunt.ingest.pipeline import (
    DocumentSink,
    IngestProblem,
    IngestReport,
    ingest_auditd,
    ingest_ecs,
)

__all__ = [
    "DocumentSink",
    "FileDamage",
    "IngestProblem",
    "IngestReport",
    "UnreadableInputError",
    "ingest_auditd",
    "ingest_ecs",
    "order_rotated",
]
