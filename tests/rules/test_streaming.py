"""The streaming engine's own behaviour: the index that skips rules, bounded state, time."""

from __future__ import annotations

from doorhunt.rules.engine import StreamingEngine, compile_rule
from doorhunt.rules.engine.dispatch import Constraint, categories_of, choose_anchor
from doorhunt.rules.engine.parser import parse_query
from tests.rules.helpers import doc, stamp


def anchor_of(query: str) -> tuple[str, bool, Constraint] | None:
    body = parse_query(query).body
    anchor = choose_anchor(body.condition)  # type: ignore[union-attr]
    return None if anchor is None else (anchor.field, anchor.insensitive, anchor.constraint)


def exact(*values: str) -> Constraint:
    return Constraint(frozenset(values))


def test_anchors_are_necessary_values_of_selective_fields() -> None:
    assert anchor_of('process where process.name in ("a", "b") and event.action == "exec"') == (
        "process.name",
        False,
        exact("a", "b"),
    )
    # Alternatives on the same field merge; host.os.type is not selective.
    assert anchor_of(
        'process where host.os.type == "linux" and (process.name : "A" or process.name : "b")'
    ) == ("process.name", True, exact("a", "b"))
    # A `like` and a `:` alternative merge case folded.
    assert anchor_of('process where process.name like "Ab*" or process.name : "c"') == (
        "process.name",
        True,
        Constraint(frozenset({"c"}), frozenset({"ab"})),
    )
    # event.action only when nothing better is required.
    assert anchor_of('process where event.action in ("exec", "fork")') == (
        "event.action",
        False,
        exact("exec", "fork"),
    )
    # Wildcard patterns anchor on their literal prefix or suffix, regexes on their prefix.
    assert anchor_of('process where process.name : "ba*"') == (
        "process.name",
        True,
        Constraint(prefixes=frozenset({"ba"})),
    )
    assert anchor_of('file where file.path like "*.so"') == (
        "file.path",
        False,
        Constraint(suffixes=frozenset({".so"})),
    )
    assert anchor_of('process where process.executable regex """/var/run/\\w+\\.(pid|lock)"""') == (
        "process.executable",
        False,
        Constraint(prefixes=frozenset({"/var/run/"})),
    )
    # Infixes, negations and alternatives over different fields require nothing.
    assert anchor_of('process where process.name : "*ba*"') is None
    assert anchor_of('process where not process.name == "a"') is None
    assert anchor_of('process where process.name == "a" or file.name == "b"') is None
    assert anchor_of("process where process.pid in (1, 2)") is None
    assert anchor_of('process where process.name regex "a|b"') is None


def test_any_where_steps_are_filed_under_the_categories_they_require() -> None:
    condition = parse_query(
        'any where (event.category == "process" and a == 1) or event.category : "network"'
    ).body.condition  # type: ignore[union-attr]
    assert categories_of(None, condition) == [None]  # `:` is case-insensitive: not a term
    condition = parse_query(
        'any where (event.category == "process" and a == 1) or event.category == "network"'
    ).body.condition  # type: ignore[union-attr]
    assert categories_of(None, condition) == ["network", "process"]
    assert categories_of("file", condition) == ["file"]


def test_most_rules_are_never_evaluated_for_most_events() -> None:
    rules = [
        compile_rule(f'process where event.action == "exec" and process.name == "tool{i}"')
        for i in range(50)
    ] + [compile_rule(f'file where file.name == "f{i}"') for i in range(50)]
    engine = StreamingEngine(rules)
    for i in range(100):
        engine.process(doc(str(i), i, "process", event__action="exec", process__name="tool3"))
        engine.process(doc(str(i), i, "network", process__name="tool3"))
    stats = engine.stats()
    assert stats.events == 200
    assert stats.matches == 100
    # Only rule 3 was evaluated, once per process event.
    assert stats.evaluations == 100
    assert stats.rules[3].evaluations == 100


