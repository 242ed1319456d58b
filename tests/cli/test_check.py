"""``spfkit check`` as users and other tools run it: piped stdio, real DNS on loopback.

(In this process, see ``tests/cli/conftest.py``.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import spfkit
from tests.fixtures.dnsserver import ZoneDataServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ZONE = ROOT / "examples" / "example.zone"

ZONE = {
    "example.net": [{"TXT": "v=spf1 mx -all exp=why.example.net"}, {"MX": [10, "mail.example.net"]}],
    "mail.example.net": [{"A": "192.0.2.10"}, {"AAAA": "2001:db8::10"}, {"TXT": "v=spf1 a -all"}],
    "why.example.net": [{"TXT": "%{i} may not send for %{d}"}],
    "-dash.example.net": [{"TXT": "v=spf1 -all"}],
    "slow.example.net": ["TIMEOUT"],
}


@pytest.fixture(scope="module")
def dns() -> ZoneDataServer:
    with ZoneDataServer(ZONE) as server:
        yield server


def test_the_documented_form_for_other_tools(dns: ZoneDataServer) -> None:
    """The stable form: --nameserver --timeout --json --default-explanation --helo -- IP SENDER."""
    proc = spfkit("check", "--nameserver", f"127.0.0.1:{dns.port}", "--timeout", "2", "--json",
                  "--default-explanation", "nope", "--helo", "mail.example.net",
                  "--", "192.0.2.99", "someone@example.net")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["result"] == "fail"
    assert out["explanation"] == "192.0.2.99 may not send for example.net"
    assert out["domain"] == "example.net"
    assert out["mechanism"] == "-all"
    assert out["lookups"] == 1 and out["void_lookups"] == 0
    assert out["received_spf"].startswith("Received-SPF: fail ")
    assert "client-ip=192.0.2.99;" in out["received_spf"]
    assert out["authentication_results"].startswith("Authentication-Results: ")
    assert "spf=fail" in out["authentication_results"]
    kinds = {event["kind"] for event in out["trace"]}
    assert {"check", "query", "record", "term", "result"} <= kinds


def test_pass_through_mx(dns: ZoneDataServer) -> None:
    proc = spfkit("check", "--nameserver", f"127.0.0.1:{dns.port}", "--json", "2001:db8::10",
                  "a@example.net")
    out = json.loads(proc.stdout)
    assert (out["result"], out["mechanism"], out["explanation"]) == ("pass", "mx", None)


def test_default_explanation_is_used_without_exp(dns: ZoneDataServer) -> None:
    proc = spfkit("check", "--nameserver", f"127.0.0.1:{dns.port}", "--json",
                  "--default-explanation", "denied by %{d}", "192.0.2.99", "x@mail.example.net")
    assert json.loads(proc.stdout)["explanation"] == "denied by mail.example.net"


def test_sender_starting_with_a_dash(dns: ZoneDataServer) -> None:
    proc = spfkit("check", "--nameserver", f"127.0.0.1:{dns.port}", "--json", "--",
                  "192.0.2.1", "-dash.example.net")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["result"] == "fail"


def test_null_sender_checks_postmaster_at_helo(dns: ZoneDataServer) -> None:
    proc = spfkit("check", "--nameserver", f"127.0.0.1:{dns.port}", "--json",
                  "--helo", "mail.example.net", "192.0.2.10", "")
    out = json.loads(proc.stdout)
    assert (out["result"], out["sender"], out["checked_domain"]) == (
        "pass", "postmaster@mail.example.net", "mail.example.net")


def test_helo_identity(dns: ZoneDataServer) -> None:
    proc = spfkit("check", "--nameserver", f"127.0.0.1:{dns.port}", "--identity", "helo",
                  "--helo", "mail.example.net", "--format", "auth-results",
                  "192.0.2.11", "a@example.net")
    assert proc.returncode == 0
    assert "spf=fail smtp.helo=mail.example.net" in proc.stdout


def test_dns_timeout_is_temperror_within_the_limit(dns: ZoneDataServer) -> None:
    proc = spfkit("check", "--nameserver", f"127.0.0.1:{dns.port}", "--timeout", "0.5", "--json",
                  "192.0.2.1", "a@slow.example.net")
    out = json.loads(proc.stdout)
    assert proc.returncode == 0
    assert out["result"] == "temperror" and "TIMEOUT" in out["problem"]


def test_received_spf_format(dns: ZoneDataServer) -> None:
    proc = spfkit("check", "--nameserver", f"127.0.0.1:{dns.port}", "--format", "received-spf",
                  "--receiver", "mx.example.org", "192.0.2.10", "a@example.net")
    assert proc.stdout.startswith("Received-SPF: pass (mx.example.org: domain of a@example.net")
    assert "receiver=mx.example.org;" in proc.stdout


def test_text_output_and_trace_offline() -> None:
    proc = spfkit("check", "--zone", str(EXAMPLE_ZONE), "--trace", "192.0.2.99", "bob@example.com")
    assert proc.returncode == 0
    assert proc.stdout.startswith("softfail")
    assert "~all" in proc.stdout
    assert "query MX example.com" in proc.stdout  # the evaluation tree


@pytest.mark.parametrize(
    ("ip", "sender", "result"),
    [
        ("192.0.2.25", "alice@example.com", "pass"),
        ("192.0.2.99", "alice@example.com", "softfail"),
        ("198.51.100.7", "news@news.example.com", "pass"),
        ("2001:db8:200::1", "news@news.example.com", "pass"),
        ("192.0.2.99", "news@news.example.com", "fail"),
        ("192.0.2.99", "x@shop.example.com", "none"),
        ("192.0.2.99", "x@legacy.example.com", "permerror"),
        ("192.0.2.25", "postmaster@mail.example.com", "pass"),
    ],
)
def test_bundled_example_zone(ip: str, sender: str, result: str) -> None:
    proc = spfkit("check", "--zone", str(EXAMPLE_ZONE), "--json", ip, sender)
    assert json.loads(proc.stdout)["result"] == result


@pytest.mark.parametrize(
    "args",
    [
        ["check", "300.1.1.1", "a@example.com"],
        ["check", "--bogus", "192.0.2.1", "a@example.com"],
        ["check", "192.0.2.1"],
        ["check", "--zone", "/nonexistent/zone", "192.0.2.1", "a@example.com"],
        ["check", "--timeout", "-1", "192.0.2.1", "a@example.com"],
        ["check", "--nameserver", "not an address", "192.0.2.1", "a@example.com"],
        ["check", "--format", "xml", "192.0.2.1", "a@example.com"],
        ["check", "--identity", "helo", "192.0.2.1", "a@example.com"],
        ["check", "192.0.2.1", ""],
        ["nosuchcommand"],
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str]) -> None:
    proc = spfkit(*args)
    assert proc.returncode == 2, proc
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spfkit: error: "), proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_lists_every_option() -> None:
    proc = spfkit("check", "--help")
    assert proc.returncode == 0
    for option in ("--helo", "--identity", "--nameserver", "--zone", "--timeout",
                   "--default-explanation", "--format", "--json", "--trace"):
        assert option in proc.stdout


@pytest.mark.parametrize("sender", ["alice@", "<alice@>"])
def test_a_sender_without_a_domain_is_a_usage_error(sender: str) -> None:
    out = spfkit("check", "192.0.2.1", sender)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith("spfkit: error: SENDER") and "no domain after the @" in out.stderr
    assert out.stderr.count("\n") == 1


def test_the_trace_is_never_cut_when_piped() -> None:
    """Output for a ticket: a pipe gets every line whole (it once cropped at 80 columns)."""
    out = spfkit("check", "--zone", "examples/example.zone", "--trace", "192.0.2.1",
                 "a@legacy.example.com")
    assert out.returncode == 0
    [line] = [x for x in out.stdout.splitlines() if "result permerror" in x]
    assert line.endswith("'ip4:192.0.2.300' at column 11)")
    assert len(line) > 100


def test_a_domain_that_does_not_exist_is_named_so() -> None:
    out = spfkit("check", "--zone", "examples/example.zone", "192.0.2.1", "a@nosuch.example.com")
    assert out.stdout.startswith("none  ")
    assert "  nosuch.example.com does not exist (NXDOMAIN): check the spelling" in out.stdout
    shop = spfkit("check", "--zone", "examples/example.zone", "192.0.2.1", "a@shop.example.com")
    assert shop.stdout.startswith("none  ") and "does not exist" not in shop.stdout
