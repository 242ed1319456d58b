#!/usr/bin/env bash
# The README's first quick-start command: install spfkit (the core install) and check whether
# 192.0.2.25 may send mail for alice@example.com, answered from the bundled example zone (no
# network needed for the check). With Debian's own python3 (PEP 668) spfkit goes into .venv.
# Other arguments are passed to `spfkit check` instead of those two.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/python-env.sh
"$PY" -m pip install -q --disable-pip-version-check .
[ $# -gt 0 ] || set -- 192.0.2.25 alice@example.com
exec "$PY" -m spfkit check --zone examples/example.zone "$@"
