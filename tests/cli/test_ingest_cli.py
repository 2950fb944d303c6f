"""`doorhunt ingest` into the store and into Elasticsearch (the stand-in), then `events`."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from doorhunt.cli import events as events_cli
from doorhunt.cli import ingest as ingest_cli
from doorhunt.ecs import assert_valid, new_event
from doorhunt.store import Store
from tests.es.fake_es import FakeElasticsearch

AUDIT_LOG = Path(__file__).resolve().parents[1] / "ingest" / "data" / "audit.log"


@pytest.fixture
def fake() -> Iterator[FakeElasticsearch]:
    server = FakeElasticsearch()
    yield server
    server.close()


def test_auditd_into_the_store_then_events(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = ingest_cli.main([str(AUDIT_LOG), "--format", "auditd", "--host", "victim",
                            "--data", str(tmp_path), "--no-color"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "Ingested 13 documents from 1 files" in out and "1 events not mapped" in out
    code = events_cli.main(["--data", str(tmp_path), "--action", "filter_attached", "--ndjson"])
    (line,) = capsys.readouterr().out.splitlines()
    document = json.loads(line)
    assert document["doorhunt"]["socket"]["fd"] == 4
    assert document["host"]["name"] == "victim"
    assert_valid(document, require_core=True)
    assert Store(tmp_path / "store").info().events == 13


def test_ingest_reports_in_json_and_exits_3_on_a_cut_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = gzip.compress(AUDIT_LOG.read_bytes() * 20)
    cut = tmp_path / "audit.log.1.gz"
    cut.write_bytes(data[: len(data) // 2])
    code = ingest_cli.main([str(cut), "--format", "auditd", "--data", str(tmp_path), "--json"])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == 3
    assert report["damage"][0]["file"] == str(cut) and report["documents"] > 0
    assert "unreadable from here on" in captured.err


def test_ecs_ndjson_from_standard_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    good = new_event(kind="event", category="file", type="creation", action="creation",
                     host={"name": "a"}, file={"path": "/run/x.pid"})  # fmt: skip
    text = json.dumps(good) + "\n{broken\n"
    monkeypatch.setattr(
        sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(text.encode())))
    )
    code = ingest_cli.main(["-", "--format", "ecs", "--data", str(tmp_path), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["documents"] == 1 and report["malformed"] == 1
    assert report["problems"][0]["location"] == "-:line 2"


def test_missing_files_are_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = ingest_cli.main([str(AUDIT_LOG), str(tmp_path / "nope"), "--format", "auditd",
                            "--data", str(tmp_path)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and f"{tmp_path / 'nope'}: no such file" in err
    assert not (tmp_path / "store").exists()


def test_ingest_into_elasticsearch_then_events_from_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake: FakeElasticsearch
) -> None:
    code = ingest_cli.main([str(AUDIT_LOG), "--format", "auditd", "--host", "victim",
                            "--data", str(tmp_path), "--es", fake.url, "--json"])  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["elasticsearch"]["sent"] == 13
    assert len(fake.streams["logs-doorhunt.events-default"]) == 13
    assert not (tmp_path / "store").exists()
    code = events_cli.main(["--es", fake.url, "--action", "exec", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["source"]["kind"] == "elasticsearch"
    assert [doc["process"]["pid"] for doc in result["events"]] == [5000]


def test_ingest_while_elasticsearch_is_down_spools(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake: FakeElasticsearch
) -> None:
    fake.down = True
    code = ingest_cli.main([str(AUDIT_LOG), "--format", "auditd", "--data", str(tmp_path),
                            "--es", fake.url, "--no-color"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "13 documents wait in" in out
    fake.down = False
    ingest_cli.main(
        [str(AUDIT_LOG), "--format", "auditd", "--data", str(tmp_path), "--es", fake.url]
    )
    capsys.readouterr()
    assert len(fake.streams["logs-doorhunt.events-default"]) == 26
