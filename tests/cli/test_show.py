"""``spfkit show`` as users run it: the bundled example zone, real DNS on loopback.

(In this process with piped stdio, see ``tests/cli/conftest.py``.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import spfkit
from tests.fixtures.dnsserver import ZoneDataServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ZONE = str(ROOT / "examples" / "example.zone")

#: 12 lookups (over the limit); no AAAA anywhere, so an IPv6 client hits the void limit first
ZONE = {
    "big.example": [{"TXT": "v=spf1 " + " ".join(f"include:c{k}.example" for k in range(6)) + " -all"}],
    **{f"c{k}.example": [{"TXT": "v=spf1 a -all"}, {"A": f"192.0.2.{k + 1}"}] for k in range(6)},
    "ok.example": [{"TXT": "v=spf1 include:c0.example mx ~all"}, {"MX": [10, "c1.example"]}],
}


@pytest.fixture(scope="module")
def dns() -> Iterator[ZoneDataServer]:
    with ZoneDataServer(ZONE) as server:
        yield server


def test_tree_of_the_example_zone() -> None:
    proc = spfkit("show", "--zone", EXAMPLE_ZONE, "news.example.com")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == ('news.example.com  "v=spf1 mx include:_spf.mailprovider.example -all"  '
                        "lookups 3 (total 3/10)  void 0")
    out = proc.stdout
    assert re.search(r"mx  lookup \+1 \(total 1/10\)  mail\.example\.com: 192\.0\.2\.25/32, 2001:db8::25/128", out)
    assert re.search(r'include:_spf\.mailprovider\.example  "v=spf1 ip4:198\.51\.100\.0/24 .*"  '
                     r"lookups 2 \(total 3/10\)", out)
    assert "ip6:2001:db8:100::/48" in out  # not an emoji
    assert "include:_spf2.mailprovider.example" in out and "ip4:203.0.113.128/25" in out
    # issue 15 item 9: a sample client's fail is what the record does with hosts it does not list
    assert ("sample IPv4 client 255.255.255.254 (no record lists it): 3/10 DNS lookups, 0/2 void "
            "lookups → fail: hosts the record does not list are refused, as intended") in out
    assert "sample IPv6 client ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe (no record lists it): 3/10" in out
    assert proc.stderr == ""


def test_errors_are_shown_where_they_sit_with_status_0() -> None:
    proc = spfkit("show", "--zone", EXAMPLE_ZONE, "legacy.example.com")
    assert proc.returncode == 0
    assert "✗ permerror: syntax error in the record of legacy.example.com" in proc.stdout


def test_a_domain_without_record() -> None:
    proc = spfkit("show", "--zone", EXAMPLE_ZONE, "shop.example.com")
    assert proc.returncode == 0
    assert proc.stdout.startswith("shop.example.com publishes no SPF record")


def test_json_shape() -> None:
    proc = spfkit("show", "--zone", EXAMPLE_ZONE, "--json", "news.example.com")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) == {"domain", "sample", "limits", "ipv4", "ipv6", "sender_dependent",
                        "macro_uses", "notes", "root", "budget",
                        "authorised"}
    assert set(out["budget"]) == {"gauge", "ipv4", "ipv6"}
    assert out["budget"]["gauge"]["text"] == "3/10 DNS lookups, 0/2 void lookups"
    assert out["budget"]["gauge"]["level"] == "ok" and out["budget"]["gauge"]["meaning"] is None
    assert out["limits"] == {"lookups": 10, "void_lookups": 2}
    assert out["sample"]["sender"] == "postmaster@news.example.com"
    assert {"lookups", "void_lookups", "needed_lookups", "result", "client"} <= set(out["ipv4"])
    root = out["root"]
    assert root["domain"] == "news.example.com" and root["kind"] == "top"
    assert root["costs"]["ipv4"]["total_lookups"] == 3
    [include] = [t for t in root["terms"] if t["term"].startswith("include:")]
    [child] = include["children"]
    assert child["via"] == "include:_spf.mailprovider.example"
    assert child["terms"][0]["networks"] == [
        {"network": "198.51.100.0/24", "qualifier": "+", "host": None}]
    mx = root["terms"][0]
    assert mx["outcomes"]["ipv6"]["total_lookups"] == 1
    assert {n["network"] for n in mx["networks"]} == {"192.0.2.25/32", "2001:db8::25/128"}


@pytest.mark.parametrize("domain", ["news.example.com", "example.com", "legacy.example.com",
                                    "parked.example.com", "shop.example.com"])
def test_counts_equal_spfkit_check(domain: str) -> None:
    """The same zone, the same counts: ``spfkit show`` and ``spfkit check`` agree."""
    shown = json.loads(spfkit("show", "--zone", EXAMPLE_ZONE, "--json", domain).stdout)
    for family, ip in (("ipv4", "192.0.2.199"), ("ipv6", "2001:db8:ffff::1")):
        checked = json.loads(spfkit("check", "--zone", EXAMPLE_ZONE, "--json", ip, domain).stdout)
        assert (shown[family]["lookups"], shown[family]["void_lookups"]) == (
            checked["lookups"], checked["void_lookups"])
        assert shown[family]["result"] == checked["result"]


def test_over_real_dns(dns: ZoneDataServer) -> None:
    server = f"127.0.0.1:{dns.port}"
    proc = spfkit("show", "--nameserver", server, "--timeout", "2", "--json", "big.example")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    for family, ip in (("ipv4", "203.0.113.9"), ("ipv6", "2001:db8:ffff::9")):
        checked = json.loads(spfkit("check", "--nameserver", server, "--json", ip, "big.example").stdout)
        assert checked["result"] == out[family]["result"] == "permerror"
        assert (out[family]["lookups"], out[family]["void_lookups"]) == (
            checked["lookups"], checked["void_lookups"]) == ((10, 0) if family == "ipv4" else (6, 3))
        assert out[family]["needed_lookups"] == 12
    text = spfkit("show", "--nameserver", server, "big.example").stdout
    assert "lookups 12 (total 12/10)" in text.splitlines()[0]
    assert "beyond the limit" in text
    # issue 15 item 1: the real total, not the receivers' 10/10
    assert "sample IPv4 client 255.255.255.254 (no record lists it): 12/10 DNS lookups" in text
    assert "every receiver returns permerror for all mail" in text
    assert out["budget"]["ipv4"]["lookups"] == {"needed": 12, "counted": 10, "limit": 10,
                                               "at_least": False, "level": "over", "text": "12/10"}


def test_sender_option_and_macros(dns: ZoneDataServer, tmp_path: Path) -> None:
    zone = tmp_path / "m.zone"
    zone.write_text('m.example. 300 IN TXT "v=spf1 exists:%{l}.ok.m.example -all"\n'
                    "alice.ok.m.example. 300 IN A 127.0.0.2\n")
    plain = json.loads(spfkit("show", "--zone", str(zone), "--json", "m.example").stdout)
    assert plain["sender_dependent"] and plain["ipv4"]["result"] == "fail"
    alice = json.loads(spfkit("show", "--zone", str(zone), "--json", "--sender", "alice@x.example",
                              "m.example").stdout)
    assert alice["sample"]["sender"] == "alice@x.example" and alice["ipv4"]["result"] == "pass"
    text = spfkit("show", "--zone", str(zone), "m.example").stdout
    assert "the tree depends on the sender" in text


@pytest.mark.parametrize("args", [
    [],
    ["not a domain"],
    ["--bogus", "example.com"],
    ["--zone", "/nonexistent/zone", "example.com"],
    ["--zone", EXAMPLE_ZONE, "--nameserver", "127.0.0.1", "example.com"],
    ["--timeout", "0", "example.com"],
    ["--timeout", "soon", "example.com"],
    ["--sender", "@@", "example.com"],
    ["--nameserver", "not-an-ip", "example.com"],
    ["example.com", "extra"],
])
def test_usage_errors_are_one_line_and_status_2(args: list[str]) -> None:
    proc = spfkit("show", *args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith("spfkit: error: ")


def test_help_explains_every_option() -> None:
    proc = spfkit("show", "--help")
    assert proc.returncode == 0
    for option in ("--nameserver HOST[:PORT]", "--zone FILE", "--timeout SECONDS", "--sender ADDR",
                   "--helo HOST", "--json", "--help"):
        assert option in proc.stdout, option
    assert "Exit status" in proc.stdout
    assert "show" in spfkit("--help").stdout


def test_a_domain_that_does_not_exist_is_named_so() -> None:
    """A misspelt domain is no domain without a record: say it does not exist."""
    from tests.cli.conftest import spfkit

    out = spfkit("show", "nosuch.example.com", "--zone", "examples/example.zone")
    assert out.returncode == 0
    assert out.stdout.splitlines()[0] == ("nosuch.example.com does not exist (NXDOMAIN): check the "
                                          "spelling of the domain")
    shop = spfkit("show", "shop.example.com", "--zone", "examples/example.zone")
    assert shop.stdout.splitlines()[0] == "shop.example.com publishes no SPF record"


def test_what_the_domain_authorises_is_counted() -> None:
    """news.example.com passes mail.example.com (192.0.2.25, 2001:db8::25), 198.51.100.0/24
    and 203.0.113.128/25 (256 + 128 + 1 IPv4), and two IPv6 /48s plus one address."""
    text = spfkit("show", "--zone", EXAMPLE_ZONE, "news.example.com").stdout
    assert "news.example.com authorises 385 IPv4 and just over 2^81 IPv6 addresses (pass)" in text
    out = json.loads(spfkit("show", "--zone", EXAMPLE_ZONE, "--json", "news.example.com").stdout)
    allowed = out["authorised"]
    assert (allowed["ipv4"], allowed["ipv6"], allowed["complete"]) == (385, 2**81 + 1, True)
    assert [(c["mechanism"], c["ipv4"], c["ipv6"]) for c in allowed["contributors"]] == [
        ("include:_spf.mailprovider.example", 384, 2**81), ("mx", 1, 1)]
