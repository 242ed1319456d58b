"""The documented spawn-mode install in a real Postfix: ``scripts/install.sh``, then master.cf's
``spawn user=nobody argv=<link>/spfkit policyd --config policyd-spf.conf`` (docs/policyd.md).

The other spawn tests run a copy of the test's own spfkit (``spawn_tree.py``); this one runs
what ``scripts/install.sh`` installs — a virtual environment in a world-searchable prefix and
the ``spfkit`` link — with the configuration an operator migrating from policyd-spf keeps:
Debian's ``policyd-spf.conf`` (``skip_addresses`` without 127.0.0.0/8, since swaks connects
from 127.0.0.x, and a log file ``nobody`` may write, spfkit's own ``log`` option).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import SPAWN_USER, Named, Postfix, wait_for_log_lines
from tests.e2e.test_policyd_spf_conf import assert_pass_delivered_and_fail_rejected

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "policyd-spf.conf"


@pytest.fixture(scope="module")
def installed_mta(e2e_base: Path, named: Named) -> Iterator[tuple[Postfix, Path]]:
    work = e2e_base / "installed"
    work.mkdir(mode=0o755)
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "install.sh"), "--prefix", str(work / "opt"),
         "--link", str(work / "bin")],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "PYTHON": sys.executable},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    log = work / "policyd.log"
    log.touch()
    shutil.chown(log, SPAWN_USER)
    lines = ["skip_addresses = 192.0.2.1/32" if line.startswith("skip_addresses") else line
             for line in FIXTURE.read_text().splitlines()]
    config = work / "policyd-spf.conf"
    config.write_text("\n".join([*lines, f"log = {log}", ""]))
    config.chmod(0o644)
    argv = [str(work / "bin" / "spfkit"), "policyd", "--config", str(config),
            "--nameserver", f"127.0.0.1:{named.port}", "--timeout", "2"]
    postfix = Postfix(e2e_base / "postfix-installed", "spawn:" + " ".join(argv)).start()
    yield postfix, log
    postfix.stop()


def test_the_installed_spfkit_answers_postfix_as_nobody(installed_mta: tuple[Postfix, Path]) -> None:
    postfix, log = installed_mta
    nonce = assert_pass_delivered_and_fail_rejected(postfix)
    # the spawned process logged its decision where the policyd-spf.conf's log option says
    assert wait_for_log_lines(log, f"fail-{nonce}@fail.example", "action=550 5.7.23")
