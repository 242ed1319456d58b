"""RFC 7208 §4.6.4 over real DNS: hostile zones end in permerror/temperror with a reason,
never an exception or a hang, and the loopback server counts every query it received —
never more than the limits allow, with prefetching on and off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from spfkit.evaluate import CheckOptions, check
from spfkit.lookup import DnsResolver
from spfkit.results import CheckResult, Result
from tests.fixtures.dnsserver import ZoneDataServer

IP = "192.0.2.200"


def _zone() -> dict[str, list[Any]]:
    zone: dict[str, list[Any]] = {
        # 11 DNS-querying terms: the 11th must never be queried
        "eleven.example": [{"TXT": "v=spf1 " + " ".join(f"a:h{i}.eleven.example" for i in range(1, 12)) + " -all"}],
        # a third void lookup
        "void.example": [{"TXT": "v=spf1 " + " ".join(f"a:v{i}.void.example" for i in range(1, 6)) + " -all"}],
        # 11 MX names: permerror before any address lookup
        "mx11.example": [{"TXT": "v=spf1 mx -all"}] + [{"MX": [i, f"m{i}.mx11.example"]} for i in range(11)],
        # loops
        "loop-a.example": [{"TXT": "v=spf1 include:loop-b.example -all"}],
        "loop-b.example": [{"TXT": "v=spf1 include:loop-a.example -all"}],
        "redir.example": [{"TXT": "v=spf1 redirect=redir.example"}],
        # a deep include chain (20 levels): the 11th include is a permerror
        **{f"d{i}.example": [{"TXT": f"v=spf1 include:d{i + 1}.example -all"}] for i in range(20)},
        "d20.example": [{"TXT": "v=spf1 +all"}],
        # an include that fills the budget, then terms after it
        "wide.example": [{"TXT": "v=spf1 include:nine.example " + " ".join(f"a:w{i}.wide.example" for i in range(1, 10)) + " -all"}],
        "nine.example": [{"TXT": "v=spf1 " + " ".join(f"a:n{i}.nine.example" for i in range(1, 10)) + " ~all"}],
        # 1,000 terms, a 64 KB record, macro bombs, control characters
        "thousand.example": [{"TXT": "v=spf1 " + " ".join(f"ip4:10.{i // 250}.{i % 250}.1" for i in range(1000)) + " -all"}],
        "huge.example": [{"TXT": "v=spf1 " + "ip4:10.0.0.1 " * 5000 + "-all"}],
        "bomb.example": [{"TXT": "v=spf1 exists:%{i1000r}.%{l}%{l}%{l}%{l}%{l}.%{d99999}.bomb.example -all"}],
        "ctrl.example": [{"TXT": "v=spf1 a:x.example\x00 -all"}],
        "utf8.example": [{"TXT": "v=spf1 a:ex\u00e4mple.example -all"}],
        "slow.example": ["TIMEOUT"],
        "slowinc.example": [{"TXT": "v=spf1 include:slow.example -all"}],
    }
    # the a: targets exist (an empty answer would be a void lookup and end things early)
    for i in range(1, 12):
        for host in (f"h{i}.eleven.example", f"n{i}.nine.example", f"w{i}.wide.example"):
            zone[host] = [{"A": f"198.51.100.{i}"}]
    return zone


@pytest.fixture(scope="module")
def server() -> Iterator[ZoneDataServer]:
    with ZoneDataServer(_zone()) as srv:
        yield srv


def _check(server: ZoneDataServer, sender: str, prefetch: bool, **options: Any) -> CheckResult:
    server.reset_counts()
    resolver = DnsResolver(["127.0.0.1"], port=server.port, timeout=0.5)
    opts = CheckOptions(prefetch=prefetch, **options)
    return asyncio.run(asyncio.wait_for(check(IP, sender, "helo.example", resolver=resolver, options=opts), 30))


PREFETCH = pytest.mark.parametrize("prefetch", [False, True], ids=["sequential", "prefetch"])


@PREFETCH
def test_eleventh_term_is_never_queried(server: ZoneDataServer, prefetch: bool) -> None:
    result = _check(server, "x@eleven.example", prefetch)
    assert result.result is Result.PERMERROR and "10" in (result.problem or "")
    assert server.count(qname="h11.eleven.example") == 0
    assert server.count(qtype="A") == 10


@PREFETCH
def test_third_void_lookup(server: ZoneDataServer, prefetch: bool) -> None:
    result = _check(server, "x@void.example", prefetch)
    assert result.result is Result.PERMERROR and "void" in (result.problem or "")
    assert result.void_lookups == 3
    assert server.count(qtype="A") == 3  # v4 and v5 are never asked


@PREFETCH
def test_eleven_mx_names(server: ZoneDataServer, prefetch: bool) -> None:
    result = _check(server, "x@mx11.example", prefetch)
    assert result.result is Result.PERMERROR and "MX" in (result.problem or "")
    assert server.count(qtype="A") == 0


@PREFETCH
@pytest.mark.parametrize("sender", ["x@loop-a.example", "x@redir.example"])
def test_loops(server: ZoneDataServer, prefetch: bool, sender: str) -> None:
    result = _check(server, sender, prefetch)
    assert result.result is Result.PERMERROR and "loop" in (result.problem or "")
    assert server.count(qtype="TXT") <= 2


@PREFETCH
def test_deep_include_chain(server: ZoneDataServer, prefetch: bool) -> None:
    result = _check(server, "x@d0.example", prefetch)
    assert result.result is Result.PERMERROR
    assert server.count(qtype="TXT") == 11  # d0 and the 10 includes the limit allows


@PREFETCH
def test_terms_after_a_full_include_are_not_queried(server: ZoneDataServer, prefetch: bool) -> None:
    result = _check(server, "x@wide.example", prefetch)
    assert result.result is Result.PERMERROR
    assert server.count(qname="w1.wide.example") == 0  # include + 9 terms inside = 10
    assert server.count(qtype="A") == 9


@PREFETCH
@pytest.mark.parametrize(
    ("sender", "result"),
    [
        ("x@thousand.example", Result.FAIL),
        ("x@huge.example", Result.FAIL),
        ("x@ctrl.example", Result.PERMERROR),
        ("x@utf8.example", Result.PERMERROR),
        ("x@slow.example", Result.TEMPERROR),
        ("x@slowinc.example", Result.TEMPERROR),
    ],
)
def test_hostile_records(server: ZoneDataServer, prefetch: bool, sender: str, result: Result) -> None:
    got = _check(server, sender, prefetch)
    assert got.result is result, got
    if result in (Result.PERMERROR, Result.TEMPERROR):
        assert got.problem


@PREFETCH
def test_macro_bomb_is_truncated_not_exploded(server: ZoneDataServer, prefetch: bool) -> None:
    long_local = "l" * 60
    result = _check(server, f"{long_local}@bomb.example", prefetch)
    assert result.result is Result.FAIL
    asked = [q.qname for q in server.queries if q.qtype == "A"]
    assert len(asked) == 1 and len(asked[0]) <= 253


def test_time_budget_bounds_the_whole_check(server: ZoneDataServer) -> None:
    server.reset_counts()
    resolver = DnsResolver(["127.0.0.1"], port=server.port, timeout=5)
    options = CheckOptions(time_budget=0.5)
    result = asyncio.run(check(IP, "x@slow.example", "h.example", resolver=resolver, options=options))
    assert result.result is Result.TEMPERROR and "time limit" in (result.problem or "")
