"""Event references: stable, computed alike in SQL and Python, and they find the event."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorhunt.investigate import (
    InvestigationError,
    event_ref,
    fetch_documents,
    get_event,
    parse_ref,
)
from doorhunt.investigate.events import find_rows, listing_select, rows_from
from doorhunt.store import StoreReader
from tests.investigate.fixtures import Fixture


def rows(reader: StoreReader) -> list:  # type: ignore[type-arg]
    return rows_from(reader.sql(f'SELECT {listing_select()} FROM events ORDER BY "timestamp"'))


def test_sql_and_python_agree_and_refs_are_unique(reader: StoreReader, fixture: Fixture) -> None:
    listed = rows(reader)
    assert len(listed) == len(fixture.documents)
    assert len({row.ref for row in listed}) == len(listed)
    documents = fetch_documents(reader, listed)
    assert set(documents) == {row.ref for row in listed}
    for row in listed:
        assert event_ref(documents[row.ref]) == row.ref


def test_an_event_is_found_by_its_reference(reader: StoreReader) -> None:
    row = next(r for r in rows(reader) if r.fields.get("event.action") == "filter_attached")
    detail = get_event(reader, row.ref)
    assert detail is not None and detail.fields["doorhunt.socket.inode"] == 913242
    assert detail.to_json()["summary"] == "/sbin/udevd -d"
    assert (
        find_rows(reader, [(row.ref, "web-1")])[row.ref].fields["event.action"] == "filter_attached"
    )
    moment, key = parse_ref(row.ref)
    assert get_event(reader, f"{int(moment.timestamp() * 1e6)}-{'0' * 16}") is None
    assert key != "0" * 16


@pytest.mark.parametrize(
    "text", ["", "x", "123", "12-abc", "1-0123456789abcdeg", "--1-0123456789abcdef"]
)
def test_malformed_references_are_refused(text: str) -> None:
    with pytest.raises(InvestigationError, match="event reference"):
        parse_ref(text)


@given(st.text(max_size=60))
def test_parse_ref_refuses_or_accepts_never_crashes(text: str) -> None:
    try:
        moment, key = parse_ref(text)
    except InvestigationError:
        return
    assert len(key) == 16 and moment.tzinfo is not None
