"""Sequences and samples: the examples of the EQL syntax reference and the rules of
Elasticsearch's SequenceMatcher and TumblingWindow, through both engines."""

from __future__ import annotations

from doorhunt.rules.engine import compile_rule, to_sql
from tests.rules.helpers import both, doc, hunt, ids

# -- the state machine (EQL syntax reference, "How sequence queries handle matches") -----------


def test_the_reference_state_machine_example() -> None:
    users = ["root", "root", "elkbee", "root", "root", "elkbee", "root", "elkbee", "root",
             "elkbee", "root"]  # fmt: skip
    names = ["attrib", "attrib", "bash", "bash", "bash", "attrib", "attrib", "bash", "cat", "cat",
             "cat"]  # fmt: skip
    documents = [
        doc(str(i + 1), i, user__name=user, process__name=name)
        for i, (user, name) in enumerate(zip(users, names, strict=True))
    ]
    query = """sequence by user.name
      [process where process.name == "attrib"]
      [process where process.name == "bash"]
      [process where process.name == "cat"]"""
    assert both(query, documents) == [
        (("2", "4", "9"), ("root",)),
        (("6", "8", "10"), ("elkbee",)),
    ]


def test_until_expires_a_sequence_only_between_its_events() -> None:
    # "The query matches sequences A, B and A, B, C but not A, C, B."
    documents = []
    for group, letters in enumerate(["AB", "ABC", "ACB"]):
        for position, letter in enumerate(letters):
            documents.append(
                doc(f"{letter}{group}", group * 10 + position, user__id=str(group), label=letter)
            )
    query = """sequence by user.id
      [any where label == "A"]
      [any where label == "B"]
    until [any where label == "C"]"""
    assert ids(query, documents) == [("A0", "B0"), ("A1", "B1")]


def test_until_on_the_same_event_as_a_step_expires_what_that_event_started() -> None:
    # Elasticsearch's Ordinal.between is inclusive: an until marker at the ordinal of a
    # pending sequence's last event expires it.
    documents = [
        doc("a", 0, label="A", stop=True),
        doc("b", 1, label="B"),
        doc("a2", 2, label="A"),
        doc("b2", 3, label="B"),
    ]
    query = """sequence [any where label == "A"] [any where label == "B"]
    until [any where stop == true]"""
    assert ids(query, documents) == [("a2", "b2")]


# -- maxspan ---------------------------------------------------------------------------------------


def test_maxspan_is_measured_from_the_first_event_and_inclusive() -> None:
    documents = [doc("a", 0, label="A"), doc("b", 5, label="B"), doc("c", 10.001, label="C")]
    query = 'sequence with maxspan=5s [any where label == "A"] [any where label == "B"]'
    assert ids(query, documents) == [("a", "b")]
    three = (
        'sequence with maxspan=10s [any where label == "A"] [any where label == "B"] '
        '[any where label == "C"]'
    )
    assert ids(three, documents) == []


def test_an_event_past_maxspan_still_takes_the_pending_sequence() -> None:
    # SequenceMatcher.match trims the group before checking maxspan: the late event
    # consumes the pending sequence, so the later B finds nothing to extend.
    documents = [
        doc("a1", 0, label="A"),
        doc("a2", 1, label="A"),
        doc("b1", 7, label="B"),
        doc("b2", 7.5, label="B"),
        doc("a3", 8, label="A"),
        doc("b3", 9, label="B"),
    ]
    query = 'sequence with maxspan=5s [any where label == "A"] [any where label == "B"]'
    assert ids(query, documents) == [("a3", "b3")]


def test_maxspan_units() -> None:
    documents = [doc("a", 0, label="A"), doc("b", 0.2, label="B")]
    for span, found in (("100ms", []), ("200ms", [("a", "b")]), ("1m", [("a", "b")]),
                        ("1h", [("a", "b")]), ("1d", [("a", "b")])):  # fmt: skip
        query = f'sequence with maxspan={span} [any where label == "A"] [any where label == "B"]'
        assert ids(query, documents) == found, span


# -- join keys -------------------------------------------------------------------------------------


def test_per_step_keys_join_different_fields() -> None:
    # The reference's example: a file event's file.path is the process event's executable.
    documents = [
        doc("f1", 0, "file", user__name="u", file__path="/tmp/x", file__extension="exe"),
        doc("p1", 1, "process", user__name="u", process__executable="/tmp/y"),
        doc("p2", 2, "process", user__name="u", process__executable="/tmp/x"),
        doc("p3", 3, "process", user__name="other", process__executable="/tmp/x"),
    ]
    query = """sequence by user.name
      [file where file.extension == "exe"] by file.path
      [process where true] by process.executable"""
    assert both(query, documents) == [(("f1", "p2"), ("u", "/tmp/x"))]


