"""Prefetch (``evaluate/prefetch.py``) changes nothing but the order of the trace.
"""


from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.evaluate.common import IP, OTHER, check_zone, spf

# --- prefetch changes nothing but the order of the trace -------------------------------

PREFETCH_ZONES: list[tuple[dict[str, Any], str, str]] = [
    ({"example.com": spf(f"v=spf1 a mx include:inc.example ptr exists:%{{i}}.x.example ip4:{IP} -all",
                         A=OTHER, MX=(10, "mx.example.com")),
      "mx.example.com": {"A": OTHER},
      "inc.example": spf("v=spf1 a:nx.example ?all"),
      "1.2.0.192.in-addr.arpa": {"PTR": "h.example.net"},
      "h.example.net": {"A": IP}}, IP, "example.com"),
    ({"example.com": spf("v=spf1 a:h1.example.com a:h2.example.com mx:m.example.com -all exp=e.example.com"),
      "h1.example.com": {"A": OTHER}, "h2.example.com": {"A": OTHER},
      "m.example.com": {"MX": [(1, "a.m.example.com"), (2, "b.m.example.com")]},
      "a.m.example.com": {"A": OTHER}, "b.m.example.com": {"A": OTHER},
      "e.example.com": {"TXT": "no %{i}"}}, IP, "example.com"),
    ({"example.com": spf("v=spf1 a:h1.example.com mx:m.example.com ip4:192.0.2.1"),
      "h1.example.com": {"A": OTHER},
      "m.example.com": {"MX": [(1, "a.m.example.com"), (2, "b.m.example.com")]},
      "a.m.example.com": {"A": OTHER}, "b.m.example.com": "TIMEOUT"}, IP, "example.com"),
    ({"example.com": spf("v=spf1 include:a.example redirect=b.example"),
      "a.example": spf("v=spf1 include:c.example ~all"), "c.example": spf("v=spf1 a:nx.c.example"),
      "b.example": spf("v=spf1 mx:d.example -all exp=e.example"),
      "d.example": {"MX": (5, "mx.d.example")}, "mx.d.example": {"AAAA": "2001:db8::5"},
      "e.example": {"TXT": "%{d} says no"}}, "2001:db8::5", "example.com"),
    ({"example.com": spf("v=spf1 " + " ".join(f"a:n{i}.example" for i in range(8)) + " -all")},
     IP, "example.com"),
    ({"example.com": spf("v=spf1 " + " ".join(f"a:h{i}.example" for i in range(12)) + " -all"),
      **{f"h{i}.example": {"A": OTHER} for i in range(12)}}, IP, "example.com"),
]


@pytest.mark.parametrize(("zone", "ip", "domain"), PREFETCH_ZONES)
def test_prefetch_gives_the_same_result(zone: dict[str, Any], ip: str, domain: str) -> None:
    sequential, _ = check_zone(zone, False, ip=ip, domain=domain)
    prefetched, _ = check_zone(zone, True, ip=ip, domain=domain)
    assert replace(prefetched, trace=()) == replace(sequential, trace=())
    assert sorted(map(repr, prefetched.trace)) == sorted(map(repr, sequential.trace))


