"""The incident report over a stored compromise: every section, the verdict, both languages,
a well-formed process tree, hostile host data rendered inert, empty and unreadable stores."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from doorhunt.ecs import new_event
from doorhunt.investigate.tree import ProcessNode, ProcessTree
from doorhunt.report import incident_trees
from doorhunt.report.incident import (
    DRAWN_NODES,
    ReportError,
    event_detail,
    gather_report,
    select_nodes,
    tree_view,
)
from doorhunt.report.incident_html import CONTENT_SECURITY_POLICY, render_html
from doorhunt.report.incident_model import IncidentReport, ReportScope
from doorhunt.report.pdf import find_converter, html_to_pdf
from doorhunt.rules.pack import load_rules
from tests.conftest import unavailable
from tests.report.fixtures import (
    HOSTILE_ARG,
    HOSTILE_NAME,
    IMPLANT_ENTITY,
    SensorEvents,
    base_time,
    build_compromise,
    write,
)

SECTIONS = ("summary", "sweeps", "alerts", "trees", "timeline", "evidence", "notes")
QUARANTINE_SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


class Document(HTMLParser):
    """Start tags with their attributes, the text, and the inline SVG source of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @classmethod
    def of(cls, html: str) -> Document:
        document = cls()
        document.feed(html)
        document.close()
        return document

    @property
    def content(self) -> str:
        return "".join(self.text)

    def ids(self) -> set[str]:
        return {value for _, attrs in self.tags for name, value in attrs if name == "id" and value}


def svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(match) for match in re.findall(r"<svg\b.*?</svg>", html, re.S)]


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("case")
    build_compromise(data)
    return data


@pytest.fixture(scope="module")
def hostile_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("hostile")
    build_compromise(data, hostile=True)
    return data


def test_the_model_holds_verdicts_alerts_trees_timeline_and_evidence(case: Path) -> None:
    report = gather_report(case, language="en")
    assert report.verdict == "compromised" and report.verdict_text == "COMPROMISED"
    assert [host.name for host in report.hosts] == ["db-1", "web-1"]
    verdicts = {sweep.host: (sweep.verdict, sweep.source) for sweep in report.sweeps}
    assert verdicts["web-1"][0] == "compromised" and verdicts["web-1"][1].endswith("-web-1.json")
    assert verdicts["db-1"] == ("clean", "store")  # that sweep reached only the store
    web = next(sweep for sweep in report.sweeps if sweep.host == "web-1")
    socket = next(finding for finding in web.findings if finding.check == "socket_filter")
    assert socket.severity == "critical" and socket.filter_key is not None
    assert [technique.id for technique in socket.techniques] == ["T1205.002"]
    groups = {group.name: group for group in report.alert_groups}
    bpfdoor = groups["BPFDoor socket filter attached"]
    assert report.alert_groups[0] is bpfdoor  # critical first
    assert bpfdoor.severity == "critical" and bpfdoor.hosts == ("web-1",) and bpfdoor.in_pack
    assert "T1205.002" in [technique.id for technique in bpfdoor.techniques]
    assert bpfdoor.tactics[0].id == "TA0011" and "doorhunt bpf explain" in bpfdoor.triage
    assert groups["Program executed from shared memory"].alerts[0].process is not None
    assert report.alerts == sum(group.count for group in report.alert_groups)
    assert report.alerts_by_severity["critical"] == 1
    # One tree: the implant under bash under sshd, its shell child drawn too.
    (tree,) = report.trees
    assert tree.focus == IMPLANT_ENTITY and tree.host == "web-1"
    names = [row.process.name for row in tree.rows]
    assert names[:3] == ["systemd", "sshd", "bash"] and "console-kit-daemon" in names
    assert "sh" in names
    implant = next(row for row in tree.rows if row.focus)
    assert implant.process.alerts >= 1 and implant.process.severity == "critical"
    # The timeline: alerts with their causes, the tree's other events, the sweeps, in order.
    kinds = {entry.kind for entry in report.timeline}
    assert kinds == {"alert", "source", "event", "sweep"}
    times = [entry.time for entry in report.timeline]
    assert times == sorted(times)  # type: ignore[type-var]
    assert not any(entry.host == "db-1" and entry.kind == "event" for entry in report.timeline)
    (explained,) = report.filters
    assert explained.filter_class == "bpfdoor" and explained.suspicious
    assert {magic.hex for magic in explained.magic} == {"0x7255", "0x5293"}
    assert explained.seen == ("web-1 pid 4120 (sweep)", "web-1 pid 4120 (alert)")
    quarantined = [item for item in report.files if item.source == "quarantine"]
    assert quarantined[0].sha256 == QUARANTINE_SHA
    assert quarantined[0].modified == datetime(2008, 10, 30, 8, 37, 16, tzinfo=UTC)
    assert report.notes == () and not report.empty
    document = json.loads(json.dumps(report.to_json()))
    assert document["verdict"] == "compromised" and document["trees"][0]["graph"]["nodes"]


