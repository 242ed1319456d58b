"""Eager prefetch (``FetchOrder.EAGER``) over real loopback DNS: the queries the server
actually receives for one check, against what a sequential evaluation of the same tree can
send at most (docs/prefetch.md).

* A tree within RFC 7208 §4.6.4's limits (every include visited, fewer than 10
  DNS-querying terms): eager mode sends no more than the sequential evaluation of a client
  that matches nothing (the most any sequential evaluation of the tree sends), and nothing
  outside the tree, whatever the client.
* Trees past the limits (permerror anyway), built to make eager fetching waste queries:
  never a target past the 10th term, after "all" or behind a loop, never more than 10 TXT
  queries ahead of the sequential evaluation, no exponential fan-out.

The expected counts are derived by hand from each zone (comments), not from the code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import dns.message
import dns.query
import pytest

from spfkit.evaluate import CheckOptions, FetchOrder, check_host
from spfkit.lookup import DnsResolver
from spfkit.results import CheckResult, Result
from tests.fixtures.dnsserver import ZoneDataServer

NOBODY = "203.0.113.77"  # matched by no term of any tree below
MODES = {
    "none": CheckOptions(prefetch=False),
    "sequential": CheckOptions(fetch_order=FetchOrder.SEQUENTIAL),
    "eager": CheckOptions(fetch_order=FetchOrder.EAGER),
}


def txt(text: str) -> list[dict[str, Any]]:
    return [{"TXT": text}]


def _zone() -> dict[str, Any]:
    zone: dict[str, Any] = {
        # within the limits: 6 DNS-querying terms, 7 records
        "fan.example": txt("v=spf1 include:f1.fan.example include:f2.fan.example "
                           "include:f3.fan.example include:f4.fan.example ~all"),
        "f1.fan.example": txt("v=spf1 include:f1a.fan.example include:f1b.fan.example ?all"),
        "f1a.fan.example": txt("v=spf1 ip4:192.0.2.1 ?all"),
        "f1b.fan.example": txt("v=spf1 ip4:192.0.2.2 ?all"),
        "f2.fan.example": txt("v=spf1 ip4:192.0.2.3 ?all"),
        "f3.fan.example": txt("v=spf1 ip4:192.0.2.4 -all"),
        "f4.fan.example": txt("v=spf1 ip4:192.0.2.5 ~all"),
        # within the limits, with "all" before an include and a redirect ignored because of it
        "stop.example": txt("v=spf1 include:f2.fan.example ?all include:never1.example "
                            "redirect=never2.example"),
        # 15 siblings: the 11th is past the limit
        "sibs.example": txt("v=spf1 " + " ".join(f"include:s{i}.sibs.example" for i in range(1, 16))
                            + " -all"),
        # 9 address terms inside the first include fill the budget: x1..x3 are never reached
        "big.example": txt("v=spf1 include:nine.big.example include:x1.big.example "
                           "include:x2.big.example include:x3.big.example -all"),
        "nine.big.example": txt("v=spf1 " + " ".join(f"a:h{i}.big.example" for i in range(1, 10))
                                + " ?all"),
        # 10 includes of 10 includes each: 111 records
        "expo.example": txt("v=spf1 " + " ".join(f"include:c{i}.expo.example" for i in range(10))
                            + " -all"),
        # a loop two levels down
        "loop.example": txt("v=spf1 include:l1.loop.example include:l2.loop.example -all"),
        "l1.loop.example": txt("v=spf1 include:loop.example ?all"),
        "l2.loop.example": txt("v=spf1 ip4:192.0.2.9 ?all"),
    }
    for i in range(1, 16):
        zone[f"s{i}.sibs.example"] = txt("v=spf1 -all")
    for i in range(1, 10):
        zone[f"h{i}.big.example"] = [{"A": f"198.51.100.{i}"}]
    for i in range(1, 4):
        zone[f"x{i}.big.example"] = txt("v=spf1 ?all")
    for i in range(10):
        zone[f"c{i}.expo.example"] = txt("v=spf1 " + " ".join(
            f"include:c{i}-{j}.expo.example" for j in range(10)) + " ?all")
        for j in range(10):
            zone[f"c{i}-{j}.expo.example"] = txt("v=spf1 ?all")
    return zone


@pytest.fixture(scope="module")
def server() -> Iterator[ZoneDataServer]:
    with ZoneDataServer(_zone()) as srv:
        yield srv


def settle(server: ZoneDataServer) -> None:
    """Wait until the server has read every datagram sent so far: it answers in order, so
    the answer to one more question comes after them (queries cancelled unanswered by the
    end of a check were still sent, and are counted)."""
    dns.query.udp(dns.message.make_query("settle.invalid", "TXT"), "127.0.0.1", timeout=5,
                  port=server.port)


def run(server: ZoneDataServer, domain: str, mode: str, ip: str = NOBODY) -> tuple[CheckResult, list[str]]:
    """One check; the questions the server received for it, as ``TYPE name``."""
    settle(server)
    server.reset_counts()
    resolver = DnsResolver(["127.0.0.1"], port=server.port, timeout=2)
    result = asyncio.run(asyncio.wait_for(check_host(
        ip, domain, f"x@{domain}", resolver=resolver, options=MODES[mode]), 30))
    settle(server)
    asked = sorted(f"{q.qtype} {q.qname}" for q in server.queries if q.qname != "settle.invalid")
    return result, asked


@pytest.mark.parametrize("ip", [NOBODY, "192.0.2.1", "192.0.2.3", "192.0.2.5"])
def test_within_the_limits_eager_sends_nothing_a_sequential_evaluation_would_not(
    server: ZoneDataServer, ip: str
) -> None:
    # no-match sequential: fan, f1..f4, f1a, f1b = 7 TXT queries; the most any client causes
    most = run(server, "fan.example", "none")[1]
    assert len(most) == 7 and all(q.startswith("TXT ") for q in most)
    results = {}
    for mode in MODES:
        result, asked = run(server, "fan.example", mode, ip)
        results[mode] = (result.result, result.mechanism, result.lookups)
        assert len(asked) == len(set(asked))  # no question twice
        assert set(asked) <= set(most), (mode, asked)
    assert len(set(results.values())) == 1, results


def test_nothing_after_all_is_fetched() -> None:
    # answers 50 ms late: anything eager mode started would be sent before the check ends
    with ZoneDataServer(_zone(), delay=0.05) as slow:
        for mode in MODES:
            result, asked = run(slow, "stop.example", mode)
            assert result.result is Result.NEUTRAL
            assert asked == ["TXT f2.fan.example", "TXT stop.example"], mode


def test_siblings_past_the_tenth_term_are_never_fetched(server: ZoneDataServer) -> None:
    for mode in MODES:
        result, asked = run(server, "sibs.example", mode)
        assert result.result is Result.PERMERROR, mode
        # sibs and s1..s10: the 11th include is the permerror, never queried
        assert asked == sorted(["TXT sibs.example", *(f"TXT s{i}.sibs.example" for i in range(1, 11))])


def test_a_full_first_include_wastes_at_most_its_siblings(server: ZoneDataServer) -> None:
    _, sequential = run(server, "big.example", "none")
    # big, nine and its 9 A lookups; the 10 terms are spent inside nine: x1.. never reached
    assert len(sequential) == 11 and not any("x" in q.split(".")[0] for q in sequential)
    result, eager = run(server, "big.example", "eager")
    assert result.result is Result.PERMERROR
    ahead = set(eager) - set(sequential)
    # fetched as soon as big's record was parsed, at positions 2-4 (nine counted at 1)
    assert ahead == {f"TXT x{i}.big.example" for i in range(1, 4)}
    assert set(sequential) <= set(eager)


def test_a_fan_out_tree_costs_at_most_ten_queries_ahead(server: ZoneDataServer) -> None:
    _, sequential = run(server, "expo.example", "none")
    # expo, c0 and c0-0..c0-8: the 10th include inside c0 is the 11th term
    assert len(sequential) == 11
    result, eager = run(server, "expo.example", "eager")
    assert result.result is Result.PERMERROR
    ahead = set(eager) - set(sequential)
    assert len(ahead) <= 10  # c1..c9 (and nothing below them): 111 records, 20 queries
    assert all(q.count("-") == 0 for q in ahead), ahead
    assert len(eager) == len(set(eager)) <= 11 + 10


def test_a_loop_is_not_followed_ahead(server: ZoneDataServer) -> None:
    for mode in MODES:
        result, asked = run(server, "loop.example", mode)
        assert result.result is Result.PERMERROR and "loop" in (result.problem or ""), mode
        assert asked.count("TXT loop.example") == 1
        assert set(asked) <= {"TXT loop.example", "TXT l1.loop.example", "TXT l2.loop.example"}
