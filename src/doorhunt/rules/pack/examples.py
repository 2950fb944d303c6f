"""Running a rule's embedded examples through the streaming engine, as the sensor would."""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from doorhunt.ecs import format_timestamp, get_field, set_field
from doorhunt.rules.engine import StreamingEngine
from doorhunt.rules.engine.values import timestamp_us
from doorhunt.rules.pack.model import Example, Rule

# Examples without @timestamp are placed one second apart from this moment.
EXAMPLE_EPOCH: Final = datetime(2025, 1, 1, tzinfo=UTC)
_EPOCH_ZERO: Final = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ExampleResult:
    """How one example behaved: `passed`, and why in words."""

    rule: Rule
    number: int  # 1-based, in file order
    example: Example
    passed: bool
    reason: str

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule.id,
            "example": self.number,
            "expect": self.example.expect,
            "description": self.example.description,
            "passed": self.passed,
            "reason": self.reason,
        }


def example_documents(rule: Rule, number: int, example: Example) -> list[dict[str, object]]:
    """The example's events, completed as a producer would: an `@timestamp` one second after
    the previous event's where missing, and an `event.id` where missing."""
    documents = []
    moment = EXAMPLE_EPOCH - timedelta(seconds=1)
    for index, event in enumerate(example.events, 1):
        document = copy.deepcopy(event)
        if "@timestamp" not in document:
            moment += timedelta(seconds=1)
            document["@timestamp"] = format_timestamp(moment)
        else:  # kept as given; a bad one is the linter's (example-ecs)
            given = timestamp_us(document["@timestamp"])
            if given is not None:
                with contextlib.suppress(OverflowError):  # beyond datetime's years 1-9999
                    moment = _EPOCH_ZERO + timedelta(microseconds=given)
        if get_field(document, "event.id") is None:
            set_field(document, "event.id", f"{rule.id[:8]}-{number}-{index}")
        documents.append(document)
    return documents


def check_example(rule: Rule, number: int, example: Example) -> ExampleResult:
    """Run one example through a fresh engine, flushed at the end of its events."""
    documents = example_documents(rule, number, example)
    engine = StreamingEngine([rule.compiled])
    matches = engine.run(documents)
    positions = {id(document): index for index, document in enumerate(documents, 1)}
    matched = sorted({positions.get(id(event), 0) for match in matches for event in match.events})
    listed = ", ".join(str(position) for position in matched)
    if example.expect == "match":
        if matches:
            return ExampleResult(rule, number, example, True, f"matched event(s) {listed}")
        return ExampleResult(rule, number, example, False, "expected a match; nothing matched")
    if matches:
        reason = f"expected no match; matched event(s) {listed}"
        return ExampleResult(rule, number, example, False, reason)
    return ExampleResult(rule, number, example, True, "no match, as expected")


def check_examples(rule: Rule) -> list[ExampleResult]:
    """Every example of `rule`, in file order."""
    return [check_example(rule, number, example) for number, example in enumerate(rule.examples, 1)]


__all__ = ["EXAMPLE_EPOCH", "ExampleResult", "check_example", "check_examples", "example_documents"]
