# Sourced by scripts/try-example.sh and scripts/test-all.sh: sets PY to a Python that may
# install spfkit. A Python whose packages the system manages (PEP 668: Debian's own python3)
# gets a virtual environment in .venv (created once, with python3-venv installed first when
# root and it is missing); any other Python (pyenv, an active virtual environment) is used
# as it is.
PY=${PYTHON:-python3}
if "$PY" -c 'import os, sys, sysconfig
managed = os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))
sys.exit(0 if managed and sys.prefix == sys.base_prefix else 1)'; then
    if [ ! -x .venv/bin/python ]; then
        if ! "$PY" -c 'import ensurepip' 2>/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "python-env: installing python3-venv (Debian's python3 needs it for a virtual environment)" >&2
            { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; } >/dev/null 2>&1 \
                || { echo "python-env: apt-get install python3-venv failed" >&2; exit 1; }
        fi
        "$PY" -m venv .venv
    fi
    PY=$PWD/.venv/bin/python
    export PATH="$PWD/.venv/bin:$PATH"
fi
