# Shortcuts for the scripts the README documents; each does its own installing.
.PHONY: run test bench lint fmt clean

run:  ## install doorhunt and run the main job
	./run.sh

test:  ## install the test needs, lint, type-check and run every test
	./test.sh

bench: ## run the benchmarks (each prints its figure beside a baseline from the same run)
	sh scripts/system-packages.sh test
	sh scripts/venv.sh test,yara,es,sigma,web
	.venv/bin/python bench/bench_bpf.py
	.venv/bin/python bench/bench_eql.py
	.venv/bin/python bench/bench_sample.py
	.venv/bin/python bench/bench_scan.py
	.venv/bin/python bench/bench_sensor.py
	.venv/bin/python bench/bench_sigma.py
	.venv/bin/python bench/bench_store.py --events 2000000
	.venv/bin/python bench/bench_sweep.py
	.venv/bin/python bench/bench_ui.py

lint:  ## ruff and the strict type check only
	sh scripts/venv.sh test,yara,es,sigma,web
	.venv/bin/ruff check src tests tools bench
	.venv/bin/ruff format --check src tests tools bench
	.venv/bin/mypy

fmt:   ## format and autofix
	.venv/bin/ruff format src tests tools bench
	.venv/bin/ruff check --fix src tests tools bench

clean:
	rm -rf .venv build src/*.egg-info .mypy_cache .ruff_cache .hypothesis
