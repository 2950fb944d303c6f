"""The streaming engine: rules evaluated on each document as it arrives (the sensor's hook).

Sequences follow the state machine Elasticsearch documents ("How sequence queries handle
matches", EQL syntax reference) and implements (SequenceMatcher, TumblingWindow):

- per join key, each step of a sequence holds at most one pending sequence; a newer one in
  the same step replaces the older;
- an event matching step j takes the pending sequence of the previous step (for its key),
  whether or not it can then extend it: one past `maxspan` (measured from the sequence's
  first event) is dropped, as is one an `until` event for the key has expired;
- an event matching several steps is applied to the last of them first, so one event never
  fills two consecutive steps of the same sequence;
- missing-event steps (`![...]`) are checked when the positive steps are complete, as
  TumblingWindow.checkMissingEvents does: an event of a middle missing step strictly between
  its neighbours' timestamps voids the sequence; leading and trailing missing steps void it
  when a matching event lies within `maxspan` of it, so a sequence with a trailing missing
  step is reported only once `maxspan` has passed (or at `flush()`).

Events are expected in time order, as the sensor produces them; the engine does not sort.
Pending state is bounded per rule (`max_pending`); what is dropped to respect the bound is
counted as an eviction and reported in `stats()`.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from doorhunt.rules.engine import nodes as n
from doorhunt.rules.engine.compiler import CanonicalKey, CompiledRule, CompiledStep, KeyValue
from doorhunt.rules.engine.dispatch import Anchor, Dispatcher, categories_of
from doorhunt.rules.engine.predicate import Document
from doorhunt.rules.engine.values import expand_dotted, has_dotted_keys, timestamp_us

DEFAULT_MAX_PENDING: Final = 10_000
_SWEEP_EVERY: Final = 4096  # events between sweeps of sequences past their maxspan


@dataclass(frozen=True, slots=True, eq=False)
class Match:
    """A rule's match: the matching event(s) in step order and the join key values."""

    rule: CompiledRule
    events: tuple[Document, ...]
    join_keys: tuple[KeyValue, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule.name,
            "kind": self.rule.kind,
            "join_keys": list(self.join_keys),
            "events": [dict(event) for event in self.events],
        }


@dataclass(frozen=True, slots=True)
class RuleStats:
    rule: str
    kind: str
    evaluations: int
    matches: int
    pending: int
    evictions: int
    expired: int


@dataclass(frozen=True, slots=True)
class EngineStats:
    """Counters since the engine started: documents seen, step conditions evaluated (the rest
    were skipped by the category/anchor index), matches, and pending-state figures."""

    events: int
    evaluations: int
    matches: int
    pending: int
    evictions: int
    rules: tuple[RuleStats, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "events": self.events,
            "evaluations": self.evaluations,
            "matches": self.matches,
            "pending": self.pending,
            "evictions": self.evictions,
            "rules": [
                {
                    "rule": r.rule,
                    "kind": r.kind,
                    "evaluations": r.evaluations,
                    "matches": r.matches,
                    "pending": r.pending,
                    "evictions": r.evictions,
                    "expired": r.expired,
                }
                for r in self.rules
            ],
        }


# -- per-rule runtimes -------------------------------------------------------------------------


@dataclass(slots=True)
class _Counters:
    evaluations: int = 0
    matches: int = 0
    evictions: int = 0
    expired: int = 0


class _Runtime:
    """The state of one rule. `slots` are its distinct compiled steps; `on_event` gets the
    indexes of those the event matched."""

    def __init__(self, rule: CompiledRule, max_pending: int) -> None:
        self.rule = rule
        self.max_pending = max_pending
        self.counters = _Counters()
        self.slots: list[CompiledStep] = []
        self.slot_stages: list[tuple[int, ...]] = []
        stages: dict[int, list[int]] = {}
        ids: dict[int, int] = {}
        for index, step in enumerate(rule.steps):
            slot = ids.get(id(step))
            if slot is None:
                slot = len(self.slots)
                ids[id(step)] = slot
                self.slots.append(step)
            stages.setdefault(slot, []).append(index)
        self.slot_stages = [tuple(stages[i]) for i in range(len(self.slots))]
        self.until_slot: int | None = None
        if rule.until is not None:
            self.until_slot = len(self.slots)
            self.slots.append(rule.until)
            self.slot_stages.append(())

    def on_event(self, doc: Document, ts: int, slots: Sequence[int]) -> list[Match]:
        raise NotImplementedError

    def release(self, watermark: int) -> list[Match]:
        return []

    def flush(self) -> list[Match]:
        return []

    def sweep(self, watermark: int) -> None:
        return None

    @property
    def pending(self) -> int:
        return 0

    @property
    def next_deadline(self) -> int | None:
        return None


