"""``spfkit-policyd`` (spfkit/spawn.py, policy/entry.py) against ``spfkit policyd``: the same answers on a pipe
with real DNS on loopback, the same help, errors and exit statuses for every other command
line, and no click on the spawn path. Both run as processes, as master.cf starts them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.dnsserver import ZoneDataServer
from tests.policy.test_server import ZONEDATA, request

ROOT = Path(__file__).resolve().parents[2]
#: the entry point, then the modules it loaded (on stdout after the answers)
_ENTRY = """\
import sys
from spfkit.spawn import main
status = main()
sys.stdout.write("".join(f"module {name}\\n" for name in sorted(sys.modules)))
sys.exit(status)
"""


@pytest.fixture(scope="module")
def nameserver() -> Iterator[str]:
    with ZoneDataServer(ZONEDATA) as server:
        yield f"127.0.0.1:{server.port}"


def _env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "SPFKIT_CONFIG_DIR"}
    env["SPFKIT_CONFIG_DIR"] = str(ROOT / "nonexistent-config-dir")
    return env


def _run(argv: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, input=stdin, capture_output=True, env=_env(), timeout=60,
                          check=False)


def entry(*args: str, stdin: bytes = b"") -> tuple[int, list[str], str, set[str]]:
    """spfkit-policyd ARGS: status, answers, stderr, modules loaded."""
    proc = _run([sys.executable, "-c", _ENTRY, *args], stdin)
    lines = proc.stdout.decode().splitlines()
    modules = {line.removeprefix("module ") for line in lines if line.startswith("module ")}
    answers = [line for line in lines if not line.startswith("module ") and line]
    return proc.returncode, answers, proc.stderr.decode(), modules


def command(*args: str, stdin: bytes = b"") -> tuple[int, list[str], str]:
    """spfkit policyd ARGS: status, answers (or output lines), stderr."""
    proc = _run([sys.executable, "-m", "spfkit", "policyd", *args], stdin)
    return proc.returncode, [line for line in proc.stdout.decode().splitlines() if line], \
        proc.stderr.decode()


def test_spawn_mode_answers_as_the_command_does_without_click(nameserver: str) -> None:
    stdin = (request(client_address="192.0.2.10", sender="alice@example.net", instance="a")
             + request(client_address="192.0.2.99", sender="bob@example.net", helo_name="x.example",
                       instance="b")
             + request(client_address="192.0.2.99", sender="carol@soft.example",
                       helo_name="x.example", instance="c")
             + b"garbage\n\n")
    args = ("--nameserver", nameserver, "--timeout=2", "--log", "stderr", "--log-level", "info")
    status, answers, err, modules = entry(*args, stdin=stdin)
    assert status == 0, err
    want_status, want, _ = command(*args, stdin=stdin)
    assert (status, answers) == (want_status, want)
    assert answers[0].startswith("action=PREPEND Received-SPF: pass")
    assert answers[1].startswith("action=550 5.7.23 SPF fail for MAIL FROM example.net")
    assert answers[2].startswith("action=PREPEND Received-SPF: softfail")
    assert answers[3] == "action=DUNNO"  # garbage: the error action, and the process goes on
    assert "SPF pass: client=192.0.2.10" in err and "malformed policy request" in err
    assert not {name for name in modules if name == "click" or name.startswith(("click.", "spfkit.cli"))}
    assert "ssl" not in modules  # asyncio without its TLS support (spfkit/spawn.py)
    assert "spfkit.lookup.zonefile" not in modules  # no --zone: zone files are not read


@pytest.mark.parametrize("args", [
    ("--help",),
    ("--timeout", "0"),
    ("--timeout", "soon"),
    ("--zone", "/dev/null", "--nameserver", "127.0.0.1"),
    ("--log-level", "loud"),
    ("--no-such-option",),
    ("--config",),
    ("--workers", "2"),
    ("--check-config", "--zone", "/dev/null"),
    ("--config", "/nonexistent/policyd.toml"),
    ("--nameserver", "not an address"),
    ("--listen", "nowhere"),
    ("--zone", "/nonexistent.zone"),
])
def test_every_other_command_line_gets_what_the_command_says(args: tuple[str, ...]) -> None:
    """Handed over to click, or read here: the same output, message and status either way."""
    status, out, err, _ = entry(*args)
    assert (status, out, err) == command(*args)
    if args != ("--help",) and args[0] != "--check-config":
        assert status == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, err