def test_each_value_of_a_multi_valued_key_is_a_key() -> None:
    # elastic/elasticsearch#89965: one sequence per value (the cartesian product).
    documents = [
        doc("a", 0, label="A", tags=["x", "y"]),
        doc("b", 1, label="B", tags=["y", "z"]),
    ]
    query = 'sequence by tags [any where label == "A"] [any where label == "B"]'
    assert both(query, documents) == [(("a", "b"), ("y",))]


def test_null_join_keys_need_the_optional_form() -> None:
    documents = [doc("a", 0, label="A"), doc("b", 1, label="B")]
    plain = 'sequence by host.id [any where label == "A"] [any where label == "B"]'
    optional = 'sequence by ?host.id [any where label == "A"] [any where label == "B"]'
    assert both(plain, documents) == []
    assert both(optional, documents) == [(("a", "b"), (None,))]


def test_keys_compare_by_keyword_form() -> None:
    documents = [doc("a", 0, label="A", process__pid=42), doc("b", 1, label="B", process__pid="42")]
    query = 'sequence by process.pid [any where label == "A"] [any where label == "B"]'
    # The key reported is the value of the sequence's first event.
    assert both(query, documents) == [(("a", "b"), (42,))]


def test_a_process_then_its_child_with_until_and_a_missing_step() -> None:
    # The shape of most of Elastic's sequences: per-step keys on different fields.
    documents = [
        doc("a1", 0, label="A", process__entity_id="P1"),
        doc("b1", 1, label="B", process__parent__entity_id="P1"),
        doc("a2", 2, label="A", process__entity_id="P2"),
        doc("m2", 3, label="M", process__parent__entity_id="P2"),
        doc("b2", 4, label="B", process__parent__entity_id="P2"),
        doc("a3", 5, label="A", process__entity_id="P3"),
        doc("c3", 6, label="C", process__entity_id="P3"),
        doc("b3", 7, label="B", process__parent__entity_id="P3"),
    ]
    query = """sequence with maxspan=1m
      [any where label == "A"] by process.entity_id
      ![any where label == "M"] by process.parent.entity_id
      [any where label == "B"] by process.parent.entity_id
    until [any where label == "C"] by process.entity_id"""
    assert both(query, documents) == [(("a1", "b1"), ("P1",))]


def test_hot_column_sequences_read_the_documents_afterwards() -> None:
    # Conditions and keys all on hot columns: the hunt decides on the columns alone and
    # reads the matched events' documents in a second query (sql._Documents).
    documents = [
        doc("x", 0, event__action="exec", process__entity_id="P", host__id="h"),
        doc("y", 0, event__action="exec", process__entity_id="Q", host__id="h"),
        doc("z", 1, "network", event__action="connect", process__entity_id="P", host__id="h"),
    ]
    query = """sequence by host.id with maxspan=5s
      [process where event.action == "exec"] by process.entity_id
      [network where event.action == "connect"] by process.entity_id"""
    assert "cer AS (SELECT" in to_sql(compile_rule(query))
    assert both(query, documents) == [(("x", "z"), ("h", "P"))]


# -- runs and events matching several steps --------------------------------------------------------


def test_with_runs_repeats_a_step() -> None:
    documents = [doc(str(i), i, label="A") for i in range(4)] + [doc("b", 9, label="B")]
    query = 'sequence [any where label == "A"] with runs=3 [any where label == "B"]'
    # Runs of 3: (0,1,2) then 3 starts again and overwrites nothing further on; the B event
    # completes the run that is in the third state.
    assert ids(query, documents) == [("1", "2", "3", "b")]


def test_one_event_never_fills_two_consecutive_steps() -> None:
    documents = [doc("x", 0, label="A"), doc("y", 1, label="A")]
    query = 'sequence [any where label == "A"] [any where label == "A"]'
    assert ids(query, documents) == [("x", "y")]


def test_an_event_can_end_one_sequence_and_start_the_next() -> None:
    documents = [doc("a", 0, label="A"), doc("ab", 1, label="AB"), doc("b", 2, label="B")]
    query = 'sequence [any where label : "A*"] [any where label like "*B"]'
    assert ids(query, documents) == [("a", "ab"), ("ab", "b")]


# -- missing events (TumblingWindow.checkMissingEvents) ---------------------------------------------


def test_missing_middle_event_voids_the_sequence() -> None:
    # The reference's example: a logon not followed by a logoff within 5 seconds.
    documents = [
        doc("in1", 0, "authentication", user__name="u", code="4624"),
        doc("out1", 1, "authentication", user__name="u", code="4647"),
        doc("in2", 10, "authentication", user__name="u", code="4624"),
        doc("x", 12, "authentication", user__name="u", code="other"),
    ]
    query = """sequence by user.name with maxspan=5s
      [authentication where code : "4624"]
      ![authentication where code : "4647"]
      [authentication where code : "other"]"""
    assert ids(query, documents) == [("in2", "x")]


