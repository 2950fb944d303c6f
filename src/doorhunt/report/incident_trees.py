"""Process trees for the incident report: which alerted processes get a tree, which of a
tree's processes are drawn (a printed page holds about 40), and the rows under the drawing.
The trees come from `doorhunt.investigate.tree`, the same as the UI's analyzer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from doorhunt.i18n import Catalog
from doorhunt.investigate.errors import InvestigationError
from doorhunt.investigate.tree import ProcessTree, process_tree
from doorhunt.report.fields import text_field, timestamp_of
from doorhunt.report.incident_alerts import NEVER, alert_severity, severity_rank
from doorhunt.report.incident_model import ProcessRow, ProcessTreeView
from doorhunt.report.process_svg import GraphNode, ProcessGraph
from doorhunt.store import StoreReader

MAX_TREES: Final = 6
TREE_NODES: Final = 2_000  # processes read per tree
DRAWN_NODES: Final = 40  # processes drawn per tree: one printed page
MAX_CANDIDATES: Final = 5_000  # alerted processes considered for a tree


@dataclass(frozen=True, slots=True)
class Focus:
    entity_id: str
    severity: str
    time: datetime | None


def focus_candidates(documents: Iterable[Mapping[str, object]]) -> list[Focus]:
    """The alerted processes, worst first, each once."""
    best: dict[str, Focus] = {}
    for doc in documents:
        entity = text_field(doc, "process.entity_id")
        if not entity:
            continue
        severity = text_field(doc, "doorhunt.finding.severity") or alert_severity(doc, None)
        candidate = Focus(entity, severity, timestamp_of(doc))
        current = best.get(entity)
        if current is None or severity_rank(severity) > severity_rank(current.severity):
            best[entity] = candidate
    return sorted(
        best.values(), key=lambda f: (-severity_rank(f.severity), f.time or NEVER, f.entity_id)
    )


def _sibling_key(tree: ProcessTree, entity: str) -> tuple[float, int, str]:
    node = tree.nodes[entity]
    start = node.start.timestamp() if node.start is not None else float("inf")
    return (start, node.pid if node.pid is not None else -1, entity)


def _children(tree: ProcessTree, entity: str) -> list[str]:
    node = tree.nodes.get(entity)
    if node is None:
        return []
    found = [child for child in node.children if child in tree.nodes and child != entity]
    return sorted(dict.fromkeys(found), key=lambda child: _sibling_key(tree, child))


def _ancestry(tree: ProcessTree, entity: str) -> list[str]:
    """`entity` and its ancestors in the tree, the topmost first (cycles cut)."""
    chain: list[str] = []
    current: str | None = entity
    while current is not None and current in tree.nodes and current not in chain:
        chain.append(current)
        current = tree.nodes[current].parent_entity_id
    return chain[::-1]


def select_nodes(tree: ProcessTree, budget: int = DRAWN_NODES) -> list[str]:
    """The processes of `tree` worth drawing within `budget`: the focus and its ancestors,
    the alerted processes and theirs, the focus's descendants, then the rest breadth first;
    every chosen process comes with its ancestors so the drawing stays one tree."""
    keep: dict[str, None] = {}

    def add(entity: str) -> None:
        chain = [item for item in _ancestry(tree, entity) if item not in keep]
        if len(keep) + len(chain) <= budget:
            keep.update(dict.fromkeys(chain))

    add(tree.focus)
    alerted = sorted(
        (node for node in tree.nodes.values() if node.alerts > 0),
        key=lambda node: (-severity_rank(node.severity), *_sibling_key(tree, node.entity_id)),
    )
    for node in alerted:
        add(node.entity_id)
    for start in (tree.focus, tree.root):
        queue = _children(tree, start)
        seen = set(queue)
        while queue and len(keep) < budget:
            entity = queue.pop(0)
            add(entity)
            for child in _children(tree, entity):
                if child not in seen:
                    seen.add(child)
                    queue.append(child)
    return list(keep)


def tree_view(tree: ProcessTree, language: str, budget: int = DRAWN_NODES) -> ProcessTreeView:
    """What the report shows of a process tree: the drawing and a row per drawn process."""
    chosen = select_nodes(tree, budget)
    kept = set(chosen)
    ordered = sorted(chosen, key=lambda entity: _sibling_key(tree, entity))
    graph_nodes = []
    rows = []
    for entity in ordered:
        node = tree.nodes[entity]
        parent = node.parent_entity_id if node.parent_entity_id in kept else None
        hidden = sum(1 for child in _children(tree, entity) if child not in kept)
        graph_nodes.append(
            GraphNode(
                id=entity,
                parent=parent,
                name=node.name,
                pid=node.pid,
                severity=node.severity if node.alerts else None,
                alerts=node.alerts,
                focus=entity == tree.focus,
                hidden_children=hidden,
            )
        )
        parent_node = tree.nodes.get(node.parent_entity_id or "")
        rows.append(
            ProcessRow(
                process=node,
                parent_pid=parent_node.pid if parent_node is not None else None,
                focus=entity == tree.focus,
            )
        )
    root = _ancestry(tree, tree.focus)[0] if tree.focus in tree.nodes else tree.root
    focus = tree.nodes.get(tree.focus)
    name = (focus.name if focus else None) or "?"
    pid = focus.pid if focus and focus.pid is not None else "?"
    host = focus.host_name if focus else None
    return ProcessTreeView(
        focus=tree.focus,
        host=host,
        title=TREE_TITLES.text("title", language, name=name, pid=pid, host=host or "?"),
        graph=ProcessGraph(root, tuple(graph_nodes)),
        rows=tuple(rows),
        total=len(tree.nodes),
        truncated=tree.truncated,
    )


TREE_TITLES: Final = Catalog(
    {
        "title": {
            "en": "{name} (pid {pid}) on {host}",
            "ko": "{host} 의 {name} (PID {pid})",
        },
    }
)


@dataclass(frozen=True, slots=True)
class TreesResult:
    views: tuple[ProcessTreeView, ...]
    left_out: int  # alerted processes beyond MAX_TREES that got no tree
    truncated: tuple[str, ...]  # titles of trees larger than TREE_NODES


def _with_events(reader: StoreReader, entities: Sequence[str]) -> set[str]:
    """The entities some stored event (not only an alert) is about: those that have a tree."""
    if not entities:
        return set()
    rows = reader.sql(
        "SELECT DISTINCT process_entity_id FROM events WHERE list_contains(?, process_entity_id) "
        "AND event_kind IS DISTINCT FROM 'alert'",
        [list(entities)],
    )
    return {str(row[0]) for row in rows}


def process_trees(reader: StoreReader, candidates: Sequence[Focus], language: str) -> TreesResult:
    """A tree for each alerted process, worst first, unless an earlier tree already drew it.

    Alerted processes that no stored event describes (alerts shipped without their events)
    are left out in one query first: a tree costs several queries, and there may be
    thousands of alerts."""
    candidates = candidates[:MAX_CANDIDATES]
    described = _with_events(reader, [candidate.entity_id for candidate in candidates])
    views: list[ProcessTreeView] = []
    truncated: list[str] = []
    drawn: set[str] = set()
    left_out = 0
    attempts = 0
    for candidate in candidates:
        if candidate.entity_id in drawn or candidate.entity_id not in described:
            continue
        if len(views) >= MAX_TREES or attempts >= 3 * MAX_TREES:
            left_out += 1
            continue
        attempts += 1
        try:
            tree = process_tree(reader, candidate.entity_id, max_nodes=TREE_NODES)
        except InvestigationError:  # EntityNotFound, or an id it refuses (over 512 characters)
            continue
        if candidate.entity_id not in tree.nodes:
            continue
        view = tree_view(tree, language)
        drawn.update(row.process.entity_id for row in view.rows)
        views.append(view)
        if tree.truncated:
            truncated.append(view.title)
    return TreesResult(tuple(views), left_out, tuple(truncated))


__all__ = [
    "DRAWN_NODES",
    "MAX_TREES",
    "TREE_NODES",
    "TREE_TITLES",
    "Focus",
    "TreesResult",
    "focus_candidates",
    "process_trees",
    "select_nodes",
    "tree_view",
]
