"""Property: for random record trees (includes, redirects, a/mx with CIDR lengths, exists,
ptr, client and sender macros, the §4.6.4 limits, DNS failures), the compiled answer equals
the evaluator's at every range boundary (first, last, first-1, last+1) and at random
addresses of every map, IPv4, IPv6 and IPv4-mapped clients, in memory."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spfkit.evaluate import CheckOptions
from spfkit.lookup import MemoryResolver
from tests.compile.identity import compare

NAMES = [f"n{i}.test" for i in range(6)]
HOSTS = [f"h{i}.test" for i in range(4)]
QUALIFIERS = ["", "-", "~", "?"]

v4_address = st.integers(0, 31).map(lambda i: f"10.0.0.{i * 8 + 3}")
v6_address = st.integers(0, 15).map(lambda i: f"2001:db8::{i * 16 + 5:x}")
cidr4 = st.sampled_from(["", "/24", "/28", "/30", "/31", "/32", "/8"])
cidr6 = st.sampled_from(["", "//120", "//124", "//126", "//64"])
target = st.sampled_from([*NAMES, *HOSTS, "missing.test", "slow.test"])


def _mechanism() -> st.SearchStrategy[str]:
    ip4 = st.builds(lambda a, c: f"ip4:{a}{c}", v4_address, cidr4)
    ip6 = st.builds(lambda a, c: f"ip6:{a}{c.replace('//', '/')}", v6_address, cidr6)
    a = st.builds(lambda t, c4, c6: f"a:{t}{c4}{c6}", target, cidr4, cidr6)
    bare = st.sampled_from(["a", "mx", "a/30", "mx//124"])
    mx = st.builds(lambda t, c4: f"mx:{t}{c4}", target, cidr4)
    include = st.builds(lambda t: f"include:{t}", st.sampled_from([*NAMES, "missing.test", "slow.test"]))
    exists = st.sampled_from(["exists:h0.test", "exists:missing.test", "exists:%{l}.h.test",
                              "exists:%{i}.h.test", "exists:%{h}", "exists:slow.test"])
    macro = st.sampled_from(["include:%{o}", "a:%{d}", "include:%{l}.n.test", "a:%{v}.h.test"])
    ptr = st.sampled_from(["ptr", "ptr:test"])
    body = st.one_of(ip4, ip6, a, bare, mx, include, exists, macro, ptr)
    return st.builds(lambda q, b: q + b, st.sampled_from(QUALIFIERS), body)


record = st.builds(
    lambda mechs, end, redirect, exp: " ".join(
        ["v=spf1", *mechs, *([end] if end else []),
         *([f"redirect={redirect}"] if redirect else []), *([f"exp={exp}"] if exp else [])]),
    st.lists(_mechanism(), max_size=7),
    st.sampled_from(["", "-all", "~all", "?all", "all"]),
    st.sampled_from(["", "", "", *NAMES, "missing.test"]),
    st.sampled_from(["", "", "exp.test"]),
)


@st.composite
def zones(draw: st.DrawFn) -> dict[str, Any]:
    zone: dict[str, Any] = {}
    for name in NAMES:
        entry: dict[str, Any] = {}
        if draw(st.booleans()) or name == "n0.test":
            entry["TXT"] = draw(record)
        entry["A"] = draw(st.lists(v4_address, max_size=2))
        entry["AAAA"] = draw(st.lists(v6_address, max_size=2))
        entry["MX"] = [(10, h) for h in draw(st.lists(st.sampled_from(HOSTS), max_size=3))]
        zone[name] = entry
    for host in HOSTS:
        zone[host] = {"A": draw(st.lists(v4_address, max_size=3)),
                      "AAAA": draw(st.lists(v6_address, max_size=2))}
    zone["slow.test"] = draw(st.sampled_from(["TIMEOUT", "SERVFAIL", {"A": "10.0.0.3"}]))
    zone["exp.test"] = {"TXT": "%{i} is not one of %{d}'s hosts"}
    zone["alice.n.test"] = {"TXT": "v=spf1 ip4:10.0.0.64/26 -all"}
    zone["test"] = {"A": "10.0.0.99"}
    zone["3.0.0.10.in-addr.arpa"] = {"PTR": "h0.test"}
    return zone


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(zone=zones(), seed=st.integers(0, 2**32), sender=st.sampled_from(
    ["alice@n1.test", "bob@n2.test", "", "postmaster@n0.test"]),
    helo=st.sampled_from(["h0.test", "n3.test", "nothing.test"]),
    limits=st.sampled_from([(10, 2), (3, 1), (10, 0)]))
def test_compiled_equals_evaluator_everywhere(zone: dict[str, Any], seed: int, sender: str,
                                              helo: str, limits: tuple[int, int]) -> None:
    resolver = MemoryResolver(zone)
    options = CheckOptions(max_dns_terms=limits[0], max_void_lookups=limits[1])
    rng = random.Random(seed)

    async def run() -> None:
        for version in (4, 6):
            await compare(resolver, "n0.test", sender or "postmaster@n0.test", helo, version=version,
                          options=options, rng=rng)

    asyncio.run(run())
