"""Zone data (openspf format) for the flattening tests: a 14-lookup tree through two provider
chains, with an ``exists`` macro term kept, a ``~`` term, ``-``/``~`` terms inside includes
and a ``redirect`` inside a provider."""

from __future__ import annotations

from typing import Any

TOP = ("v=spf1 mx a:relay.example.com include:_spf.p1.example include:_spf.p2.example "
       "exists:%{i}.wl.example.com ~ip4:10.0.0.0/8 -all")


def world(p1_extra: str = "") -> dict[str, list[Any]]:
    """The world; ``p1_extra`` adds terms to one of provider 1's records (a provider change)."""
    return {
        "example.com": [{"TXT": TOP}, {"MX": [10, "mail.example.com"]}],
        "mail.example.com": [{"A": "192.0.2.10"}, {"AAAA": "2001:db8::10"}],
        "relay.example.com": [{"A": "192.0.2.11"}],
        "wl.example.com": [],
        "198.51.100.7.wl.example.com": [{"A": "127.0.0.2"}],
        "_spf.p1.example": [{"TXT": "v=spf1 include:a.p1.example include:b.p1.example "
                                    "include:c.p1.example -all"}],
        "a.p1.example": [{"TXT": "v=spf1 ip4:198.51.100.0/26 ip4:198.51.100.64/26 "
                                 f"-ip4:192.0.2.0/24 {p1_extra} ~all".replace("  ", " ")}],
        "b.p1.example": [{"TXT": "v=spf1 ip6:2001:db8:b1::/48 a:h1.p1.example ~all"}],
        "h1.p1.example": [{"A": "198.51.100.200"}, {"AAAA": "2001:db8:b1:ffff::1"}],
        "c.p1.example": [{"TXT": "v=spf1 include:d.p1.example ?all"}],
        "d.p1.example": [{"TXT": "v=spf1 ip4:203.0.113.0/25 ip4:203.0.113.128/25 -all"}],
        "_spf.p2.example": [{"TXT": "v=spf1 include:x.p2.example include:y.p2.example "
                                    "redirect=z.p2.example"}],
        "x.p2.example": [{"TXT": "v=spf1 ip4:192.0.2.0/25 mx:p2.example -all"}],
        "p2.example": [{"MX": [10, "mx1.p2.example"]}],
        "mx1.p2.example": [{"A": "192.0.2.200"}],
        "y.p2.example": [{"TXT": "v=spf1 ip6:2001:db8:2::/64 -all"}],
        "z.p2.example": [{"TXT": "v=spf1 ip4:100.64.0.0/24 ~all"}],
    }


def big_provider(count: int) -> dict[str, list[Any]]:
    """example.org includes a provider with ``count`` networks (to need chained records)."""
    nets = " ".join(f"ip4:10.{i // 256}.{i % 256}.0/24" for i in range(0, 2 * count, 2))
    return {
        "example.org": [{"TXT": "v=spf1 include:big.p3.example -all"}],
        "big.p3.example": [{"TXT": f"v=spf1 {nets} -all"}],
    }
