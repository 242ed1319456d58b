#!/usr/bin/env bash
# Writes the manual pages generated from the command line (spfkit.1, spfkit-COMMAND.1) into
# DIR [default: build/man], with the Python spfkit is installed in (.venv when there is one,
# else $PYTHON or python3). Install them: install -m 644 DIR/*.1 /usr/local/share/man/man1/
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] && PY=.venv/bin/python
PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" exec "$PY" -m spfkit.cli.manpage "${1:-build/man}"
