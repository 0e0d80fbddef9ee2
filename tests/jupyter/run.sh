#!/usr/bin/env bash
# Runs the Jupyter kernel's integration test (tests/jupyter/test_kernel.py)
# against target/release/losslang, in a virtual environment under target/
# with the pinned packages of requirements.txt (made on first use).
# pytest's exit status is this script's: any failure, or no test run, fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/jupyter-venv
if [ ! -x "$venv/bin/python" ] || ! cmp -s tests/jupyter/requirements.txt "$venv/requirements.txt"; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/jupyter/requirements.txt
    cp tests/jupyter/requirements.txt "$venv/requirements.txt"
fi
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/jupyter "$@"