def test_the_html_has_every_section_and_no_active_content(case: Path) -> None:
    report = gather_report(case, language="en")
    html = render_html(report)
    page = Document.of(html)
    assert set(SECTIONS) <= page.ids()
    text = page.content
    assert "Verdict: COMPROMISED" in text
    for group in report.alert_groups:
        assert group.title in text
    for heading in ("Host sweep verdicts", "Alerts by rule", "Process trees", "Timeline",
                    "Socket filters", "Files", "Triage"):  # fmt: skip
        assert heading in text
    assert "BPFDoor classic TCP magic" in text and QUARANTINE_SHA in text
    assert "(028) ret      #65535" in text  # the filter's disassembly
    metas = [dict(attrs) for tag, attrs in page.tags if tag == "meta"]
    assert {"http-equiv": "Content-Security-Policy", "content": CONTENT_SECURITY_POLICY} in metas
    assert_inert(page, html)
    (svg,) = svgs(html)
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"


def test_korean_report(case: Path) -> None:
    report = gather_report(case, language="ko")
    html = render_html(report)
    text = Document.of(html).content
    assert '<html lang="ko">' in html
    assert "침해사고 분석 보고서" in text and "판정: 침해됨" in text
    rules = {rule.id: rule for rule in load_rules()}
    for group in report.alert_groups:
        assert rules[group.rule_id].title("ko") in text
    assert "BPFDoor 소켓 필터 부착" in text
    assert "침해된 호스트로 간주합니다" in text  # the rule's Korean triage note
    assert "패킷/raw 소켓에 부착된 소켓 필터" in text  # the check, named in Korean
    assert "호스트 점검 결과" in text and "타임라인" in text and "증거 자료" in text


def test_times_in_a_chosen_zone(case: Path) -> None:
    from zoneinfo import ZoneInfo

    report = gather_report(case, language="ko")
    text = Document.of(render_html(report, zone=ZoneInfo("Asia/Seoul"))).content
    assert "KST" in text and "시각은 KST 기준입니다." in text


def test_the_process_tree_is_well_formed_svg(case: Path) -> None:
    html = render_html(gather_report(case, language="en"))
    (svg,) = svgs(html)
    namespace = "{http://www.w3.org/2000/svg}"
    boxes = svg.findall(f"{namespace}g[@class='process focus']") + svg.findall(
        f"{namespace}g[@class='process']"
    )
    assert len(boxes) == 5
    (focus,) = svg.findall(f"{namespace}g[@class='process focus']")
    rect = focus.find(f"{namespace}rect")
    assert rect is not None and rect.get("stroke-width") == "3" and rect.get("fill") == "#9b1c1c"
    labels = ["".join(text.itertext()) for text in focus.iter(f"{namespace}text")]
    assert labels[0] == "console-kit-daemon" and labels[1].startswith("pid 4120")
    assert len(svg.findall(f"{namespace}path")) == 4  # one edge per parent link


