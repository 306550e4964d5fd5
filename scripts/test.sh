#!/usr/bin/env bash
# Runs the whole test suite. pytest's exit 5 ("no tests ran") is a failure here.
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest "$@"
code=$?
if [ "$code" -eq 5 ]; then echo "test: no tests ran" >&2; exit 1; fi
exit "$code"