class _EventRuntime(_Runtime):
    def on_event(self, doc: Document, ts: int, slots: Sequence[int]) -> list[Match]:
        self.counters.matches += 1
        return [Match(self.rule, (doc,))]


@dataclass(slots=True)
class _Pending:
    start: int
    last: int
    events: list[Document]
    values: tuple[KeyValue, ...]
    doomed: bool = False
    # Earliest event of a missing step after `last` (voids the next transition if earlier
    # than the next event: "strictly between" the neighbours' timestamps).
    blocked: int | None = None


@dataclass(order=True, slots=True)
class _Awaiting:
    deadline: int
    order: int
    key: CanonicalKey = field(compare=False)
    reference: int = field(compare=False)
    sequence: _Pending = field(compare=False)
    done: bool = field(default=False, compare=False)


class _SequenceRuntime(_Runtime):
    def __init__(self, rule: CompiledRule, max_pending: int) -> None:
        super().__init__(rule, max_pending)
        body = rule.query.body
        assert isinstance(body, n.Sequence)
        self.maxspan = body.maxspan_us
        missing = [step.missing for step in body.steps]
        self.positive = [i for i, m in enumerate(missing) if not m]
        self.first, self.last = self.positive[0], self.positive[-1]
        self.previous = {j: max((p for p in self.positive if p < j), default=-1) for j in
                         range(len(missing))}  # fmt: skip
        self.kind_of_missing: dict[int, str] = {}
        for stage, is_missing in enumerate(missing):
            if is_missing:
                if stage < self.first:
                    self.kind_of_missing[stage] = "leading"
                elif stage > self.last:
                    self.kind_of_missing[stage] = "trailing"
                else:
                    self.kind_of_missing[stage] = "middle"
        self.has_leading = missing[0]
        self.has_trailing = missing[-1]
        self.pending_map: OrderedDict[tuple[int, CanonicalKey], _Pending] = OrderedDict()
        self.leading: OrderedDict[CanonicalKey, list[int]] = OrderedDict()
        self.awaiting: dict[CanonicalKey, list[_Awaiting]] = {}
        self.deadlines: list[_Awaiting] = []
        self.awaiting_count = 0
        self.order = itertools.count()

    @property
    def pending(self) -> int:
        return len(self.pending_map) + self.awaiting_count + len(self.leading)

    @property
    def next_deadline(self) -> int | None:
        if not self.deadlines:
            return None
        while self.deadlines and self.deadlines[0].done:
            heapq.heappop(self.deadlines)
        return self.deadlines[0].deadline if self.deadlines else None

    def _put(self, stage: int, key: CanonicalKey, sequence: _Pending) -> None:
        slot = (stage, key)
        self.pending_map.pop(slot, None)
        self.pending_map[slot] = sequence
        if len(self.pending_map) > self.max_pending:
            self.pending_map.popitem(last=False)
            self.counters.evictions += 1

    def on_event(self, doc: Document, ts: int, slots: Sequence[int]) -> list[Match]:
        out: list[Match] = []
        if len(slots) == 1 and slots[0] != self.until_slot:
            stages = self.slot_stages[slots[0]]
            if len(stages) == 1 and stages[0] not in self.kind_of_missing:
                # The common case: the event matches one positive step.
                stage = stages[0]
                for key, key_values in self.rule.steps[stage].keys(doc):
                    self._positive(stage, key, key_values, doc, ts, out)
                return out
        matched: set[int] = set()
        until = False
        for slot in slots:
            if slot == self.until_slot:
                until = True
            else:
                matched.update(self.slot_stages[slot])
        keys_cache: dict[int, list[tuple[CanonicalKey, tuple[KeyValue, ...]]]] = {}
        steps = self.rule.steps
        ordered = sorted(matched)
        for stage in ordered:
            kind = self.kind_of_missing.get(stage)
            if kind is not None:
                keys = keys_cache[stage] = steps[stage].keys(doc)
                for key, _ in keys:
                    self._missing(kind, stage, key, ts)
        for stage in reversed(ordered):
            if stage in self.kind_of_missing:
                continue
            cached = keys_cache.get(stage)
            keys = cached if cached is not None else steps[stage].keys(doc)
            for key, key_values in keys:
                self._positive(stage, key, key_values, doc, ts, out)
        if until and self.rule.until is not None:
            for key, _ in self.rule.until.keys(doc):
                for stage in self.positive:
                    self.pending_map.pop((stage, key), None)
        return out

    def _missing(self, kind: str, stage: int, key: CanonicalKey, ts: int) -> None:
        if kind == "leading":
            history = self.leading.get(key)
            if history is None:
                history = []
                self.leading[key] = history
                if len(self.leading) > self.max_pending:
                    self.leading.popitem(last=False)
                    self.counters.evictions += 1
            else:
                self.leading.move_to_end(key)
            if not history or history[-1] != ts:
                history.append(ts)
                if len(history) > self.max_pending:
                    del history[0]
                    self.counters.evictions += 1
        elif kind == "middle":
            sequence = self.pending_map.get((self.previous[stage], key))
            if sequence is not None and ts > sequence.last and sequence.blocked is None:
                sequence.blocked = ts
        else:
            for waiting in self.awaiting.get(key, ()):
                if not waiting.done and ts > waiting.sequence.last:
                    waiting.done = True  # a trailing missing event within maxspan
                    self.awaiting_count -= 1
            if key in self.awaiting and all(w.done for w in self.awaiting[key]):
                del self.awaiting[key]

    def _positive(
        self,
        stage: int,
        key: CanonicalKey,
        key_values: tuple[KeyValue, ...],
        doc: Document,
        ts: int,
        out: list[Match],
    ) -> None:
        if stage == self.first:
            sequence = _Pending(ts, ts, [doc], key_values)
        else:
            previous = self.pending_map.pop((self.previous[stage], key), None)
            if previous is None:
                return
            if self.maxspan is not None and ts - previous.start > self.maxspan:
                return
            doomed = previous.doomed or (previous.blocked is not None and previous.blocked < ts)
            sequence = _Pending(previous.start, ts, [*previous.events, doc], previous.values,
                                doomed)  # fmt: skip
        if stage == self.last:
            self._complete(key, sequence, out)
        else:
            self._put(stage, key, sequence)

    def _complete(self, key: CanonicalKey, sequence: _Pending, out: list[Match]) -> None:
        if sequence.doomed:
            return
        last_leading: int | None = None
        if self.has_leading:
            history = self.leading.get(key, [])
            last_leading = next((t for t in reversed(history) if t < sequence.start), None)
        assert self.maxspan is not None or not (self.has_leading or self.has_trailing)
        maxspan = self.maxspan or 0
        if not self.has_trailing:
            if last_leading is not None and sequence.last - last_leading <= maxspan:
                return
            out.append(self._match(sequence))
            return
        if self.has_leading and last_leading is None:
            out.append(self._match(sequence))
            return
        reference = last_leading if last_leading is not None else sequence.start
        waiting = _Awaiting(reference + maxspan, next(self.order), key, reference, sequence)
        self.awaiting.setdefault(key, []).append(waiting)
        heapq.heappush(self.deadlines, waiting)
        self.awaiting_count += 1
        if self.awaiting_count > self.max_pending:
            oldest = heapq.heappop(self.deadlines)
            if not oldest.done:
                oldest.done = True
                self.awaiting_count -= 1
                self.counters.evictions += 1

    def _match(self, sequence: _Pending) -> Match:
        self.counters.matches += 1
        return Match(self.rule, tuple(sequence.events), sequence.values)

    def release(self, watermark: int) -> list[Match]:
        out: list[Match] = []
        while self.deadlines and (self.deadlines[0].done or self.deadlines[0].deadline < watermark):
            waiting = heapq.heappop(self.deadlines)
            if waiting.done:
                continue
            waiting.done = True
            self.awaiting_count -= 1
            out.append(self._match(waiting.sequence))
            group = self.awaiting.get(waiting.key)
            if group is not None and all(w.done for w in group):
                del self.awaiting[waiting.key]
        return out

    def flush(self) -> list[Match]:
        """End of input: no trailing missing event can come any more."""
        ordered = sorted(w for w in self.deadlines if not w.done)
        self.deadlines.clear()
        self.awaiting.clear()
        self.awaiting_count = 0
        return [self._match(w.sequence) for w in ordered]

    def sweep(self, watermark: int) -> None:
        if self.maxspan is None:
            return
        horizon = watermark - self.maxspan
        # A sequence past its maxspan can never complete; dropping it early changes nothing
        # (the event that would take it would find the step empty either way).
        stale = [slot for slot, seq in self.pending_map.items() if seq.start < horizon]
        for slot in stale:
            del self.pending_map[slot]
        self.counters.expired += len(stale)
        for key in [k for k, h in self.leading.items() if h[-1] < horizon]:
            del self.leading[key]


