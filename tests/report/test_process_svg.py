"""The process-tree SVG renderer: any graph and any strings give well-formed, deterministic SVG
whose text shows what the strings hold; and the text helpers it relies on."""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from doorhunt.report.display import display_text, fit_width, text_width, xml_text
from doorhunt.report.process_svg import GraphNode, ProcessGraph, render_svg

SVG = "{http://www.w3.org/2000/svg}"
IDS = st.sampled_from([f"e{index}" for index in range(12)] + ["", "<&>", "\x00", "\udcff"])
# Any code point, lone surrogates and control characters included: host data is arbitrary.
ANY_TEXT = st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=40)


@st.composite
def graphs(draw: st.DrawFn) -> ProcessGraph:
    nodes = draw(
        st.lists(
            st.builds(
                GraphNode,
                id=IDS,
                parent=st.none() | IDS,
                name=st.none() | ANY_TEXT,
                pid=st.none() | st.integers(min_value=-(2**63), max_value=2**63),
                severity=st.none()
                | st.sampled_from(["low", "medium", "high", "critical"])
                | ANY_TEXT,
                alerts=st.integers(min_value=0, max_value=10**6),
                focus=st.booleans(),
                hidden_children=st.integers(min_value=0, max_value=10**6),
            ),
            max_size=30,
        )
    )
    return ProcessGraph(draw(IDS), tuple(nodes))


@given(graphs(), st.sampled_from(["en", "ko"]), st.integers(min_value=1, max_value=40))
def test_any_graph_renders_as_well_formed_deterministic_svg(
    graph: ProcessGraph, language: str, max_nodes: int
) -> None:
    svg = render_svg(graph, language, max_nodes=max_nodes)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert float(root.get("width", "0")) > 0 and float(root.get("height", "0")) > 0
    boxes = [group for group in root.iter(f"{SVG}g") if "process" in (group.get("class") or "")]
    distinct = len({node.id for node in graph.nodes})
    assert len(boxes) <= max_nodes
    if distinct <= max_nodes and not any(node.hidden_children for node in graph.nodes):
        assert len(boxes) == distinct  # every process drawn once, whatever its parents
    assert render_svg(graph, language, max_nodes=max_nodes) == svg
    svg.encode("utf-8")


@given(ANY_TEXT.filter(bool))
def test_every_name_is_shown_escaped(name: str) -> None:
    graph = ProcessGraph("a", (GraphNode("a", None, name, 1, "critical", 1, True),))
    root = ET.fromstring(render_svg(graph))
    (title,) = list(root.iter(f"{SVG}title"))[1:]
    assert title.text == f"{display_text(name)} (pid 1)"


def test_a_ten_thousand_deep_chain_renders_without_recursion() -> None:
    nodes = tuple(
        GraphNode(f"p{index}", f"p{index - 1}" if index else None, "sh", index)
        for index in range(10_000)
    )
    root = ET.fromstring(render_svg(ProcessGraph("p0", nodes), max_nodes=200))
    boxes = [group for group in root.iter(f"{SVG}g") if group.get("class") == "process"]
    assert len(boxes) == 200
    assert "9800 more processes not drawn" in "".join(root.itertext())


def test_layout_parents_sit_between_their_children() -> None:
    graph = ProcessGraph(
        "r",
        (
            GraphNode("r", None, "init", 1),
            GraphNode("a", "r", "a", 2),
            GraphNode("b", "r", "b", 3, hidden_children=4),
            GraphNode("c", "b", "c", 4),
        ),
    )
    root = ET.fromstring(render_svg(graph))
    rects = {
        group.findtext(f"{SVG}text"): group.find(f"{SVG}rect")
        for group in root.iter(f"{SVG}g")
        if group.get("class") == "process"
    }
    y = {name: float(rect.get("y", "0")) for name, rect in rects.items() if rect is not None}
    x = {name: float(rect.get("x", "0")) for name, rect in rects.items() if rect is not None}
    assert x["init"] < x["a"] == x["b"] < x["c"]
    assert y["a"] < y["init"] < y["b"]  # rows: a, c, "+4 more"; b between c and the marker
    assert "+4 more not drawn" in "".join(root.itertext())


def test_display_text() -> None:
    assert display_text("plain") == "plain"
    assert display_text("a\x1b[31mb\u202ec\x00") == "a\\x1b[31mb\\u202ec\\x00"
    assert display_text("bytes \udcff\udc80") == "bytes \\xff\\x80"
    assert display_text("lone \ud800") == "lone \\ud800"
    assert display_text("line\nnext\tcol", multiline=True) == "line\nnext\tcol"
    assert display_text("line\nnext") == "line\\x0anext"
    assert display_text("x" * 10, limit=5) == "xxxx…"
    assert display_text(None) == "None" and display_text(42) == "42"
    assert xml_text('<a href="x">&') == "&lt;a href=&quot;x&quot;&gt;&amp;"


@given(ANY_TEXT)
def test_display_text_leaves_nothing_invisible_and_is_idempotent(value: str) -> None:
    shown = display_text(value)
    assert not any(unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn") for char in shown)
    assert display_text(shown) == shown
    shown.encode("utf-8")


def test_widths() -> None:
    assert text_width("abc") == 3 and text_width("침해") == 4
    assert fit_width("kdmtmpflush", 20) == "kdmtmpflush"
    assert fit_width("a" * 30, 10) == "a" * 9 + "…"
    assert fit_width("침해사고분석보고서", 7) == "침해사…"
