"""Differential tests: generated queries over generated event streams.

1. The streaming engine and the SQL engine give the same matches, for event queries,
   sequences and samples over the whole generated domain.
2. Both agree with the `eql` package's engine where its semantics coincide with
   Elasticsearch's (strategies.py, "the domain where the eql package agrees").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings

from doorhunt.rules.engine import compile_rule, run_hunt
from doorhunt.rules.engine._eql import ReferenceEngine
from tests.rules.helpers import hunt_relation, load_table, ordered, outcome, streaming
from tests.rules.strategies import (
    documents,
    event_queries,
    oracle_documents,
    oracle_queries,
    oracle_sequences,
    samples,
    sequence_documents,
    sequences,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:lark")


@pytest.fixture(scope="module")
def connection() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def agree(
    connection: duckdb.DuckDBPyConnection, query: str, docs: Sequence[Mapping[str, object]]
) -> None:
    rule = compile_rule(query)
    load_table(connection, docs)
    sql = outcome(run_hunt(connection, rule, relation=hunt_relation()))
    stream = outcome(streaming(rule, docs))
    assert stream == sql, f"\nquery: {query}\nstreaming: {stream}\nsql: {sql}"


RELAXED = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
# About one generated sequence in eight matches anything; three times the cases keep each
# feature (shared and per-step keys, maxspan, until, missing steps, runs) meeting matches.
MORE = settings(RELAXED, max_examples=3 * settings.default.max_examples)


@RELAXED
@given(query=event_queries, docs=documents())
def test_event_queries_agree(
    connection: duckdb.DuckDBPyConnection, query: str, docs: list[dict[str, object]]
) -> None:
    agree(connection, query, docs)


@MORE
@given(query=sequences(), docs=sequence_documents)
def test_sequences_agree(
    connection: duckdb.DuckDBPyConnection, query: str, docs: list[dict[str, object]]
) -> None:
    agree(connection, query, docs)


@MORE
@given(query=samples(), docs=sequence_documents)
def test_samples_agree(
    connection: duckdb.DuckDBPyConnection, query: str, docs: list[dict[str, object]]
) -> None:
    agree(connection, query, docs)


def reference(query: str, docs: Sequence[Mapping[str, object]]) -> list[tuple[str, ...]]:
    engine = ReferenceEngine(query)
    triples = []
    for document in ordered(docs):
        event = document["event"]
        assert isinstance(event, Mapping)
        category = event["category"]
        assert isinstance(category, list)
        stamp = str(document["@timestamp"])
        millis = int(stamp[17:19]) * 1000 + int(stamp[20:23]) + int(stamp[14:16]) * 60_000
        triples.append((str(category[0]), millis, document))
    engine.stream(triples)
    found = []
    for events in engine.matches:
        ids = []
        for e in events:
            inner = e["event"]
            assert isinstance(inner, Mapping)
            ids.append(str(inner["id"]))
        found.append(tuple(ids))
    return sorted(found)


@RELAXED
@given(query=oracle_queries, docs=oracle_documents())
def test_event_queries_agree_with_the_eql_engine(
    connection: duckdb.DuckDBPyConnection, query: str, docs: list[dict[str, object]]
) -> None:
    rule = compile_rule(query)
    ours = sorted(ids for ids, _ in outcome(streaming(rule, docs)))
    assert ours == reference(query, docs), query


@RELAXED
@given(query=oracle_sequences(), docs=oracle_documents())
def test_sequences_agree_with_the_eql_engine(
    connection: duckdb.DuckDBPyConnection, query: str, docs: list[dict[str, object]]
) -> None:
    rule = compile_rule(query)
    ours = sorted(ids for ids, _ in outcome(streaming(rule, docs)))
    assert ours == reference(query, docs), query
