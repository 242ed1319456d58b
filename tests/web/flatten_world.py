"""The world of the web flattening tests (openspf zone data, served by the loopback DNS server).

* ``example.com`` — ``tests/flatten/worlds.py``'s tree of 14 lookups through two provider
  chains, with an ``exists`` macro term that stays as written;
* ``big.example`` — 11 includes of 12 networks each (11 lookups): flattened, the networks do
  not fit one record of 450 octets, so they go into chained ``_spf{n}.big.example`` records;
* ``stuck.example`` — 11 ``exists`` macro terms (11 lookups): nothing can be flattened, so it
  cannot be brought below the limit;
* ``fine.example`` — one include, 1 lookup: within the limit, no offer;
* ``bare.example`` — a name without a record.

:func:`published` is the world with a domain's flattened records put in place of its own, as
the domain's owner would publish them; :func:`boundaries` the addresses to compare.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import Any

from tests.flatten.worlds import world

PROVIDERS = 11
NETS_EACH = 12


def _provider(k: int) -> str:
    # 12 networks that do not touch (every other /24), so nothing collapses
    nets = " ".join(f"ip4:10.{k}.{2 * i}.0/24" for i in range(NETS_EACH))
    return f"v=spf1 {nets} ip6:2001:db8:{k:x}::/48 -all"


def web_world() -> dict[str, list[Any]]:
    data: dict[str, list[Any]] = dict(world())
    includes = " ".join(f"include:p{k}.big.example" for k in range(1, PROVIDERS + 1))
    data["big.example"] = [{"TXT": f"v=spf1 {includes} ~all"}]
    for k in range(1, PROVIDERS + 1):
        data[f"p{k}.big.example"] = [{"TXT": _provider(k)}]
    exists = " ".join(f"exists:%{{i}}.w{k}.stuck.example" for k in range(1, 12))
    data["stuck.example"] = [{"TXT": f"v=spf1 {exists} -all"}]
    data["fine.example"] = [{"TXT": "v=spf1 include:p1.big.example -all"}]
    data["bare.example"] = [{"A": "192.0.2.99"}]
    return data


def published(data: Mapping[str, Sequence[Any]], domain: str,
              records: Sequence[tuple[str, str]]) -> dict[str, list[Any]]:
    """``data`` with ``domain``'s TXT record replaced by the flattened ones (names of the
    chained records added), its other records left alone."""
    out = {name: list(rrs) for name, rrs in data.items()}
    out[domain] = [rr for rr in out.get(domain, []) if "TXT" not in rr]
    for name, text in records:
        out.setdefault(name, [])
        out[name] = [rr for rr in out[name] if "TXT" not in rr] + [{"TXT": text}]
    return out


def boundaries(data: Mapping[str, Sequence[Any]]) -> Iterator[IPv4Address | IPv6Address]:
    """Every network's first and last address and their neighbours, every A/AAAA address
    and its neighbours, read from the zone data itself (not from the flattened records)."""
    seen: set[IPv4Address | IPv6Address] = set()
    for rrs in data.values():
        for rr in rrs:
            texts = [rr["TXT"]] if "TXT" in rr else []
            for text in texts:
                for term in str(text).split():
                    kind, _, value = term.lstrip("+-~?").partition(":")
                    if kind in ("ip4", "ip6"):
                        net = ip_network(value, strict=False)
                        seen.update(_around(net.network_address))
                        seen.update(_around(net.broadcast_address))
            for key in ("A", "AAAA"):
                if key in rr:
                    seen.update(_around(ip_address(rr[key])))
    yield from sorted(seen, key=lambda a: (a.version, int(a)))


def _around(address: IPv4Address | IPv6Address) -> list[IPv4Address | IPv6Address]:
    top = (1 << address.max_prefixlen) - 1
    value = int(address)
    return [ip_address(v) if address.version == 4 else IPv6Address(v)
            for v in (value - 1, value, value + 1) if 0 <= v <= top]
