"""The 248 Linux rules of SigmaHQ (../shared/corpus/sigma-linux, DRL 1.1): each converts to a
query doorhunt's engine compiles, or yields a reason; none raises."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

pytest.importorskip("sigma", reason="pySigma is the `sigma` extra")

from doorhunt.rules.engine import compile_rule
from doorhunt.rules.sigma import Converter
from doorhunt.rules.sigma import report as r
from doorhunt.rules.sigma.rulefile import TACTICS, UNKNOWN_TACTIC

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus" / "sigma-linux"
# Measured 2026-11 with pySigma 2.0.1 (docs/sigma.md); a drop means a regression.
EXPECTED_CONVERTED = 207


@pytest.fixture(scope="module")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the Sigma corpus is not here ({CORPUS}); it lives beside the repository")
    return CORPUS


def test_every_corpus_rule_converts_or_says_why(corpus: Path) -> None:
    report = Converter().convert_paths([corpus])
    assert report.files == report.total == 248
    assert len(report.converted) >= EXPECTED_CONVERTED
    names = {tactic.snake for tactic in TACTICS} | {UNKNOWN_TACTIC}
    for rule in report.converted:
        compile_rule(rule.query, name=rule.title)
        body = tomllib.loads(rule.toml)["rule"]
        assert body["query"].strip() == rule.query
        assert rule.file_name.endswith(".toml")
        assert any(rule.file_name.startswith(f"{name}_") for name in names), rule.file_name
    for failure in report.failures:
        assert failure.reason and "\n" not in failure.reason
        # Nothing the converter should have handled: no crash, no uncompilable query.
        assert failure.kind not in (r.KIND_PYSIGMA, r.KIND_COMPILE, r.KIND_INVALID), failure
