"""Pass-through to an Elasticsearch cluster: the request body, and response shapes recorded
from the EQL search API reference (events, sequences with join keys, missing-event
placeholders, a verification error), served by a stand-in on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from doorhunt.es.connection import EsConfig, EsUnavailableError
from doorhunt.rules.engine import (
    EqlError,
    compile_rule,
    es_eql_request,
    es_eql_search,
    parse_eql_response,
)

EVENTS_RESPONSE: dict[str, Any] = {
    "is_partial": False,
    "is_running": False,
    "took": 60,
    "timed_out": False,
    "hits": {
        "total": {"value": 2, "relation": "eq"},
        "events": [
            {
                "_index": ".ds-my-index-000001",
                "_id": "OQmfCaduce8zoHT93o4H",
                "_source": {
                    "@timestamp": "2099-12-07T11:06:07.000Z",
                    "event": {"category": "process", "id": "1"},
                },
            },
            {
                "_index": ".ds-my-index-000001",
                "_id": "xLkCaj4EujzdNSxfYLbO",
                "_source": {
                    "@timestamp": "2099-12-07T11:07:09.000Z",
                    "event": {"category": "process", "id": "2"},
                },
            },
        ],
    },
}
SEQUENCE_RESPONSE: dict[str, Any] = {
    "is_partial": False,
    "is_running": False,
    "took": 60,
    "timed_out": False,
    "hits": {
        "total": {"value": 1, "relation": "eq"},
        "sequences": [
            {
                "join_keys": [2012],
                "events": [
                    {
                        "_index": ".ds-my-index-000001",
                        "_id": "AtOJ4UjUBAAx3XR5kcCM",
                        "_source": {
                            "process": {"pid": 2012},
                            "event": {"category": "file", "id": "a"},
                        },
                    },
                    {"_index": "", "_id": "", "missing": True},
                    {
                        "_index": ".ds-my-index-000001",
                        "_id": "OQmfCaduce8zoHT93o4H",
                        "_source": {
                            "process": {"pid": 2012},
                            "event": {"category": "process", "id": "b"},
                        },
                    },
                ],
            }
        ],
    },
}
ERROR_RESPONSE: dict[str, Any] = {
    "error": {
        "root_cause": [
            {
                "type": "verification_exception",
                "reason": "Found 1 problem\nline 1:15: Unknown column [foo]",
            }
        ],
        "type": "verification_exception",
        "reason": "Found 1 problem\nline 1:15: Unknown column [foo]",
    },
    "status": 400,
}


class FakeCluster:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.answer: tuple[int, dict[str, Any]] = (200, EVENTS_RESPONSE)
        cluster = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                cluster.requests.append(("POST", self.path, body))
                status, answer = cluster.answer
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("x-elastic-product", "Elasticsearch")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def cluster() -> Iterator[FakeCluster]:
    fake = FakeCluster()
    yield fake
    fake.close()


def test_request_body() -> None:
    rule = compile_rule('process where process.name : "bash"')
    request = es_eql_request(
        rule,
        "logs-endpoint.events.process*,auditbeat-*",
        since=datetime(2025, 5, 1, tzinfo=UTC),
        until=datetime(2025, 5, 2, tzinfo=UTC),
        size=50,
    )
    assert request == {
        "method": "POST",
        "path": "/logs-endpoint.events.process*,auditbeat-*/_eql/search",
        "body": {
            "query": 'process where process.name : "bash"',
            "filter": {
                "range": {
                    "@timestamp": {
                        "gte": "2025-05-01T00:00:00.000000Z",
                        "lt": "2025-05-02T00:00:00.000000Z",
                    }
                }
            },
            "size": 50,
        },
    }


def test_request_options_and_combined_filters() -> None:
    request = es_eql_request(
        "sequence by host.id [process where true] [network where true]",
        "logs-*",
        since=datetime(2025, 5, 1, tzinfo=UTC),
        filter_query={"term": {"host.name": "web-1"}},
        tiebreaker_field="event.sequence",
        event_category_field="my.category",
    )
    body = request["body"]
    assert body["filter"] == {
        "bool": {
            "filter": [
                {"range": {"@timestamp": {"gte": "2025-05-01T00:00:00.000000Z"}}},
                {"term": {"host.name": "web-1"}},
            ]
        }
    }
    assert body["tiebreaker_field"] == "event.sequence"
    assert body["event_category_field"] == "my.category"
    assert "size" not in body


def test_a_query_elasticsearch_would_reject_is_rejected_before_sending() -> None:
    with pytest.raises(EqlError):
        es_eql_request("process where process.name = 'x'")


def test_responses_become_matches() -> None:
    rule = compile_rule("process where true")
    events = parse_eql_response(rule, EVENTS_RESPONSE)
    assert [m.events[0]["event"]["id"] for m in events] == ["1", "2"]  # type: ignore[index]
    sequence = parse_eql_response(rule, SEQUENCE_RESPONSE)
    assert len(sequence) == 1
    assert sequence[0].join_keys == (2012,)
    # The missing-event placeholder is not an event of the match.
    assert [e["event"]["id"] for e in sequence[0].events] == ["a", "b"]  # type: ignore[index]
    assert parse_eql_response(rule, {"hits": {}}) == []


def test_search_against_a_cluster(cluster: FakeCluster) -> None:
    rule = compile_rule('process where process.name == "x"')
    matches = es_eql_search(EsConfig(cluster.url), rule, "logs-doorhunt.*-*", size=10)
    assert len(matches) == 2
    method, path, body = cluster.requests[0]
    assert (method, path) == ("POST", "/logs-doorhunt.*-*/_eql/search")
    assert body == {"query": 'process where process.name == "x"', "size": 10}
    cluster.answer = (200, SEQUENCE_RESPONSE)
    found = es_eql_search(
        EsConfig(cluster.url), "sequence by process.pid [file where true] [process where true]"
    )
    assert found[0].join_keys == (2012,)


def test_refusals_say_why(cluster: FakeCluster) -> None:
    cluster.answer = (400, ERROR_RESPONSE)
    with pytest.raises(EsUnavailableError) as caught:
        es_eql_search(EsConfig(cluster.url), "process where true")
    assert "400" in str(caught.value)
    assert "Unknown column [foo]" in str(caught.value)


def test_an_unreachable_cluster_is_reported() -> None:
    fake = FakeCluster()
    url = fake.url
    fake.close()
    with pytest.raises(EsUnavailableError) as caught:
        es_eql_search(EsConfig(url), "process where true")
    assert "no answer" in str(caught.value)
