"""process_tree: ancestors and descendants, what each did, the tree at a moment, limits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from doorhunt.investigate import (
    EntityNotFound,
    InvestigationError,
    build_process_tree,
    process_tree,
)
from doorhunt.store import Store, StoreReader
from tests.investigate.fixtures import T0, Fixture


def test_ancestors_descendants_and_what_each_did(reader: StoreReader, fixture: Fixture) -> None:
    e = fixture.entities
    tree = process_tree(reader, e["implant"])
    assert tree.focus == e["implant"] and tree.root == e["systemd"] and not tree.truncated
    assert set(tree.nodes) == {e["systemd"], e["sshd"], e["bash"], e["implant"], e["shell"],
                               e["bind"], e["firewall"]}  # fmt: skip
    # The curl sibling is neither an ancestor nor a descendant of the implant.
    assert e["curl"] not in tree.nodes
    implant = tree.nodes[e["implant"]]
    assert implant.parent_entity_id == e["bash"] and implant.pid == 600
    assert implant.executable == "/dev/shm/kdmtmpflush" and implant.command_line == "/sbin/udevd -d"
    assert implant.user == "root" and implant.host_name == "web-1"
    assert dict(implant.events) == {"process": 2, "file": 1, "network": 2}
    # Two rules alerted about it, and the sweep found its filter.
    assert implant.alerts == 3 and implant.severity == "critical"
    assert implant.name == "kdmtmpflush"
    # Children in start order: the firewall change (at +25 s), the shell (+1 h), the listener.
    assert implant.children == (e["firewall"], e["shell"], e["bind"])
    assert tree.nodes[e["bash"]].children == (e["implant"],)
    assert tree.nodes[e["shell"]].end is not None and implant.end is None
    assert tree.nodes[e["shell"]].severity == "high"


def test_the_tree_before_and_after_a_moment(reader: StoreReader, fixture: Fixture) -> None:
    e = fixture.entities
    before = process_tree(reader, e["implant"], at=T0 + timedelta(minutes=30))
    assert e["shell"] not in before.nodes and e["firewall"] in before.nodes
    assert before.at == T0 + timedelta(minutes=30)
    after = process_tree(reader, e["implant"], at=T0 + timedelta(hours=2))
    assert e["shell"] in after.nodes and after.nodes[e["shell"]].end is not None
    # Events and alerts counted until the moment only.
    early = process_tree(reader, e["implant"], at=T0 + timedelta(seconds=21))
    assert dict(early.nodes[e["implant"]].events) == {"process": 2}
    assert early.nodes[e["implant"]].alerts == 1
    with pytest.raises(EntityNotFound, match="before that time"):
        process_tree(reader, e["implant"], at=T0)


def test_limits_and_unknown_entities(reader: StoreReader, fixture: Fixture) -> None:
    cron = fixture.entities["cron"]
    whole = process_tree(reader, cron)
    assert len([n for n in whole.nodes.values() if n.parent_entity_id == cron]) == 42
    cut = process_tree(reader, cron, max_nodes=10)
    assert (
        cut.truncated
        and len([n for n in cut.nodes.values() if n.entity_id != fixture.entities["init"]]) == 10
    )
    assert cut.nodes[cron].children and len(cut.nodes[cron].children) == 9
    with pytest.raises(EntityNotFound):
        process_tree(reader, "no-such-entity")
    with pytest.raises(InvestigationError, match="at least 1"):
        process_tree(reader, cron, max_nodes=0)


def test_processes_without_ancestry_or_top_level_user(
    reader: StoreReader, fixture: Fixture
) -> None:
    e = fixture.entities
    # Ingested audit events: no ancestry, no event.id; the parent link alone builds the tree.
    tree = process_tree(reader, e["audit_child"])
    assert tree.root == e["audit_parent"] and tree.nodes[e["audit_parent"]].children == (
        e["audit_child"],
    )
    # The live sensor writes the user under process.user only.
    sensor = process_tree(reader, e["sensor_style"])
    assert sensor.nodes[e["sensor_style"]].user == "postgres"
    # Hostile names come back as they were stored.
    evil = process_tree(reader, e["evil"]).nodes[e["evil"]]
    assert evil.name == '<img src=x onerror="window.__pwned=1">'


def test_a_caller_may_pass_the_host_and_alert_counts(reader: StoreReader, fixture: Fixture) -> None:
    e = fixture.entities
    tree = build_process_tree(
        reader,
        e["implant"],
        host="web-1",
        alert_counts=lambda entities, at: {e["implant"]: (9, "low")},
    )
    assert tree.nodes[e["implant"]].alerts == 9 and tree.nodes[e["implant"]].severity == "low"
    with pytest.raises(EntityNotFound, match="on host 'db-1'"):
        build_process_tree(reader, e["implant"], host="db-1")


def test_a_parent_cycle_ends(tmp_path: object) -> None:
    from pathlib import Path

    from doorhunt.ecs import new_event

    assert isinstance(tmp_path, Path)
    documents = [
        new_event(kind="event", category="process", type="start", action="exec",
                  timestamp=T0 + timedelta(seconds=index), host={"name": "h"},
                  process={"pid": index, "entity_id": child, "parent": {"entity_id": parent}})
        for index, (child, parent) in enumerate([("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")])
    ]  # fmt: skip
    store = Store(tmp_path / "store")
    with store.writer(compact_interval=None) as writer:
        writer.extend(documents)
    with store.reader() as reader:
        tree = process_tree(reader, "a")
    assert set(tree.nodes) == {"a", "b", "c", "d"}
    assert tree.root in {"a", "b", "c"}
