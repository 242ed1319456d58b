"""``spfkit wizard`` as people and scripts run it: pipes, a pseudo-terminal, DNS on loopback.

(Piped runs in this process, see ``tests/cli/conftest.py``; the terminal one is a process.)
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pexpect
import pytest

from spfkit.cli.wizard import wizard_command
from tests.cli.conftest import spfkit
from tests.fixtures.dnsserver import ZoneDataServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ZONE = str(ROOT / "examples" / "example.zone")
ZONE = ["--zone", EXAMPLE_ZONE]

DNS = {
    "example.net": [
        {"MX": [10, "mail.example.net"]},
        {"MX": [20, "mx.provider.example"]},
        {"TXT": "v=spf1 -all"},
    ],
    "mail.example.net": [{"A": "192.0.2.25"}],
    "mx.provider.example": [{"A": "198.51.100.25"}],
    "_spf.provider.example": [{"TXT": "v=spf1 ip4:198.51.100.0/24 -all"}],
    # six providers whose records each include one more: 12 lookups in all (§4.6.4)
    **{f"_spf.p{i}.example": [{"TXT": f"v=spf1 include:_n.p{i}.example -all"}] for i in range(6)},
    **{f"_n.p{i}.example": [{"TXT": f"v=spf1 ip4:203.0.113.{i} -all"}] for i in range(6)},
}


@pytest.fixture(scope="module")
def dns() -> Iterator[ZoneDataServer]:
    with ZoneDataServer(DNS) as server:
        yield server


# -- output formats ------------------------------------------------------------------------


def test_bind_is_the_default_and_stdout_is_only_zone_lines() -> None:
    proc = spfkit(
        "wizard", "example.com", *ZONE, "--include", "_spf.mailprovider.example", "--all", "fail"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        'example.com. 3600 IN TXT "v=spf1 mx include:_spf.mailprovider.example -all"',
        'mail.example.com. 3600 IN TXT "v=spf1 a -all"',  # the MX host's HELO record (§2.3)
    ]
    assert "-all (fail)" in proc.stderr and "§8.4" in proc.stderr


def test_tinydns_format_escapes_colons() -> None:
    proc = spfkit(
        "wizard",
        "example.com",
        *ZONE,
        "--ip4",
        "192.0.2.0/24",
        "--ttl",
        "300",
        "--format",
        "tinydns",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "'example.com:v=spf1 ip4\\072192.0.2.0/24 mx ~all:300",
        "'mail.example.com:v=spf1 a -all:300",
    ]
    assert "'.' or 'Z' line" in proc.stderr
    generic = spfkit("wizard", "example.com", *ZONE, "--no-mx", "--tinydns-generic")
    assert generic.stdout == ":example.com:16:\\013v=spf1 ~all:3600\n"


def test_text_format_is_the_record_alone() -> None:
    proc = spfkit(
        "wizard", "example.com", *ZONE, "--a", "--ip6", "2001:db8::/48", "--format", "text"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "v=spf1 ip6:2001:db8::/48 mx a ~all\n"
    assert "also publish for mail.example.com: v=spf1 a -all" in proc.stderr


def test_json_format() -> None:
    proc = spfkit(
        "wizard",
        "example.com",
        *ZONE,
        "--include",
        "_spf.mailprovider.example",
        "--mail-host",
        "out.example.com",
        "--format",
        "json",
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["record"] == "v=spf1 mx include:_spf.mailprovider.example ~all"
    assert [(r["name"], r["purpose"], r["text"]) for r in out["records"]] == [
        ("example.com", "mail-from", out["record"]),
        ("mail.example.com", "helo", "v=spf1 a -all"),
        ("out.example.com", "helo", "v=spf1 a -all"),
    ]
    assert out["records"][0]["bind"] == [f'example.com. 3600 IN TXT "{out["record"]}"']
    assert out["records"][0]["strings"] == [out["record"]]
    assert out["answers"]["includes"] == ["_spf.mailprovider.example"]
    assert out["answers"]["all"] == "softfail"
    assert out["mx_hosts"] == ["mail.example.com"]
    # mx (1) + include (1) + the provider's nested include (1), for each client family (§4.6.4)
    assert out["lookups"] == {"ipv4": 3, "ipv6": 3, "void_ipv4": 0, "void_ipv6": 0,
                              "limit": 10, "void_limit": 2}
    assert out["lookups_not_counted"] is None
    assert isinstance(out["findings"], list)
    assert "lookups: example.com needs 3 DNS lookup(s)" in proc.stderr


def test_a_long_record_is_split_into_255_octet_strings() -> None:
    args = [arg for i in range(30) for arg in ("--ip4", f"192.0.2.{i}")]
    out = json.loads(
        spfkit("wizard", "example.org", "--offline", "--no-mx", *args, "--format", "json").stdout
    )
    strings = out["records"][0]["strings"]
    assert len(strings) == 2 and all(len(s) <= 255 for s in strings)
    assert "".join(strings) == out["record"]
    assert out["records"][0]["bind"][0].count('" "') == 1


# -- DNS -----------------------------------------------------------------------------------


def test_nameserver_mx_hosts_get_helo_records_inside_the_domain(dns: ZoneDataServer) -> None:
    proc = spfkit(
        "wizard",
        "example.net",
        "--nameserver",
        f"127.0.0.1:{dns.port}",
        "--timeout",
        "2",
        "--include",
        "_spf.provider.example",
        "--all",
        "fail",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        'example.net. 3600 IN TXT "v=spf1 mx include:_spf.provider.example -all"',
        'mail.example.net. 3600 IN TXT "v=spf1 a -all"',
    ]
    assert "outside example.net get no HELO record here" in proc.stderr
    assert "mx.provider.example" in proc.stderr
    # counted through the drafted record, not the published "v=spf1 -all"
    assert "lookups: example.net needs 2 DNS lookup(s) for IPv4 clients" in proc.stderr


def test_unreachable_dns_is_not_fatal() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        proc = spfkit(
            "wizard",
            "example.net",
            "--nameserver",
            f"127.0.0.1:{port}",
            "--timeout",
            "0.5",
            "--format",
            "text",
        )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "v=spf1 mx ~all\n"
    assert (
        "DNS lookups could not be counted: DNS did not answer (TIMEOUT for example.net MX)"
        in proc.stderr
    )


def test_offline_uses_no_dns() -> None:
    proc = spfkit("wizard", "example.net", "--offline", "--format", "text")
    assert proc.returncode == 0 and proc.stdout == "v=spf1 mx ~all\n"
    assert "could not be counted: --offline" in proc.stderr


def test_more_than_ten_lookups_is_called_out() -> None:
    """§4.6.4: a draft with 11 DNS-querying terms would be permerror everywhere."""
    includes = [arg for i in range(10) for arg in ("--include", f"p{i}.example.org")]
    proc = spfkit("wizard", "example.net", "--offline", *includes, "--format", "text")
    assert proc.returncode == 0
    assert "error: the record has 11 terms that cause DNS lookups" in proc.stderr


def test_findings_go_to_stderr() -> None:
    proc = spfkit("wizard", "example.com", *ZONE, "--ptr", "--format", "text")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "v=spf1 mx ptr ~all\n"
    assert any(line.startswith("warning ") and "ptr" in line for line in proc.stderr.splitlines())


# -- the command line itself ---------------------------------------------------------------


def test_help_explains_every_option() -> None:
    proc = spfkit("wizard", "--help")
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    for param in wizard_command.params:
        if isinstance(param, click.Option):
            assert param.help, param.name
            for opt in (*param.opts, *param.secondary_opts):
                assert opt in text, opt
    assert "Exit status: 0 when the records were printed" in text
    assert "DOMAIN" in text


@pytest.mark.parametrize(
    "args",
    [
        ["example.net", "--ip4", "300.1.1.1"],
        ["example.net", "--ip4", "192.0.2.1/24"],
        ["example.net", "--ip6", "192.0.2.1"],
        ["foo"],
        ["example.net", "--include", "foo"],
        ["example.net", "--a-host", "%{z}.example.net"],
        ["example.net", "--mail-host", "bad name"],
        ["example.net", "--all", "reject"],
        ["example.net", "--ttl", "-1"],
        ["example.net", "--format", "xml"],
        ["example.net", "--format", "bind", "--tinydns-generic"],
        ["example.net", "--offline", "--zone", EXAMPLE_ZONE],
        ["example.net", "--zone", "/nonexistent.zone"],
        ["example.net", "--nameserver", "dns.example"],
        ["example.net", "--timeout", "0"],
        ["example.net", "--bogus"],
        [],
    ],
)
def test_usage_errors_are_one_line_and_status_2(args: list[str]) -> None:
    proc = spfkit("wizard", *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("spfkit: error: "), proc.stderr


def test_without_a_terminal_nothing_is_asked() -> None:
    proc = spfkit("wizard", "example.net", "--offline")
    assert proc.returncode == 0
    assert proc.stdout == 'example.net. 3600 IN TXT "v=spf1 mx ~all"\n'
    assert "[Y/n]" not in proc.stderr and "[none]" not in proc.stderr


def test_interactive_from_a_pipe_takes_the_options_as_defaults() -> None:
    answers = "\n".join(["", "y", "", "", "", "", "", "", "fail", ""]) + "\n"
    proc = spfkit(
        "wizard",
        "example.net",
        "--offline",
        "--interactive",
        "--ip4",
        "192.0.2.7",
        "--format",
        "text",
        stdin=answers,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "v=spf1 ip4:192.0.2.7 mx a -all\n"
    assert "Other IPv4 addresses or networks [192.0.2.7]: " in proc.stderr


def test_end_of_input_while_asking_aborts() -> None:
    proc = spfkit("wizard", "example.net", "--offline", "--interactive", stdin="")
    assert proc.returncode == 130 and proc.stdout == ""


# -- a person at a terminal ----------------------------------------------------------------


def test_interactive_run_through_a_pseudo_terminal() -> None:
    """Questions with defaults; a wrong answer is explained and asked again; the record printed."""
    child = pexpect.spawn(
        sys.executable,
        ["-m", "spfkit", "wizard", "example.com", "--zone", EXAMPLE_ZONE],
        cwd=str(ROOT),
        env={**os.environ, "COLUMNS": "100"},
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 200),
    )
    try:
        child.expect_exact("example.com's MX hosts: mail.example.com")
        child.expect_exact("Do example.com's MX hosts send its mail? [Y/n]: ")
        child.sendline("")
        child.expect_exact("Does example.com's own address send mail? [y/N]: ")
        child.sendline("n")
        child.expect_exact("Other IPv4 addresses or networks [none]: ")
        child.sendline("300.1.1.1")
        child.expect_exact("Error: '300.1.1.1' is not an IPv4 address or network")
        child.expect_exact("Other IPv4 addresses or networks [none]: ")  # asked again
        child.sendline("192.0.2.0/24 198.51.100.7")
        child.expect_exact("Other IPv6 addresses or networks [none]: ")
        child.sendline("")
        child.expect_exact("Servers of other domains (host names) [none]: ")
        child.sendline("")
        child.expect_exact("Domains whose MX hosts send your mail [none]: ")
        child.sendline("")
        child.expect_exact("Mail providers (include: domains) [none]: ")
        child.sendline("_spf.mailprovider.example")
        child.expect_exact("SHOULD NOT be published")
        child.expect_exact("[y/N]: ")
        child.sendline("")
        child.expect_exact("Recommended: ~all")
        child.expect_exact("Mail from other hosts: fail, softfail or neutral [softfail]: ")
        child.sendline("fail")
        child.expect_exact("These MX hosts get one already: mail.example.com")
        child.expect_exact("Other mail hosts' names (HELO) [none]: ")
        child.sendline("")
        child.expect_exact("lookups: example.com needs")
        child.expect_exact(
            'example.com. 3600 IN TXT "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.7 mx '
            'include:_spf.mailprovider.example -all"'
        )
        child.expect_exact('mail.example.com. 3600 IN TXT "v=spf1 a -all"')
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_a_draft_over_the_lookup_limit_says_what_it_really_needs(dns: ZoneDataServer) -> None:
    includes = [arg for i in range(6) for arg in ("--include", f"_spf.p{i}.example")]
    proc = spfkit("wizard", "example.net", "--nameserver", f"127.0.0.1:{dns.port}",
                  "--timeout", "2", "--no-mx", *includes, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    # receivers stop counting at 10; the draft needs 12 (6 includes, each with one nested)
    assert json.loads(proc.stdout)["lookups"]["ipv4"] == 12
    assert "needs 12 DNS lookup(s) for IPv4 clients" in proc.stderr
    assert "every receiver returns permerror for all mail" in proc.stderr
