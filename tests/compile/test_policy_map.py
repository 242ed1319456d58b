"""What a compiled map gives besides answers: address counts and the flattened network list
(the fewest CIDR networks that pass), for the flattening of issue 13."""

from __future__ import annotations

import asyncio
from ipaddress import ip_network

from spfkit.compile import compile_policy
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
