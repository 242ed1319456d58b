"""A TTL cache in front of any resolver, with negative caching and in-flight coalescing.

RFC 1035 §7.4 / RFC 2181 §8 (positive TTLs), RFC 2308 §5 (negative answers are cached for
their SOA-derived TTL; one without SOA, TTL 0, is not cached), RFC 9520 (failures).

§4.6.4: a cached answer still counts as a lookup; only the network cost is saved.
Counting DNS terms and void lookups is the evaluator's job, done before it calls the resolver;
this cache answers the same :class:`Lookup` the network would have and hides nothing.

* Entries are keyed by (type, name) with ASCII case folded and the trailing dot dropped.
* TIMEOUT and SERVFAIL are cached for ``error_ttl`` seconds, 0 by default: a failure is not
  remembered, the next check asks again (RFC 9520 §3.2 recommends a few seconds for busy
  resolvers; a policy server may pass ``error_ttl=5``).
* Identical questions asked while one is on the wire wait for that one answer
  (:class:`~spfkit.lookup.inflight.InFlight`, whose docstring gives the cancellation rule).
* At most ``max_entries`` answers, of at most ``max_bytes`` estimated bytes in all, are kept;
  the least recently used goes first, and one answer over ``max_entry_bytes`` (a 64 KB TXT
  RRset is possible over TCP) is passed on but not kept: what senders publish cannot make the
  cache grow past its bound (:class:`~spfkit.bounded.SizedLRU`).
* A hit is a dict lookup and one clock reading; no task is created.

One instance may serve many checks and many tasks of one event loop.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Final

from spfkit.bounded import SizedLRU
from spfkit.lookup._names import name_key
from spfkit.lookup.defaults import CACHE_BYTES, CACHE_ENTRIES
from spfkit.lookup.inflight import InFlight
from spfkit.lookup.protocol import BaseResolver, Lookup, LookupStatus, Resolver, RRType

__all__ = ["CacheStats", "CachingResolver"]

_Key = tuple[RRType, str]

_NEGATIVE: Final = (LookupStatus.NODATA, LookupStatus.NXDOMAIN)
#: estimated bytes of a cached answer beyond its records' own text (objects, the key)
_ENTRY_OVERHEAD: Final = 400
_RECORD_OVERHEAD: Final = 120


def answer_size(lookup: Lookup[Any]) -> int:
    """Estimated bytes an answer takes in memory: a few hundred, plus its records' text."""
    size = _ENTRY_OVERHEAD
    for record in lookup.records:
        if isinstance(record, tuple):  # TXT: character-strings
            size += _RECORD_OVERHEAD + sum(len(part) + 40 for part in record)
        elif isinstance(record, str):  # PTR
            size += _RECORD_OVERHEAD + len(record)
        else:  # addresses, MX hosts
            size += _RECORD_OVERHEAD + len(getattr(record, "exchange", ""))
    return size


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters of a :class:`CachingResolver` at one moment."""

    hits: int  # answered from the cache
    misses: int  # sent to the inner resolver
    coalesced: int  # joined a query already in flight
    entries: int  # answers held now (some may have expired)
    bytes: int = field(default=0, compare=False)  # their estimated size


class CachingResolver(BaseResolver):
    """Wraps ``inner`` (any :class:`~spfkit.lookup.protocol.Resolver`) with a TTL cache.

    TTLs are clamped to ``[min_ttl, max_ttl]`` for answers and ``[min_ttl, max_negative_ttl]``
    for NXDOMAIN / NODATA (RFC 2308 §5: 3 hours is BIND's default ceiling). ``clock`` returns
    seconds; tests pass a fake one instead of sleeping. A cached :class:`Lookup` is returned
    with the time it has left in this cache as its ``ttl`` (as a DNS cache counts a TTL down,
    RFC 1035 §3.2.1), so that what is built from it (a compiled map) never outlives it.
    """

    def __init__(
        self,
        inner: Resolver,
        *,
        max_entries: int = CACHE_ENTRIES,
        max_bytes: int = CACHE_BYTES,
        max_entry_bytes: int = 256 * 1024,
        min_ttl: float = 0.0,
        max_ttl: float = 86400.0,
        max_negative_ttl: float = 10800.0,
        error_ttl: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.inner = inner
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.min_ttl = min_ttl
        self.max_ttl = max_ttl
        self.max_negative_ttl = max_negative_ttl
        self.error_ttl = error_ttl
        self._clock = clock
        self._entries: SizedLRU[_Key, tuple[float, Lookup[Any]]] = SizedLRU(
            max_bytes, max_entry_bytes=max_entry_bytes)
        self._inflight = InFlight()
        self.hits = 0
        self.misses = 0

    # -- the Resolver protocol ------------------------------------------------------------

    async def lookup(self, rrtype: RRType, name: str) -> Lookup[Any]:
        """The inner resolver's answer, from the cache while it is fresh."""
        key = (rrtype, name_key(name))
        hit = self._fresh(key)
        if hit is not None:
            return hit
        return await self._inflight.ask(key, lambda: self._miss(key, rrtype, name))

    def peek(self, rrtype: RRType, name: str) -> Lookup[Any] | None:
        """A fresh cached answer, or None — without asking anyone."""
        return self._fresh((rrtype, name_key(name)))

    # -- management -----------------------------------------------------------------------

    @property
    def coalesced(self) -> int:
        """Questions that joined a query already in flight."""
        return self._inflight.joined

    def stats(self) -> CacheStats:
        """The counters now."""
        return CacheStats(self.hits, self.misses, self.coalesced, len(self._entries),
                          self._entries.bytes)

    def clear(self) -> None:
        """Forget every cached answer (queries in flight still finish and are stored)."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"CachingResolver({self.inner!r}, {len(self._entries)} entries)"

    async def aclose(self) -> None:
        """Close the inner resolver if it has ``aclose()``; the cache itself holds no resources."""
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()

    # -- internals ------------------------------------------------------------------------

    def _fresh(self, key: _Key) -> Lookup[Any] | None:
        """The cached Lookup for ``key`` if it has not expired, else None (the hot path)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, lookup = entry
        left = expires - self._clock()
        if left <= 0:
            self._entries.discard(key)
            return None
        self.hits += 1
        # §4.6.4: a cached answer still counts as a lookup; only the network cost is saved.
        return replace(lookup, ttl=math.ceil(left))  # whole seconds, as DNS counts them

    async def _miss(self, key: _Key, rrtype: RRType, name: str) -> Lookup[Any]:
        """Ask the inner resolver (once, however many ask meanwhile) and keep the answer."""
        self.misses += 1
        lookup = await self.inner.lookup(rrtype, name)
        ttl = self._store(key, lookup)
        return lookup if ttl == lookup.ttl else replace(lookup, ttl=ttl)

    def _store(self, key: _Key, lookup: Lookup[Any]) -> float:
        """Keep an answer for as long as its TTL allows; that time (clamped), 0 if not kept."""
        ttl = self._ttl(lookup)
        if ttl <= 0:
            return 0.0
        self._entries.put(key, (self._clock() + ttl, lookup), answer_size(lookup))
        while len(self._entries) > self.max_entries:
            self._entries.pop_oldest()
        return ttl

    def _ttl(self, lookup: Lookup[Any]) -> float:
        status = lookup.status
        if status is LookupStatus.ANSWER:
            return min(max(lookup.ttl, self.min_ttl), self.max_ttl)
        if status in _NEGATIVE:
            return min(max(lookup.ttl, self.min_ttl), self.max_negative_ttl)
        return self.error_ttl
