#!/usr/bin/env bash
# The project's test command (README and .ci/run call this one script, so there is one place to
# change it). Runs tests/ of this checkout against the atpn_edge that python imports: in a venv
# with the package installed (pip install ".[test]") that is the installed package, since the
# sources live in python/atpn_edge and the repo root itself holds no importable atpn_edge.
# Extra arguments go to pytest, e.g. scripts/test.sh -m "not slow" or scripts/test.sh tests/test_kernels.py
set -euo pipefail
cd "$(dirname "$0")/.."
exec python -m pytest -q "$@"
