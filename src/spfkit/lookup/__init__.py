"""DNS access for SPF ("lookup" is RFC 7208's word, §4.6.4): one Protocol, its resolvers.

* :class:`Resolver` — the seam :func:`check_host` uses (``protocol.py``): ``lookup(rrtype,
  name)`` and ``peek()``; outcomes are :class:`Lookup` values, never exceptions.
  :class:`BaseResolver` adds the typed questions (``txt`` ... ``ptr``) over ``lookup()``.
* :class:`DnsResolver` — real DNS (``stub.py``): UDP, TCP on truncation, per-query timeout,
  nameserver:port; its decisions are the socket-free ``resolution.Resolution``'s.
* :class:`CachingResolver` — TTL and negative cache, in-flight coalescing; wraps any resolver.
* :class:`SnapshotResolver` — one answer per question for its lifetime, wraps any resolver.
* :class:`ZoneResolver` — offline, from BIND master files; :class:`MemoryResolver` — a dict.
* :class:`OverlayResolver` — drafted records answered from memory, the rest from another resolver.
* :class:`InFlight` — the one memo of questions in flight (and its cancellation rule).
* :func:`make_resolver` — zone files or nameservers → the resolver (the CLI and policy server).
"""

import typing

from spfkit import _lazy
from spfkit.lookup.cache import CacheStats, CachingResolver
from spfkit.lookup.inflight import InFlight
from spfkit.lookup.memory import MemoryResolver
from spfkit.lookup.nameserver import Nameserver
from spfkit.lookup.overlay import OverlayResolver
from spfkit.lookup.protocol import (
    BaseResolver,
    Lookup,
    LookupStatus,
    MXHost,
    Peekable,
    Resolver,
    RRType,
    TXTRecord,
)
from spfkit.lookup.source import make_resolver
from spfkit.lookup.stub import DnsResolver

if typing.TYPE_CHECKING:
    from spfkit.lookup.snapshot import SnapshotResolver
    from spfkit.lookup.zonefile import ZoneFileError, ZoneResolver

#: imported on first use: zone files (and pathlib) and snapshots are not on the DNS path that
#: a spawned policy process starts with
__getattr__ = _lazy.lazy_exports(__name__, {
    "SnapshotResolver": "spfkit.lookup.snapshot",
    "ZoneFileError": "spfkit.lookup.zonefile",
    "ZoneResolver": "spfkit.lookup.zonefile",
})

__all__ = [
    "BaseResolver",
    "CacheStats",
    "CachingResolver",
    "DnsResolver",
    "InFlight",
    "Lookup",
    "LookupStatus",
    "MXHost",
    "MemoryResolver",
    "Nameserver",
    "OverlayResolver",
    "Peekable",
    "RRType",
    "Resolver",
    "SnapshotResolver",
    "TXTRecord",
    "ZoneFileError",
    "ZoneResolver",
    "make_resolver",
]