@dataclass(slots=True)
class _SampleState:
    lists: list[list[Document]]
    values: tuple[KeyValue, ...]
    done: bool = False


class _SampleRuntime(_Runtime):
    """`sample by`: per join key, the first N events of each of the N steps, and the first
    assignment of distinct events to steps (Elasticsearch's SampleIterator.matchSample),
    reported as soon as one exists, once per key."""

    def __init__(self, rule: CompiledRule, max_pending: int) -> None:
        super().__init__(rule, max_pending)
        self.size = len(rule.steps)
        self.states: OrderedDict[CanonicalKey, _SampleState] = OrderedDict()

    @property
    def pending(self) -> int:
        return len(self.states)

    def on_event(self, doc: Document, ts: int, slots: Sequence[int]) -> list[Match]:
        stages = sorted({stage for slot in slots for stage in self.slot_stages[slot]})
        touched: dict[CanonicalKey, _SampleState] = {}
        for stage in stages:
            for key, key_values in self.rule.steps[stage].keys(doc):
                state = self.states.get(key)
                if state is None:
                    state = _SampleState([[] for _ in range(self.size)], key_values)
                    self.states[key] = state
                    if len(self.states) > self.max_pending:
                        self.states.popitem(last=False)
                        self.counters.evictions += 1
                if state.done:
                    continue
                if len(state.lists[stage]) < self.size:
                    state.lists[stage].append(doc)
                    touched[key] = state
        out: list[Match] = []
        for state in touched.values():
            chosen = match_sample(state.lists)
            if chosen is not None:
                state.done = True
                state.lists = []
                self.counters.matches += 1
                out.append(Match(self.rule, tuple(chosen), state.values))
        return out


