"""Whole ingests: auditd logs and ECS NDJSON into a sink, with hostile input."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doorhunt.ecs import assert_valid, get_field, new_event
from doorhunt.ingest import ingest_auditd, ingest_ecs

DATA = Path(__file__).parent / "data"


class ListSink:
    def __init__(self) -> None:
        self.documents: list[dict[str, object]] = []

    def extend(self, documents: Iterable[Mapping[str, object]]) -> None:
        self.documents.extend(dict(document) for document in documents)


def test_an_audit_log_with_rotation_compression_and_damage(tmp_path: Path) -> None:
    lines = (DATA / "audit.log").read_text().splitlines(keepends=True)
    older, newer = lines[:30], lines[30:]
    (tmp_path / "audit.log.1.gz").write_bytes(gzip.compress("".join(older).encode()))
    mess = ["garbage line\n", "type=SYSCALL msg=audit(bad): x=1\n", "\x00\xff\n", "\n"]
    (tmp_path / "audit.log").write_text("".join(mess + newer), errors="surrogateescape")
    cut = gzip.compress(b"".join(line.encode() for line in lines))
    (tmp_path / "cut.log.gz").write_bytes(cut[: len(cut) // 2])
    sink = ListSink()
    report = ingest_auditd(
        [str(tmp_path / "audit.log"), str(tmp_path / "audit.log.1.gz")], sink, host={"name": "h"}
    )
    assert report.files == [str(tmp_path / "audit.log.1.gz"), str(tmp_path / "audit.log")]
    assert report.documents == 13 and report.unmapped == 1
    assert report.malformed == 3 and report.records == len(lines)
    assert report.problems[0].location == f"{tmp_path / 'audit.log'}:line 1"
    assert not report.degraded
    for document in sink.documents:
        assert_valid(document, require_core=True)
    damaged = ingest_auditd([str(tmp_path / "cut.log.gz")], ListSink(), host={"name": "h"})
    assert damaged.degraded and damaged.damage[0].path == str(tmp_path / "cut.log.gz")


def test_node_names_win_unless_the_host_is_forced(tmp_path: Path) -> None:
    text = "".join(
        "node=web-9 " + line for line in (DATA / "audit.log").read_text().splitlines(True)
    )
    path = tmp_path / "audit.log"
    path.write_text(text)
    sink = ListSink()
    ingest_auditd([str(path)], sink, host={"name": "here", "id": "x"})
    assert {get_field(doc, "host.name") for doc in sink.documents} == {"web-9"}
    sink = ListSink()
    ingest_auditd([str(path)], sink, host={"name": "forced"}, host_override=True)
    assert {get_field(doc, "host.name") for doc in sink.documents} == {"forced"}


def ecs_line(**fields: object) -> str:
    return json.dumps(
        new_event(kind="event", category="process", type="start", action="exec", **fields)
    )


def test_ecs_ndjson_is_validated(tmp_path: Path) -> None:
    good = ecs_line(host={"name": "a"})
    hit = json.dumps({"_index": ".ds-logs-endpoint.events.process-default", "_id": "1",
                      "_source": json.loads(ecs_line(host={"name": "b"}))})  # fmt: skip
    defend = json.loads(ecs_line(host={"name": "c"}))
    defend["Endpoint"] = {"policy": {"applied": {"id": "x"}}}  # not ECS: kept unless --strict
    no_host = ecs_line()
    wrong = json.loads(ecs_line(host={"name": "d"}))
    wrong["process"] = {"pid": "not a number"}
    lines = [good, hit, json.dumps(defend), no_host, json.dumps(wrong), "{not json", "[1, 2]", ""]
    path = tmp_path / "export.ndjson"
    path.write_text("\n".join(lines) + "\n")
    sink = ListSink()
    report = ingest_ecs([str(path)], sink)
    assert [get_field(doc, "host.name") for doc in sink.documents] == ["a", "b", "c"]
    assert (report.invalid, report.malformed, report.unknown_fields) == (2, 2, 1)
    locations = [problem.location for problem in report.problems]
    assert locations == [f"{path}:line {n}" for n in (4, 5, 6, 7)]
    assert "host.name" in report.problems[0].message
    strict = ingest_ecs([str(path)], ListSink(), strict=True)
    assert strict.invalid == 3
    filled = ListSink()
    ingest_ecs([str(path)], filled, host_name="given")
    assert [get_field(doc, "host.name") for doc in filled.documents] == ["a", "b", "c", "given"]


HOSTILE_LINES = st.lists(
    st.one_of(
        st.binary(max_size=200).map(lambda data: data.decode("utf-8", "surrogateescape")),
        st.text(max_size=200),
        st.sampled_from(
            [
                'type=SYSCALL msg=audit(1.000:1): syscall=59 success=yes pid=1 exe="/x"',
                "type=EXECVE msg=audit(1.000:1): argc=99999999 a0=FFFF",
                "type=EOE msg=audit(1.000:1): ",
                "type=PROCTITLE msg=audit(1.000:1): proctitle=00FF00",
                "type=SOCKADDR msg=audit(1.000:1): saddr=0A",
                'type=PATH msg=audit(1.000:1): name="" nametype=CREATE mode=999',
                '{"@timestamp": "2025-01-01T00:00:00Z", "host": {"name": "\\ud800"}}',
                '{"_index": "x", "_source": 5}',
            ]
        ),
    ),
    max_size=30,
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(HOSTILE_LINES)
def test_hostile_input_is_counted_never_fatal(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "hostile"
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogateescape"))
    for ingest in (
        lambda sink: ingest_auditd([str(path)], sink, host={"name": "h"}),
        lambda sink: ingest_ecs([str(path)], sink),
    ):
        sink = ListSink()
        report = ingest(sink)
        assert report.documents == len(sink.documents)
        for document in sink.documents:
            assert_valid(document, require_core=True)
