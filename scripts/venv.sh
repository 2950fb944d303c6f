#!/bin/sh
# Create .venv and install doorhunt into it with the pinned versions of constraints.txt;
# does nothing when it is already up to date.  scripts/venv.sh [EXTRAS]  (e.g. "test")
set -eu
cd "$(dirname "$0")/.."
extras="${1:-}"
python="${PYTHON:-python3}"
stamp=".venv/.installed${extras:+-$extras}"
if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ] && [ "$stamp" -nt constraints.txt ]; then
    exit 0
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
spec="."
[ -n "$extras" ] && spec=".[$extras]"
.venv/bin/python -m pip install --quiet --constraint constraints.txt --editable "$spec"
touch "$stamp"