def match_sample(lists: Sequence[Sequence[Document]]) -> list[Document] | None:
    """One event per step, all distinct, the first such choice in list order (depth first),
    as SampleIterator.matchSample; None when there is none."""
    if any(not options for options in lists):
        return None
    chosen: list[Document] = []

    def search(stage: int) -> bool:
        if stage == len(lists):
            return True
        for candidate in lists[stage]:
            if any(candidate is c for c in chosen):
                continue
            chosen.append(candidate)
            if search(stage + 1):
                return True
            chosen.pop()
        return False

    return list(chosen) if search(0) else None


class _Target:
    """What the dispatcher files: one distinct step of one rule, with what evaluating it
    needs at hand (the hot loop of `process` reads these attributes and nothing else)."""

    __slots__ = ("counters", "event_only", "predicate", "rule", "rule_index", "slot")

    def __init__(self, rule_index: int, slot: int, runtime: _Runtime) -> None:
        self.rule_index = rule_index
        self.slot = slot
        self.rule = runtime.rule
        self.counters = runtime.counters
        self.predicate = runtime.slots[slot].condition.predicate
        self.event_only = isinstance(runtime, _EventRuntime)


def _runtime(rule: CompiledRule, max_pending: int) -> _Runtime:
    if rule.kind == "sequence":
        return _SequenceRuntime(rule, max_pending)
    if rule.kind == "sample":
        return _SampleRuntime(rule, max_pending)
    return _EventRuntime(rule, max_pending)


# -- the engine --------------------------------------------------------------------------------