def test_hostile_host_data_is_shown_escaped_and_never_active(hostile_case: Path) -> None:
    for language in ("en", "ko"):
        report = gather_report(hostile_case, language=language)
        html = render_html(report)
        page = Document.of(html)
        assert_inert(page, html)
        text = page.content
        assert HOSTILE_NAME in text  # shown as text, exactly
        assert HOSTILE_ARG in text
        assert "\\x1b[31mkdm\\u202etxt.sh\\x07" in text  # control characters made visible
        assert "/tmp/\\xff\\xfeinvalid" in text  # undecodable bytes as their values
        for raw in ("\x1b", "\u202e", "\x07"):
            assert raw not in html
        html.encode("utf-8")  # nothing left that UTF-8 cannot carry
        for svg in svgs(html):  # XML 1.0 would refuse control characters
            assert HOSTILE_NAME in "".join(svg.itertext())
    # The JSON model keeps the exact values.
    document = gather_report(hostile_case, language="en").to_json()
    timeline = document["timeline"]
    assert isinstance(timeline, list)
    assert HOSTILE_NAME in {entry["process"]["name"] for entry in timeline if entry["process"]}


def assert_inert(page: Document, html: str) -> None:
    """No script element, no event-handler attribute, no javascript: URL, nothing external."""
    tags = [tag for tag, _ in page.tags]
    assert "script" not in tags and "img" not in tags and "iframe" not in tags
    assert "<script" not in html.lower().replace("&lt;script", "")
    for tag, attrs in page.tags:
        for name, value in attrs:
            assert not name.lower().startswith("on"), (tag, name, value)
            if name in ("href", "src", "xlink:href"):
                assert value is not None and value.startswith("#"), (tag, name, value)
            assert "javascript:" not in (value or "").lower()
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in "".join(value or "" for _, attrs in page.tags for _, value in attrs)


def test_time_window_and_host_scope(case: Path) -> None:
    later = datetime.now(UTC) + timedelta(days=1)
    report = gather_report(case, since=later, language="en")
    assert report.alerts == 0 and report.sweeps == () and report.timeline == ()
    assert report.empty  # the quarantine record is older than the window too
    html = render_html(report)
    assert "there is nothing to report" in Document.of(html).content
    clean = gather_report(case, host="db-1", language="en")
    assert clean.verdict == "clean" and clean.alerts == 0 and clean.alert_groups == ()
    assert [host.name for host in clean.hosts] == ["db-1"] and clean.trees == ()


def test_empty_and_missing_stores_give_a_report_that_says_so(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    report = gather_report(tmp_path, language="en")
    assert report.empty and report.verdict is None and report.notes == ()
    text = Document.of(render_html(report)).content
    assert "there is nothing to report" in text and "No sweep in this period" in text
    missing = gather_report(tmp_path / "nowhere", language="ko")
    assert missing.empty and "데이터 디렉터리" in missing.notes[0]
    assert "보고할 내용이 없습니다" in Document.of(render_html(missing)).content


def test_an_unreadable_store_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "store").write_text("not a directory")
    with pytest.raises(ReportError, match="Not a directory"):
        gather_report(tmp_path)


def test_damaged_segments_and_broken_records_are_noted(case: Path, tmp_path: Path) -> None:
    build_compromise(tmp_path)
    write(tmp_path, [{"@timestamp": "2026-01-01T00:00:00Z", "host": {"name": "x"}}])
    victim = sorted((tmp_path / "store" / "segments").glob("*/*.parquet"))[0]
    victim.write_bytes(b"PAR1 not really")
    (tmp_path / "sweeps" / "20260101T000000Z-web-1.json").write_text("{")
    (tmp_path / "quarantine" / "broken.json").write_text("[]")
    report = gather_report(tmp_path, language="en")
    assert report.skipped_segments == 1
    notes = " ".join(report.notes)
    assert "damaged store segments were skipped" in notes
    assert "Quarantine record" in notes
    # The broken sweep file is older than the good one, so the good one is read.
    assert any(sweep.verdict == "compromised" for sweep in report.sweeps)


def test_a_broken_latest_sweep_file_is_noted_and_the_store_answers(tmp_path: Path) -> None:
    build_compromise(tmp_path)
    (tmp_path / "sweeps" / "29990101T000000Z-web-1.json").write_text('{"verdict": 1}')
    report = gather_report(tmp_path, language="en")
    assert any("not a sweep result" in note for note in report.notes)
    web = next(sweep for sweep in report.sweeps if sweep.host == "web-1")
    assert web.source == "store" and web.verdict == "compromised"


