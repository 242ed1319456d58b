#!/usr/bin/env bash
# Installs everything spfkit's tests need on a fresh Debian 12 machine (as root), then runs
# every test. This is the second command of the README's quick start; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=()
    # systemd-analyze, logrotate and man check the units, the logrotate file and the man pages
    for cmd in named dig named-checkzone swaks postfix tinydns-data systemd-analyze logrotate man groff; do
        command -v "$cmd" >/dev/null || missing+=("$cmd")
    done
    # Postfix's spawn(8) runs the policy server as nobody, with Debian's own Python
    [ -x /usr/bin/python3 ] || missing+=(/usr/bin/python3)
    # the quick-start test makes a virtual environment with Debian's python3 (PEP 668)
    /usr/bin/python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
    # the browser tests drive Debian's Chromium through Playwright (its own download does not work)
    [ -x /usr/bin/chromium ] || missing+=(/usr/bin/chromium)
    # policyd's migration test loads Debian's shipped policyd-spf.conf unchanged
    [ -f /etc/postfix-policyd-spf-python/policyd-spf.conf ] || missing+=(postfix-policyd-spf-python)
    # spfkit[milter]: pip builds pymilter against libmilter with gcc and the Python headers;
    # the milter's tests drive it with miltertest
    [ -e /usr/include/libmilter/mfapi.h ] || missing+=(libmilter-dev)
    command -v gcc >/dev/null || missing+=(gcc)
    [ -e /usr/include/python3.11/Python.h ] || missing+=(python3-dev)
    command -v miltertest >/dev/null || missing+=(miltertest)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "test-all: installing Debian packages (missing: ${missing[*]})"
        log=$(mktemp)
        echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
        if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                bind9 dnsutils postfix swaks tinydns python3 python3-venv chromium \
                postfix-policyd-spf-python systemd logrotate man-db groff-base \
                libmilter-dev gcc python3-dev miltertest; } >"$log" 2>&1; then
            tail -n 30 "$log" >&2
            echo "test-all: apt-get failed (full log: $log)" >&2
            exit 1
        fi
    fi
fi

. scripts/python-env.sh  # PY: this python3, or a .venv when the system manages its packages
"$PY" -m pip install -q --disable-pip-version-check -e ".[test]"
"$PY" -m ruff check src tests benchmarks
# every core (pytest-xdist); a test module stays on one worker, so its servers start once
"$PY" -m pytest -n auto --dist loadfile "$@"
