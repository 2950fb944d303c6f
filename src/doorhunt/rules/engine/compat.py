"""The compatibility report: which rules of a corpus (Elastic's Linux EQL rules, as JSON lines
of {name, rule_id, query, ...}) the engine compiles, and why the rest do not.

    python -m doorhunt.rules.engine.compat ../shared/corpus/elastic-linux-eql.jsonl \\
        > docs/eql-compatibility.md

tests/rules/test_corpus.py regenerates the report and pins its counts.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from doorhunt.rules.engine import nodes as n
from doorhunt.rules.engine._eql import EQL_VERSION, ReferenceEngine
from doorhunt.rules.engine.compiler import CompiledRule, compile_rule
from doorhunt.rules.engine.errors import EqlError
from doorhunt.rules.engine.es import es_eql_request
from doorhunt.rules.engine.sql import Relation, store_relation, to_sql


@dataclass(frozen=True, slots=True)
class CorpusRule:
    name: str
    query: str
    path: str = ""


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule: CorpusRule
    compiled: CompiledRule | None
    error: str | None
    sql_error: str | None
    eql_error: str | None


@dataclass(slots=True)
class CorpusReport:
    results: list[RuleResult] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def compiled(self) -> list[CompiledRule]:
        return [r.compiled for r in self.results if r.compiled is not None]

    @property
    def failed(self) -> list[RuleResult]:
        return [r for r in self.results if r.compiled is None]

    @property
    def eql_accepted(self) -> int:
        return sum(1 for r in self.results if r.eql_error is None)

    def kinds(self) -> Counter[str]:
        return Counter(rule.kind for rule in self.compiled)

    def features(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for rule in self.compiled:
            counts.update(_features(rule))
        return counts


def load_corpus(path: Path) -> list[CorpusRule]:
    rules = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = orjson.loads(line)
            rules.append(
                CorpusRule(str(record["name"]), str(record["query"]), str(record.get("path", "")))
            )
    return rules


def build_report(rules: Iterable[CorpusRule], *, with_eql: bool = True) -> CorpusReport:
    report = CorpusReport()
    relation = store_relation()
    for rule in rules:
        compiled: CompiledRule | None = None
        error = sql_error = None
        try:
            compiled = compile_rule(rule.query, name=rule.name, location=rule.path or None)
        except EqlError as problem:
            error = str(problem)
        if compiled is not None:
            sql_error = _sql_problem(compiled, relation)
            es_eql_request(compiled)
        eql_error = ReferenceEngine.accepts(rule.query) if with_eql else None
        report.results.append(RuleResult(rule, compiled, error, sql_error, eql_error))
    return report


def _sql_problem(rule: CompiledRule, relation: Relation) -> str | None:
    try:
        to_sql(rule, relation=relation)
    except EqlError as problem:
        return str(problem)
    return None


def _features(rule: CompiledRule) -> set[str]:
    found: set[str] = set()
    body = rule.query.body
    if isinstance(body, n.Sequence):
        if body.maxspan_us is not None:
            found.add("sequence with maxspan")
        if body.until is not None:
            found.add("sequence until")
        if any(step.missing for step in body.steps):
            found.add("missing-event step ![...]")
        if len(set(map(id, body.steps))) < len(body.steps):
            found.add("with runs=N")
        if any(len(step.keys) > 0 for step in body.steps):
            found.add("join keys (by)")
    if rule.query.pipes:
        found.add("pipes (head/tail)")
    for step in rule.steps:
        _expr_features(step.step.query.condition, found)
        if any(key.optional for key in step.step.keys):
            found.add("optional join key ?field")
    return found


def _expr_features(expr: n.Expr, found: set[str]) -> None:
    if isinstance(expr, n.Field) and expr.optional:
        found.add("optional field ?field")
    if isinstance(expr, n.Pattern):
        op = {("like", False): "like", ("like", True): "like~ / :", ("regex", False): "regex"}
        found.add(op.get((expr.kind, expr.insensitive), "regex~"))
        if any("?" in p for p in expr.patterns if expr.kind == "like"):
            found.add("? wildcard")
    if isinstance(expr, n.InList):
        found.add("in~" if expr.insensitive else "in")
    if isinstance(expr, n.Call):
        found.add(f"function {expr.name}{'~' if expr.insensitive else ''}")
    if isinstance(expr, n.Arith | n.Negate):
        found.add("arithmetic")
    for child in n.children(expr):
        _expr_features(child, found)


def render(report: CorpusReport, corpus: str) -> str:
    """The report as Markdown (deterministic: docs/eql-compatibility.md is this output)."""
    compiled = report.compiled
    sql_failed = [r for r in report.results if r.compiled is not None and r.sql_error]
    lines = [
        "# EQL compatibility: Elastic's Linux detection rules",
        "",
        "Generated by `python -m doorhunt.rules.engine.compat` from "
        f"`{corpus}` (Elastic License 2.0; used as test data only, never copied into doorhunt's "
        "rules). `tests/rules/test_corpus.py` regenerates this page and fails when it changes.",
        "",
        "## Summary",
        "",
        "| | rules |",
        "|---|---|",
        f"| in the corpus | {report.total} |",
        f"| compiled by doorhunt (streaming predicates) | {len(compiled)} |",
        f"| compiled to SQL for hunts | {len(compiled) - len(sql_failed)} |",
        f"| Elasticsearch EQL request built | {len(compiled)} |",
        f"| accepted by the `eql` package {EQL_VERSION} (Elasticsearch syntax) | {report.eql_accepted} |",
        "",
        "By kind: "
        + ", ".join(f"{count} {kind}" for kind, count in sorted(report.kinds().items()))
        + ".",
        "",
    ]
    lines += ["## Rules doorhunt does not compile", ""]
    if not report.failed:
        lines += ["None: every rule of the corpus compiles.", ""]
    else:
        reasons: Counter[str] = Counter(_reason(r.error or "") for r in report.failed)
        lines += ["| reason | rules |", "|---|---|"]
        lines += [f"| {reason} | {count} |" for reason, count in reasons.most_common()]
        lines += ["", "| rule | error |", "|---|---|"]
        lines += [f"| {r.rule.name} | `{(r.error or '').splitlines()[0]}` |" for r in report.failed]
        lines.append("")
    if sql_failed:
        lines += ["## Rules that compile but cannot run as SQL hunts", ""]
        lines += [f"- {r.rule.name}: `{r.sql_error}`" for r in sql_failed]
        lines.append("")
    lines += [
        "## What the `eql` package rejects, and why",
        "",
        "The `eql` package parses Elastic's rules for the detection-rules repository but is "
        "not Elasticsearch: it resolves function names case-sensitively, so the lower-case "
        "spellings Elasticsearch accepts (`cidrmatch`, `stringcontains`) are unknown to it.",
        "",
    ]
    eql_reasons: Counter[str] = Counter(
        _reason(r.eql_error) for r in report.results if r.eql_error is not None
    )
    if eql_reasons:
        lines += ["| reason given by eql | rules |", "|---|---|"]
        lines += [f"| `{reason}` | {count} |" for reason, count in eql_reasons.most_common()]
    else:
        lines.append("It accepts every rule.")
    lines += ["", "## Features the compiled rules use", "", "| feature | rules |", "|---|---|"]
    lines += [
        f"| {feature} | {count} |"
        for feature, count in sorted(report.features().items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    lines.append("")
    return "\n".join(lines)


def _reason(error: str) -> str:
    first = error.splitlines()[0] if error else ""
    # Drop the location (`path:line:column: `) and the specifics (quoted or in brackets, as
    # Elasticsearch's messages write the offending field), so that rules group by reason.
    parts = first.split(": ", 1)
    text = parts[1] if len(parts) == 2 and ":" in parts[0] else first
    text = re.sub(r"\[[^\]]*\]", "[...]", text)
    return text.split(" '")[0].split(' "')[0][:120]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m doorhunt.rules.engine.compat CORPUS.jsonl", file=sys.stderr)
        return 2
    path = Path(args[0])
    report = build_report(load_corpus(path))
    sys.stdout.write(render(report, path.name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = [
    "CorpusReport",
    "CorpusRule",
    "RuleResult",
    "build_report",
    "load_corpus",
    "main",
    "render",
]
