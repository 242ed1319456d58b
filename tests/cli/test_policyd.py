"""``spfkit policyd`` as administrators run it: --check-config, --explain, --help, usage errors.

In this process (``tests/cli/conftest.py``), but for start-up as a server (spawn mode, --listen):
a real process.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import spfkit, spfkit_process
from tests.fixtures.dnsserver import ZoneDataServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ZONE = ROOT / "examples" / "example.zone"
EXAMPLE_CONFIG = ROOT / "examples" / "policyd.toml"

ZONE = {
    "example.net": [{"TXT": "v=spf1 mx -all exp=why.example.net"}, {"MX": [10, "mail.example.net"]}],
    "mail.example.net": [{"A": "192.0.2.10"}, {"TXT": "v=spf1 a -all"}],
    "why.example.net": [{"TXT": "%{i} may not send for %{d}"}],
}


def policyd(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    return spfkit("policyd", *args, stdin=stdin)


def request(**attrs: str) -> bytes:
    base = {"request": "smtpd_access_policy", "protocol_state": "RCPT", "client_address": "192.0.2.99",
            "helo_name": "unknown.invalid", "sender": "someone@example.net",
            "recipient": "bob@example.org", "instance": "abc.1"}
    base.update(attrs)
    return b"".join(f"{k}={v}\n".encode() for k, v in base.items()) + b"\n"


@pytest.fixture(scope="module")
def dns() -> Iterator[ZoneDataServer]:
    with ZoneDataServer(ZONE) as server:
        yield server


# --------------------------------------------------------------------------- --check-config


def test_check_config_accepts_the_example(tmp_path: Path) -> None:
    proc = policyd("--config", str(EXAMPLE_CONFIG), "--check-config", "--zone", str(EXAMPLE_ZONE))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"{EXAMPLE_CONFIG}: OK\n")
    assert "mailfrom: none=accept" in proc.stdout and "fail=reject" in proc.stdout


def test_check_config_without_a_file_shows_the_defaults() -> None:
    proc = policyd("--check-config")
    assert proc.returncode == 0, proc.stderr
    assert "(no file: the defaults): OK" in proc.stdout
    assert "temperror=defer" in proc.stdout and "headers: Received-SPF" in proc.stdout


@pytest.mark.parametrize(("text", "message"), [
    ('HELO_rejct = "Fail"\n', "HELO_rejct: unknown option (did you mean 'HELO_reject'?)"),
    ("deadline = 120\n", "deadline: must be less than 100 seconds"),
    ('TestOnly = "1"\n', "TestOnly: not supported: policyd-spf's TestOnly"),
    ("[actions.mailfrom]\nfail = \"bounce\"\n", "actions: mailfrom.fail: 'bounce' is not one of"),
    ('zones = ["/nonexistent.zone"]\n', "zones: /nonexistent.zone"),
    ("this is not toml\n", "not valid TOML"),
])
def test_check_config_rejects_a_bad_file_in_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    proc = policyd("--config", str(path), "--check-config")
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and re.match(rf"spfkit: error: {re.escape(str(path))}(:1)?: ", lines[0])
    assert message in lines[0]


def test_an_invalid_config_stops_the_server_at_start_up(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('Header_Type = "XML"\n')
    proc = spfkit_process("policyd", "--config", str(path), stdin=request())  # spawn(8) mode
    assert proc.returncode == 2 and proc.stdout == ""
    assert "Header_Type: 'XML' is not one of" in proc.stderr


def test_a_missing_config_file() -> None:
    proc = policyd("--config", "/nonexistent/policyd.toml", "--check-config")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "spfkit: error: /nonexistent/policyd.toml: cannot read: " \
                                  "No such file or directory"


# --------------------------------------------------------------------------- --explain


def test_explain_a_fail(dns: ZoneDataServer) -> None:
    proc = policyd("--nameserver", f"127.0.0.1:{dns.port}", "--explain", stdin=request())
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "state=RCPT client=192.0.2.99 helo=unknown.invalid" in out
    assert "helo:     none (domain unknown.invalid)" in out
    assert "mailfrom: fail (domain example.net, mechanism -all)" in out
    assert "decision: reject: MAIL FROM fail: reject (policy Fail)" in out
    assert ('reply:    action=550 5.7.23 SPF fail for MAIL FROM example.net: '
            '"192.0.2.99 may not send for example.net"') in out
    assert "log:      SPF fail: client=192.0.2.99" in out


def test_explain_a_pass_with_the_trace_and_no_final_empty_line(dns: ZoneDataServer) -> None:
    data = request(client_address="192.0.2.10", helo_name="mail.example.net").rstrip(b"\n")
    proc = policyd("--nameserver", f"127.0.0.1:{dns.port}", "--explain", "--log-level", "debug",
                   stdin=data)
    assert proc.returncode == 0, proc.stderr
    assert "reply:    action=PREPEND Received-SPF: pass " in proc.stdout
    assert "header:   Received-SPF: pass " in proc.stdout
    assert "query example.net \"TXT example.net\"" in proc.stdout  # the trace


def test_explain_test_only_and_a_skip() -> None:
    proc = policyd("--zone", str(EXAMPLE_ZONE), "--explain", "--test-only",
                   stdin=request(sender="x@parked.example.com", client_address="192.0.2.77"))
    assert "would:    550 5.7.23 SPF fail for MAIL FROM parked.example.com" in proc.stdout
    assert "reply:    action=PREPEND Received-SPF: fail" in proc.stdout
    proc = policyd("--zone", str(EXAMPLE_ZONE), "--explain", stdin=request(client_address="127.0.0.1"))
    assert "skip:     client 127.0.0.1 is in skip_addresses (127.0.0.0/8)" in proc.stdout
    assert "reply:    action=DUNNO" in proc.stdout


def test_explain_a_malformed_request() -> None:
    proc = policyd("--zone", str(EXAMPLE_ZONE), "--explain", stdin=b"hello world\n\n")
    assert proc.returncode == 0
    assert proc.stdout == 'request:  malformed: "line 1 is not name=value"\nreply:    action=DUNNO\n'


def test_explain_needs_a_request() -> None:
    proc = policyd("--zone", str(EXAMPLE_ZONE), "--explain", stdin=b"")
    assert proc.returncode == 2
    assert proc.stderr.startswith("spfkit: error: --explain needs one policy request")


# --------------------------------------------------------------------------- help and usage


def test_help_lists_every_option() -> None:
    proc = policyd("--help")
    assert proc.returncode == 0
    for option in ("--config", "--listen", "--nameserver", "--zone", "--timeout", "--test-only",
                   "--log", "--log-level", "--check-config", "--explain", "--help"):
        assert option in proc.stdout, option
    assert "spawn" in proc.stdout and "SIGHUP" in proc.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--bogus"], "No such option '--bogus'"),
    (["--zone", "a", "--nameserver", "127.0.0.1"], "--zone and --nameserver cannot be combined"),
    (["--check-config", "--explain"], "cannot be combined"),
    (["--log-level", "loud"], "Invalid value for '--log-level'"),
    (["--timeout", "0"], "must be more than 0 seconds"),
    (["--listen", "somewhere", "--check-config"], "listen: 'somewhere': expected HOST:PORT"),
    (["--nameserver", "ns.example", "--check-config"], "not an IP address"),
])
def test_usage_errors_are_one_line_with_status_2(args: list[str], message: str) -> None:
    proc = policyd(*args)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("spfkit: error: "), proc.stderr
    assert message in lines[0]


def test_a_taken_address_is_one_line_and_status_1() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = spfkit_process("policyd", "--listen", f"127.0.0.1:{port}", "--zone", str(EXAMPLE_ZONE),
                              "--log", "stderr")
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1] == \
        f"spfkit: error: cannot listen on 127.0.0.1:{port}: Address already in use"
