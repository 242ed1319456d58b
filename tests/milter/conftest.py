"""Fixtures of the milter's end-to-end tests: BIND, ``spfkit milter`` and a real Postfix.

Session-scoped (each pytest-xdist worker has its own, on its own ports, under its own
``/tmp/spfkit-milter-<pid>``):

* ``named`` — BIND on 127.0.0.1:<free port> serving ``milter.zone`` as the root zone;
* ``inet_mta`` / ``unix_mta`` — ``spfkit milter`` on ``inet:127.0.0.1:<port>`` / on
  ``unix:<dir>/milter.sock``, enforcing (``ENFORCING``), and a private Postfix using it
  (``smtpd_milters``), which also takes AUTH PLAIN for one user (``DovecotAuth``);
  ``mta`` runs a test once with each;
* ``test_only_mta`` — the same configuration started with ``--test-only``;
* ``mail_stage_mta`` — the same with ``reject_stage = "mail"``;
* ``dns_down_mta`` — a milter whose only nameserver never answers (a bound UDP socket), for
  the temperror cases and for SIGHUP reloads.

Needs root and Debian's ``postfix bind9 swaks python3``, plus pymilter (the ``milter`` extra).
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.harness import Named, Postfix, free_port, make_base
from tests.milter.harness import DovecotAuth, MilterProcess, milter_params, swaks_data

HERE = Path(__file__).resolve().parent
ZONE = HERE / "milter.zone"
RECEIVER = "mx.spfkit.test"  # start-postfix.sh's myhostname; our authserv-id
USER, PASSWORD = "alice", "s3cret-for-tests"


def config_text(*, control: str = "", extra: str = "", milter: str = "") -> str:
    """The milter's settings: policyd's options at the top, the milter's in [milter]."""
    return (
        "# spfkit milter settings of the end-to-end tests (tests/milter/conftest.py)\n"
        'HELO_reject = "Fail"\n'
        'Mail_From_reject = "Fail"\n'
        "TempError_Defer = true\n"
        'skip_addresses = ["192.0.2.1/32"]\n'
        'Header_Type = "both"\n'
        f'Receiver = "{RECEIVER}"\n'
        f'Authserv_Id = "{RECEIVER}"\n'
        "Lookup_Time = 8\n"
        "deadline = 10\n"
        "debugLevel = 1\n"
        f"{extra}"
        "\n[milter]\n"
        'pra_reject = "Fail"\n'
        'reject_stage = "rcpt"\n'
        f'control_socket = "{control}"\n'
        f"{milter}"
    )


@dataclass
class Mta:
    """One Postfix + milter pair under test."""

    mode: str
    postfix: Postfix
    milter: MilterProcess
    config: Path

    def send(self, client_ip: str, mail_from: str, message: str, *, rcpts: list[str] | None = None,
             helo: str = "client.milter.example", auth: tuple[str, str] | None = None):
        return swaks_data(self.postfix.port, client_ip, helo, mail_from,
                          rcpts or ["rcpt@example.org"], message, auth=auth)


@pytest.fixture(scope="session")
def milter_base() -> Iterator[Path]:
    base = make_base(Path(f"/tmp/spfkit-milter-{os.getpid()}"))
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def named(milter_base: Path) -> Iterator[Named]:
    server = Named(milter_base / "named", ZONE).start()
    yield server
    server.stop()


def _pair(base: Path, name: str, listen: str, dns: list[str], *, args: tuple[str, ...] = (),
          extra: str = "", milter: str = "", stage: str = "rcpt") -> Iterator[Mta]:
    work = base / name
    work.mkdir(mode=0o755)
    config = work / "milter.toml"
    text = config_text(control=str(work / "control.sock"), extra=extra, milter=milter)
    config.write_text(text.replace('reject_stage = "rcpt"', f'reject_stage = "{stage}"'))
    proc = MilterProcess(listen, ["--config", str(config), *dns, *args], work / "milter.log").start()
    auth = DovecotAuth(work / "auth.sock", USER, PASSWORD).start()
    spec = listen if listen.startswith("unix:") else listen
    params = [*milter_params(spec), "smtpd_sasl_auth_enable=yes", "smtpd_sasl_type=dovecot",
              f"smtpd_sasl_path={work / 'auth.sock'}", "smtpd_sasl_security_options=noanonymous",
              "broken_sasl_auth_clients=no"]
    try:
        postfix = Postfix(base / f"postfix-{name}", "none", params).start()
    except BaseException:
        proc.stop()
        auth.stop()
        raise
    yield Mta(name, postfix, proc, config)
    postfix.stop()
    proc.stop()
    auth.stop()


@pytest.fixture(scope="session")
def inet_mta(milter_base: Path, named: Named) -> Iterator[Mta]:
    yield from _pair(milter_base, "inet", f"inet:127.0.0.1:{free_port()}",
                     ["--nameserver", f"127.0.0.1:{named.port}", "--timeout", "2"])


@pytest.fixture(scope="session")
def unix_mta(milter_base: Path, named: Named) -> Iterator[Mta]:
    yield from _pair(milter_base, "unix", f"unix:{milter_base / 'unix-milter.sock'}",
                     ["--nameserver", f"127.0.0.1:{named.port}", "--timeout", "2"])


@pytest.fixture(params=["inet", "unix"])
def mta(request: pytest.FixtureRequest) -> Mta:
    return request.getfixturevalue(f"{request.param}_mta")


@pytest.fixture(scope="session")
def test_only_mta(milter_base: Path, named: Named) -> Iterator[Mta]:
    yield from _pair(milter_base, "testonly", f"inet:127.0.0.1:{free_port()}",
                     ["--nameserver", f"127.0.0.1:{named.port}", "--timeout", "2"],
                     args=("--test-only",))


@pytest.fixture(scope="session")
def mail_stage_mta(milter_base: Path, named: Named) -> Iterator[Mta]:
    """Refuses SPF at MAIL FROM (``reject_stage = "mail"``), as pyspf-milter does."""
    yield from _pair(milter_base, "mailstage", f"inet:127.0.0.1:{free_port()}",
                     ["--nameserver", f"127.0.0.1:{named.port}", "--timeout", "2"], stage="mail")


@pytest.fixture(scope="session")
def silent_dns() -> Iterator[int]:
    """A UDP port that takes queries and never answers (a DNS server that is down)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        yield int(udp.getsockname()[1])


@pytest.fixture(scope="session")
def dns_down_mta(milter_base: Path, silent_dns: int) -> Iterator[Mta]:
    yield from _pair(milter_base, "dnsdown", f"inet:127.0.0.1:{free_port()}",
                     ["--nameserver", f"127.0.0.1:{silent_dns}", "--timeout", "1"],
                     extra="")
