"""A writer in its own process, for the concurrency and crash tests.

    python -m tests.store.writer_process STORE RATE SECONDS FLUSH COMPACT

Appends documents numbered 0, 1, 2, ... (`event.sequence`) at RATE a second for SECONDS
(0: until killed), with @timestamp the wall-clock time of the append, then closes. Prints
`ready` once the writer lock is held.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from doorhunt.ecs import new_event
from doorhunt.store import Store


def document(sequence: int) -> dict[str, object]:
    return new_event(
        kind="event",
        category="process",
        type="start",
        action="exec",
        timestamp=datetime.now(UTC),
        host={"name": f"host-{sequence % 3}"},
        process={"pid": 1000 + sequence, "name": "worker", "executable": "/usr/bin/worker"},
        **{"event.sequence": sequence},
    )


def main() -> None:
    directory, rate, seconds, flush, compact = sys.argv[1:6]
    writer = Store(Path(directory)).writer(
        flush_interval=float(flush), compact_interval=float(compact) or None
    )
    print("ready", flush=True)
    interval = 1.0 / float(rate)
    start = time.monotonic()
    sequence = 0
    while float(seconds) == 0 or time.monotonic() - start < float(seconds):
        writer.append(document(sequence))
        sequence += 1
        time.sleep(max(0.0, start + sequence * interval - time.monotonic()))
    writer.close()
    print(f"done {sequence}", flush=True)


if __name__ == "__main__":
    main()
