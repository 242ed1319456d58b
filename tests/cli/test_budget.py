"""Issue 15 item 1: past the §4.6.4 limit, ``check``, ``show`` and ``lint`` show the real total.

``tests/fixtures/issue15.zone``: ``over.example`` needs 11 DNS-querying terms (2 includes, 9
``a`` terms; every host has A and AAAA), ``full.example`` exactly 10, ``v6broken.example`` 3
lookups and, for an IPv6 client only, 3 void lookups. Receivers stop at the 11th term, so their
counters read 10; the tree's real cost is 11, and every front end says so, in text and JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import spfkit
from tests.fixtures.dnsserver import ZoneDataServer

ZONE = str(Path(__file__).resolve().parents[1] / "fixtures" / "issue15.zone")
OVER = "every receiver returns permerror for all mail"


def test_check_shows_11_of_10_and_what_it_means() -> None:
    proc = spfkit("check", "--zone", ZONE, "203.0.113.77", "alice@over.example")
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.strip().startswith("lookups:"))
    assert line.strip().startswith("lookups: 11/10 DNS lookups, 0/2 void lookups")
    assert OVER in line and "10/10" not in proc.stdout


def test_check_json_has_the_real_total_beside_the_receivers_count() -> None:
    out = json.loads(spfkit("check", "--zone", ZONE, "--json", "203.0.113.77",
                            "alice@over.example").stdout)
    assert out["result"] == "permerror"
    assert out["lookups"] == 10  # what the receiver counted before it stopped
    assert out["budget"]["lookups"] == {"needed": 11, "counted": 10, "limit": 10,
                                        "at_least": False, "level": "over", "text": "11/10"}
    assert out["budget"]["level"] == "over" and OVER in out["budget"]["meaning"]


def test_check_of_a_client_the_first_term_matches_costs_nothing() -> None:
    out = json.loads(spfkit("check", "--zone", ZONE, "--json", "192.0.2.9",
                            "alice@over.example").stdout)
    assert out["result"] == "pass"
    assert out["budget"]["lookups"]["text"] == "0/10" and out["budget"]["meaning"] is None


def test_check_in_colour_on_a_terminal_is_red() -> None:
    """rich's markup: the over-limit count is drawn bold red (a terminal forced by FORCE_COLOR)."""
    from rich.console import Console

    from spfkit.cli.output import budget_markup
    from spfkit.results import CheckResult, Result
    from spfkit.tree.model import Needed
    from spfkit.view.budget import check_budget

    budget = check_budget(CheckResult(Result.PERMERROR, "over.example", lookups=10),
                          Needed(11, 0, True))
    console = Console(force_terminal=True, color_system="standard", width=300, highlight=False)
    with console.capture() as captured:
        console.print(budget_markup(budget))
    assert "\x1b[1;31m11/10\x1b[0m" in captured.get()


def test_show_footer_and_json() -> None:
    proc = spfkit("show", "--zone", ZONE, "over.example")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "sample IPv4 client 255.255.255.254 (no record lists it): 11/10 DNS lookups" in text
    assert f"11/10 DNS lookups, 0/2 void lookups: over the limit of DNS lookups (RFC 7208 §4.6.4): {OVER}" in text
    out = json.loads(spfkit("show", "--zone", ZONE, "--json", "over.example").stdout)
    assert out["budget"]["gauge"]["lookups"]["text"] == "11/10"
    assert out["ipv4"]["lookups"] == 10 and out["ipv4"]["needed_lookups"] == 11


def test_lint_gauge_line_and_json() -> None:
    proc = spfkit("lint", "--zone", ZONE, "over.example")
    assert proc.returncode == 2
    (line,) = [x for x in proc.stdout.splitlines() if x.strip().startswith("lookups:")]
    assert line.strip().startswith("lookups: 11/10 DNS lookups, 0/2 void lookups —") and OVER in line
    assert "10/10" not in proc.stdout
    out = json.loads(spfkit("lint", "--zone", ZONE, "--json", "over.example").stdout)
    assert out["budget"]["gauge"]["lookups"]["needed"] == 11
    assert out["budget"]["gauge"]["level"] == "over"


def test_lint_of_a_whole_zone_shows_the_real_total_too() -> None:
    proc = spfkit("lint", "--zone", ZONE)
    lines = proc.stdout.splitlines()
    start = lines.index("over.example")
    end = next(i for i in range(start + 1, len(lines)) if lines[i] and lines[i][0] != " ")
    over = "\n".join(lines[start:end])
    assert "lookups: 11/10 DNS lookups" in over and OVER in over
    assert "10/10" not in over  # full.example, which needs exactly 10, may say 10/10
    reports = {r["domain"]: r for r in json.loads(spfkit("lint", "--zone", ZONE, "--json").stdout)}
    assert reports["over.example"]["budget"]["gauge"]["lookups"]["needed"] == 11


@pytest.mark.parametrize("command", ["show", "lint"])
def test_at_the_limit_is_amber_not_red(command: str) -> None:
    out = spfkit(command, "--zone", ZONE, "full.example").stdout
    assert "10/10 DNS lookups" in out and "at or near the limit" in out and OVER not in out


@pytest.mark.parametrize("command", ["show", "lint"])
def test_only_the_ipv6_family_over_the_void_limit(command: str) -> None:
    out = spfkit(command, "--zone", ZONE, "v6broken.example").stdout
    assert "3/2 void lookups" in out
    assert "every receiver returns permerror for all mail from IPv6 clients" in out


def test_check_over_real_dns_asks_only_for_what_lies_beyond() -> None:
    """Over a real DNS server on loopback: the second (lifted) evaluation reads the first's
    answers, so each name is asked once; only the 11th term's lookup is new."""
    zone = {
        "big.example": [{"TXT": "v=spf1 " + " ".join(f"a:h{k}.big.example" for k in range(11))
                         + " -all"}],
        **{f"h{k}.big.example": [{"A": f"198.51.100.{k + 1}"}] for k in range(11)},
    }
    with ZoneDataServer(zone) as dns:
        proc = spfkit("check", "--nameserver", f"127.0.0.1:{dns.port}", "--no-prefetch", "--json",
                      "203.0.113.5", "a@big.example")
        asked = [(q.qname.rstrip("."), q.qtype) for q in dns.queries if q.transport == "udp"]
    out = json.loads(proc.stdout)
    assert out["result"] == "permerror" and out["lookups"] == 10
    assert out["budget"]["lookups"]["text"] == "11/10"
    assert len(asked) == len(set(asked)), "a question was asked twice"
    assert ("h10.big.example", "A") in asked