def test_a_voided_sequence_still_occupies_its_step() -> None:
    # Missing events are checked when the sequence is complete, so the voided sequence
    # took the pending one of the previous step like any other.
    documents = [
        doc("a1", 0, label="A"),
        doc("b1", 1, label="B"),
        doc("a2", 2, label="A"),
        doc("m", 3, label="M"),
        doc("b2", 4, label="B"),
        doc("c", 5, label="C"),
    ]
    # (a2, b2) has M between its events; it replaces (a1, b1) in step B all the same, so C
    # completes the voided sequence and nothing is reported (dropping it early would have
    # reported a1, b1, c).
    query = """sequence with maxspan=1m
      [any where label == "A"] ![any where label == "M"]
      [any where label == "B"] [any where label == "C"]"""
    assert ids(query, documents) == []


def test_a_missing_event_at_a_neighbour_timestamp_does_not_count() -> None:
    documents = [doc("a", 0, label="A"), doc("m", 0, label="M"), doc("b", 1, label="B")]
    query = """sequence with maxspan=1m
      [any where label == "A"] ![any where label == "M"] [any where label == "B"]"""
    assert ids(query, documents) == [("a", "b")]


def test_missing_trailing_event_within_maxspan() -> None:
    documents = [
        doc("a1", 0, label="A", host__id="h1"),
        doc("m1", 3, label="M", host__id="h1"),
        doc("a2", 0, label="A", host__id="h2"),
        doc("m2", 6, label="M", host__id="h2"),
        doc("a3", 0, label="A", host__id="h3"),
    ]
    query = 'sequence by host.id with maxspan=5s [any where label == "A"] ![any where label == "M"]'
    assert ids(query, documents) == [("a2",), ("a3",)]


def test_missing_leading_event_within_maxspan() -> None:
    documents = [
        doc("m1", 0, label="M", host__id="h1"),
        doc("a1", 3, label="A", host__id="h1"),
        doc("m2", 0, label="M", host__id="h2"),
        doc("a2", 6, label="A", host__id="h2"),
        doc("a3", 6, label="A", host__id="h3"),
    ]
    query = 'sequence by host.id with maxspan=5s ![any where label == "M"] [any where label == "A"]'
    assert ids(query, documents) == [("a2",), ("a3",)]


def test_missing_leading_and_trailing_events() -> None:
    # Rejected only when a leading and a trailing missing event are within maxspan of each
    # other (the window around the sequence holds both).
    documents = [
        doc("l1", 0, label="M", host__id="h1"),
        doc("a1", 2, label="A", host__id="h1"),
        doc("t1", 4, label="M", host__id="h1"),
        doc("l2", 0, label="M", host__id="h2"),
        doc("a2", 3, label="A", host__id="h2"),
        doc("t2", 7, label="M", host__id="h2"),
        doc("a3", 3, label="A", host__id="h3"),
        doc("t3", 4, label="M", host__id="h3"),
    ]
    query = """sequence by host.id with maxspan=5s
      ![any where label == "M"] [any where label == "A"] ![any where label == "M"]"""
    assert ids(query, documents) == [("a2",), ("a3",)]


# -- samples ---------------------------------------------------------------------------------------


def test_sample_ignores_order_and_reports_one_sample_per_key() -> None:
    documents = [
        doc("n1", 0, "network", host__id="h1"),
        doc("p1", 1, "process", host__id="h1"),
        doc("p2", 2, "process", host__id="h1"),
        doc("n2", 3, "network", host__id="h2"),
        doc("p3", 4, "process", host__id="h3"),
    ]
    query = "sample by host.id [process where true] [network where true]"
    assert both(query, documents) == [(("p1", "n1"), ("h1",))]


def test_sample_needs_distinct_events() -> None:
    # SampleIterator.matchSample: one document cannot fill two filters.
    documents = [doc("x", 0, host__id="h", a=1, b=1), doc("y", 1, host__id="h", b=1)]
    query = "sample by host.id [any where a == 1] [any where b == 1]"
    assert ids(query, documents) == [("x", "y")]
    assert ids(query, documents[:1]) == []


def test_sample_with_per_step_keys() -> None:
    documents = [
        doc("a", 0, host__id="h", os="linux", kind="a"),
        doc("b", 1, host__id="h", op_sys="linux", kind="b"),
    ]
    query = 'sample by host.id [any where kind == "a"] by os [any where kind == "b"] by op_sys'
    assert both(query, documents) == [(("a", "b"), ("h", "linux"))]


# -- pipes (hunts) ---------------------------------------------------------------------------------


def test_head_and_tail_pipes_apply_to_hunts() -> None:
    documents = [doc(str(i), i) for i in range(5)]
    head = hunt(compile_rule("process where true | head 2"), documents)
    tail = hunt(compile_rule("process where true | tail 2"), documents)
    assert [m.events[0]["event"]["id"] for m in head] == ["0", "1"]  # type: ignore[index]
    assert [m.events[0]["event"]["id"] for m in tail] == ["3", "4"]  # type: ignore[index]