def node(
    entity: str, parent: str | None, children: tuple[str, ...] = (), **fields: object
) -> ProcessNode:
    values: dict[str, object] = {
        "entity_id": entity, "parent_entity_id": parent, "pid": int(entity[1:]), "name": entity,
        "executable": f"/usr/bin/{entity}", "command_line": entity, "user": "root",
        "start": datetime(2026, 5, 1, tzinfo=UTC) + timedelta(seconds=int(entity[1:])),
        "end": None, "host_name": "web-1", "events": {"process": 1}, "alerts": 0,
        "severity": None, "children": children,
    }  # fmt: skip
    values.update(fields)
    return ProcessNode(**values)  # type: ignore[arg-type]


def wide_tree() -> ProcessTree:
    """p1 → p2 (focus) → 100 children, one of them alerted; p1 → p3 → p4 alerted."""
    children = tuple(f"p{100 + index}" for index in range(100))
    nodes = {
        "p1": node("p1", None, ("p2", "p3")),
        "p2": node("p2", "p1", children),
        "p3": node("p3", "p1", ("p4",)),
        "p4": node("p4", "p3", alerts=2, severity="high"),
    }
    for child in children:
        nodes[child] = node(child, "p2")
    nodes["p150"] = node("p150", "p2", alerts=1, severity="critical")
    return ProcessTree("p2", "p1", nodes, False, None)


def test_a_wide_tree_is_drawn_within_its_budget_with_what_matters() -> None:
    tree = wide_tree()
    chosen = select_nodes(tree)
    assert len(chosen) == DRAWN_NODES
    assert chosen[:2] == ["p1", "p2"]  # the ancestors of the focus first
    assert {"p150", "p3", "p4"} <= set(chosen)  # alerted processes and their ancestors
    view = tree_view(tree, "en")
    nodes = {graph_node.id: graph_node for graph_node in view.graph.nodes}
    assert nodes["p2"].focus and nodes["p2"].hidden_children == 100 - (DRAWN_NODES - 4)
    assert nodes["p150"].severity == "critical" and nodes["p4"].severity == "high"
    assert view.total == 104 and len(view.rows) == DRAWN_NODES
    assert view.title == "p2 (pid 2) on web-1"
    report = IncidentReport(
        generated_at=datetime(2026, 5, 1, tzinfo=UTC), language="en", version="test",
        scope=ReportScope("/data", None, None, None, ()), verdict=None, verdict_text=None, events=0, alerts=0,
        alerts_by_severity={}, hosts=(), sweeps=(), alert_groups=(), timeline=(),
        timeline_omitted=0, trees=(view,), filters=(), files=(), notes=(),
    )  # fmt: skip
    (svg,) = svgs(render_html(report))
    assert "+64 more not drawn" in "".join(svg.itertext())


def test_a_parent_cycle_or_missing_parent_does_not_hang() -> None:
    nodes = {
        "p1": node("p1", "p2", ("p2",)),
        "p2": node("p2", "p1", ("p1",)),
        "p3": node("p3", "p9"),
    }
    view = tree_view(ProcessTree("p1", "p1", nodes, True, None), "ko")
    assert {graph_node.id for graph_node in view.graph.nodes} == {"p1", "p2"}
    assert view.title == "web-1 의 p1 (PID 1)" and view.truncated


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"event": {"action": "exec"}, "process": {"args": ["/bin/sh", "-i"]}}, "/bin/sh -i"),
        ({"event": {"action": "rename"}, "file": {"path": "/b", "Ext": {"original": {"path": "/a"}}}},
         "/a renamed to /b"),
        ({"event": {"action": "connection_attempted"},
          "destination": {"ip": "203.0.113.7", "port": 443}}, "-> 203.0.113.7:443"),
        ({"event": {"action": "connection_accepted"}, "source": {"ip": "198.51.100.2"}},
         "<- 198.51.100.2"),
        ({"event": {"kind": "alert"}, "rule": {"name": "R"}}, "R"),
        ({"event": {"action": "name_change"}, "doorhunt": {"process": {"previous_name": "x"}}},
         "process name changed from x"),
        ({"event": {"action": "sweep_completed"},
          "doorhunt": {"sweep": {"verdict": "suspicious", "score": 55, "findings": 2}}},
         "sweep verdict: SUSPICIOUS (score 55/100, 2 findings)"),
        ({"event": {"action": "socket_opened"},
          "doorhunt": {"socket": {"family": "packet", "type": "raw", "protocol": 2048}}},
         "socket packet/raw protocol 0x0800"),
        ({"event": {"action": 5}, "process": 7}, ""),
    ],
)  # fmt: skip
def test_event_detail(fields: dict[str, object], expected: str) -> None:
    assert event_detail(fields, "en") == expected


