"""Shipping to and searching Elasticsearch, against a stand-in that answers with the shapes of
Elasticsearch's REST API (tests/es/fake_es.py): no cluster runs here. With DOORHUNT_ES_URL set,
the last test runs against a real cluster."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from doorhunt.ecs import EXTENSION_FIELDS, load_schema, new_event
from doorhunt.es import (
    ElasticsearchSink,
    EsConfig,
    EsConfigError,
    EsReader,
    EsUnavailableError,
    index_template,
    search_body,
    stream_for,
)
from doorhunt.es.connection import redacted
from doorhunt.es.template import FIELD_SETS, TEMPLATE_NAME
from tests.es.fake_es import FakeElasticsearch

BASE = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeElasticsearch]:
    server = FakeElasticsearch()
    yield server
    server.close()


def document(
    number: int, *, kind: str = "event", host: str = "web-1", **fields: object
) -> dict[str, object]:
    return new_event(
        kind=kind,
        category="process" if kind == "event" else "intrusion_detection",
        type="start" if kind == "event" else "info",
        action="exec",
        timestamp=BASE + timedelta(seconds=number),
        host={"name": host},
        **{"event.sequence": number},
        **fields,
    )


def sink_for(fake: FakeElasticsearch, tmp_path: Path, **options: object) -> ElasticsearchSink:
    return ElasticsearchSink(
        EsConfig(fake.url),
        spool_directory=tmp_path / "spool",
        flush_interval=0.05,
        **options,  # type: ignore[arg-type]
    )


def shipped(fake: FakeElasticsearch, stream: str = "logs-doorhunt.events-default") -> list[object]:
    return [doc["event"]["sequence"] for doc in fake.streams.get(stream, [])]


def test_the_template_maps_every_field_doorhunt_writes() -> None:
    template = index_template()
    assert template["index_patterns"] == ["logs-doorhunt.events-*", "logs-doorhunt.alerts-*"]
    assert template["data_stream"] == {} and template["priority"] == 200
    properties = template["template"]["mappings"]["properties"]  # type: ignore[index]

    def mapping(name: str) -> dict[str, object]:
        node: dict[str, object] = {"properties": properties}
        for part in name.split("."):
            node = node["properties"][part]  # type: ignore[index]
        return node

    schema = load_schema()
    for name in schema:
        if name.split(".")[0] in FIELD_SETS:
            field_type = schema[name].type
            expected = {"keyword": "keyword", "scaled_float": "scaled_float"}.get(
                field_type, field_type
            )
            assert mapping(name)["type"] == expected, name
    for extension in EXTENSION_FIELDS:
        assert mapping(extension.name)["type"] == extension.type
    assert mapping("process.pid") == {"type": "long"}
    assert mapping("host.name") == {"type": "keyword", "ignore_above": 1024}
    assert template["_meta"]["ecs_version"] == "9.4.0"  # type: ignore[index]


def test_streams_by_kind() -> None:
    assert stream_for(document(1)) == "logs-doorhunt.events-default"
    assert stream_for(document(1, kind="alert"), "prod") == "logs-doorhunt.alerts-prod"


def test_documents_reach_their_data_streams_with_the_template(
    fake: FakeElasticsearch, tmp_path: Path
) -> None:
    with sink_for(fake, tmp_path) as sink:
        sink.extend(document(i) for i in range(5))
        sink.append(document(5, kind="alert"))
        sink.flush()
        assert sink.stats.sent == 6 and sink.stats.online
    assert TEMPLATE_NAME in fake.templates
    assert shipped(fake) == [0, 1, 2, 3, 4]
    assert shipped(fake, "logs-doorhunt.alerts-default") == [5]
    stored = fake.streams["logs-doorhunt.events-default"][0]
    assert stored["data_stream"] == {
        "type": "logs",
        "dataset": "doorhunt.events",
        "namespace": "default",
    }
    status, answer = fake.handle("GET", "/_data_stream/logs-doorhunt.events-default", b"")
    assert status == 200 and answer["data_streams"][0]["template"] == TEMPLATE_NAME  # type: ignore[index]
    # the template is installed once, and again only when it changes
    with sink_for(fake, tmp_path) as sink:
        sink.append(document(6))
    assert [r for r in fake.requests if r == ("PUT", f"/_index_template/{TEMPLATE_NAME}")] == [
        ("PUT", f"/_index_template/{TEMPLATE_NAME}")
    ]


def test_an_outage_loses_nothing(fake: FakeElasticsearch, tmp_path: Path) -> None:
    sink = sink_for(fake, tmp_path)
    sink.extend(document(i) for i in range(3))
    sink.flush()
    fake.down = True
    sink.extend(document(i) for i in range(3, 8))
    sink.flush()
    stats = sink.stats
    assert not stats.online and stats.spooled == 5 and stats.errors > 0
    sink.extend(document(i) for i in range(8, 10))
    sink.flush()
    assert sink.stats.spooled == 7
    fake.down = False
    deadline = time.monotonic() + 15
    while sink.stats.spooled or sink.stats.pending:
        assert time.monotonic() < deadline, sink.stats
        time.sleep(0.1)
    sink.append(document(10))
    sink.close()
    assert shipped(fake) == list(range(11))  # everything, once, in order
    assert sink.stats.online


def test_the_spool_outlives_the_process(fake: FakeElasticsearch, tmp_path: Path) -> None:
    fake.down = True
    sink = sink_for(fake, tmp_path)
    sink.extend(document(i) for i in range(4))
    sink.close()
    assert sink.stats.spooled == 4
    fake.down = False
    with sink_for(fake, tmp_path) as second:
        second.flush()
    assert shipped(fake) == [0, 1, 2, 3]


def test_busy_answers_are_retried_and_refusals_kept(
    fake: FakeElasticsearch, tmp_path: Path
) -> None:
    fake.status_503 = 1
    fake.item_429 = 2
    with sink_for(fake, tmp_path) as sink:
        sink.extend(document(i) for i in range(4))
        sink.append(document(4, labels={"x": "y"}, reject_me=1))  # type: ignore[arg-type]
        sink.flush()
        stats = sink.stats
    assert sorted(shipped(fake)) == [0, 1, 2, 3]
    assert stats.rejected == 1 and stats.sent == 4
    (kept,) = (tmp_path / "spool" / "rejected").iterdir()
    assert b"document_parsing_exception" in kept.read_bytes()


def test_a_full_spool_drops_and_counts(fake: FakeElasticsearch, tmp_path: Path) -> None:
    fake.down = True
    with sink_for(fake, tmp_path, max_spool_bytes=2000) as sink:
        for i in range(20):
            sink.append(document(i))
            sink.flush()
        stats = sink.stats
    assert stats.dropped > 0 and stats.spooled + stats.dropped == 20


def test_search_has_the_store_filters_meaning(fake: FakeElasticsearch, tmp_path: Path) -> None:
    with sink_for(fake, tmp_path) as sink:
        sink.extend(
            [
                document(0, host="web-1", process={"executable": "/dev/shm/x"}),
                document(1, host="web-2"),
                document(2, host="web-1", process={"executable": "/usr/bin/ls"}),
            ]
        )
    with EsReader(EsConfig(fake.url)) as reader:
        found = reader.events(host="web-1", category="process", limit=10)
        assert [doc["event"]["sequence"] for doc in found] == [2, 0]  # type: ignore[index]
        found = reader.events(where=[("process.executable", "/dev/shm/*")], newest_first=False)
        assert [doc["event"]["sequence"] for doc in found] == [0]  # type: ignore[index]
    body = search_body(
        host="h", since=BASE, until=BASE + timedelta(hours=1), where=[("a.b", "x?*")]
    )
    assert body == {
        "bool": {
            "filter": [
                {"term": {"host.name": "h"}},
                {"wildcard": {"a.b": {"value": "x\\?*"}}},
                {"range": {"@timestamp": {"gte": "2025-05-01T12:00:00+00:00",
                                          "lt": "2025-05-01T13:00:00+00:00",
                                          "format": "strict_date_optional_time"}}},
            ]
        }
    }  # fmt: skip


def test_an_unreachable_cluster_is_a_located_error(fake: FakeElasticsearch) -> None:
    fake.down = True
    with EsReader(EsConfig(fake.url)) as reader, pytest.raises(EsUnavailableError) as caught:
        reader.events()
    assert fake.url in str(caught.value)


def test_configuration_from_options_and_environment() -> None:
    environ = {"DOORHUNT_ES_URL": "https://es:9200", "DOORHUNT_ES_API_KEY": "k"}
    config = EsConfig.from_options(None, environ=environ)
    assert config is not None and (config.url, config.api_key) == ("https://es:9200", "k")
    assert EsConfig.from_options(None, environ={}) is None
    with pytest.raises(EsConfigError, match="http"):
        EsConfig("ftp://x")
    with pytest.raises(EsConfigError, match="namespace"):
        EsConfig("http://x", namespace="Bad-Name")
    assert redacted("https://u:secret@es:9200/") == "https://u:***@es:9200/"


@pytest.mark.skipif(
    not os.environ.get("DOORHUNT_ES_URL"), reason="set DOORHUNT_ES_URL to a test cluster"
)
def test_a_real_cluster(tmp_path: Path) -> None:
    config = EsConfig.from_options(None, namespace=f"doorhunttest{os.getpid()}")
    assert config is not None
    marker = f"doorhunt-integration-{time.time_ns()}"
    with ElasticsearchSink(config, spool_directory=tmp_path / "spool") as sink:
        sink.extend(document(i, host=marker) for i in range(3))
        sink.flush()
        assert sink.stats.sent == 3, sink.stats
    client = config.client()
    client.indices.refresh(index=f"logs-doorhunt.events-{config.namespace}")
    with EsReader(config, client=client) as reader:
        found = reader.events(host=marker)
    assert [doc["event"]["sequence"] for doc in found] == [2, 1, 0]  # type: ignore[index]
    client.indices.delete_data_stream(name=f"logs-doorhunt.events-{config.namespace}")
