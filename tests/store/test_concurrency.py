"""Real processes: readers beside a writer that compacts, visibility delay, and kill -9.

The writer runs `tests/store/writer_process.py` in its own session; it is ended by its pid
only (TESTING.md, "Processes you start, ended by pid").
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from doorhunt.store import Store
from doorhunt.store.segments import SEGMENTS_DIRECTORY

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@contextmanager
def writer_process(
    directory: Path, *, rate: int, seconds: float, flush: float = 0.2, compact: float = 0.0
) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.store.writer_process", str(directory), str(rate),
         str(seconds), str(flush), str(compact)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        yield process
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def sequences(store: Store) -> list[int]:
    with store.reader() as reader:
        rows = reader.sql("SELECT json_extract(doc, '$.event.sequence')::BIGINT FROM events")
    return sorted(int(row[0]) for row in rows)  # type: ignore[call-overload]


def test_readers_see_a_growing_store_without_duplicates_while_it_compacts(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    seen = []
    with writer_process(store.directory, rate=2000, seconds=4, flush=0.1, compact=0.3) as writer:
        with store.reader() as reader:
            while writer.poll() is None:
                rows = reader.sql(
                    "SELECT count(*), count(DISTINCT json_extract(doc, '$.event.sequence')) "
                    "FROM events"
                )
                total, distinct = rows[0]
                assert total == distinct  # never a segment and its merged copy at once
                seen.append(total)
                assert reader.events(host="host-1", limit=5) is not None
        assert writer.wait(timeout=30) == 0
    assert seen == sorted(seen) and seen[-1] > 0  # only ever grows
    final = sequences(store)
    assert final == list(range(len(final)))  # nothing lost, nothing twice
    assert len(final) > 4000


def test_new_documents_are_visible_within_two_seconds(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    with (
        writer_process(store.directory, rate=50, seconds=0, flush=1.0) as _,
        store.reader() as reader,
    ):
        delays = []
        for _ in range(3):
            started = datetime.now(UTC)
            while True:
                newest = reader.events(limit=1)
                if (
                    newest
                    and str(newest[0]["@timestamp"])
                    >= started.strftime("%Y-%m-%dT%H:%M:%S.%f")[:23]
                ):
                    break
                assert (datetime.now(UTC) - started).total_seconds() < 5
                time.sleep(0.05)
            delays.append((datetime.now(UTC) - started).total_seconds())
    assert max(delays) <= 2.0, delays


def test_kill_9_loses_at_most_the_last_flush_interval(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    flush = 0.5
    with writer_process(store.directory, rate=500, seconds=0, flush=flush) as writer:
        deadline = time.monotonic() + 20
        while store.info().events < 1000:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(0.3)  # kill somewhere between two flushes
        killed_at = datetime.now(UTC)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=10)
    # The store is readable; what was published is a gap-free prefix of what was appended.
    found = sequences(store)
    assert found == list(range(len(found)))
    with store.reader() as reader:
        newest = reader.events(limit=1)[0]
    newest_at = datetime.fromisoformat(str(newest["@timestamp"]))
    lost = (killed_at - newest_at).total_seconds()
    assert lost <= flush + 0.5, f"lost the last {lost:.2f} s of documents"
    # The lock died with the writer; a new writer cleans the dead one's temporary files.
    stray = next((store.directory / SEGMENTS_DIRECTORY).iterdir()) / ".tmp-999999999-x.parquet"
    stray.write_bytes(b"partial")
    assert store.writer_pid is None
    with store.writer(compact_interval=None) as writer2:
        writer2.flush()
    assert not stray.exists()
    assert store.info().skipped == ()
