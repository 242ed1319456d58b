"""DNS access for SPF ("lookup" is RFC 7208's word, §4.6.4): one Protocol, four resolvers.

* :class:`Resolver` — the seam :func:`check_host` uses (``protocol.py``); outcomes are
  :class:`Lookup` values, never exceptions.
* :class:`DnsResolver` — real DNS: UDP, TCP on truncation, per-query timeout, nameserver:port.
* :class:`CachingResolver` — TTL and negative cache with in-flight coalescing, wraps any resolver.
* :class:`ZoneResolver` — offline, from BIND master files; :class:`MemoryResolver` — from a dict.
* :class:`OverlayResolver` — drafted records answered from memory, the rest from another resolver.
"""

from spfkit.lookup.cache import CacheStats, CachingResolver
from spfkit.lookup.dnspython import DnsResolver, Nameserver
from spfkit.lookup.memory import MemoryResolver
from spfkit.lookup.overlay import OverlayResolver
from spfkit.lookup.protocol import (
    Lookup,
    LookupStatus,
    MXHost,
    Peekable,
    Resolver,
    RRType,
    TXTRecord,
)
from spfkit.lookup.zonefile import ZoneFileError, ZoneResolver

__all__ = [
    "CacheStats",
    "CachingResolver",
    "DnsResolver",
    "Lookup",
    "LookupStatus",
    "MXHost",
    "MemoryResolver",
    "Nameserver",
    "OverlayResolver",
    "Peekable",
    "RRType",
    "Resolver",
    "TXTRecord",
    "ZoneFileError",
    "ZoneResolver",
]
