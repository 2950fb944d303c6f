"""The timeline: simple terms and EQL, the filters beside them, histogram, sorting, paging,
the index shortcut (same answers as plain SQL), correlation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorhunt.investigate import (
    InvestigationError,
    SegmentIndex,
    TimelineQuery,
    correlate,
    parse_query,
    timeline,
)
from doorhunt.investigate.timeline import (
    Term,
    _indexed_page,
    _indexed_pieces,
    choose_width,
    scoped_sql,
)
from doorhunt.store import StoreReader
from tests.investigate.fixtures import HOSTILE_NAME, T0, Fixture

DAY = TimelineQuery(since=T0 - timedelta(hours=2), until=T0 + timedelta(hours=22))


def query(**changes: object) -> TimelineQuery:
    return TimelineQuery(**{"since": DAY.since, "until": DAY.until, **changes})  # type: ignore[arg-type]


def test_parsing() -> None:
    assert parse_query("  ").kind == "all"
    assert parse_query('process where process.name == "x"').kind == "eql"
    assert parse_query("sequence by host.name [process where true] [file where true]").kind == "eql"
    parsed = parse_query('process.name:bash -user.name:root "file.path:/tmp/a b" curl 2001:db8::1')
    assert parsed.terms == (
        Term("process.name", "bash"), Term("user.name", "root", True), Term("file.path", "/tmp/a b"),
        Term(None, "curl"), Term(None, "2001:db8::1"),
    )  # fmt: skip
    assert parse_query(r'"process.name:a\"b"').terms == (Term("process.name", 'a"b'),)
    with pytest.raises(InvestigationError, match="unterminated quote"):
        parse_query('"process.name:oops')


@given(st.text(max_size=200))
def test_any_query_text_parses_or_is_refused(text: str) -> None:
    try:
        parse_query(text)
    except InvestigationError:
        pass


def test_terms_filters_and_counts(
    reader: StoreReader, index: SegmentIndex, fixture: Fixture
) -> None:
    everything = timeline(reader, query(), limit=1000)
    # All but the sweep of the day before.
    assert everything.total == len(fixture.documents) - 1
    web = timeline(reader, query(hosts=("web-1",)), limit=1000)
    assert web.total == sum(1 for row in everything.rows if row.fields.get("host.name") == "web-1")
    curl = timeline(reader, query(text="process.name:curl"))
    assert {row.fields["process.name"] for row in curl.rows} == {"curl"} and curl.total == 4
    not_root = timeline(reader, query(text="host.name:web-1 -user.name:root"), limit=1000)
    assert not_root.total and all(row.fields.get("user.name") != "root" for row in not_root.rows)
    # Events without user.name are kept by a filter-out, as Kibana does.
    assert any("user.name" not in row.fields for row in not_root.rows)
    wildcard = timeline(reader, query(text="file.path:/dev/shm/*"))
    assert {row.fields["file.path"] for row in wildcard.rows} == {"/dev/shm/kdmtmpflush"}
    free = timeline(reader, query(text="KDMTMP"))
    assert free.total >= 3 and all(
        "kdmtmp" in row.summary.lower() or "kdmtmp" in str(row.fields).lower() for row in free.rows
    )
    from_documents = timeline(reader, query(text="doorhunt.socket.inode:913242"))
    assert {row.fields["event.action"] for row in from_documents.rows} == {
        "filter_attached",
        "sweep_finding",
    }
    network = timeline(reader, query(categories=("network",)), limit=1000)
    assert network.total and all(
        row.fields["event.category"] == ["network"] for row in network.rows
    )
    hostile = timeline(
        reader, query(text=f'"process.name:{HOSTILE_NAME.replace(chr(34), chr(92) + chr(34))}"')
    )
    assert hostile.total == 3  # its exec, its file, and the alert about it
    with pytest.raises(InvestigationError, match="holds integers"):
        timeline(reader, query(text="process.pid:abc"))


def test_histogram_sorting_and_paging(reader: StoreReader) -> None:
    page = timeline(reader, query(hosts=("db-1",)), limit=10)
    assert sum(sum(b.counts.values()) for b in page.histogram) == page.total
    assert [r.timestamp for r in page.rows] == sorted(
        (r.timestamp for r in page.rows), reverse=True
    )
    second = timeline(reader, query(hosts=("db-1",)), limit=10, offset=10)
    assert not {r.ref for r in page.rows} & {r.ref for r in second.rows}
    oldest = timeline(reader, query(hosts=("db-1",)), limit=5, order="asc")
    assert oldest.rows[0].timestamp == min(
        r.timestamp for r in timeline(reader, query(hosts=("db-1",)), limit=1000).rows
    )
    by_pid = timeline(
        reader,
        query(hosts=("db-1",), text="process.name:gzip"),
        sort="process.pid",
        order="asc",
        limit=1000,
    )
    pids = [r.fields["process.pid"] for r in by_pid.rows]
    assert pids == sorted(pids)
    with pytest.raises(InvestigationError, match="can sort on the listed fields"):
        timeline(reader, query(), sort="process.args")
    with pytest.raises(InvestigationError, match="between 1 and"):
        timeline(reader, query(), limit=0)
    with pytest.raises(InvestigationError, match="later than"):
        timeline(reader, TimelineQuery(since=T0, until=T0))
    assert choose_width(T0, T0 + timedelta(days=7)).total_seconds() == 3 * 3600


def test_the_index_answers_as_sql_does(reader: StoreReader, index: SegmentIndex) -> None:
    for selection in (
        query(),
        query(categories=("file",)),
        TimelineQuery(since=T0 - timedelta(minutes=73), until=T0 + timedelta(hours=30, minutes=7)),
        TimelineQuery(),
    ):
        plain = timeline(reader, selection, limit=20)
        fast = timeline(reader, selection, limit=20, index=index)
        assert fast.total == plain.total
        assert [b.to_json() for b in fast.histogram] == [b.to_json() for b in plain.histogram]
        assert [r.ref for r in fast.rows] == [r.ref for r in plain.rows]
        # Pages read from the few minutes the index says hold them: the same rows, in order.
        for order, offset, limit in (("desc", 7, 5), ("asc", 0, 5), ("asc", 30, 50), ("desc", 0, 1000)):  # fmt: skip
            plain = timeline(reader, selection, order=order, offset=offset, limit=limit)  # type: ignore[arg-type]
            fast = timeline(reader, selection, order=order, offset=offset, limit=limit, index=index)  # type: ignore[arg-type]
            assert [r.ref for r in fast.rows] == [r.ref for r in plain.rows], (order, offset)
            assert len(plain.rows) == min(limit, max(0, plain.total - offset))
        # And without the fallback to a plain query (for when the index is behind the store).
        since, until = (
            selection.since or T0 - timedelta(days=2),
            selection.until or T0 + timedelta(days=2),
        )
        pieces = _indexed_pieces(reader, index, selection, since, until)
        for order, offset, limit in (("desc", 3, 4), ("asc", 10, 6)):
            narrowed = _indexed_page(
                reader, selection.categories, (since, until), pieces, order, limit, offset
            )  # type: ignore[arg-type]
            plain = timeline(reader, selection, order=order, offset=offset, limit=limit)  # type: ignore[arg-type]
            assert [r.ref for r in narrowed] == [r.ref for r in plain.rows], (order, offset)
    # Past the last event: an empty page, without asking the store.
    assert timeline(reader, query(), offset=10_000, index=index).rows == []


def test_eql(reader: StoreReader) -> None:
    page = timeline(reader, query(text='process where process.name == "curl"'))
    assert page.kind == "eql" and page.total == 2
    assert all(row.ref and row.fields["process.name"] == "curl" for row in page.rows)
    scoped = timeline(
        reader, query(text="any where true", hosts=("db-1",), categories=("file",)), limit=1000
    )
    assert scoped.total == 41 and {r.fields["host.name"] for r in scoped.rows} == {"db-1"}
    sequence = timeline(
        reader,
        query(text='sequence by process.entity_id [process where event.action == "exec"] '
                   '[network where destination.port == 80]', hosts=("web-1",)),
    )  # fmt: skip
    assert [r.fields["event.action"] for r in sequence.rows] == ["connection_attempted", "exec"]
    # Event queries read their matches' hot columns, not their documents: the same rows as
    # the whole hunt (a pipe makes the timeline run that), fields read from documents too.
    for text, hosts in (
        ('process where process.name == "curl"', ()),
        ("any where true", ("db-1",)),
        ('process where process.args : "*x1*"', ("db-1",)),  # process.args: in documents only
        ('any where event.kind == "alert"', ()),
    ):
        fast = timeline(reader, query(text=text, hosts=hosts), limit=1000)
        whole = timeline(reader, query(text=f"{text} | head 100000", hosts=hosts), limit=1000)
        assert fast.total == whole.total > 0, text
        assert [r.to_json() for r in fast.rows] == [r.to_json() for r in whole.rows], text
    # Without a range, EQL runs over the last day of events, and says so.
    assert timeline(reader, TimelineQuery(text="process where true")).notes
    with pytest.raises(InvestigationError, match="q"):
        timeline(reader, query(text="process where ("))


def test_hunts_are_scoped_by_a_leading_cte() -> None:
    assert scoped_sql("host_name = 'a'", "SELECT 1 FROM timeline_scope") == (
        "WITH timeline_scope AS NOT MATERIALIZED (SELECT * FROM events WHERE host_name = 'a') "
        "SELECT 1 FROM timeline_scope"
    )
    assert scoped_sql("TRUE", "WITH x AS (SELECT 1) SELECT * FROM x").startswith(
        "WITH timeline_scope AS NOT MATERIALIZED (SELECT * FROM events WHERE TRUE), x AS"
    )
    assert scoped_sql("TRUE", "with recursive r AS (SELECT 1) SELECT 1").startswith(
        "WITH RECURSIVE timeline_scope AS"
    )


def test_correlation(reader: StoreReader) -> None:
    page = timeline(reader, query(text="event.action:filter_attached"))
    anchor = page.rows[0]
    around = correlate(reader, anchor.ref, seconds=5, categories=("file", "network"))
    assert around is not None and around.anchor.ref == anchor.ref
    actions = {row.fields["event.action"] for row in around.rows}
    assert {"timestomp", "filter_attached", "connection_attempted"} <= actions
    assert all(abs((row.timestamp - anchor.timestamp).total_seconds()) <= 5 for row in around.rows)
    assert around.counts == {"file": 1, "network": 3}  # attached, its alert, a connection
    offsets = [r["offset"] for r in around.to_json()["rows"]]  # type: ignore[index, union-attr]
    assert offsets == sorted(offsets)
    assert correlate(reader, f"{int(anchor.timestamp.timestamp() * 1e6)}-{'0' * 16}") is None
    with pytest.raises(InvestigationError, match="seconds"):
        correlate(reader, anchor.ref, seconds=0)
