"""Fixtures of the end-to-end tests: BIND, spfkit policyd (TCP server and spawn(8)), Postfix.

Session-scoped (each pytest-xdist worker gets its own set, on its own ports, under its own
``/tmp/spfkit-e2e-<pid>``):

* ``named`` — BIND on 127.0.0.1:<free port> serving ``e2e.zone`` as the root zone;
* ``tcp_mta`` — ``spfkit policyd --listen 127.0.0.1:<port>`` run by the test (as root, from
  this interpreter), its log on stderr kept in a file, and a private Postfix asking it with
  ``check_policy_service inet:127.0.0.1:<port>``;
* ``spawn_mta`` — a private Postfix whose master.cf runs ``spfkit policyd`` under spawn(8)
  as ``nobody``, one process per policy connection, from a copy of spfkit and its
  dependencies that ``nobody`` can read (``spawn_tree.SpawnTree``), logging to a file ``nobody``
  may write;
* ``mta`` — each test that takes it runs once against each of the two.

Needs root and Debian's ``postfix bind9 swaks dnsutils python3`` (``scripts/test-all.sh``
installs them). Nothing is skipped: a missing piece fails with the recipe script's message.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.harness import (
    SPAWN_USER,
    Named,
    PolicyProcess,
    Postfix,
    Sent,
    free_port,
    log_lines,
    make_base,
    send,
)
from tests.e2e.spawn_tree import SpawnTree

HERE = Path(__file__).resolve().parent
ZONE = HERE / "e2e.zone"
RECEIVER = "mx.spfkit.test"  # start-postfix.sh's myhostname; also the policy's receiver name


def policy_config(log: str) -> str:
    """The policy's settings (docs/policyd.md): policyd-spf's decisions, and a skip list
    that does not hold the test clients (the default, 127.0.0.0/8 and ::1, would skip them
    all: swaks connects from 127.0.0.x)."""
    return (
        "# spfkit policyd settings of the end-to-end tests (tests/e2e/conftest.py)\n"
        'HELO_reject = "Fail"\n'
        'Mail_From_reject = "Fail"\n'
        "PermError_reject = false\n"
        "TempError_Defer = false\n"
        'skip_addresses = ["192.0.2.1/32"]\n'
        'Header_Type = "SPF"\n'
        f'Receiver = "{RECEIVER}"\n'
        f'Authserv_Id = "{RECEIVER}"\n'
        "Lookup_Time = 10\n"
        "debugLevel = 1\n"
        f'log = "{log}"\n'
    )


@dataclass
class Mta:
    """One Postfix + policy pair under test: send mail through it and read what happened."""

    mode: str  # "tcp" or "spawn"
    postfix: Postfix
    policy_log: Path

    def send(self, client_ip: str, helo: str, mail_from: str, rcpts: list[str], subject: str) -> Sent:
        return send(self.postfix.port, client_ip, helo, mail_from, rcpts, subject)

    def policy_lines(self, *needles: str) -> list[str]:
        return log_lines(self.policy_log, *needles)

    def policy_log_text(self) -> str:
        return self.policy_log.read_text(errors="replace") if self.policy_log.exists() else "(no log)"


@pytest.fixture(scope="session")
def e2e_base() -> Iterator[Path]:
    base = make_base(Path(f"/tmp/spfkit-e2e-{os.getpid()}"))
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def named(e2e_base: Path) -> Iterator[Named]:
    server = Named(e2e_base / "named", ZONE).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tcp_mta(e2e_base: Path, named: Named) -> Iterator[Mta]:
    work = e2e_base / "tcp"
    work.mkdir(mode=0o755)
    config = work / "policyd.toml"
    config.write_text(policy_config("stderr"))
    port = free_port()
    log = work / "policyd.log"
    policy = PolicyProcess(
        [sys.executable, "-m", "spfkit", "policyd", "--listen", f"127.0.0.1:{port}", "--config", str(config),
         "--nameserver", f"127.0.0.1:{named.port}", "--timeout", "2"],
        port, log,
    ).start()
    try:
        postfix = Postfix(e2e_base / "postfix-tcp", f"inet:127.0.0.1:{port}").start()
    except BaseException:
        policy.stop()
        raise
    yield Mta("tcp", postfix, log)
    postfix.stop()
    policy.stop()


@pytest.fixture(scope="session")
def spawn_mta(e2e_base: Path, named: Named) -> Iterator[Mta]:
    work = e2e_base / "spawn"
    tree = SpawnTree(work).build()
    # spawn(8) runs the policy as nobody, with stderr going nowhere: it logs to a file
    # nobody may write (the file is made here; nobody cannot create files in work/)
    log = work / "policyd.log"
    log.touch()
    shutil.chown(log, SPAWN_USER)
    config = work / "policyd.toml"
    config.write_text(policy_config(str(log)))
    config.chmod(0o644)
    argv = tree.argv("--config", str(config), "--nameserver", f"127.0.0.1:{named.port}", "--timeout", "2")
    postfix = Postfix(e2e_base / "postfix-spawn", "spawn:" + " ".join(argv)).start()
    yield Mta("spawn", postfix, log)
    postfix.stop()


@pytest.fixture(params=["tcp", "spawn"])
def mta(request: pytest.FixtureRequest) -> Mta:
    return request.getfixturevalue(f"{request.param}_mta")
