"""What ``spfkit policyd`` imports on Postfix's spawn(8) path (one process per SMTP
connection, a request on stdin): the evaluator, the policy codec and service, and not the
renderers, the record tree, the compiler or optional extras. Modules, not wall time."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.dnsserver import ZoneDataServer

ROOT = Path(__file__).resolve().parents[2]
ZONEDATA: dict[str, Any] = {
    "news.example.com": [{"TXT": "v=spf1 mx include:_spf.provider.example -all"},
                         {"MX": (10, "mail.example.com")}],
    "mail.example.com": [{"A": "192.0.2.25"}],
    "_spf.provider.example": [{"TXT": "v=spf1 ip4:198.51.100.0/24 ~all"}],
}

#: the answer, then every module loaded, one per line (the script's own stdout)
_PROGRAM = """\
import sys
from spfkit.cli import main
status = main(["policyd", "--nameserver", sys.argv[1], "--log", "stderr"])
sys.stdout.write("".join(f"module {name}\\n" for name in sorted(sys.modules)))
sys.exit(status)
"""

#: loaded by no spawned policy server that answers one request per domain
HEAVY = ("spfkit.view", "spfkit.tree", "spfkit.compile.compiler", "spfkit.compile.regions",
         "spfkit.compile.authorised", "spfkit.compile.counts", "spfkit.lint", "spfkit.wizard",
         "spfkit.web", "spfkit.milter", "spfkit.responder", "spfkit.senderid",
         "spfkit.metrics.prometheus", "spfkit.cli.output", "rich", "dns", "prometheus_client",
         "fastapi", "pydantic", "Milter", "tomllib", "pkg_resources", "importlib.metadata")


def _request(client: str) -> bytes:
    return (f"request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
            f"client_address={client}\nhelo_name=helo.example.net\n"
            f"sender=news@news.example.com\nrecipient=b@example.org\n\n").encode()


@pytest.fixture(scope="module")
def nameserver() -> Iterator[str]:
    with ZoneDataServer(ZONEDATA) as server:
        yield f"127.0.0.1:{server.port}"


def _spawn(nameserver: str, stdin: bytes) -> tuple[list[str], set[str]]:
    env = {key: value for key, value in os.environ.items() if key != "SPFKIT_CONFIG_DIR"}
    env["SPFKIT_CONFIG_DIR"] = str(ROOT / "nonexistent-config-dir")
    proc = subprocess.run([sys.executable, "-c", _PROGRAM, nameserver], input=stdin,
                          capture_output=True, env=env, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode().splitlines()
    modules = {line.removeprefix("module ") for line in lines if line.startswith("module ")}
    return [line for line in lines if line.startswith("action=")], modules


def _heavy(modules: set[str]) -> list[str]:
    return sorted(name for name in modules
                  if any(name == top or name.startswith(top + ".") for top in HEAVY))


def test_one_request_loads_the_evaluator_and_nothing_heavy(nameserver: str) -> None:
    answers, modules = _spawn(nameserver, _request("192.0.2.25"))
    # mail.example.com (news.example.com's MX) is 192.0.2.25 in the zone: "mx" passes
    assert len(answers) == 1 and "Received-SPF: pass" in answers[0], answers
    assert {"spfkit.evaluate.check_host", "spfkit.policy.service",
            "spfkit.compile.dispatch"} <= modules
    assert _heavy(modules) == []


@pytest.mark.parametrize("client", ["192.0.2.99", "198.51.100.7"])
def test_the_second_check_of_a_domain_loads_the_compiler(nameserver: str, client: str) -> None:
    """The laziness is real, not a removed feature: the second check compiles the domain."""
    answers, modules = _spawn(nameserver, _request("192.0.2.25") + _request(client))
    # 192.0.2.99 reaches -all; 198.51.100.7 is in the include's ip4:198.51.100.0/24: pass
    if client == "192.0.2.99":
        assert len(answers) == 2 and "SPF fail for MAIL FROM news.example.com" in answers[1]
    else:
        assert len(answers) == 2 and "Received-SPF: pass" in answers[1], answers
    assert "spfkit.compile.compiler" in modules
    assert [name for name in _heavy(modules) if not name.startswith("spfkit.compile.")] == []
