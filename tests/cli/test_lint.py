"""``spfkit lint`` as users and CI pipelines run it: piped stdio, real DNS on loopback
(in this process, see ``tests/cli/conftest.py``).

Exit statuses 0 (clean or info), 1 (warnings), 2 (errors, and usage errors: one line on
stderr); ``--json`` for scripts; ``--help`` documents every option and the exit statuses.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import spfkit
from tests.fixtures.dnsserver import ZoneDataServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ZONE = ROOT / "examples" / "example.zone"

ZONE = {
    "clean.example.net": [{"TXT": "v=spf1 mx -all"}, {"MX": [10, "mail.example.net"]}],
    "mail.example.net": [{"A": "192.0.2.10"}, {"AAAA": "2001:db8::10"}],
    "risky.example.net": [{"TXT": "v=spf1 ptr ?all"}],
    "broken.example.net": [{"TXT": ["v=spf1 mx", "include:_spf.example.net -all"]},
                           {"MX": [10, "mail.example.net"]}],
    "_spf.example.net": [{"TXT": "v=spf1 ip4:198.51.100.0/24 -all"}],
    "none.example.net": [{"A": "192.0.2.20"}],
}


@pytest.fixture(scope="module")
def dns() -> Iterator[ZoneDataServer]:
    with ZoneDataServer(ZONE) as server:
        yield server


def lint_dns(dns: ZoneDataServer, *args: str) -> subprocess.CompletedProcess[str]:
    return spfkit("lint", "--nameserver", f"127.0.0.1:{dns.port}", "--timeout", "2", *args)


# -- exit statuses --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "status"),
    [("clean.example.net", 0), ("risky.example.net", 1), ("broken.example.net", 2),
     ("none.example.net", 2)],
)
def test_exit_status_over_real_dns(dns: ZoneDataServer, domain: str, status: int) -> None:
    proc = lint_dns(dns, domain)
    assert proc.returncode == status, proc.stdout + proc.stderr
    assert proc.stderr == ""
    assert f"exit status {status}" in proc.stdout


@pytest.mark.parametrize(
    ("record", "status"),
    [("v=spf1 mx -all", 0), ("v=spf1 mx -all foo=bar", 0), ("v=spf1 ptr -all", 1),
     ("v=spf1 ip4:300.1.1.1 -all", 2)],
)
def test_exit_status_of_a_record(record: str, status: int) -> None:
    proc = spfkit("lint", "--record", record)
    assert proc.returncode == status, proc.stdout + proc.stderr


# -- output ---------------------------------------------------------------------------------------


def test_json_shape_over_real_dns(dns: ZoneDataServer) -> None:
    proc = lint_dns(dns, "--json", "broken.example.net")
    assert proc.returncode == 2
    out = json.loads(proc.stdout)
    assert set(out) == {"domain", "records", "findings", "lookups", "void_lookups",
                        "fixed_record", "exit_status", "budget"}
    assert out["domain"] == "broken.example.net"
    assert out["records"] == ["v=spf1 mxinclude:_spf.example.net -all"]
    assert out["exit_status"] == 2
    assert set(out["lookups"]) == set(out["void_lookups"]) == {"ipv4", "ipv6"}
    (split,) = [f for f in out["findings"] if f["code"] == "SPF-E112"]
    assert set(split) == {"code", "severity", "message", "rfc", "fix", "domain", "column",
                          "term", "fixed_record", "extra_records"}
    assert split["severity"] == "error" and split["column"] == 9
    assert split["fixed_record"] == "v=spf1 mx include:_spf.example.net -all"
    assert out["fixed_record"] == "v=spf1 mx include:_spf.example.net -all"


def test_json_counts_match_spfkit_check(dns: ZoneDataServer) -> None:
    lint = json.loads(lint_dns(dns, "--json", "clean.example.net").stdout)
    check = json.loads(spfkit("check", "--nameserver", f"127.0.0.1:{dns.port}", "--json",
                              "255.255.255.254", "clean.example.net").stdout)
    assert lint["lookups"]["ipv4"] == check["lookups"] == 1
    assert lint["void_lookups"]["ipv4"] == check["void_lookups"]


def test_text_output_groups_by_severity_with_a_caret() -> None:
    proc = spfkit("lint", "--record", "v=spf1 ptr ipv4:192.0.2.1 ?all")
    out = proc.stdout
    assert out.index("Errors (1)") < out.index("Warnings (2)")
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if "SPF-E208" in line)
    assert "column 12" in lines[at]
    record_line, caret_line = lines[at + 1], lines[at + 2]
    assert record_line.strip() == "v=spf1 ptr ipv4:192.0.2.1 ?all"
    assert caret_line.index("^") == record_line.index("ipv4")
    assert "RFC 7208 §5" in out and "fix: write 'ip4:192.0.2.1'" in out
    assert "corrected record: v=spf1 ptr ip4:192.0.2.1 ~all" in out
    assert "\x1b[" not in out  # no colour when not on a terminal


def test_caret_under_a_full_width_character() -> None:
    out = spfkit("lint", "--record", "v=spf1 mx ＋all").stdout.splitlines()
    at = next(i for i, line in enumerate(out) if "SPF-E202" in line)
    assert out[at + 2] == "    " + " " * len("v=spf1 mx ") + "^^"


def test_zone_without_domain_lints_every_record_and_finds_legacy() -> None:
    proc = spfkit("lint", "--zone", str(EXAMPLE_ZONE))
    assert proc.returncode == 2, proc.stderr
    assert "legacy.example.com" in proc.stdout and "SPF-E211" in proc.stdout
    assert "7 domains linted, 1 with warnings or errors" in proc.stdout
    reports = json.loads(spfkit("lint", "--zone", str(EXAMPLE_ZONE), "--json").stdout)
    assert isinstance(reports, list) and len(reports) == 7
    (legacy,) = [r for r in reports if r["domain"] == "legacy.example.com"]
    assert [f["code"] for f in legacy["findings"]] == ["SPF-E211"]
    assert legacy["findings"][0]["term"] == "ip4:192.0.2.300"


def test_zone_with_a_domain_lints_that_domain_offline() -> None:
    proc = spfkit("lint", "--zone", str(EXAMPLE_ZONE), "--json", "news.example.com")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["lookups"] == {"ipv4": 3, "ipv6": 3} and out["findings"] == []


# -- usage errors and help ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["lint"],
        ["lint", "--record", "v=spf1 -all", "example.com"],
        ["lint", "--record", "v=spf1 -all", "--zone", str(EXAMPLE_ZONE)],
        ["lint", "--record", "v=spf1 -all", "--nameserver", "127.0.0.1"],
        ["lint", "--record", "v=spf1 -all", "--timeout", "3"],
        ["lint", "--zone", str(EXAMPLE_ZONE), "--nameserver", "127.0.0.1"],
        ["lint", "--zone", str(EXAMPLE_ZONE), "--nameserver", "127.0.0.1", "example.com"],
        ["lint", "--zone", "/nonexistent/file.zone"],
        ["lint", "--zone", "/nonexistent/file.zone", "example.com"],
        ["lint", "not a domain"],
        ["lint", "localhost"],
        ["lint", "--timeout", "0", "example.com"],
        ["lint", "--timeout", "soon", "example.com"],
        ["lint", "--nameserver", "not-an-ip", "example.com"],
        ["lint", "--bogus", "example.com"],
        ["lint", "--record"],
        ["lint", "--record", "v=spf1 -all", "--from-file", "-"],
        ["lint", "--format", "csv", "--json", "example.com"],
        ["lint", "--format", "xml", "example.com"],
        ["lint", "--jobs", "0", "example.com"],
        ["lint", "--jobs", "65", "example.com"],
        ["lint", "example.com", "not a domain"],
        ["lint", "--from-file", "/nonexistent/domains.txt"],
    ],
)
def test_usage_error_is_one_line_and_status_2(args: list[str]) -> None:
    proc = spfkit(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("spfkit: error: ")


def test_help_explains_every_option_and_the_exit_statuses() -> None:
    proc = spfkit("lint", "--help")
    assert proc.returncode == 0
    text = proc.stdout
    for option in ("--record TEXT", "--zone FILE", "--nameserver HOST[:PORT]",
                   "--timeout SECONDS", "--json", "--help"):
        assert option in text, option
    assert "Exit status:" in text
    assert "0  clean: no findings, or only info" in text
    assert "1  warnings, but no errors" in text
    assert "2  errors" in text and "usage error (one line on stderr)" in text
    assert "docs/lint-codes.md" in text


def test_lint_is_listed_by_spfkit_help() -> None:
    assert "lint" in spfkit("--help").stdout
