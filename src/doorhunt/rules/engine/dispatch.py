"""Which steps an event can match, without evaluating most of them.

Every step is filed under its event category (`process where` needs "process" among the
event's event.category values, Elasticsearch's event category filter) and, when its
condition requires one, under an *anchor*: a field and the set of values the field must hold
for the condition to be true (`process.name in ("bash", "sh") and ...` requires
process.name to be "bash" or "sh"). An event is looked up by its categories and by its value
of each anchor field, so a rule about `nc` is never evaluated for a `bash` event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Generic, TypeVar

from doorhunt.rules.engine import nodes as n
from doorhunt.rules.engine import values as v
from doorhunt.rules.engine.predicate import Document, FieldCache, getter, slot

T = TypeVar("T")

AnchorKey = tuple[tuple[str, ...], bool]  # (field path, case-insensitive)

# Fields whose values are shared by most events: anchoring on them filters little.
_COMMON_FIELDS: Final = frozenset(
    {
        "host.os.type", "host.os.family", "host.os.platform", "host.os.name", "event.type",
        "event.kind", "event.outcome", "event.category", "event.module", "event.dataset",
        "network.direction", "network.transport", "agent.type", "data_stream.dataset",
        "user.id", "user.name", "process.user.id", "process.user.name",
    }
)  # fmt: skip
# Anchors on these are kept only when nothing better exists (few values, many events each).
_WEAK_FIELDS: Final = frozenset({"event.action"})


@dataclass(frozen=True, slots=True)
class Constraint:
    """What a field must hold: one of `exact`, or a value starting with one of `prefixes`,
    or ending with one of `suffixes` (keyword forms; case folded for case-insensitive keys)."""

    exact: frozenset[str] = frozenset()
    prefixes: frozenset[str] = frozenset()
    suffixes: frozenset[str] = frozenset()

    def union(self, other: Constraint) -> Constraint:
        return Constraint(
            self.exact | other.exact, self.prefixes | other.prefixes, self.suffixes | other.suffixes
        )

    @property
    def weight(self) -> tuple[int, int]:
        """Lower is more selective: short prefixes and suffixes let many values through."""
        short = sum(1 for a in (*self.prefixes, *self.suffixes) if len(a) < 3)
        return (short, len(self.exact) + 2 * (len(self.prefixes) + len(self.suffixes)))


@dataclass(frozen=True, slots=True)
class Anchor:
    path: tuple[str, ...]
    insensitive: bool
    constraint: Constraint

    @property
    def field(self) -> str:
        return ".".join(self.path)

    @property
    def values(self) -> frozenset[str]:
        return self.constraint.exact


def constraints(expr: n.Expr) -> dict[AnchorKey, Constraint]:
    """Per field: a Constraint the field satisfies whenever `expr` is true."""
    if isinstance(expr, n.Compare) and expr.op == "==":
        field, literal = _field_and_literal(expr.left, expr.right)
        if field is not None and isinstance(literal, str):
            return {(field.path, False): Constraint(frozenset({literal}))}
        return {}
    if isinstance(expr, n.InList) and isinstance(expr.value, n.Field):
        items = [item.value for item in expr.items]
        if items and all(isinstance(x, str) for x in items):
            texts = [str(x) for x in items]
            if expr.insensitive:
                texts = [v.fold(t) for t in texts]
            return {(expr.value.path, expr.insensitive): Constraint(frozenset(texts))}
        return {}
    if isinstance(expr, n.Pattern) and isinstance(expr.value, n.Field):
        found = _pattern_constraint(expr)
        return {} if found is None else {(expr.value.path, expr.insensitive): found}
    if isinstance(expr, n.And):
        merged: dict[AnchorKey, Constraint] = {}
        for term in expr.terms:
            for key, found in constraints(term).items():
                known = merged.get(key)
                # Both terms hold, but not necessarily on the same value: any field may be an
                # array (`env_vars == "A=1" and env_vars == "B=2"`), so the sets are never
                # intersected; the more selective one is kept.
                if known is None or found.weight < known.weight:
                    merged[key] = found
        return merged
    if isinstance(expr, n.Or):
        parts = [_by_path(constraints(term)) for term in expr.terms]
        if not parts:
            return {}
        out: dict[AnchorKey, Constraint] = {}
        for path in set(parts[0]).intersection(*parts[1:]):
            options = [part[path] for part in parts]
            # `like` in one branch and `:` in another: the union holds case folded.
            insensitive = any(flag for flag, _ in options)
            total = Constraint()
            for flag, found in options:
                total = total.union(_folded(found) if insensitive and not flag else found)
            out[(path, insensitive)] = total
        return out
    return {}


def _by_path(
    found: Mapping[AnchorKey, Constraint],
) -> dict[tuple[str, ...], tuple[bool, Constraint]]:
    """One constraint per field: when both a case-sensitive and a case-insensitive one hold,
    either is necessary; keep the more selective."""
    out: dict[tuple[str, ...], tuple[bool, Constraint]] = {}
    for (path, insensitive), constraint in found.items():
        known = out.get(path)
        if known is None or constraint.weight < known[1].weight:
            out[path] = (insensitive, constraint)
    return out


def _folded(constraint: Constraint) -> Constraint:
    return Constraint(
        frozenset(v.fold(x) for x in constraint.exact),
        frozenset(v.fold(x) for x in constraint.prefixes),
        frozenset(v.fold(x) for x in constraint.suffixes),
    )


def _pattern_constraint(expr: n.Pattern) -> Constraint | None:
    exact: set[str] = set()
    prefixes: set[str] = set()
    suffixes: set[str] = set()
    for pattern in expr.patterns:
        if expr.kind == "regex":
            prefix = v.regex_prefix(pattern)
            if not prefix:
                return None
            prefixes.add(v.fold(prefix) if expr.insensitive else prefix)
            continue
        text = v.fold(pattern) if expr.insensitive else pattern
        tokens = v.wildcard_tokens(text)
        if all(kind == "text" for kind, _ in tokens):
            exact.add(text)
        elif tokens[0][0] == "text":
            prefixes.add(tokens[0][1])
        elif tokens[-1][0] == "text":
            suffixes.add(tokens[-1][1])
        else:
            return None
    return Constraint(frozenset(exact), frozenset(prefixes), frozenset(suffixes))


def _field_and_literal(left: n.Expr, right: n.Expr) -> tuple[n.Field | None, n.Scalar]:
    if isinstance(left, n.Field) and isinstance(right, n.Literal):
        return left, right.value
    if isinstance(right, n.Field) and isinstance(left, n.Literal):
        return right, left.value
    return None, None


def choose_anchor(expr: n.Expr) -> Anchor | None:
    """The most selective field the condition constrains, or None when it constrains none."""
    candidates = [
        (path, insensitive, found)
        for (path, insensitive), found in constraints(expr).items()
        if ".".join(path) not in _COMMON_FIELDS
    ]
    if not candidates:
        return None

    def rank(item: tuple[tuple[str, ...], bool, Constraint]) -> tuple[int, tuple[int, int]]:
        path, _, found = item
        return (1 if ".".join(path) in _WEAK_FIELDS else 0, found.weight)

    path, insensitive, found = min(candidates, key=rank)
    return Anchor(path, insensitive, found)


def categories_of(category: str | None, expr: n.Expr) -> list[str | None]:
    """The event categories a step can match: its own, or for `any where`, those the
    condition requires of event.category (so `any where event.category == "process" and
    ...` is filed as a process step)."""
    if category is not None:
        return [category]
    required = constraints(expr).get((("event", "category"), False))
    if required is None or required.prefixes or required.suffixes or not required.exact:
        return [None]
    found: list[str | None] = []
    found.extend(sorted(required.exact))
    return found


@dataclass(slots=True)
class _AnchorTable(Generic[T]):
    slot: int
    get: Callable[[Document], object]
    insensitive: bool
    exact: dict[str, list[T]]
    prefixes: dict[int, dict[str, list[T]]]
    suffixes: dict[int, dict[str, list[T]]]

    prefix_lengths: dict[str, tuple[int, ...]] = field(default_factory=dict)
    suffix_lengths: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def add(self, constraint: Constraint, target: T) -> None:
        for value in constraint.exact:
            self.exact.setdefault(value, []).append(target)
        for prefix in constraint.prefixes:
            self.prefixes.setdefault(len(prefix), {}).setdefault(prefix, []).append(target)
            first = prefix[:1]
            lengths = {*self.prefix_lengths.get(first, ()), len(prefix)}
            self.prefix_lengths[first] = tuple(sorted(lengths))
        for suffix in constraint.suffixes:
            self.suffixes.setdefault(len(suffix), {}).setdefault(suffix, []).append(target)
            last = suffix[-1:]
            lengths = {*self.suffix_lengths.get(last, ()), len(suffix)}
            self.suffix_lengths[last] = tuple(sorted(lengths))

    def lookup(self, text: str, out: list[T]) -> None:
        # Every table is case folded (see _CategoryIndex.add); fold inlined for ASCII.
        text = text.lower() if text.isascii() else v.fold(text)
        found = self.exact.get(text)
        if found:
            out.extend(found)
        if self.prefixes or self.suffixes:
            self._affixes(text, out)

    def _affixes(self, text: str, out: list[T]) -> None:
        if not text:
            return
        size = len(text)
        # Only the lengths of affixes that start (end) with the text's first (last) character.
        for length in self.prefix_lengths.get(text[0], ()):
            if length <= size:
                found = self.prefixes[length].get(text[:length])
                if found:
                    out.extend(found)
        for length in self.suffix_lengths.get(text[-1], ()):
            if length <= size:
                found = self.suffixes[length].get(text[size - length :])
                if found:
                    out.extend(found)


class _CategoryIndex(Generic[T]):
    def __init__(self) -> None:
        self.anchors: dict[AnchorKey, _AnchorTable[T]] = {}
        self.unanchored: list[T] = []
        self.walk: tuple[
            tuple[
                int,
                Callable[[Document], object],
                dict[str, list[T]],
                _AnchorTable[T] | None,
                _AnchorTable[T],
            ],
            ...,
        ] = ()

    def add(self, anchor: Anchor | None, target: T) -> None:
        if anchor is None:
            self.unanchored.append(target)
            return
        # One table per field, case folded: a case-sensitive anchor filed under its folded
        # values admits a few more events (case variants), which its condition then rejects,
        # and every event looks the field up once instead of twice.
        key = (anchor.path, True)
        table = self.anchors.get(key)
        if table is None:
            table = _AnchorTable(slot(anchor.path), getter(anchor.path), True, {}, {}, {})
            self.anchors[key] = table
        table.add(anchor.constraint if anchor.insensitive else _folded(anchor.constraint), target)

    def freeze(self) -> None:
        """Flatten the tables into the tuples `collect` walks (attribute lookups cost)."""
        self.walk = tuple(
            (t.slot, t.get, t.exact, t if (t.prefixes or t.suffixes) else None, t)
            for t in self.anchors.values()
        )

    def collect(self, doc: Document, out: list[T], cache: FieldCache) -> None:
        out.extend(self.unanchored)
        for number, get, exact, affixes, table in self.walk:
            if number in cache:
                raw = cache[number]
            else:
                raw = cache[number] = get(doc)
            if raw is None:
                continue
            if raw.__class__ is str:
                text: str = raw
                text = text.lower() if text.isascii() else v.fold(text)
                found = exact.get(text)
                if found:
                    out.extend(found)
                if affixes is not None:
                    affixes._affixes(text, out)
                continue
            # Arrays (process.args, env_vars) are mostly plain strings: no need to flatten.
            items = raw if raw.__class__ is list else v.scalars(raw)
            for item in items:
                if item.__class__ is not str:
                    for scalar in v.scalars(item):
                        table.lookup(v.keyword(scalar), out)
                    continue
                text = item.lower() if item.isascii() else v.fold(item)
                found = exact.get(text)
                if found:
                    out.extend(found)
                if affixes is not None:
                    affixes._affixes(text, out)


class Dispatcher(Generic[T]):
    """Targets filed by (category, anchor); `candidates` lists those an event may match,
    each once."""

    def __init__(self, entries: Iterable[tuple[str | None, Anchor | None, T]]) -> None:
        self._by_category: dict[str, _CategoryIndex[T]] = {}
        self._any: _CategoryIndex[T] = _CategoryIndex()
        for category, anchor, target in entries:
            index = (
                self._any
                if category is None
                else self._by_category.setdefault(category, _CategoryIndex())
            )
            index.add(anchor, target)
        self._get_category = getter(("event", "category"))
        self._category_slot = slot(("event", "category"))
        for index in self._indexes():
            index.freeze()

    @property
    def anchor_fields(self) -> list[str]:
        fields = {".".join(key[0]) for index in self._indexes() for key in index.anchors}
        return sorted(fields)

    def _indexes(self) -> Sequence[_CategoryIndex[T]]:
        return [self._any, *self._by_category.values()]

    def candidates(self, doc: Document, cache: FieldCache | None = None) -> list[T]:
        """The targets `doc` may match; `cache` is the event's field cache, filled here."""
        if cache is None:
            cache = {}
        out: list[T] = []
        if self._any.unanchored or self._any.walk:
            self._any.collect(doc, out, cache)
        raw = cache[self._category_slot] = self._get_category(doc)
        # ECS writes event.category as an array, most often of one string.
        single = raw[0] if raw.__class__ is list and len(raw) == 1 else raw
        if single.__class__ is str:
            index = self._by_category.get(single)
            if index is not None:
                index.collect(doc, out, cache)
        elif raw is not None:
            for category in {v.keyword(s) for s in v.scalars(raw)}:
                index = self._by_category.get(category)
                if index is not None:
                    index.collect(doc, out, cache)
        if len(out) > 1:
            # A target filed under two categories, or found through two values of an array,
            # comes once; order does not matter (matches are sorted by rule afterwards).
            return list(dict.fromkeys(out))
        return out

    def describe(self) -> Mapping[str, object]:
        """Counts of steps per category and anchor field (for docs and the benchmark)."""
        summary: dict[str, object] = {}
        for name, index in [("any", self._any), *self._by_category.items()]:
            summary[name] = {
                "unanchored": len(index.unanchored),
                "anchors": {
                    ".".join(key[0]) + ("~" if key[1] else ""): sum(
                        len(t) for t in table.exact.values()
                    )
                    + sum(len(t) for d in table.prefixes.values() for t in d.values())
                    + sum(len(t) for d in table.suffixes.values() for t in d.values())
                    for key, table in index.anchors.items()
                },
            }
        return summary


__all__ = [
    "Anchor",
    "AnchorKey",
    "Constraint",
    "Dispatcher",
    "categories_of",
    "choose_anchor",
    "constraints",
]