def test_pdf_when_a_converter_is_installed(case: Path, tmp_path: Path) -> None:
    converter = find_converter()
    if converter is None:
        unavailable("needs chromium or wkhtmltopdf (Debian: apt-get install chromium)")
    html = render_html(gather_report(case, language="ko"))
    target = tmp_path / "report.pdf"
    used = html_to_pdf(html, target, converter=converter)
    data = target.read_bytes()
    assert used == converter and data.startswith(b"%PDF") and len(data) > 10_000
    assert target.stat().st_mode & 0o777 == 0o600


def test_alerts_from_elsewhere_read_without_the_rule_pack(tmp_path: Path) -> None:
    """An alert shipped from Elastic: no doorhunt severity, a rule doorhunt does not have."""
    alert = {
        "@timestamp": "2026-05-01T10:00:00.000Z",
        "event": {"kind": "alert", "severity": 3, "risk_score": 73.0, "action": "exec"},
        "host": {"name": "es-1"},
        "rule": {"id": "elastic-1", "name": "Elastic rule", "description": "from Kibana",
                 "reference": ["https://example.invalid/x"]},
        "threat": {"framework": "MITRE ATT&CK", "tactic": {"id": ["TA0002"], "name": ["Execution"]},
                   "technique": {"id": ["T1059"], "name": ["Command and Scripting Interpreter"]}},
        "process": {"pid": 9, "name": "sh", "entity_id": "e-9"},
    }  # fmt: skip
    write(tmp_path, [alert])
    report = gather_report(tmp_path, language="ko")
    (group,) = report.alert_groups
    assert group.severity == "high" and not group.in_pack and group.triage == ""
    assert group.tactics[0].id == "TA0002" and group.techniques[0].id == "T1059"
    assert group.references == ("https://example.invalid/x",)
    html = render_html(report)
    assert "대응 가이드가 없습니다" in Document.of(html).content
    assert_inert(Document.of(html), html.replace("https://example.invalid/x", ""))
    assert report.trees == ()  # no process events stored for it


def test_trees_are_bounded_and_alert_only_processes_cost_no_tree_query(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """8 alerted processes with events (6 get a tree, the note counts the rest) and 500
    alerts about processes no event describes (shipped alone: no tree query for them)."""
    start = base_time()
    events = SensorEvents("farm-1", start)
    alerts = []
    for index in range(8):
        started = events.process("exec", 100 + index, None, f"job{index}", "/tmp/job", ["/tmp/job"])
        process = started["process"]
        alerts.append(
            new_event(kind="alert", category="process", type="start", action="exec",
                      timestamp=start + timedelta(minutes=1), host={"name": "farm-1"},
                      process=process, rule={"id": "x-1", "name": "Job from /tmp"},
                      doorhunt={"alert": {"severity": "high"}})
        )  # fmt: skip
    for index in range(500):
        alerts.append(
            new_event(kind="alert", category="process", type="start", action="exec",
                      timestamp=start + timedelta(minutes=2), host={"name": "farm-1"},
                      process={"pid": 5000 + index, "entity_id": f"shipped-{index}"},
                      rule={"id": "x-2", "name": "Shipped"}, doorhunt={"alert": {"severity": "critical"}})
        )  # fmt: skip
    write(tmp_path, events.documents + alerts)
    calls: list[str] = []
    real = incident_trees.process_tree

    def counting(reader, entity_id, **options):  # type: ignore[no-untyped-def]
        calls.append(entity_id)
        return real(reader, entity_id, **options)

    monkeypatch.setattr(incident_trees, "process_tree", counting)
    report = gather_report(tmp_path, language="en")
    assert len(report.trees) == 6 and len(calls) == 6
    assert not any(call.startswith("shipped-") for call in calls)
    assert "2 more alerted processes have no tree drawn (the report draws 6)." in report.notes
    assert report.alerts == 508 and report.alert_groups[0].count == 500