class StreamingEngine:
    """Runs compiled rules over documents one at a time.

    `max_pending` bounds each rule's pending state (sequences in progress, samples being
    gathered); `clock` gives the time (seconds) for documents without a usable @timestamp.
    Pipes (`| head`, `| tail`) apply to hunts and Elasticsearch searches, not to streams.
    """

    def __init__(
        self,
        rules: Iterable[CompiledRule],
        *,
        max_pending: int = DEFAULT_MAX_PENDING,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self.rules = tuple(rules)
        self.clock = clock
        self._runtimes = [_runtime(rule, max_pending) for rule in self.rules]
        entries: list[tuple[str | None, Anchor | None, _Target]] = []
        for rule_index, runtime in enumerate(self._runtimes):
            for slot, step in enumerate(runtime.slots):
                target = _Target(rule_index, slot, runtime)
                condition = step.step.query.condition
                for category in categories_of(step.category, condition):
                    entries.append((category, step.anchor, target))
        self._dispatcher: Dispatcher[_Target] = Dispatcher(entries)
        self._order = {id(rule): i for i, rule in enumerate(self.rules)}
        self._waiting: set[int] = set()
        self.events = 0
        self.watermark = 0
        self._since_sweep = 0

    @property
    def dispatcher(self) -> Dispatcher[_Target]:
        return self._dispatcher

    def process(self, document: Document) -> list[Match]:
        """The matches this document completes, in rule order."""
        self.events += 1
        if has_dotted_keys(document):
            # Elasticsearch reads {"process.name": x} as process.name; so do rules here, and
            # matches carry the document as rules read it (as the store keeps it, too).
            document = expand_dotted(document)
        ts = timestamp_us(document.get("@timestamp"))
        if ts is None:
            ts = int(self.clock() * 1_000_000)
        self.watermark = max(self.watermark, ts)
        out: list[Match] = []
        if self._waiting:
            self._release(ts, out)
        cache: dict[int, object] = {}
        candidates = self._dispatcher.candidates(document, cache)
        if candidates:
            matched: dict[int, list[int]] | None = None
            for target in candidates:
                counters = target.counters
                counters.evaluations += 1
                if target.predicate(document, cache):
                    if target.event_only:
                        counters.matches += 1
                        out.append(Match(target.rule, (document,)))
                    else:
                        if matched is None:
                            matched = {}
                        matched.setdefault(target.rule_index, []).append(target.slot)
            if matched:
                runtimes = self._runtimes
                for rule_index, slots in matched.items():
                    runtime = runtimes[rule_index]
                    out.extend(runtime.on_event(document, ts, slots))
                    if runtime.next_deadline is not None:
                        self._waiting.add(rule_index)
            if len(out) > 1:
                order = self._order
                out.sort(key=lambda match: order[id(match.rule)])
        self._since_sweep += 1
        if self._since_sweep >= _SWEEP_EVERY:
            self._since_sweep = 0
            for runtime in self._runtimes:
                runtime.sweep(self.watermark)
        return out

    def _release(self, ts: int, out: list[Match]) -> None:
        for rule_index in sorted(self._waiting):
            runtime = self._runtimes[rule_index]
            out.extend(runtime.release(ts))
            if runtime.next_deadline is None:
                self._waiting.discard(rule_index)

    def flush(self) -> list[Match]:
        """Report what waits only for time to pass (sequences ending in a missing step)."""
        out: list[Match] = []
        for runtime in self._runtimes:
            out.extend(runtime.flush())
        self._waiting.clear()
        return out

    def run(self, documents: Iterable[Document]) -> list[Match]:
        """Every match over `documents`, then `flush()`."""
        out: list[Match] = []
        for document in documents:
            out.extend(self.process(document))
        out.extend(self.flush())
        return out

    def processor(self) -> Callable[[Mapping[str, object]], list[Match]]:
        """`process`, shaped for the sensor's processors hook (callers map matches to alert
        documents)."""
        return self.process

    def stats(self) -> EngineStats:
        rules = tuple(
            RuleStats(
                rule=runtime.rule.name,
                kind=runtime.rule.kind,
                evaluations=runtime.counters.evaluations,
                matches=runtime.counters.matches,
                pending=runtime.pending,
                evictions=runtime.counters.evictions,
                expired=runtime.counters.expired,
            )
            for runtime in self._runtimes
        )
        return EngineStats(
            events=self.events,
            evaluations=sum(r.evaluations for r in rules),
            matches=sum(r.matches for r in rules),
            pending=sum(r.pending for r in rules),
            evictions=sum(r.evictions for r in rules),
            rules=rules,
        )


__all__ = [
    "DEFAULT_MAX_PENDING",
    "EngineStats",
    "Match",
    "RuleStats",
    "StreamingEngine",
    "match_sample",
]
