"""The store in one process: writing, every filter of `events`, SQL, info, locks, retention."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from doorhunt.ecs import assert_valid
from doorhunt.store import Retention, Store, StoreLockedError, StoreQueryError, prune
from doorhunt.store.segments import SEGMENTS_DIRECTORY
from tests.store.conftest import BASE, event


def segment_files(store: Store) -> list[Path]:
    return sorted((store.directory / SEGMENTS_DIRECTORY).glob("*/*.parquet"))


def fill(store: Store, documents: list[dict[str, object]]) -> None:
    with store.writer(compact_interval=None) as writer:
        writer.extend(documents)


def sequences(documents: list[dict[str, object]]) -> list[object]:
    return [doc["event"]["sequence"] for doc in documents]  # type: ignore[index]


def test_documents_come_back_exactly_newest_first(store: Store) -> None:
    documents = [event(i, process={"pid": i, "args": ["sh", "-c", f"echo {i}"]}) for i in range(50)]
    fill(store, documents)
    with store.reader() as reader:
        found = reader.events(limit=1000)
    assert found == list(reversed(documents))
    for document in found:
        assert_valid(document, require_core=True)


def test_filters_combine(store: Store) -> None:
    fill(
        store,
        [
            event(0, host="web-1", category="process", action="exec"),
            event(1, host="web-2", category="process", action="exec"),
            event(2, host="web-1", category="file", action="creation", file={"path": "/run/x.pid"}),
            event(3, host="web-1", category="network", action="connection_attempted",
                  destination={"ip": "203.0.113.7", "port": 443}),
        ],
    )  # fmt: skip
    with store.reader() as reader:
        assert sequences(reader.events(host="web-1")) == [3, 2, 0]
        assert sequences(reader.events(category="process")) == [1, 0]
        assert sequences(reader.events(host="web-1", action="exec")) == [0]
        assert sequences(reader.events(where=[("destination.port", "443")])) == [3]
        assert sequences(reader.events(where=[("file.path", "/run/*.pid")])) == [2]
        assert sequences(reader.events(since=BASE + timedelta(seconds=1))) == [3, 2, 1]
        assert sequences(reader.events(until=BASE + timedelta(seconds=1))) == [0]
        assert sequences(reader.events(newest_first=False, limit=2)) == [0, 1]
        assert reader.count(host="web-1") == 3


def test_where_reaches_any_field_and_matches_array_elements(store: Store) -> None:
    fill(
        store,
        [
            event(0, process={"args": ["/dev/shm/kdmtmpflush", "--init"]}),
            event(1, process={"args": ["/usr/sbin/sshd", "-D"]}, user={"id": "0"}),
            event(2, **{"process.Ext.ancestry": ["a", "b"]}),
        ],
    )
    with store.reader() as reader:
        assert sequences(reader.events(where=[("process.args", "--init")])) == [0]
        assert sequences(reader.events(where=[("process.args", "/dev/shm/*")])) == [0]
        assert sequences(reader.events(where=[("user.id", "0")])) == [1]
        assert sequences(reader.events(where=[("process.Ext.ancestry", "b")])) == [2]
        # exact and case-sensitive, as Elasticsearch's term query
        assert reader.events(where=[("process.args", "--INIT")]) == []
        assert reader.events(where=[("process.args", "--ini")]) == []
        # `%` and `_` are literal characters, not SQL wildcards
        assert reader.events(where=[("process.args", "--i_it")]) == []


def test_bad_filters_are_located_errors(store: Store) -> None:
    fill(store, [event(0)])
    with store.reader() as reader:
        with pytest.raises(StoreQueryError, match=r"process\.pid holds integers"):
            reader.events(where=[("process.pid", "abc")])
        with pytest.raises(StoreQueryError, match="not a field name"):
            reader.events(where=[("process.pid') OR 1=1 --", "1")])


def test_limit_walks_days_newest_first(store: Store) -> None:
    documents = [event(i, when=BASE + timedelta(days=i // 10, minutes=i)) for i in range(40)]
    fill(store, documents)
    assert len({path.parent.name for path in segment_files(store)}) == 4
    with store.reader() as reader:
        assert sequences(reader.events(limit=15)) == list(range(39, 24, -1))
        assert sequences(reader.events(limit=3, newest_first=False)) == [0, 1, 2]


def test_timestamps_in_other_forms_are_read(store: Store) -> None:
    fill(
        store,
        [
            {**event(0), "@timestamp": "2025-05-01T21:00:00+09:00"},  # = 12:00Z
            {**event(1), "@timestamp": 1746100800500},  # epoch milliseconds = 12:00:00.5Z
            {**event(2), "@timestamp": "2025-05-01T12:00:01.123456789Z"},
        ],
    )
    with store.reader() as reader:
        rows = reader.sql("SELECT timestamp FROM events ORDER BY timestamp")
    assert [row[0] for row in rows] == [
        datetime(2025, 5, 1, 12, 0, tzinfo=UTC),
        datetime(2025, 5, 1, 12, 0, 0, 500000, tzinfo=UTC),
        datetime(2025, 5, 1, 12, 0, 1, 123456, tzinfo=UTC),
    ]


def test_dotted_keys_are_stored_nested(store: Store) -> None:
    fill(store, [{**event(0), "process.pid": 7, "file.path": "/x"}])
    with store.reader() as reader:
        (found,) = reader.events(where=[("process.pid", "7")])
    assert found["process"] == {"pid": 7}
    assert found["file"] == {"path": "/x"}


def test_undecodable_bytes_are_kept_escaped(store: Store) -> None:
    name = b"kdm\xfftmp".decode("utf-8", "surrogateescape")
    fill(store, [event(0, process={"name": name, "args": [name]})])
    with store.reader() as reader:
        (found,) = reader.events(where=[("process.name", "kdm\\xfftmp")])
        assert found["process"] == {"name": "kdm\\xfftmp", "args": ["kdm\\xfftmp"]}
        assert reader.events(where=[("process.args", "kdm\\xfftmp")])


def test_sql_over_the_events_view(store: Store) -> None:
    fill(store, [event(i, host=f"web-{i % 2}", process={"pid": i}) for i in range(10)])
    with store.reader() as reader:
        names, rows = reader.sql_with_columns(
            "SELECT host_name, count(*) AS n, max(process_pid) FROM events "
            "WHERE event_category @> ['process'] GROUP BY 1 ORDER BY 1"
        )
        assert names == ["host_name", "n", "max(process_pid)"]
        assert rows == [("web-0", 5, 8), ("web-1", 5, 9)]
        rows = reader.sql(
            "SELECT json_extract_string(doc, '$.process.pid') FROM events WHERE process_pid = ?",
            [3],
        )
        assert rows == [("3",)]


def test_sql_on_an_empty_store_has_the_columns(store: Store) -> None:
    with store.reader() as reader:
        names, rows = reader.sql_with_columns("SELECT * FROM events")
    assert rows == []
    assert names[:3] == ["timestamp", "ingested", "host_name"] and names[-1] == "doc"


@pytest.mark.parametrize(
    "query",
    [
        "COPY (SELECT 1) TO '/tmp/doorhunt-test.csv'",
        "SELECT 1; SELECT 2",
        "ATTACH '/tmp/x.db'",
        "SET enable_external_access = true",
    ],
)
def test_sql_runs_one_select_only(store: Store, query: str) -> None:
    with store.reader() as reader, pytest.raises(StoreQueryError):
        reader.sql(query)


def test_sql_cannot_read_outside_the_store(store: Store) -> None:
    fill(store, [event(0)])
    with store.reader() as reader, pytest.raises(StoreQueryError, match="Permission"):
        reader.sql("SELECT * FROM read_csv('/etc/passwd')")


def test_info_describes_the_store(store: Store) -> None:
    fill(store, [event(i, when=BASE + timedelta(days=i)) for i in range(3)])
    info = store.info()
    assert (info.segments, info.events) == (3, 3)
    assert info.first == BASE and info.last == BASE + timedelta(days=2)
    assert [day.day for day in info.days] == ["2025-05-01", "2025-05-02", "2025-05-03"]
    assert info.bytes == sum(path.stat().st_size for path in segment_files(store))
    assert info.writer_pid is None and info.skipped == ()
    assert orjson.loads(orjson.dumps(info.to_json()))["events"] == 3


def test_one_writer_at_a_time(store: Store) -> None:
    with store.writer(compact_interval=None) as first:
        assert store.writer_pid is not None
        with pytest.raises(StoreLockedError, match="one writer at a time"):
            store.writer()
        # ingest writes beside the sensor: segment names never collide
        with store.writer(exclusive=False) as side:
            side.append(event(1))
        first.append(event(0))
    assert store.writer_pid is None
    assert store.info().events == 2
    with store.writer(compact_interval=None):
        pass  # the lock was released


def test_writer_counts(store: Store) -> None:
    with store.writer(compact_interval=None, max_pending=5) as writer:
        writer.extend(event(i) for i in range(8))
        cycle: dict[str, object] = {}
        cycle["self"] = cycle
        writer.append({**event(9), "loop": cycle})
        stats = writer.stats
        assert (stats.pending, stats.dropped) == (5, 4)
        writer.flush()
        assert writer.stats.written == 5 and writer.stats.segments == 1
    with pytest.raises(ValueError, match="closed"):
        writer.append(event(10))


def test_writer_retries_after_a_disk_error(store: Store) -> None:
    with store.writer(compact_interval=None) as writer:
        writer.append(event(0))
        # A file where the segments directory should be fails every write, even as root.
        blocker = store.directory / SEGMENTS_DIRECTORY
        blocker.write_bytes(b"")
        writer.flush()
        assert writer.stats.errors == 1 and writer.stats.pending == 1
        assert writer.stats.last_error
        blocker.unlink()
        writer.flush()
        assert writer.stats.written == 1 and writer.stats.pending == 0


def test_prune_by_age_and_size(store: Store) -> None:
    fill(store, [event(i, when=BASE + timedelta(days=i)) for i in range(5)])
    now = BASE + timedelta(days=4, hours=1)
    result = prune(store.directory, max_age=timedelta(days=2), now=now)
    assert (result.removed, result.events) == (3, 3)  # newest event older than 2 days
    sizes = [path.stat().st_size for path in segment_files(store)]
    result = prune(store.directory, max_bytes=max(sizes))
    assert result.removed == 1
    with store.reader() as reader:
        assert sequences(reader.events()) == [4]


def test_writer_applies_retention(store: Store, tmp_path: Path) -> None:
    old = [event(i, when=datetime.now(UTC) - timedelta(days=40 + i)) for i in range(3)]
    fill(store, old)
    writer = store.writer(compact_interval=0.2, retention=Retention(max_age=timedelta(days=30)))
    writer.append(event(9, when=datetime.now(UTC)))
    writer.flush()
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while store.info().events != 1 and datetime.now(UTC) < deadline:
        writer.flush()
    writer.close()
    assert store.info().events == 1


def test_a_reader_of_a_missing_store_sees_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(tmp_path / "nothing-here")
    with caplog.at_level(logging.WARNING), store.reader() as reader:
        assert reader.events() == []
        assert reader.count() == 0
    assert store.info().segments == 0
    assert not store.directory.exists()
