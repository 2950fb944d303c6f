"""A rule that needs two values of one field must still reach events whose field is an array
holding both (a regression: the dispatcher once intersected the two values' sets)."""

from __future__ import annotations

from doorhunt.rules.engine import StreamingEngine, compile_rule, to_sql


def test_two_values_of_one_array_field_both_required() -> None:
    rule = compile_rule('process where process.env_vars == "A=1" and process.env_vars == "B=2"')
    both = {
        "@timestamp": "2025-01-01T00:00:00Z",
        "event": {"category": ["process"]},
        "process": {"env_vars": ["A=1", "B=2"]},
    }
    one = {**both, "process": {"env_vars": ["A=1"]}}
    assert rule.steps[0].condition.predicate(both)
    assert len(StreamingEngine([rule]).process(both)) == 1
    assert StreamingEngine([rule]).process(one) == []
    assert "A=1" in to_sql(rule) or "B=2" in to_sql(rule)
