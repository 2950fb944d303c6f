#!/bin/sh
# Install what the tests need (Debian packages and the pinned Python tools), then run lint,
# the strict type check and every test. Run as root: the kernel tests create network
# namespaces and packet sockets (without root they skip; in CI, DOORHUNT_CI=1, they fail).
set -eu
cd "$(dirname "$0")"
sh scripts/system-packages.sh test
sh scripts/venv.sh test,yara,es,sigma,web
.venv/bin/ruff check src tests tools bench
.venv/bin/ruff format --check src tests tools bench
.venv/bin/mypy
# pytest exits 5 when it collects nothing, which fails this script like any other failure.
.venv/bin/python -m pytest -n 2 -p no:cacheprovider "$@"
