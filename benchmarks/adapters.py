"""The two implementations behind one shape: build resolvers, run one check, return the result.

spfkit is driven through its public seams (``MemoryResolver``, ``DnsResolver``,
``CachingResolver``, ``check``). pyspf has no seam: its module global ``spf.DNSLookup`` is
replaced (in-memory runs) and dnspython's module-wide default resolver is pointed at the
loopback server (DNS runs) — in this benchmark process only.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import spf  # pyspf
from world import Check

from spfkit.evaluate import CheckOptions, check
from spfkit.lookup import CachingResolver, DnsResolver, MemoryResolver

__all__ = [
    "CachingResolver", "MemoryResolver", "PyspfCounter", "memory_zone", "pyspf_check", "pyspf_memory_lookup",
    "pyspf_table", "spfkit_check", "spfkit_cold", "spfkit_dns", "use_pyspf_dns", "use_pyspf_memory",
]

PyspfTable = dict[tuple[str, str], list[Any]]

# ---------------------------------------------------------------------------------- spfkit


def memory_zone(zonedata: Mapping[str, Iterable[Mapping[str, object]]]) -> dict[str, dict[str, list[Any]]]:
    """openspf zone data → ``MemoryResolver``'s dict (a TXT record is a tuple of strings)."""
    out: dict[str, dict[str, list[Any]]] = {}
    for owner, entries in zonedata.items():
        spec = out.setdefault(owner, {})
        for entry in entries:
            for rtype, value in entry.items():
                if rtype == "TXT":
                    value = tuple(value) if isinstance(value, list) else (value,)
                elif rtype == "MX":
                    value = (int(value[0]), str(value[1]))  # type: ignore[index]
                spec.setdefault(rtype, []).append(value)
    return out


async def spfkit_check(c: Check, resolver: Any, options: CheckOptions) -> str:
    # parts 1-3 measure the evaluator, every check a first-time one (trace=True: no compiled
    # policy answers, even with a shared resolver); part 4 (warm.py) measures compiled maps
    result = await check(c.ip, c.mail_from, c.helo, resolver=resolver, options=options, trace=True)
    return result.result.value


def spfkit_dns(port: int) -> DnsResolver:
    return DnsResolver(nameservers=["127.0.0.1"], port=port, timeout=5.0)


def spfkit_cold(inner: Any) -> CachingResolver:
    """A fresh, empty cache per check: nothing is known in advance."""
    return CachingResolver(inner)


# ---------------------------------------------------------------------------------- pyspf


def pyspf_table(zonedata: Mapping[str, Iterable[Mapping[str, object]]]) -> PyspfTable:
    """Zone data → what ``spf.DNSLookup_dnspython`` would return, keyed by (name, type).

    TXT: a tuple of bytes strings per record (``rdata.strings``); MX: ``(pref, host)``;
    A/AAAA: address text (``rdata.address``); PTR: target without the final dot.
    """
    table: PyspfTable = {}
    for owner, entries in zonedata.items():
        name = owner.lower().rstrip(".")
        for entry in entries:
            for rtype, value in entry.items():
                if rtype == "TXT":
                    parts = value if isinstance(value, list) else [value]
                    value = tuple(str(p).encode("latin-1") for p in parts)
                elif rtype == "MX":
                    value = (int(value[0]), str(value[1]))  # type: ignore[index]
                elif rtype == "PTR":
                    value = str(value).rstrip(".")
                table.setdefault((name, rtype), []).append(value)
    return table


class PyspfCounter:
    """Counts the questions pyspf asks (each ``DNSLookup`` call is one question)."""

    def __init__(self) -> None:
        self.queries = 0


def pyspf_memory_lookup(table: PyspfTable, counter: PyspfCounter) -> Callable[..., list[Any]]:
    """A replacement for ``spf.DNSLookup(name, qtype, strict, timeout)`` answering from ``table``."""

    def lookup(name: str, qtype: str, strict: Any = True, timeout: Any = 20) -> list[Any]:
        counter.queries += 1
        return [((name, qtype), v) for v in table.get((name.lower().rstrip("."), qtype), ())]

    return lookup


def use_pyspf_memory(table: PyspfTable, counter: PyspfCounter) -> None:
    spf.DNSLookup = pyspf_memory_lookup(table, counter)


def use_pyspf_dns(port: int, counter: PyspfCounter) -> None:
    """pyspf → dnspython's default resolver → 127.0.0.1:port; no cache, no search list.

    Every UDP or TCP exchange dnspython makes is counted (``dns.query.udp``/``tcp`` wrapped).
    """
    import dns.name
    import dns.query
    import dns.resolver

    spf.DNSLookup = spf.DNSLookup_dnspython
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = port
    resolver.timeout = resolver.lifetime = 5.0
    resolver.domain = dns.name.root
    resolver.search = []
    resolver.cache = None  # the default; pyspf's own cache lives one check long
    dns.resolver.default_resolver = resolver
    warnings.filterwarnings("ignore", "please use dns.resolver.resolve", DeprecationWarning)
    for fname in ("udp", "tcp"):
        original = getattr(dns.query, f"_bench_{fname}", None) or getattr(dns.query, fname)
        setattr(dns.query, f"_bench_{fname}", original)

        def counted(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            counter.queries += 1
            return _original(*args, **kwargs)

        setattr(dns.query, fname, counted)


def pyspf_check(c: Check) -> str:
    result, _explanation = spf.check2(i=c.ip, s=c.mail_from, h=c.helo)
    return str(result)
