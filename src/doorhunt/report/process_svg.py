"""A process tree drawn as SVG for the incident report: a layered tidy tree, left to right.

Each depth is a column; leaves take consecutive rows in depth-first order and a parent sits
midway between its first and last child (the layered layout of Reingold and Tilford's tidy
trees, with rows instead of contours: labels are wide and trees are deep, so columns of
fixed width read best on a printed page, as `pstree` does). Nodes show the process name and
pid, filled by the severity of their alerts; the process the tree is about has a thick
border. Output is deterministic (same graph, same bytes), needs no script or font download,
and every string in it went through `xml_text`: process names are chosen by attackers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from doorhunt.i18n import Catalog
from doorhunt.report.display import display_text, fit_width, text_width, xml_text

LABELS: Final = Catalog(
    {
        "pid": {"en": "pid {pid}", "ko": "PID {pid}"},
        "alerts": {"en": "{count} alerts", "ko": "경보 {count}건"},
        "one_alert": {"en": "1 alert", "ko": "경보 1건"},
        "more": {"en": "+{count} more not drawn", "ko": "그 밖의 {count}개는 생략"},
        "not_drawn": {
            "en": "{count} more processes not drawn",
            "ko": "프로세스 {count}개는 그림에서 생략",
        },
        "unknown": {"en": "(unknown)", "ko": "(알 수 없음)"},
        "legend_focus": {"en": "the alerted process", "ko": "경보 대상 프로세스"},
        "legend_none": {"en": "no alert", "ko": "경보 없음"},
        "critical": {"en": "critical", "ko": "심각"},
        "high": {"en": "high", "ko": "높음"},
        "medium": {"en": "medium", "ko": "중간"},
        "low": {"en": "low", "ko": "낮음"},
        "title": {"en": "Process tree of {name}", "ko": "{name}의 프로세스 트리"},
    }
)

SEVERITIES: Final = ("critical", "high", "medium", "low")
# Fill and text colours per severity; print-safe (they stay distinct in greyscale, from dark to
# light), and the same as the report's badges.
FILL: Final[Mapping[str, str]] = {
    "critical": "#9b1c1c",
    "high": "#d9480f",
    "medium": "#f2c94c",
    "low": "#cfd8dc",
}
INK: Final[Mapping[str, str]] = {
    "critical": "#ffffff",
    "high": "#ffffff",
    "medium": "#1a1a1a",
    "low": "#1a1a1a",
}
NO_ALERT_FILL: Final = "#ffffff"
NO_ALERT_INK: Final = "#1a1a1a"
EDGE: Final = "#7a7a7a"
FONT: Final = "DejaVu Sans Mono, Menlo, Consolas, Noto Sans Mono CJK KR, monospace"

BOX_WIDTH: Final = 168
BOX_HEIGHT: Final = 36
COLUMN: Final = BOX_WIDTH + 34
ROW: Final = BOX_HEIGHT + 10
MARGIN: Final = 12
LEGEND_HEIGHT: Final = 30
LABEL_COLUMNS: Final = 22  # monospace columns that fit in a box at 11 px
DEFAULT_MAX_NODES: Final = 200


@dataclass(frozen=True, slots=True)
class GraphNode:
    """One process to draw. `hidden_children` counts children left out of the drawing."""

    id: str
    parent: str | None
    name: str | None
    pid: int | None
    severity: str | None = None  # low, medium, high, critical: the worst alert on it
    alerts: int = 0
    focus: bool = False
    hidden_children: int = 0


@dataclass(frozen=True, slots=True)
class ProcessGraph:
    """The part of a process tree the report draws; siblings are drawn in `nodes` order."""

    root: str
    nodes: tuple[GraphNode, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "root": self.root,
            "nodes": [
                {
                    "id": node.id,
                    "parent": node.parent,
                    "name": node.name,
                    "pid": node.pid,
                    "severity": node.severity,
                    "alerts": node.alerts,
                    "focus": node.focus,
                    "hidden_children": node.hidden_children,
                }
                for node in self.nodes
            ],
        }


@dataclass(frozen=True, slots=True)
class _Item:
    """A box to place: a process (`node`) or the "+N more" marker of a parent."""

    node: GraphNode | None
    more: int
    depth: int
    children: list[int]


def _items(graph: ProcessGraph, max_nodes: int) -> tuple[list[_Item], list[int], int]:
    """The boxes in depth-first order, the indexes of the tops, and how many nodes were left
    out. Robust to anything: duplicate ids (the first counts), parents that are missing or
    form a cycle (the node starts a tree of its own), any depth (no recursion)."""
    nodes: dict[str, GraphNode] = {}
    for node in graph.nodes:
        nodes.setdefault(node.id, node)
    children: dict[str, list[str]] = {}
    for node in nodes.values():
        if node.parent is not None and node.parent != node.id and node.parent in nodes:
            children.setdefault(node.parent, []).append(node.id)
    parentless = [
        node.id
        for node in nodes.values()
        if node.parent is None or node.parent == node.id or node.parent not in nodes
    ]
    # The root, then the other tops, then whatever only a cycle of parents leads to.
    starts = ([graph.root] if graph.root in nodes else []) + parentless + list(nodes)
    items: list[_Item] = []
    tops: list[int] = []
    visited: set[str] = set()
    for start in starts:
        if start in visited or len(items) >= max_nodes:
            continue
        visited.add(start)
        tops.append(len(items))
        # (node id, or None for a "+N more" marker; depth; index of the parent's item)
        stack: list[tuple[str | None, int, int | None]] = [(start, 0, None)]
        while stack:
            current, depth, parent_index = stack.pop()
            if current is None:  # pushed before the real children, so it comes out last
                assert parent_index is not None
                parent_item = items[parent_index]
                assert parent_item.node is not None
                index = len(items)
                items.append(_Item(None, parent_item.node.hidden_children, depth, []))
                parent_item.children.append(index)
                continue
            node = nodes[current]
            index = len(items)
            items.append(_Item(node, 0, depth, []))
            if parent_index is not None:
                items[parent_index].children.append(index)
            pending = [child for child in children.get(current, ()) if child not in visited]
            # Children that would pass max_nodes are left out; once that happens the boxes
            # already stacked reach max_nodes, so no left-out child is later drawn as a top.
            room = max_nodes - len(items) - len(stack)
            drawn = pending[: max(room, 0)]
            visited.update(drawn)
            if node.hidden_children > 0:
                stack.append((None, depth + 1, index))
            stack.extend((child, depth + 1, index) for child in reversed(drawn))
    left_out = len(nodes) - sum(1 for item in items if item.node is not None)
    return items, tops, left_out


def _layout(items: list[_Item]) -> list[float]:
    """The row of each item: leaves in order, parents midway between first and last child."""
    rows = [0.0] * len(items)
    next_row = 0
    for index, item in enumerate(items):
        if not item.children:
            rows[index] = float(next_row)
            next_row += 1
    for index in range(len(items) - 1, -1, -1):  # children come after their parent
        item = items[index]
        if item.children:
            rows[index] = (rows[item.children[0]] + rows[item.children[-1]]) / 2
    return rows


def _number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def render_svg(
    graph: ProcessGraph,
    language: str = "en",
    *,
    title: str | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> str:
    """The graph as a standalone SVG document fragment (an `<svg>` element)."""

    def label(code: str, **params: object) -> str:
        return LABELS.text(code, language, **params)

    items, _, left_out = _items(graph, max(max_nodes, 1))
    rows = _layout(items)
    depth = max((item.depth for item in items), default=0)
    leaves = sum(1 for item in items if not item.children)
    width = 2 * MARGIN + depth * COLUMN + BOX_WIDTH
    width = max(width, _legend_width(language))
    height = LEGEND_HEIGHT + 2 * MARGIN + max(leaves, 1) * ROW + (18 if left_out else 0)
    focus_name = next((item.node.name for item in items if item.node and item.node.focus), None)
    heading = title or label("title", name=display_text(focus_name or label("unknown")))

    def x_of(index: int) -> float:
        return MARGIN + items[index].depth * COLUMN

    def y_of(index: int) -> float:
        return LEGEND_HEIGHT + MARGIN + rows[index] * ROW

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="process-tree" '
        f'viewBox="0 0 {width} {_number(height)}" width="{width}" height="{_number(height)}" '
        f'role="img" aria-label="{xml_text(heading, limit=200)}" '
        f'font-family="{FONT}" font-size="11">',
        f"<title>{xml_text(heading, limit=200)}</title>",
    ]
    out.extend(_legend(language))
    for index, item in enumerate(items):  # edges first, so boxes cover their ends
        for child in item.children:
            x1 = x_of(index) + BOX_WIDTH
            y1 = y_of(index) + BOX_HEIGHT / 2
            x2 = x_of(child)
            y2 = y_of(child) + BOX_HEIGHT / 2
            middle = x1 + (x2 - x1) / 2
            out.append(
                f'<path d="M{_number(x1)} {_number(y1)}H{_number(middle)}V{_number(y2)}'
                f'H{_number(x2)}" fill="none" stroke="{EDGE}" stroke-width="1"/>'
            )
    for index, item in enumerate(items):
        out.extend(_box(item, x_of(index), y_of(index), language))
    if left_out:
        out.append(
            f'<text x="{MARGIN}" y="{_number(height - MARGIN)}" fill="{NO_ALERT_INK}">'
            f"{xml_text(label('not_drawn', count=left_out))}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)


def _legend_entries(language: str) -> list[tuple[str, str, str, int]]:
    entries = [(LABELS.text(s, language), FILL[s], "#555555", 1) for s in SEVERITIES]
    entries.append((LABELS.text("legend_none", language), NO_ALERT_FILL, "#555555", 1))
    entries.append((LABELS.text("legend_focus", language), NO_ALERT_FILL, "#000000", 3))
    return entries


def _legend_width(language: str) -> int:
    return MARGIN + sum(30 + 7 * text_width(text) for text, *_ in _legend_entries(language))


def _legend(language: str) -> list[str]:
    parts = ['<g class="legend">']
    x = MARGIN
    for text, fill, stroke, stroke_width in _legend_entries(language):
        parts.append(
            f'<rect x="{x}" y="{MARGIN}" width="14" height="14" rx="2" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{stroke_width}"/>'
        )
        parts.append(f'<text x="{x + 19}" y="{MARGIN + 11}">{xml_text(text)}</text>')
        x += 30 + 7 * text_width(text)
    parts.append("</g>")
    return parts


def _box(item: _Item, x: float, y: float, language: str) -> list[str]:
    node = item.node
    if node is None:
        text = LABELS.text("more", language, count=item.more)
        return [
            f'<text x="{_number(x + 4)}" y="{_number(y + BOX_HEIGHT / 2 + 4)}" '
            f'fill="{NO_ALERT_INK}" font-style="italic">{xml_text(text)}</text>'
        ]
    severity = node.severity if node.severity in FILL else None
    fill = FILL[severity] if severity else NO_ALERT_FILL
    ink = INK[severity] if severity else NO_ALERT_INK
    stroke, stroke_width = ("#000000", 3) if node.focus else ("#555555", 1)
    name = display_text(node.name) if node.name else LABELS.text("unknown", language)
    pid = LABELS.text("pid", language, pid=node.pid if node.pid is not None else "?")
    second = pid
    if node.alerts == 1:
        second = f"{pid} · {LABELS.text('one_alert', language)}"
    elif node.alerts > 1:
        second = f"{pid} · {LABELS.text('alerts', language, count=node.alerts)}"
    tooltip = f"{name} ({pid})"
    return [
        f'<g class="process{" focus" if node.focus else ""}">',
        f"<title>{xml_text(tooltip, limit=500)}</title>",
        f'<rect x="{_number(x)}" y="{_number(y)}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" '
        f'rx="5" fill="{fill}" stroke="{stroke}" stroke-width="{stroke_width}"/>',
        f'<text x="{_number(x + 7)}" y="{_number(y + 15)}" fill="{ink}" font-weight="bold">'
        f"{xml_text(fit_width(name, LABEL_COLUMNS))}</text>",
        f'<text x="{_number(x + 7)}" y="{_number(y + 29)}" fill="{ink}">'
        f"{xml_text(fit_width(second, LABEL_COLUMNS + 2))}</text>",
        "</g>",
    ]


__all__ = ["LABELS", "GraphNode", "ProcessGraph", "render_svg"]
