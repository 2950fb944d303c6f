"""Parameter parsing: any text gives a value or a ParameterError, never anything else; and
no query string makes the API answer 500."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doorhunt.web import params
from doorhunt.web.params import ParameterError

NOW = datetime(2025, 5, 2, tzinfo=UTC)
texts = st.text(max_size=80) | st.sampled_from(["", "0", "-1", "1e309", "nan", "24h", "2025-05-01",
                                                 "2025-05-01T10:00:00+09:00", "1746057600000", "9" * 30])  # fmt: skip


@given(texts)
def test_times(value: str) -> None:
    try:
        moment = params.moment({"since": [value]}, "since", now=NOW)
    except ParameterError as error:
        assert error.location == "since" and error.message
        return
    assert moment is None or moment.tzinfo is not None


@given(texts, texts)
def test_numbers_and_flags(first: str, second: str) -> None:
    query = {"limit": [first], "seconds": [second], "flag": [first]}
    for read in (
        lambda: params.integer(query, "limit", 10, low=1, high=1000),
        lambda: params.number(query, "seconds", 30.0, low=0.001, high=86400.0),
        lambda: params.flag(query, "flag"),
        lambda: params.time_range({"since": [first], "until": [second]}, now=NOW),
        lambda: params.fields({"columns": [first]}, "columns"),
        lambda: params.choices({"status": [first]}, "status", ("open", "closed")),
    ):
        try:
            read()
        except ParameterError as error:
            assert error.message


def test_specific_values() -> None:
    assert params.integer({"n": ["42"]}, "n", 1, low=1, high=100) == 42
    assert params.moment({"t": ["1746057600000"]}, "t") == datetime(2025, 5, 1, tzinfo=UTC)
    assert params.moment({"t": ["24h"]}, "t", now=NOW) == datetime(2025, 5, 1, tzinfo=UTC)
    assert params.texts({"host": ["a,b", "b", " c "]}, "host") == ("a", "b", "c")
    with pytest.raises(ParameterError, match="more than once"):
        params.text({"q": ["a", "b"]}, "q")
    with pytest.raises(ParameterError, match="unknown parameter"):
        params.known({"x": ["1"]}, ("q",))
    with pytest.raises(ParameterError, match="ten years"):
        params.time_range({"since": ["1000-01-01"], "until": ["2025-01-01"]})


query_values = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(
        [
            "/api/timeline",
            "/api/alerts",
            "/api/network",
            "/api/users",
            "/api/correlate",
            "/api/tree",
            "/api/bpf/explain",
            "/api/hosts/web-1",
            "/api/notes",
        ]
    ),
    st.dictionaries(
        st.sampled_from(
            [
                "q",
                "host",
                "category",
                "since",
                "until",
                "sort",
                "order",
                "limit",
                "offset",
                "status",
                "severity",
                "group",
                "ref",
                "seconds",
                "entity",
                "at",
                "max_nodes",
                "bytecode",
                "link",
                "lang",
                "event",
                "all",
                "columns",
                "buckets",
            ]
        ),
        query_values,
        max_size=4,
    ),
)
def test_the_api_never_answers_500(client: TestClient, path: str, query: dict[str, str]) -> None:
    response = client.get(path, params=query)
    assert response.status_code < 500, (path, query, response.text)
    if response.status_code >= 400:
        assert response.json()["error"]