def test_pending_sequences_are_bounded_and_evictions_counted() -> None:
    rule = compile_rule("sequence by host.id [process where true] [network where true]")
    engine = StreamingEngine([rule], max_pending=10)
    for i in range(25):
        engine.process(doc(f"p{i}", i, "process", host__id=f"h{i}"))
    stats = engine.stats()
    assert stats.pending == 10
    assert stats.evictions == 15
    assert stats.rules[0].evictions == 15
    # The oldest were dropped: h0 no longer completes, h24 does.
    assert engine.process(doc("n0", 30, "network", host__id="h0")) == []
    assert len(engine.process(doc("n24", 31, "network", host__id="h24"))) == 1


def test_sequences_past_maxspan_are_swept_without_changing_results() -> None:
    rule = compile_rule(
        "sequence by host.id with maxspan=1s [process where true] [network where true]"
    )
    engine = StreamingEngine([rule])
    for i in range(5000):
        engine.process(doc(f"p{i}", i * 0.01, "process", host__id=f"h{i}"))
    stats = engine.stats()
    assert stats.rules[0].expired > 0
    assert stats.pending < 5000
    assert stats.evictions == 0


def test_documents_without_a_timestamp_take_the_clock() -> None:
    now = [1000.0]
    rule = compile_rule("sequence with maxspan=5s [process where true] [network where true]")
    engine = StreamingEngine([rule], clock=lambda: now[0])
    start = {"event": {"category": ["process"], "id": "p"}}
    engine.process(start)
    now[0] += 10
    assert engine.process({"event": {"category": ["network"], "id": "n"}}) == []
    engine.process(start)
    now[0] += 1
    assert len(engine.process({"event": {"category": ["network"], "id": "n"}})) == 1


def test_trailing_missing_steps_report_after_maxspan_or_at_flush() -> None:
    rule = compile_rule(
        'sequence by host.id with maxspan=5s [any where label == "A"] ![any where label == "M"]'
    )
    engine = StreamingEngine([rule])
    assert engine.process(doc("a", 0, label="A", host__id="h")) == []
    assert engine.process(doc("x", 5, label="X", host__id="h")) == []  # still within maxspan
    late = engine.process(doc("y", 5.001, label="Y", host__id="h"))
    assert [m.events[0]["event"]["id"] for m in late] == ["a"]  # type: ignore[index]
    assert engine.process(doc("b", 10, label="A", host__id="h")) == []
    assert len(engine.flush()) == 1


def test_arrays_of_objects_and_dotted_keys_are_followed() -> None:
    # Elasticsearch flattens arrays of objects ({"a": [{"b": 1}, {"b": 2}]} holds a.b = 1, 2)
    # and reads dotted keys as paths. SQL hunts read stored documents, whose dotted keys the
    # store expands, but not arrays of objects (docs/eql.md, "Differences").
    rule = compile_rule('any where dns.answers.name == "b" and process.name == "x"')
    engine = StreamingEngine([rule])
    document = {
        "@timestamp": stamp(0),
        "dns": {"answers": [{"name": "a"}, {"name": "b"}]},
        "process.name": "x",
    }
    assert len(engine.process(document)) == 1


def test_matches_come_in_rule_order_with_their_rule() -> None:
    first = compile_rule('process where process.name == "a"', name="first")
    second = compile_rule("process where true", name="second")
    engine = StreamingEngine([second, first])
    matches = engine.process(doc("e", 0, process__name="a"))
    assert [m.rule.name for m in matches] == ["second", "first"]
    assert matches[0].to_json()["rule"] == "second"


def test_stats_to_json() -> None:
    engine = StreamingEngine([compile_rule("process where true", name="r")])
    engine.process(doc("e", 0))
    assert engine.stats().to_json() == {
        "events": 1,
        "evaluations": 1,
        "matches": 1,
        "pending": 0,
        "evictions": 0,
        "rules": [
            {"rule": "r", "kind": "event", "evaluations": 1, "matches": 1, "pending": 0,
             "evictions": 0, "expired": 0}
        ],
    }  # fmt: skip


def test_the_engine_plugs_into_the_sensor_hook_shape() -> None:
    engine = StreamingEngine([compile_rule("process where true")])
    hook = engine.processor()
    assert len(hook(doc("e", 0))) == 1
