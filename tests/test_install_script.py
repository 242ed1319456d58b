"""``scripts/install.sh``: spfkit in a virtual environment that Postfix's spawn(8) user runs.

One install into a fresh, world-searchable temporary prefix (not /opt, which other tests and
the machine may use), with the link in a temporary bin directory; then, as ``nobody`` (as
spawn(8) runs ``user=nobody argv=/usr/local/bin/spfkit policyd``): ``spfkit --version`` with
``runuser``, and a real policy request on stdin with ``setpriv``. The installing Python is
this test's own: a pyenv Python under /root (which nobody cannot read) must make the script
fall back to Debian's /usr/bin/python3 and say so. Needs root, Debian's python3 and PyPI.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "install.sh"
ZONE = ROOT / "examples" / "example.zone"
REQUEST = (b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.25\n"
           b"helo_name=mail.example.com\nsender=alice@mail.example.com\nrecipient=bob@example.org\n"
           b"instance=i1\n\n")


@dataclass(frozen=True)
class Installed:
    base: Path
    prefix: Path
    link: Path
    output: str


def private_for_nobody(python: str) -> bool:
    """True when user nobody cannot start ``python`` (a pyenv Python under /root)."""
    proc = subprocess.run(["runuser", "-u", "nobody", "--", python, "-c", "pass"], cwd="/",
                          capture_output=True, check=False)
    return proc.returncode != 0


@pytest.fixture(scope="module")
def installed() -> Iterator[Installed]:
    assert os.geteuid() == 0, "the install test runs as root (scripts/test-all.sh, CI)"
    base = Path(tempfile.mkdtemp(prefix="spfkit-install-", dir="/tmp"))
    base.chmod(0o755)  # nobody must reach the prefix: /tmp/pytest-of-root is 0700
    try:
        proc = subprocess.run(
            ["bash", str(SCRIPT), "--prefix", str(base / "opt" / "spfkit"), "--link", str(base / "bin")],
            capture_output=True, text=True, timeout=600, check=False,
            env={**os.environ, "PYTHON": sys.executable},
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        yield Installed(base, base / "opt" / "spfkit", base / "bin" / "spfkit", proc.stderr)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_the_script_says_which_python_it_used(installed: Installed) -> None:
    fell_back = "is not usable by other users" in installed.output
    assert fell_back is private_for_nobody(sys.executable), installed.output
    assert "nobody runs it: spfkit, version " in installed.output


def test_the_link_points_into_the_prefix(installed: Installed) -> None:
    assert installed.link.is_symlink()
    assert installed.link.resolve() == (installed.prefix / "bin" / "spfkit").resolve()
    policyd = installed.link.with_name("spfkit-policyd")
    assert policyd.resolve() == (installed.prefix / "bin" / "spfkit-policyd").resolve()
    proc = subprocess.run(["runuser", "-u", "nobody", "--", str(policyd), "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "--config" in proc.stdout, proc


def test_everything_installed_is_readable_by_others(installed: Installed) -> None:
    for path in [installed.prefix, *installed.prefix.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        need = stat.S_IROTH | (stat.S_IXOTH if path.is_dir() else 0)
        assert mode & need == need, f"{path} is {oct(mode)}"


def test_nobody_runs_spfkit_version(installed: Installed) -> None:
    proc = subprocess.run(["runuser", "-u", "nobody", "--", str(installed.link), "--version"],
                          cwd="/", capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("spfkit, version ")


def test_nobody_answers_a_policy_request(installed: Installed) -> None:
    zone = installed.base / "example.zone"
    shutil.copy(ZONE, zone)
    zone.chmod(0o644)
    proc = subprocess.run(
        ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups",
         str(installed.link), "policyd", "--zone", str(zone), "--log", "stderr"],
        input=REQUEST, cwd="/", capture_output=True, check=False, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    # mail.example.com: "v=spf1 a -all" and its A record is 192.0.2.25
    assert proc.stdout.startswith(b"action=PREPEND Received-SPF: pass "), proc.stdout + proc.stderr
    assert proc.stdout.endswith(b"\n\n")


def test_a_python_others_cannot_run_is_refused_when_asked_for(tmp_path: Path) -> None:
    private = tmp_path / "private"  # tmp_path's parents are 0700: nobody cannot reach it
    private.mkdir()
    python = private / "python3"
    shutil.copy("/usr/bin/python3", python)
    proc = subprocess.run(["bash", str(SCRIPT), "--python", str(python), "--prefix",
                           str(tmp_path / "never"), "--no-link"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1
    assert "cannot be run by other users" in proc.stderr and "--python" in proc.stderr
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--prefix"], "--prefix needs a directory"),
    (["--frobnicate"], "unknown option --frobnicate"),
    (["--extras", "web;rm"], "--extras takes names"),
    (["/nonexistent/spfkit"], "does not exist"),
])
def test_usage_mistakes(args: list[str], message: str) -> None:
    proc = subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and message in proc.stderr
