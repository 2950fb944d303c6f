"""Hypothesis strategies: EQL queries over a small schema, and event streams for it.

Values are chosen where the engines' corner cases are: case, wildcard characters in data,
numeric strings, booleans, arrays, nulls and missing fields, non-ASCII letters, IPv4 and IPv6
text. Two documented limits of SQL hunts are kept out (docs/eql.md, "Differences"): arrays
of objects along a path and arrays nested more than two deep.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.rules.helpers import doc

STRINGS = ["bash", "BASH", "sh", "b?sh", "ba*", "", "é", "Éa", "5", "05", "-2", "1.5", "true",
           "x y", "a\\x", "%_", "10.1.2.3", "::1", "fe80::9", "abc"]  # fmt: skip
SCALARS: list[Any] = [*STRINGS, 0, 5, -3, 12, 2.5, -1.5, True, False]
IPS = ["10.0.0.1", "10.200.3.4", "192.168.1.1", "8.8.8.8", "::1", "fe80::1", "2001:db8::5",
       "::ffff:10.0.0.7", "01.2.3.4", "bad", "1.2.3"]  # fmt: skip
FIELDS = ["process.name", "process.pid", "process.args", "user.name", "destination.ip",
          "?process.title", "label", "flag"]  # fmt: skip
LABELS = ["A", "B", "C", "M"]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


scalar_values = st.sampled_from(SCALARS)
field_values = st.one_of(
    scalar_values,
    st.none(),
    st.lists(scalar_values, max_size=3),
    st.lists(st.lists(scalar_values, max_size=2), min_size=1, max_size=2),
)
string_literals = st.sampled_from(STRINGS).map(_quote)
number_literals = st.sampled_from(["0", "5", "-3", "12", "2.5", "1"])
literals = st.one_of(string_literals, number_literals, st.sampled_from(["true", "false"]))
patterns = st.text(alphabet="abB*?sÉé5", max_size=4).map(_quote)
regexes = st.sampled_from(
    ["b.*", "BA.H", "[a-c]+h", "\\w+", "(sh|bash)", "é.?", "[0-9]+", ".*\\..*", "a\\\\x"]
).map(_quote)
fields = st.sampled_from(FIELDS)
networks = st.lists(
    st.sampled_from(
        ["10.0.0.0/8", "192.168.0.0/16", "::1", "fe80::/10", "::ffff:0:0/96", "0.0.0.0/0"]
    ),
    min_size=1,
    max_size=3,
).map(lambda nets: ", ".join(_quote(n) for n in nets))


@st.composite
def leaves(draw: st.DrawFn) -> str:
    field = draw(fields)
    kind = draw(st.integers(0, 14))
    if kind == 0:
        op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
        literal = draw(
            literals if op in ("==", "!=") else st.one_of(string_literals, number_literals)
        )
        return f"{field} {op} {literal}"
    if kind == 1:
        items = draw(st.lists(st.one_of(string_literals, number_literals), min_size=1, max_size=3))
        op = draw(st.sampled_from(["in", "in~", "not in", "not in~"]))
        return f"{field} {op} ({', '.join(items)})"
    if kind == 2:
        op = draw(st.sampled_from([":", "like", "like~"]))
        items = draw(st.lists(patterns, min_size=1, max_size=3))
        return (
            f"{field} {op} ({', '.join(items)})" if len(items) > 1 else f"{field} {op} {items[0]}"
        )
    if kind == 3:
        return f"{field} {draw(st.sampled_from(['regex', 'regex~']))} {draw(regexes)}"
    if kind == 4:
        return f"{field} {draw(st.sampled_from(['==', '!=']))} null"
    if kind == 5:
        return (
            f"length({field}) {draw(st.sampled_from(['==', '>', '<']))} {draw(st.integers(0, 4))}"
        )
    if kind == 6:
        name = draw(st.sampled_from(["startsWith", "endsWith", "stringContains"]))
        tilde = draw(st.sampled_from(["", "~"]))
        spelled = draw(st.sampled_from([name, name.lower(), name.upper()]))
        return f"{spelled}{tilde}({field}, {draw(string_literals)})"
    if kind == 7:
        start = draw(st.sampled_from(["", ", 1", ", -1", ", 9"]))
        tilde = draw(st.sampled_from(["", "~"]))
        return (
            f"indexOf{tilde}({field}, {draw(string_literals)}{start}) == {draw(st.integers(-1, 3))}"
        )
    if kind == 8:
        bounds = draw(st.sampled_from(["0", "1", "-2", "1, 3", "-3, -1", "2, 1"]))
        return f"substring({field}, {bounds}) == {draw(string_literals)}"
    if kind == 9:
        return f"concat({field}, {draw(literals)}) : {draw(patterns)}"
    if kind == 10:
        base = draw(st.sampled_from(["", ", 16", ", null"]))
        return f"number({field}{base}) {draw(st.sampled_from(['==', '>']))} {draw(number_literals)}"
    if kind == 11:
        return f"cidrMatch({field}, {draw(networks)})"
    if kind == 12:
        op = draw(st.sampled_from(["+", "-", "*", "/", "%"]))
        right = draw(st.sampled_from(["2", "0", "-3", "0.5"]))
        return f"{field} {op} {right} {draw(st.sampled_from(['==', '>=']))} {draw(number_literals)}"
    if kind == 13:
        greedy = draw(st.sampled_from(["", ", true", ", false"]))
        left, right = draw(string_literals), draw(string_literals)
        return f"between({field}, {left}, {right}{greedy}) == {draw(string_literals)}"
    return f"string({field}) : {draw(patterns)}"


def conditions(leaf: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[str]:
    base = leaf if leaf is not None else leaves()
    return st.recursive(
        base,
        lambda inner: st.one_of(
            st.tuples(inner, inner).map(lambda p: f"({p[0]} and {p[1]})"),
            st.tuples(inner, inner).map(lambda p: f"({p[0]} or {p[1]})"),
            inner.map(lambda c: f"not ({c})"),
        ),
        max_leaves=4,
    )


categories = st.sampled_from(["process", "network", "any"])
step_categories = st.sampled_from(["process", "network", "any", "any", "any"])
event_queries = st.tuples(categories, conditions()).map(lambda p: f"{p[0]} where {p[1]}")


@st.composite
def documents(
    draw: st.DrawFn,
    *,
    min_size: int = 0,
    max_size: int = 12,
    gaps: tuple[float, ...] = (0, 0, 0.5, 1, 3),
    join_keys: bool = False,
) -> list[dict[str, object]]:
    """`join_keys`: draw process ids from small pools (1 and "1" are one key), so that
    sequences and samples joined on them meet."""
    count = draw(st.integers(min_size, max_size))
    out = []
    seconds = 0.0
    for index in range(count):
        seconds += draw(st.sampled_from(gaps))
        category = draw(st.sampled_from(["process", "network", ["network", "process"], "file"]))
        fields: dict[str, object] = {}
        for name in ("process__name", "process__pid", "process__args", "user__name",
                     "process__title", "flag"):  # fmt: skip
            if draw(st.booleans()):
                fields[name] = draw(field_values)
        if draw(st.booleans()):
            fields["destination__ip"] = draw(
                st.one_of(st.sampled_from(IPS), st.lists(st.sampled_from(IPS), max_size=2))
            )
        fields["label"] = label = draw(st.sampled_from(LABELS))
        # The same label in a hot column (the store's event_action), unless drawn otherwise:
        # hunts evaluate conditions on hot columns without reading the document.
        fields["event__action"] = draw(
            st.sampled_from([label.lower(), label.lower(), label.lower(), [label.lower()], 3])
        )
        host = draw(st.sampled_from(["h1", "h2", "h1", "h2", None, ["h1", "h2"]]))
        if host is not None:
            fields["host__id"] = host
        user = draw(st.sampled_from(["u1", "u2", "u1", None, ["u1", "u2"], 1, "1"]))
        if user is not None:
            fields["user__id"] = user
        if join_keys:
            fields["process__pid"] = draw(st.sampled_from([1, 2, "1", [1, 2], None]))
            for name in ("process__entity_id", "process__parent__entity_id"):
                entity = draw(st.sampled_from(["p1", "p2", "p1", ["p1", "p2"], None]))
                if entity is not None:
                    fields[name] = entity
        out.append(doc(f"e{index}", seconds, category, **fields))
    return out


def _step_condition() -> st.SearchStrategy[str]:
    label = st.one_of(
        st.sampled_from(LABELS).map(lambda x: f'label == "{x}"'),
        st.sampled_from(LABELS).map(lambda x: f'event.action == "{x.lower()}"'),
        st.sampled_from(LABELS).map(lambda x: f'event.action : "{x}"'),
    )
    labels = st.lists(st.sampled_from(LABELS), min_size=1, max_size=2).map(
        lambda xs: "label in (" + ", ".join(f'"{x}"' for x in xs) + ")"
    )
    mixed = st.tuples(label, leaves()).map(lambda p: f"{p[0]} and {p[1]}")
    return st.integers(0, 9).flatmap(lambda n: label if n < 6 else labels if n < 8 else mixed)


# Per-step join keys: one field for every step, or a field per step (a process, then its
# parent: the shape of most of Elastic's sequences).
SAME_KEY = ["user.id", "?user.id", "process.pid", "process.entity_id"]
STEP_KEYS = ["process.entity_id", "process.parent.entity_id", "?process.parent.entity_id"]


@st.composite
def sequences(draw: st.DrawFn) -> str:
    shared = draw(st.sampled_from(["", "", "by host.id ", "by ?host.id "]))
    maxspan = draw(st.sampled_from(["", "with maxspan=2s ", "with maxspan=1500ms "]))
    per_step = draw(st.sampled_from(["none", "none", "same", "each"]))
    same = draw(st.sampled_from(SAME_KEY))

    def keyed(step: str) -> str:
        if per_step == "same":
            return f"{step} by {same}"
        if per_step == "each":
            return f"{step} by {draw(st.sampled_from(STEP_KEYS))}"
        return step

    count = draw(st.integers(2, 3))
    steps = []
    for _ in range(count):
        step = keyed(f"[{draw(step_categories)} where {draw(_step_condition())}]")
        if draw(st.integers(0, 5)) == 0:
            step += " with runs=2"
        steps.append(step)
    if maxspan and draw(st.booleans()):
        position = draw(st.integers(0, len(steps)))
        steps.insert(position, "!" + keyed(f"[any where {draw(_step_condition())}]"))
    query = f"sequence {shared}{maxspan}" + " ".join(steps)
    if draw(st.integers(0, 3)) == 0:
        query += " until " + keyed(f"[any where {draw(_step_condition())}]")
    return query


@st.composite
def samples(draw: st.DrawFn) -> str:
    key = draw(st.sampled_from(["host.id", "?host.id", "host.id, user.id", "user.id"]))
    per_step = draw(st.booleans())
    count = draw(st.integers(2, 3))
    steps = []
    for _ in range(count):
        step = f"[{draw(step_categories)} where {draw(_step_condition())}]"
        if per_step:
            step += f" by {draw(st.sampled_from(STEP_KEYS))}"
        steps.append(step)
    return f"sample by {key} " + " ".join(steps)


# -- the domain where the eql package agrees with Elasticsearch -------------------------------------
# eql's == and in are case-insensitive, it does not look into arrays, has no ? wildcard, and
# treats a missing field in != as no match; lower-case ASCII data, always present, keeps
# clear of all of that.

LOWER = ["bash", "sh", "zsh", "curl", "nc", "python3", "abc"]
lower_literals = st.sampled_from(LOWER).map(_quote)
lower_patterns = st.text(alphabet="abchs*", min_size=1, max_size=4).map(_quote)


@st.composite
def oracle_leaves(draw: st.DrawFn) -> str:
    field = draw(st.sampled_from(["process.name", "user.name"]))
    kind = draw(st.integers(0, 6))
    if kind == 0:
        return f"{field} {draw(st.sampled_from(['==', '!=']))} {draw(lower_literals)}"
    if kind == 1:
        items = draw(st.lists(lower_literals, min_size=1, max_size=3))
        return f"{field} {draw(st.sampled_from(['in', 'not in']))} ({', '.join(items)})"
    if kind == 2:
        op = draw(st.sampled_from([":", "like", "like~"]))
        return f"{field} {op} {draw(lower_patterns)}"
    if kind == 3:
        return f"process.pid {draw(st.sampled_from(['==', '<', '>=']))} {draw(st.integers(0, 6))}"
    if kind == 4:
        return f"length({field}) {draw(st.sampled_from(['==', '>']))} {draw(st.integers(1, 5))}"
    if kind == 5:
        name = draw(st.sampled_from(["startsWith", "endsWith"]))
        return f"{name}({field}, {draw(lower_literals)})"
    return f"{field} != null"


oracle_queries = st.tuples(
    st.sampled_from(["process", "network"]), conditions(oracle_leaves())
).map(lambda p: f"{p[0]} where {p[1]}")


@st.composite
def oracle_documents(draw: st.DrawFn) -> list[dict[str, object]]:
    count = draw(st.integers(0, 10))
    out = []
    for index in range(count):
        out.append(
            doc(
                f"e{index}",
                index,
                draw(st.sampled_from(["process", "network"])),
                process__name=draw(st.sampled_from(LOWER)),
                user__name=draw(st.sampled_from(LOWER)),
                process__pid=draw(st.integers(0, 6)),
                host__id=draw(st.sampled_from(["h1", "h2"])),
                label=draw(st.sampled_from(LABELS)),
            )
        )
    return out


@st.composite
def oracle_sequences(draw: st.DrawFn) -> str:
    count = draw(st.integers(2, 3))
    maxspan = draw(st.sampled_from(["", " with maxspan=2s"]))
    steps = " ".join(
        f"[{draw(st.sampled_from(['process', 'network']))} where label == "
        f'"{draw(st.sampled_from(LABELS))}"]'
        for _ in range(count)
    )
    return f"sequence by host.id{maxspan} {steps}"


# Streams for sequences and samples: more, closer events, so that steps meet.
sequence_documents = documents(min_size=4, max_size=24, gaps=(0, 0, 0.25, 0.5, 1), join_keys=True)
