#!/usr/bin/env bash
# Installs spfkit for every user of this machine: a virtual environment under /opt/spfkit that
# others may read and run, and /usr/local/bin/spfkit and spfkit-policyd links. This is what Postfix's spawn(8)
# needs to run `spfkit policyd` as user=nobody (docs/policyd.md, "Spawned by Postfix").
#
#   sudo scripts/install.sh                      # from this source tree
#   sudo scripts/install.sh --extras web,milter  # with optional parts
#   scripts/install.sh --prefix ~/spfkit --link ~/bin dist/spfkit-*.whl
#
# Options:
#   --prefix DIR    where the virtual environment goes [/opt/spfkit]
#   --link DIR      where the spfkit link goes [/usr/local/bin]; --no-link: none
#   --python PY     the Python to build it with [$PYTHON, else python3]. It must be one other
#                   users can run: a pyenv Python under /root is not, so then Debian's
#                   /usr/bin/python3 is used instead (when it is 3.11 or newer), and said so.
#   --extras LIST   spfkit extras to install too (web, verifier, milter, metrics, ...)
#   --user NAME     the user that must be able to run it, checked at the end [nobody]
#   SOURCE          a spfkit source tree or wheel [this script's source tree]
#
# Works with Debian's own python3 (PEP 668 forbids pip there; a virtual environment is its
# remedy: python3-venv is installed first when root and missing) as with a pyenv Python.
# Re-running upgrades in place. Exit status: 0 installed and checked as --user, 1 otherwise,
# 2 for a usage mistake.
set -euo pipefail

prefix=/opt/spfkit
link_dir=/usr/local/bin
python=${PYTHON:-python3}
python_given=
extras=
check_user=nobody
source_path=$(cd "$(dirname "$0")/.." && pwd)

usage() { echo "install.sh: $1 (see the comment at the top of scripts/install.sh)" >&2; exit 2; }
say() { echo "install.sh: $*" >&2; }

while [ $# -gt 0 ]; do
    case $1 in
        --prefix) [ $# -ge 2 ] || usage "--prefix needs a directory"; prefix=$2; shift 2 ;;
        --link) [ $# -ge 2 ] || usage "--link needs a directory"; link_dir=$2; shift 2 ;;
        --no-link) link_dir=; shift ;;
        --python) [ $# -ge 2 ] || usage "--python needs an interpreter"; python=$2; python_given=1; shift 2 ;;
        --extras) [ $# -ge 2 ] || usage "--extras needs a list"; extras=$2; shift 2 ;;
        --user) [ $# -ge 2 ] || usage "--user needs a user name"; check_user=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) usage "unknown option $1" ;;
        *) source_path=$1; shift ;;
    esac
done
case $prefix in /*) ;; *) prefix=$PWD/$prefix ;; esac
[ -e "$source_path" ] || usage "$source_path does not exist"
[[ $extras =~ ^[A-Za-z0-9_,-]*$ ]] || usage "--extras takes names separated by commas"
command -v "$python" >/dev/null || usage "no Python $python"

# The Python others can run: every directory of its installation searchable, its files
# readable (the virtual environment links to it and reads its standard library).
others_can_run() {
    "$1" - <<'EOF'
import os, stat, sys, sysconfig
paths = [os.path.realpath(sys.executable), sysconfig.get_path("stdlib")]
for path in paths:
    here = path
    while True:
        mode = os.stat(here).st_mode
        need = stat.S_IXOTH if stat.S_ISDIR(mode) else stat.S_IROTH | stat.S_IXOTH * (here == paths[0])
        if mode & need != need:
            print(here)
            sys.exit(1)
        if here == "/":
            break
        here = os.path.dirname(here)
EOF
}
if ! blocked=$(others_can_run "$python"); then
    if [ -z "$python_given" ] && [ -x /usr/bin/python3 ] &&
            /usr/bin/python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' &&
            others_can_run /usr/bin/python3 >/dev/null; then
        say "$python is not usable by other users ($blocked is private); using /usr/bin/python3"
        python=/usr/bin/python3
    else
        say "$python cannot be run by other users ($blocked is private): choose one with --python"
        exit 1
    fi
fi
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { say "$python is older than 3.11"; exit 1; }

if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing python3-venv (Debian's python3 needs it for a virtual environment)"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; } \
            >/dev/null 2>&1 || { say "apt-get install python3-venv failed"; exit 1; }
    else
        say "$python has no venv module: install python3-venv (Debian) or use another --python"
        exit 1
    fi
fi

umask 022  # what pip writes is readable by others
say "creating the virtual environment $prefix with $("$python" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
mkdir -p "$prefix"
"$python" -m venv "$prefix"
"$prefix/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
target=$source_path
[ -n "$extras" ] && target="$source_path[$extras]"
say "installing $target"
log=$(mktemp)
if ! "$prefix/bin/python" -m pip install --disable-pip-version-check --upgrade "$target" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    say "pip install failed (full log: $log)"
    exit 1
fi
rm -f "$log"
chmod -R a+rX "$prefix"

if [ -n "$link_dir" ]; then
    mkdir -p "$link_dir"
    # spfkit-policyd: the same policy server, started without the click CLI (for spawn(8))
    for cmd in spfkit spfkit-policyd; do
        ln -sfn "$prefix/bin/$cmd" "$link_dir/$cmd"
        say "linked $link_dir/$cmd -> $prefix/bin/$cmd"
    done
fi

# The check that matters: the user Postfix's spawn(8) runs the policy as can run it.
run_as() {
    if [ "$(id -un)" = "$1" ]; then shift; "$@"
    elif command -v runuser >/dev/null && [ "$(id -u)" = 0 ]; then runuser -u "$1" -- "${@:2}"
    elif command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
        setpriv --reuid "$1" --regid "$(id -g "$1")" --clear-groups "${@:2}"
    else return 3; fi
}
if id "$check_user" >/dev/null 2>&1; then
    if version=$(cd / && run_as "$check_user" "$prefix/bin/spfkit" --version 2>&1); then
        say "$check_user runs it: $version"
    elif [ $? = 3 ]; then
        say "installed; not checked as $check_user (needs root): $("$prefix/bin/spfkit" --version)"
    else
        say "$check_user cannot run $prefix/bin/spfkit: $version"
        say "every directory above $prefix must be searchable by others (chmod o+x)"
        exit 1
    fi
else
    say "installed: $("$prefix/bin/spfkit" --version) (no user $check_user to check with)"
fi
