"""compile_rule: EQL text to a CompiledRule that the streaming, SQL and Elasticsearch back ends
all run."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from doorhunt.rules.engine import nodes as n
from doorhunt.rules.engine import values as v
from doorhunt.rules.engine.dispatch import Anchor, choose_anchor
from doorhunt.rules.engine.parser import parse_query
from doorhunt.rules.engine.predicate import CompiledCondition, Document, compile_condition, getter

KeyValue = v.Value | None
# A join key as matched: canonical text per key field (None for a null optional key).
CanonicalKey = tuple[str | None, ...]


@dataclass(frozen=True, slots=True, eq=False)
class CompiledStep:
    """One event query of a rule, compiled."""

    step: n.Step
    condition: CompiledCondition
    anchor: Anchor | None
    _keys: tuple[tuple[Callable[[Document], object], bool], ...] = field(repr=False)

    @property
    def category(self) -> str | None:
        return self.step.query.category

    def matches(self, doc: Document) -> bool:
        """Whether `doc` matches the step's category and condition."""
        if v.has_dotted_keys(doc):
            doc = v.expand_dotted(doc)
        category = self.step.query.category
        if category is not None and category not in {
            v.keyword(x) for x in v.scalars(getter(("event", "category"))(doc))
        }:
            return False
        return self.condition.predicate(doc)

    def keys(self, doc: Document) -> list[tuple[CanonicalKey, tuple[KeyValue, ...]]]:
        """The event's join keys for this step: every combination of the key fields' values
        (each value of a multi-valued field is a separate key, as Elasticsearch does since
        8.6, elastic/elasticsearch#89965). Empty when a non-optional key is null, since
        "by default, a join key must be a non-null field value" (EQL syntax, "Optional
        `by` fields")."""
        if not self._keys:
            return [((), ())]
        raws = [get(doc) for get, _ in self._keys]
        if all(raw.__class__ is str for raw in raws):
            # The common case: one string per key field, one key.
            key = tuple(raws)
            return [(key, key)]  # type: ignore[list-item]
        per_field: list[list[KeyValue]] = []
        for raw, (_, optional) in zip(raws, self._keys, strict=True):
            found: list[KeyValue] = list(v.scalars(raw))
            if not found:
                if not optional:
                    return []
                found = [None]
            per_field.append(found)
        out: list[tuple[CanonicalKey, tuple[KeyValue, ...]]] = []
        seen: set[CanonicalKey] = set()
        for combination in itertools.product(*per_field):
            canonical = tuple(None if x is None else v.keyword(x) for x in combination)
            if canonical not in seen:
                seen.add(canonical)
                out.append((canonical, combination))
        return out


@dataclass(frozen=True, slots=True, eq=False)
class CompiledRule:
    """A rule compiled for every back end. `steps` are the bracketed queries in order (one
    for an event query), `until` the expiry query of a sequence."""

    name: str
    text: str
    query: n.Query
    steps: tuple[CompiledStep, ...]
    until: CompiledStep | None = None
    location: str | None = None

    @property
    def kind(self) -> str:
        return self.query.kind

    @property
    def maxspan_us(self) -> int | None:
        body = self.query.body
        return body.maxspan_us if isinstance(body, n.Sequence) else None

    def __repr__(self) -> str:
        return f"CompiledRule({self.name!r}, {self.kind})"


def compile_step(step: n.Step) -> CompiledStep:
    return CompiledStep(
        step,
        compile_condition(step.query.condition),
        choose_anchor(step.query.condition),
        tuple((getter(key.path), key.optional) for key in step.keys),
    )


def compile_rule(
    query: str,
    *,
    name: str | None = None,
    location: str | None = None,
    first_line: int = 1,
) -> CompiledRule:
    """Compile one EQL query (Elasticsearch syntax and semantics).

    `location` names the input (a rule file) and `first_line` is the line of that file the
    query starts on, so errors point into the file. Raises EqlError."""
    tree = parse_query(query, source=location, first_line=first_line)
    cache: dict[n.Step, CompiledStep] = {}

    def compiled(step: n.Step) -> CompiledStep:
        # `with runs=N` repeats one step object: compile it once.
        found = cache.get(step)
        if found is None:
            found = compile_step(step)
            cache[step] = found
        return found

    steps = tuple(compiled(step) for step in tree.steps)
    until = None
    if isinstance(tree.body, n.Sequence) and tree.body.until is not None:
        until = compile_step(tree.body.until)
    return CompiledRule(
        name=name or _default_name(query),
        text=query,
        query=tree,
        steps=steps,
        until=until,
        location=location,
    )


def _default_name(query: str) -> str:
    first = " ".join(query.split())
    return first if len(first) <= 60 else first[:57] + "..."


__all__ = [
    "CanonicalKey",
    "CompiledRule",
    "CompiledStep",
    "KeyValue",
    "compile_rule",
    "compile_step",
]
