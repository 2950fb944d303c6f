"""The validator: what it accepts, what it rejects and names, and that it never raises."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorhunt.ecs import (
    ECS_VERSION,
    EcsValidationError,
    Problem,
    assert_valid,
    load_schema,
    new_event,
    set_field,
    validate,
)
from doorhunt.ecs.validate import MAX_DEPTH, REQUIRED_FIELDS
from doorhunt.errors import InputError

HOST = {"name": "web-1", "hostname": "web-1"}


def fields(document: object, **kw: bool) -> list[str]:
    """The field names validate() reports, in order."""
    return [problem.field for problem in validate(document, **kw)]


def only_problem(document: object) -> Problem:
    problems = validate(document)
    assert len(problems) == 1, problems
    return problems[0]


# Field names


def test_a_valid_process_event_has_no_problems() -> None:
    event = new_event(
        kind="event",
        category="process",
        type="start",
        action="exec",
        timestamp=datetime(2026, 3, 1, tzinfo=UTC),
        host=HOST,
        process={
            "pid": 4242,
            "name": "sshd",
            "executable": "/usr/sbin/sshd",
            "args": ["/usr/sbin/sshd", "-D"],
            "command_line": "/usr/sbin/sshd -D",
            "entity_id": "abc",
            "parent": {"pid": 1, "entity_id": "def", "name": "systemd"},
            "Ext": {"ancestry": ["def"]},
        },
    )
    assert validate(event, require_core=True) == []
    assert_valid(event, require_core=True)


def test_unknown_field_is_rejected_by_name_with_a_suggestion() -> None:
    problem = only_problem({"process": {"pidd": 1}})
    assert problem.field == "process.pidd"
    assert "unknown field" in problem.message
    assert "did you mean process.pid?" in problem.message


def test_unknown_field_set_is_reported_once_at_its_top() -> None:
    assert fields({"foo": {"bar": 1, "baz": {"qux": 2}}}) == ["foo"]


def test_dotted_keys_are_the_same_fields_as_nested_objects() -> None:
    assert validate({"process.pid": 1, "process": {"parent.pid": 0}, "host.name": "h"}) == []
    assert fields({"process.pidd": 1}) == ["process.pidd"]
    assert fields({"process": {"parent.pid": "one"}}) == ["process.parent.pid"]


def test_a_field_set_twice_through_both_spellings_is_reported() -> None:
    problem = only_problem({"process.pid": 1, "process": {"pid": 2}})
    assert problem.field == "process.pid"
    assert "set twice" in problem.message


def test_nothing_can_be_below_a_single_value_field() -> None:
    problem = only_problem({"process": {"pid": {"value": 1}}})
    assert problem.field == "process.pid"
    problem = only_problem({"process.pid.value": 1})
    assert problem.field == "process.pid.value"
    assert "process.pid is a long field" in problem.message


@pytest.mark.parametrize("key", ["", "process..pid", ".pid", "pid."])
def test_empty_name_parts_are_rejected(key: str) -> None:
    assert "empty" in only_problem({key: 1}).message


def test_non_string_keys_are_rejected_not_raised() -> None:
    problems = validate({1: "x", None: 2, ("a",): 3, "process": {2.5: 1}})
    assert [p.field for p in problems] == ["", "", "", "process"]
    assert all("is not a string" in p.message for p in problems)


def test_object_paths_must_hold_objects() -> None:
    problem = only_problem({"process": "sshd"})
    assert problem.field == "process"
    assert "expected an object" in problem.message


# Types


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("process.name", "sshd"),
        ("process.command_line", "sshd -D"),  # wildcard
        ("message", "text"),  # match_only_text
        ("data_stream.type", "logs"),  # constant_keyword
        ("process.pid", 0),
        ("process.pid", 2**63 - 1),
        ("process.pid", -(2**63)),
        ("gen_ai.request.max_tokens", 2**31 - 1),  # integer
        ("event.risk_score", 1.5),  # float
        ("event.risk_score", 3),
        ("gen_ai.request.temperature", 0.7),  # double
        ("host.cpu.usage", 0.25),  # scaled_float
        ("process.interactive", False),
        ("source.ip", "192.0.2.1"),
        ("source.ip", "2001:db8::1"),
        ("source.ip", "::"),
        ("@timestamp", "2026-03-01T12:30:05.123Z"),
        ("@timestamp", "2026-03-01T12:30:05.123456789+09:00"),
        ("@timestamp", "2026-03-01T12:30:05Z"),
        ("@timestamp", "2026-03-01T12:30"),
        ("@timestamp", "2026-03-01"),
        ("@timestamp", 1_772_368_205_123),
        ("host.geo.location", {"lat": 37.5, "lon": 127.0}),
        ("host.geo.location", [127.0, 37.5]),
        ("host.geo.location", "37.5,127.0"),
        ("host.geo.location", "POINT (127.0 37.5)"),
        ("host.geo.location", [[127.0, 37.5], {"lat": 0, "lon": 0}]),
        ("process.args", ["sshd", "-D"]),
        ("process.pid", None),
        ("process.args", []),
        ("process.args", [None, "x"]),
    ],
)
def test_values_of_the_right_type_pass(field: str, value: object) -> None:
    document: dict[str, object] = {}
    set_field(document, field, value)
    assert validate(document) == []


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("process.name", 5, "expected keyword"),
        ("process.name", b"sshd", "expected keyword"),
        ("process.name", {"first": "x"}, "expected keyword"),
        ("process.pid", True, "expected long"),
        ("process.pid", 1.0, "expected long"),
        ("process.pid", "1", "expected long"),
        ("process.pid", 2**63, "expected long"),
        # Too many digits for str(): pytest could not even name the case from the value.
        pytest.param("process.pid", 2**70000, "an integer of 70001 bits", id="pid-2**70000"),
        ("gen_ai.request.max_tokens", 2**31, "expected integer"),
        ("event.risk_score", math.nan, "expected float"),
        ("event.risk_score", math.inf, "expected float"),
        ("event.risk_score", 1e39, "expected float"),
        ("event.risk_score", False, "expected float"),
        ("gen_ai.request.temperature", 10**400, "expected double"),  # over float max
        ("process.interactive", "true", "expected boolean"),
        ("process.interactive", 1, "expected boolean"),
        ("source.ip", "999.1.1.1", "expected ip"),
        ("source.ip", "192.0.2.0/24", "expected ip"),
        ("source.ip", "010.0.0.1", "expected ip"),
        ("source.ip", "fe80::1%eth0", "zone index"),
        ("source.ip", 3232235777, "expected ip"),
        ("@timestamp", "2026-02-30T00:00:00Z", "not a real date"),
        ("@timestamp", "2026-03-01 12:30:05Z", "expected date"),
        ("@timestamp", "2026-03-01T25:00:00Z", "not a real date"),
        ("@timestamp", "2026-03-01T12:00:00+19:00", "offset"),
        ("@timestamp", "yesterday", "expected date"),
        ("@timestamp", "２０２６-03-01", "expected date"),  # full-width digits
        ("@timestamp", 1.5e12, "expected date"),
        ("@timestamp", True, "expected date"),
        ("host.geo.location", {"lat": 91, "lon": 0}, "latitude"),
        ("host.geo.location", [181, 0], "longitude"),
        ("host.geo.location", "nan,1", "expected geo_point"),
        ("host.geo.location", [math.nan, 1.0], "longitude"),
        ("host.geo.location", {"lat": 1, "lon": 2, "z": 3}, "other keys"),
        ("process.args", ["sshd", 5], "expected keyword"),
        ("process.args", [["sshd"], [1]], "expected keyword"),
    ],
)
def test_values_of_the_wrong_type_are_rejected(field: str, value: object, expected: str) -> None:
    document: dict[str, object] = {}
    set_field(document, field, value)
    problem = only_problem(document)
    assert problem.field == field
    assert expected in problem.message


def test_process_pid_true_is_rejected() -> None:
    problem = only_problem({"process": {"pid": True}})
    assert (problem.field, problem.message) == (
        "process.pid",
        "expected long (an integer from -2^63 to 2^63-1), got boolean true",
    )


def test_source_ip_out_of_range_is_rejected() -> None:
    assert fields({"source": {"ip": "999.1.1.1"}}) == ["source.ip"]


def test_every_ecs_field_accepts_a_value_of_its_type_and_rejects_a_wrong_one() -> None:
    good = {
        "keyword": "x",
        "constant_keyword": "x",
        "wildcard": "x",
        "match_only_text": "x",
        "long": 1,
        "integer": 1,
        "float": 1.5,
        "double": 1.5,
        "scaled_float": 1.5,
        "boolean": True,
        "ip": "192.0.2.1",
        "date": "2026-01-01T00:00:00Z",
        "geo_point": {"lat": 1, "lon": 2},
    }
    schema = load_schema()
    checked = 0
    for name, spec in schema.items():
        if spec.type not in good:
            continue
        value = spec.allowed_values[0] if spec.allowed_values else good[spec.type]
        document: dict[str, object] = {}
        set_field(document, name, value)
        assert validate(document) == [], name
        set_field(document, name, b"bytes are never JSON")
        assert fields(document) == [name]
        checked += 1
    assert checked > 2400


# Allowed values


def test_event_category_network_is_allowed_and_networking_is_not() -> None:
    assert validate({"event": {"category": "network"}}) == []
    assert validate({"event": {"category": ["network", "process"]}}) == []
    problem = only_problem({"event": {"category": ["network", "networking"]}})
    assert problem.field == "event.category"
    assert "'networking' is not allowed" in problem.message
    assert "network" in problem.message


@pytest.mark.parametrize(
    ("field", "good", "bad"),
    [
        ("event.kind", "alert", "alarm"),
        ("event.type", "start", "started"),
        ("event.outcome", "success", "succeeded"),
    ],
)
def test_categorisation_fields_take_only_ecs_values(field: str, good: str, bad: str) -> None:
    document: dict[str, object] = {}
    set_field(document, field, good)
    assert validate(document) == []
    set_field(document, field, bad)
    assert fields(document) == [field]


def test_allowed_values_are_case_sensitive() -> None:
    assert fields({"event": {"kind": "Event"}}) == ["event.kind"]


# Containers: flattened, object, nested


def test_children_of_a_flattened_field_are_free() -> None:
    evidence = {"path": "/dev/shm/kdmtmpflush", "inode": 1234, "nested": {"deep": [1, "a", None]}}
    magic = [{"protocol": "tcp", "offset": 0, "size": 4, "value": 0x5293}]
    document = {
        "doorhunt": {"finding": {"evidence": evidence}, "bpf": {"magic": magic}},
        "doorhunt.finding.evidence.anything.at.all": True,
    }
    assert validate(document) == []


def test_children_of_a_flattened_field_must_still_be_json() -> None:
    document = {"doorhunt": {"finding": {"evidence": {"a": math.nan, "b": {1, 2}, "c": 2**70}}}}
    problems = validate(document)
    assert [p.field for p in problems] == [
        "doorhunt.finding.evidence.a",
        "doorhunt.finding.evidence.b",
        "doorhunt.finding.evidence.c",
    ]


def test_a_flattened_field_holds_objects() -> None:
    assert fields({"doorhunt": {"bpf": {"magic": "0x5293"}}}) == ["doorhunt.bpf.magic"]
    assert fields({"doorhunt": {"bpf": {"magic": [{"a": 1}, 7]}}}) == ["doorhunt.bpf.magic"]


def test_labels_hold_keyword_values_one_level_deep() -> None:
    assert validate({"labels": {"env": "prod", "team": ["a", "b"]}}) == []
    assert validate({"labels.env": "prod"}) == []
    problems = validate({"labels": {"n": 5, "nested": {"x": "y"}, "a.b": "c"}})
    assert [p.field for p in problems] == ["labels.n", "labels.nested", "labels.a.b"]
    assert "must not contain dots" in problems[2].message


def test_an_object_field_allows_more_keys_and_checks_the_known_ones() -> None:
    answers = [{"data": "192.0.2.1", "ttl": 60, "extra": {"vendor": "x"}}, {"ttl": "sixty"}]
    assert fields({"dns": {"answers": answers}}) == ["dns.answers.ttl"]
    assert validate({"entity": {"metrics": {"anything": 1.5}}}) == []


def test_nested_fields_are_arrays_of_objects_checked_against_the_schema() -> None:
    sections = [{"name": ".text", "physical_size": 4096}, {"name": ".data", "nam": "typo"}]
    problems = validate({"file": {"elf": {"sections": sections}}})
    assert [p.field for p in problems] == ["file.elf.sections.nam"]
    assert "did you mean file.elf.sections.name?" in problems[0].message
    assert fields({"file": {"elf": {"sections": [".text"]}}}) == ["file.elf.sections"]


def test_the_same_field_in_each_array_element_is_not_a_duplicate() -> None:
    assert validate({"file": {"elf": {"sections": [{"name": "a"}, {"name": "b"}]}}}) == []


# Required interface fields


def test_require_core_lists_each_missing_interface_field() -> None:
    assert fields({}, require_core=True) == list(REQUIRED_FIELDS)
    assert validate({}) == []


def test_new_event_with_host_fields_passes_require_core() -> None:
    event = new_event(
        kind="event", category="network", type="connection", action="connect", host=HOST
    )
    assert validate(event, require_core=True) == []
    bare = new_event(kind="event", category="network", type="connection", action="connect")
    assert fields(bare, require_core=True) == ["host.name"]


def test_require_core_wants_this_ecs_version() -> None:
    event = new_event(kind="event", category="host", type="info", action="x", host=HOST)
    set_field(event, "ecs.version", "8.11.0")
    problem = validate(event, require_core=True)[0]
    assert problem.field == "ecs.version"
    assert ECS_VERSION in problem.message


def test_require_core_counts_null_and_empty_as_missing() -> None:
    event = new_event(kind="event", category=[], type="info", action="x", host={"name": None})
    assert fields(event, require_core=True) == ["event.category", "host.name"]


# Hostile input


def test_a_non_object_document_is_a_problem() -> None:
    for document in (None, [], "{}", 5, b"{}"):
        problem = only_problem(document)
        assert problem.field == ""
        assert str(problem).startswith("<document>: expected a document")


def test_deep_nesting_stops_with_a_problem() -> None:
    deep: object = "leaf"
    for _ in range(10_000):
        deep = {"a": deep}
    assert [p.message for p in validate({"labels": {}, "doorhunt.finding.evidence": deep})] == [
        f"nested deeper than {MAX_DEPTH} levels; not checked further"
    ]
    deep_list: object = "leaf"
    for _ in range(10_000):
        deep_list = [deep_list]
    assert len(validate({"process": {"args": deep_list}})) == 1
    assert len(validate({"process": deep_list})) == 1


def test_a_cycle_stops_at_the_depth_limit() -> None:
    cycle: dict[str, object] = {}
    cycle["process"] = cycle
    problems = validate({"doorhunt": {"finding": {"evidence": cycle}}, "process": cycle})
    assert problems
    assert all("not checked further" in p.message or "unknown" in p.message for p in problems)


def test_lone_surrogates_are_reported_in_values_and_names() -> None:
    # What os.fsdecode() makes of a non-UTF-8 path: JSON for Elasticsearch cannot carry it.
    path = b"/dev/shm/\xff".decode("utf-8", "surrogateescape")
    problems = validate({"process": {"executable": path}, "labels": {path: "x"}})
    assert [p.field for p in problems] == ["process.executable", "labels./dev/shm/\udcff"]
    assert all("lone surrogate" in p.message for p in problems)
    assert "\\udcff" in str(problems[1])


def test_problem_renders_on_one_bounded_line() -> None:
    problem = only_problem({"process": {"name\nfake: ok" + "x" * 10_000: 1}})
    text = str(problem)
    assert "\n" not in text
    assert len(text) < 500


def test_huge_integers_are_described_without_converting_them() -> None:
    problem = only_problem({"process": {"name": 10**100_000}})
    assert "an integer of" in problem.message


# The exception


def test_assert_valid_raises_an_input_error_listing_every_problem() -> None:
    document = {"process": {"pidd": 1, "pid": True}, "source": {"ip": "999.1.1.1"}}
    with pytest.raises(EcsValidationError) as caught:
        assert_valid(document)
    error = caught.value
    assert isinstance(error, InputError)
    assert [p.field for p in error.problems] == ["process.pidd", "process.pid", "source.ip"]
    message = str(error)
    assert message.startswith(f"not a valid ECS {ECS_VERSION} document (3 problems): ")
    for problem in error.problems:
        assert str(problem) in message
    located = error.at("events.ndjson:7")
    assert isinstance(located, EcsValidationError)
    assert located.problems == error.problems
    assert str(located).startswith("events.ndjson:7: not a valid ECS")


def test_assert_valid_is_silent_on_a_valid_document() -> None:
    assert_valid({"process": {"pid": 1}})


# Never raises


_NAMES = st.one_of(
    st.sampled_from(
        [
            "process",
            "pid",
            "process.pid",
            "parent",
            "labels",
            "event",
            "category",
            "kind",
            "doorhunt.finding.evidence",
            "doorhunt.bpf.magic",
            "host",
            "geo",
            "location",
            "host.geo.location",
            "@timestamp",
            "file.elf.sections",
            "name",
            "dns.answers",
            "ip",
            "source.ip",
            "",
            ".",
            "a..b",
            "process.pid.x",
            "entity.metrics",
        ]
    ),
    st.text(st.characters(exclude_categories=()), max_size=6),  # surrogates included
    st.integers(),
    st.none(),
    st.tuples(st.integers()),
    st.floats(),
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**60),
    st.floats(),
    st.text(st.characters(exclude_categories=()), max_size=10),
    st.sampled_from(["network", "2026-01-01T00:00:00Z", "192.0.2.1", "1,2", "POINT (1 2)"]),
    st.binary(max_size=4),
    st.builds(object),
    st.frozensets(st.integers(), max_size=2),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children, children),
        st.dictionaries(_NAMES, children, max_size=4),
    ),
    max_leaves=30,
)


@given(st.one_of(st.dictionaries(_NAMES, _VALUES, max_size=6), _VALUES), st.booleans())
def test_validate_never_raises(document: object, require_core: bool) -> None:
    problems = validate(document, require_core=require_core)
    for problem in problems:
        assert isinstance(problem.field, str)
        assert "\n" not in str(problem)
