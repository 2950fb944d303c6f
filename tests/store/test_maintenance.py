"""Compaction keeps every answer the same; damaged segments are skipped, never fatal."""

from __future__ import annotations

import json
import logging
import os
import shutil
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from doorhunt.store import Store, compact
from doorhunt.store.segments import (
    CORRUPT_DIRECTORY,
    REPLACES_KEY,
    SEGMENTS_DIRECTORY,
    parse_name,
    segment_name,
)
from tests.store.conftest import BASE, event


def segment_files(store: Store) -> list[Path]:
    return sorted((store.directory / SEGMENTS_DIRECTORY).glob("*/*.parquet"))


def write_batches(store: Store, batches: int, size: int, *, days: int = 1) -> int:
    number = 0
    with store.writer(compact_interval=None) as writer:
        for _ in range(batches):
            for _ in range(size):
                day = number % days
                writer.append(
                    event(
                        number,
                        host=f"h{number % 4}",
                        when=BASE + timedelta(days=day, seconds=number),
                    )
                )
                number += 1
            writer.flush()
    return number


def everything(store: Store) -> list[object]:
    with store.reader() as reader:
        return [doc["event"]["sequence"] for doc in reader.events(limit=100_000)]  # type: ignore[index]


def test_full_compaction_keeps_every_answer(store: Store) -> None:
    total = write_batches(store, batches=6, size=50, days=2)
    before = everything(store)
    with store.reader() as reader:
        host_before = reader.events(host="h1", limit=1000)
    assert len(segment_files(store)) == 12
    result = store.compact(full=True)
    assert (result.merged, result.written, result.events) == (12, 2, total)
    assert len(segment_files(store)) == 2
    assert everything(store) == before
    with store.reader() as reader:
        assert reader.events(host="h1", limit=1000) == host_before
    assert store.compact(full=True).written == 0  # nothing left to do


def test_automatic_compaction_merges_writer_segments(store: Store) -> None:
    write_batches(store, batches=5, size=10)
    result = compact(store.directory, min_age=0)
    assert (result.merged, result.written) == (5, 1)
    (merged,) = segment_files(store)
    assert merged.name.startswith("c_")
    # merged segments are sorted by host, then time
    table = pq.read_table(merged, columns=["host_name", "timestamp"])
    rows = list(zip(table["host_name"].to_pylist(), table["timestamp"].to_pylist(), strict=True))
    assert rows == sorted(rows)


def test_compacted_segments_merge_again_by_size_tier(store: Store) -> None:
    for _ in range(8):
        write_batches(store, batches=2, size=5)
        compact(store.directory, min_age=0)
    assert len(segment_files(store)) == 8
    compact(store.directory, min_age=0)
    assert len(segment_files(store)) == 1
    assert len(everything(store)) == 80


def test_a_compaction_that_died_before_deleting_leaves_no_duplicates(store: Store) -> None:
    """The merged segment names its inputs: readers ignore them from the moment it appears."""
    write_batches(store, batches=3, size=10)
    inputs = segment_files(store)
    keep = [path.read_bytes() for path in inputs]
    store.compact(full=True)
    for path, data in zip(inputs, keep, strict=True):
        path.write_bytes(data)  # as if the compactor had been killed before its deletes
    assert len(segment_files(store)) == 4
    info = store.info()
    assert (info.segments, info.events, info.superseded) == (1, 30, 3)
    assert sorted(everything(store)) == list(range(30))
    compact(store.directory)  # the next compaction deletes them
    assert len(segment_files(store)) == 1


def test_the_replaced_list_is_in_the_footer(store: Store) -> None:
    write_batches(store, batches=2, size=3)
    names = sorted(path.name for path in segment_files(store))
    store.compact(full=True)
    (merged,) = segment_files(store)
    metadata = pq.read_metadata(merged).metadata
    assert json.loads(metadata[REPLACES_KEY]) == names


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: b"PAR1" + os.urandom(300) + (100).to_bytes(4, "little") + b"PAR1", id="garbage"),
        pytest.param(lambda data: data[:-12] + (len(data) * 2).to_bytes(4, "little") + b"PAR1", id="footer-length"),
        pytest.param(lambda data: b"NOPE" + data[4:], id="no-magic"),
    ],
)  # fmt: skip
def test_a_damaged_segment_is_skipped_with_a_warning(
    store: Store, damage: object, caplog: pytest.LogCaptureFixture
) -> None:
    write_batches(store, batches=3, size=10)
    victim = segment_files(store)[1]
    victim.write_bytes(damage(victim.read_bytes()))  # type: ignore[operator]
    with caplog.at_level(logging.WARNING, logger="doorhunt.store"), store.reader() as reader:
        assert sorted(doc["event"]["sequence"] for doc in reader.events(limit=100)) == [  # type: ignore[index]
            *range(10),
            *range(20, 30),
        ]
        assert [skipped.path for skipped in reader.segments().skipped] == [victim]
        assert reader.sql("SELECT count(*) FROM events") == [(20,)]
    assert "skipping corrupt segment" in caplog.text
    info = store.info()
    assert info.events == 20 and len(info.skipped) == 1
    # compaction sets the damaged file aside as evidence and merges the rest
    result = store.compact(full=True)
    assert result.quarantined == 1
    assert len(list((store.directory / CORRUPT_DIRECTORY).iterdir())) == 1
    assert store.info().skipped == ()
    assert len(everything(store)) == 20


def test_damaged_pages_behind_a_sound_footer_are_found_by_the_query(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    write_batches(store, batches=2, size=2000)
    victim = segment_files(store)[0]
    data = bytearray(victim.read_bytes())
    middle = len(data) // 3
    data[middle : middle + 2000] = os.urandom(2000)  # the column chunks, not the footer
    victim.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="doorhunt.store"), store.reader() as reader:
        found = reader.events(limit=10_000)
        assert len(found) == 2000
        assert sorted(doc["event"]["sequence"] for doc in found) == list(range(2000, 4000))  # type: ignore[index]
    assert "damaged" in caplog.text or "unreadable" in caplog.text


def test_files_that_are_not_segments_are_ignored(store: Store) -> None:
    write_batches(store, batches=1, size=3)
    day = segment_files(store)[0].parent
    (day / "notes.txt").write_text("hello")
    (day / ".tmp-1-w_1_2_3_ab.parquet").write_bytes(b"half a file")
    shutil.copy(segment_files(store)[0], day / "copy.parquet")
    assert store.info().events == 3


def test_segment_names_round_trip() -> None:
    name = segment_name("w", 10, 20, 5)
    parsed = parse_name(Path("/s/2025-05-01") / name)
    assert parsed is not None
    assert (parsed.kind, parsed.first, parsed.last, parsed.rows, parsed.day) == (
        "w",
        10,
        20,
        5,
        "2025-05-01",
    )
    assert parse_name(Path("x.parquet")) is None
