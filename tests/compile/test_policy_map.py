"""What a compiled map gives besides answers: address counts and the flattened network list
(the fewest CIDR networks that pass), for the flattening of issue 13; and how it keeps its
ranges small (IPv6 starts in two 64-bit arrays, one byte a range for its decision)."""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from ipaddress import ip_address, ip_network

from hypothesis import given
from hypothesis import strategies as st

from spfkit.compile import compile_policy
from spfkit.compile.policy_map import WideStarts
from spfkit.lookup import MemoryResolver
from spfkit.results import Result

ZONE = {
    "example.test": {"TXT": "v=spf1 -ip4:192.0.2.128/25 ip4:192.0.2.0/24 include:p.test mx//64 ~all",
                     "MX": [(10, "mx.example.test")]},
    "p.test": {"TXT": "v=spf1 ip4:192.0.3.0/24 ip4:10.1.0.0/16 ip6:2001:db8::/33 -all"},
    "mx.example.test": {"A": "192.0.4.1", "AAAA": "2001:db8:8f00::1"},
}


def test_networks_are_the_pass_ranges_collapsed() -> None:
    resolver = MemoryResolver(ZONE)
    v4 = asyncio.run(compile_policy("example.test", 4, resolver=resolver))
    v6 = asyncio.run(compile_policy("example.test", 6, resolver=resolver))
    # 192.0.2.128/25 fails first; 192.0.2.0/25 and 192.0.3.0/24 pass; so do 10.1/16 and the MX
    assert v4.networks() == [ip_network(n) for n in
                             ("10.1.0.0/16", "192.0.2.0/25", "192.0.3.0/24", "192.0.4.1/32")]
    assert v4.count() == 65536 + 128 + 256 + 1
    assert v4.networks(Result.FAIL) == [ip_network("192.0.2.128/25")]
    assert v6.networks() == [ip_network("2001:db8::/33"), ip_network("2001:db8:8f00::/64")]
    assert v6.count() == 2**95 + 2**64
    assert v4.complete and v6.complete
    assert sum(n.num_addresses for n in v4.networks(Result.SOFTFAIL)) == v4.count(Result.SOFTFAIL)


starts128 = st.lists(st.one_of(st.integers(1, (1 << 128) - 1),
                               st.integers(1, (1 << 64) - 1).map(lambda h: h << 64)),
                     min_size=2, max_size=40, unique=True).map(lambda xs: [0, *sorted(xs)])


@given(starts128, st.lists(st.integers(0, (1 << 128) - 1), max_size=10))
def test_wide_starts_rank_like_bisect_over_the_integers(starts: list[int], extra: list[int]) -> None:
    """IPv6 starts kept as two 64-bit halves (or only the high one when every start is a
    multiple of 2^64) rank every address as bisect does over the Python ints."""
    wide = WideStarts(starts)
    assert list(wide) == starts and len(wide) == len(starts) and wide[1:] == starts[1:]
    probes = {p for s in starts for p in (s - 1, s, s + 1) if 0 <= p < 1 << 128} | set(extra)
    for p in sorted(probes):
        assert wide.rank(p) == bisect_right(starts, p), hex(p)


def test_ipv6_maps_with_many_ranges_keep_16_bytes_a_range() -> None:
    zone = {"six.test": {"TXT": "v=spf1 " + " ".join(f"ip6:2001:db8:{i:x}::/48" for i in range(20))
                         + " ip6:2001:db8:ff::1 -all"}}
    policy = asyncio.run(compile_policy("six.test", 6, resolver=MemoryResolver(zone)))
    assert isinstance(policy.starts, WideStarts) and len(policy.starts) == 24
    assert policy.decide(int(ip_address("2001:db8:ff::1"))).mechanism == "ip6:2001:db8:ff::1"  # type: ignore[union-attr]
    assert policy.decide(int(ip_address("2001:db8:ff::2"))).mechanism == "-all"  # type: ignore[union-attr]
    assert policy.decide(int(ip_address("2001:db8:13:ffff::"))).mechanism == "ip6:2001:db8:13::/48"  # type: ignore[union-attr]
    # 24 ranges (the /48s are adjacent), 22 distinct decisions: one byte a range points at them
    assert policy.index is not None and len(policy.index) == 24 and len(policy.decisions) == 22
