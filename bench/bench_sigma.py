"""Benchmark of `doorhunt rules import-sigma` over SigmaHQ's 248 Linux rules
(../shared/corpus/sigma-linux, Detection Rule License 1.1).

Prints, for doorhunt's pipeline and backend (pySigma 2.x): rules converted and failed, the
failures grouped by kind and by reason, the conversion time, and how many converted queries
doorhunt's EQL engine compiles. In the same run, the baseline: pySigma's stock Elasticsearch
EQL backend (pysigma-backend-elasticsearch) with its stock ECS pipeline. That package pins
pySigma < 2, so it runs in a separate virtual environment (bench/results/sigma-baseline, made
with pip on first use; `--baseline-python` names another interpreter, `--no-baseline` skips
it). The stock package has ECS pipelines for Windows, macOS, Zeek and Kubernetes but none for
Linux, so its queries keep Sigma's own field names (Image, CommandLine, a0): the benchmark
counts how many of them compile with doorhunt's engine and how many read only fields that
exist in ECS, which is what could ever match an ECS event.

    .venv/bin/python bench/bench_sigma.py [--corpus DIR] [--baseline-python PATH]
"""

# This file also runs as the baseline worker inside the baseline environment, where doorhunt is
# not installed and pySigma is 1.x: every import of either happens inside the function using it.
# ruff: noqa: PLC0415
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "sigma-linux"
BASELINE_VENV = REPO / "bench" / "results" / "sigma-baseline"
BASELINE_REQUIREMENTS = ["pysigma-backend-elasticsearch==2.1.1"]  # brings pySigma 1.x


def baseline_worker(corpus: Path) -> None:
    """Run inside the baseline environment: convert with the stock EQL backend, print JSON."""
    import sigma
    from sigma.backends.elasticsearch import EqlBackend
    from sigma.collection import SigmaCollection
    from sigma.pipelines.elasticsearch import pipelines

    started = time.perf_counter()
    backend = EqlBackend(pipelines["ecs_windows"](), collect_errors=False)
    results = []
    for path in sorted(corpus.glob("*.yml")):
        try:
            rules = SigmaCollection.from_yaml(path.read_text(encoding="utf-8"))
            queries = [q for rule in rules.rules for q in backend.convert_rule(rule)]
            results.append({"file": path.name, "queries": queries})
        except Exception as error:
            results.append({"file": path.name, "error": f"{type(error).__name__}: {error}"})
    version = getattr(sigma, "__version__", None)
    if version is None:
        from importlib.metadata import version as package_version

        version = package_version("pysigma")
    print(
        json.dumps(
            {"results": results, "seconds": time.perf_counter() - started, "pysigma": version}
        )
    )


def baseline_python(given: str | None, install: bool) -> str | None:
    if given:
        return given
    python = BASELINE_VENV / "bin" / "python"
    if python.exists():
        return str(python)
    if not install:
        return None
    print(f"creating the baseline environment {BASELINE_VENV} ...", file=sys.stderr)
    venv.create(BASELINE_VENV, with_pip=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *BASELINE_REQUIREMENTS], check=True
    )
    return str(python)


def run_doorhunt(corpus: Path) -> dict[str, object]:
    from doorhunt.rules.engine import compile_rule
    from doorhunt.rules.sigma import Converter

    started = time.perf_counter()
    converter = Converter()
    setup = time.perf_counter() - started
    report = converter.convert_paths([corpus])
    compiled = 0
    for rule in report.converted:
        compile_rule(rule.query)
        compiled += 1
    return {"report": report, "setup": setup, "compiled": compiled}


def classify_baseline(results: list[dict[str, object]]) -> dict[str, int]:
    from doorhunt.ecs import load_schema
    from doorhunt.rules.engine import EqlError, compile_rule
    from doorhunt.rules.engine import nodes as n

    schema = load_schema()
    counts = {"converted": 0, "failed": 0, "compile": 0, "ecs_fields_only": 0}
    for result in results:
        queries = result.get("queries")
        if not isinstance(queries, list) or len(queries) != 1:
            counts["failed"] += 1
            continue
        counts["converted"] += 1
        try:
            compiled = compile_rule(str(queries[0]))
        except EqlError:
            continue
        counts["compile"] += 1
        fields = {
            ".".join(field.path)
            for step in compiled.steps
            for field in n.fields_of(step.step.query.condition)
        }
        if all(name in schema for name in fields):
            counts["ecs_fields_only"] += 1
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--baseline-python", help="interpreter with pysigma-backend-elasticsearch")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-install", action="store_true", help="do not create the baseline venv")
    parser.add_argument("--baseline-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_worker:
        baseline_worker(args.corpus)
        return 0
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2

    ours = run_doorhunt(args.corpus)
    report = ours["report"]
    from doorhunt.rules.sigma import ConversionReport

    assert isinstance(report, ConversionReport)
    print(f"corpus: {args.corpus} ({report.files} files)")
    print(
        f"doorhunt (pySigma 2, doorhunt pipeline and backend): converted {len(report.converted)}"
        f" / {report.total}, failed {len(report.failures)}, in {report.seconds:.2f} s"
        f" (+{ours['setup']:.2f} s setup); doorhunt's engine compiles {ours['compiled']}"
        f" / {len(report.converted)}"
    )
    notes: dict[str, int] = {}
    for rule in report.converted:
        for warning in rule.warnings:
            notes[warning] = notes.get(warning, 0) + 1
    approximate = sum(1 for rule in report.converted if rule.warnings)
    print(f"  converted with notes: {approximate}")
    for warning, count in sorted(notes.items(), key=lambda item: -item[1]):
        print(f"    {count:4d}  {warning}")
    print("  failures by kind:")
    for kind, failures in report.by_kind().items():
        print(f"    {len(failures):4d}  {kind}")
    print("  failures by reason:")
    for reason, count in report.by_reason().items():
        print(f"    {count:4d}  {reason}")

    if args.no_baseline:
        return 0
    python = baseline_python(args.baseline_python, install=not args.no_install)
    if python is None:
        print("baseline: not run (no baseline environment; drop --no-install to make one)")
        return 0
    worker = subprocess.run(
        [python, __file__, "--baseline-worker", "--corpus", str(args.corpus)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": ""},
    )
    if worker.returncode != 0:
        print(f"baseline: failed to run: {worker.stderr.strip().splitlines()[-1:]}")
        return 1
    data = json.loads(worker.stdout)
    counts = classify_baseline(data["results"])
    print(
        f"baseline (pySigma {data['pysigma']}, stock Elasticsearch EQL backend, stock ECS "
        f"pipeline): converted {counts['converted']} / {len(data['results'])} in "
        f"{data['seconds']:.2f} s; doorhunt's engine compiles {counts['compile']}; "
        f"{counts['ecs_fields_only']} read only ECS fields"
    )
    usable = counts["ecs_fields_only"]
    ratio = ours["compiled"] / usable if usable else float("inf")  # type: ignore[operator]
    print(
        f"ratio: rules whose query compiles and reads only ECS fields, doorhunt / baseline = "
        f"{ours['compiled']} / {usable} = {ratio:.1f}x; rules converted at all = "
        f"{len(report.converted)} / {counts['converted']} = "
        f"{len(report.converted) / max(1, counts['converted']):.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
