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
* Identical questions asked while one is on the wire wait for that one answer; a waiter that
  is cancelled leaves the shared query running for the others.
* At most ``max_entries`` answers are kept; the least recently used goes first.
* A hit is a dict lookup and one clock reading; no task is created.

One instance may serve many checks and many tasks of one event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from typing import Any, Final, TypeVar, cast

from spfkit.lookup._names import name_key
from spfkit.lookup.protocol import Lookup, LookupStatus, MXHost, Resolver, RRType, TXTRecord

__all__ = ["CacheStats", "CachingResolver"]

T = TypeVar("T")
_Key = tuple[RRType, str]

_NEGATIVE: Final = (LookupStatus.NODATA, LookupStatus.NXDOMAIN)


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters of a :class:`CachingResolver` at one moment."""

    hits: int  # answered from the cache
    misses: int  # sent to the inner resolver
    coalesced: int  # joined a query already in flight
    entries: int  # answers held now (some may have expired)


class _Abandoned(Exception):
    """The asker that was fetching an answer for others was cancelled."""


class CachingResolver:
    """Wraps ``inner`` (any :class:`~spfkit.lookup.protocol.Resolver`) with a TTL cache.

    TTLs are clamped to ``[min_ttl, max_ttl]`` for answers and ``[min_ttl, max_negative_ttl]``
    for NXDOMAIN / NODATA (RFC 2308 §5: 3 hours is BIND's default ceiling). ``clock`` returns
    seconds; tests pass a fake one instead of sleeping. A cached :class:`Lookup` is returned
    as it was received: its ``ttl`` is the TTL published, not the time left.
    """

    def __init__(
        self,
        inner: Resolver,
        *,
        max_entries: int = 100_000,
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
        self.min_ttl = min_ttl
        self.max_ttl = max_ttl
        self.max_negative_ttl = max_negative_ttl
        self.error_ttl = error_ttl
        self._clock = clock
        self._entries: OrderedDict[_Key, tuple[float, Lookup[Any]]] = OrderedDict()
        self._inflight: dict[_Key, asyncio.Future[Lookup[Any]]] = {}
        self.hits = 0
        self.misses = 0
        self.coalesced = 0

    # -- the Resolver protocol ------------------------------------------------------------

    async def txt(self, name: str) -> Lookup[TXTRecord]:
        """RFC 7208 §4.4 TXT, from the cache when fresh."""
        key = (RRType.TXT, name_key(name))
        hit = self._fresh(key)
        return hit if hit is not None else await self._fetch(key, name, self.inner.txt)

    async def a(self, name: str) -> Lookup[IPv4Address]:
        """§5.3 A, from the cache when fresh."""
        key = (RRType.A, name_key(name))
        hit = self._fresh(key)
        return hit if hit is not None else await self._fetch(key, name, self.inner.a)

    async def aaaa(self, name: str) -> Lookup[IPv6Address]:
        """§5.3 AAAA, from the cache when fresh."""
        key = (RRType.AAAA, name_key(name))
        hit = self._fresh(key)
        return hit if hit is not None else await self._fetch(key, name, self.inner.aaaa)

    async def mx(self, name: str) -> Lookup[MXHost]:
        """§5.4 MX, from the cache when fresh."""
        key = (RRType.MX, name_key(name))
        hit = self._fresh(key)
        return hit if hit is not None else await self._fetch(key, name, self.inner.mx)

    async def ptr(self, name: str) -> Lookup[str]:
        """§5.5 PTR, from the cache when fresh."""
        key = (RRType.PTR, name_key(name))
        hit = self._fresh(key)
        return hit if hit is not None else await self._fetch(key, name, self.inner.ptr)

    def peek(self, rrtype: RRType, name: str) -> Lookup[Any] | None:
        """A fresh cached answer, or None — without asking anyone (see ``Peekable``)."""
        return cast("Lookup[Any] | None", self._fresh((rrtype, name_key(name))))

    # -- management -----------------------------------------------------------------------

    def stats(self) -> CacheStats:
        """The counters now."""
        return CacheStats(self.hits, self.misses, self.coalesced, len(self._entries))

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

    def _fresh(self, key: _Key) -> Any:
        """The cached Lookup for ``key`` if it has not expired, else None (the hot path)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        # §4.6.4: a cached answer still counts as a lookup; only the network cost is saved.
        return entry[1]

    async def _fetch(
        self, key: _Key, name: str, query: Callable[[str], Awaitable[Lookup[T]]]
    ) -> Lookup[T]:
        """A miss: join the query in flight for ``key``, or ask the inner resolver.

        The first asker awaits the inner resolver itself (no Task: the common case costs
        one Future); later askers wait on that Future. Should the first asker be cancelled,
        the others are told so and one of them asks again.
        """
        while (shared := self._inflight.get(key)) is not None:
            self.coalesced += 1
            try:
                # shield: cancelling this waiter must not cancel the shared Future
                return cast(Lookup[T], await asyncio.shield(shared))
            except _Abandoned:
                continue
        self.misses += 1
        shared = asyncio.get_running_loop().create_future()
        self._inflight[key] = shared
        try:
            lookup = await query(name)
        except BaseException as exc:
            self._inflight.pop(key, None)
            shared.set_exception(_Abandoned() if isinstance(exc, asyncio.CancelledError) else exc)
            shared.exception()  # retrieved: nobody may be waiting
            raise
        self._inflight.pop(key, None)
        shared.set_result(lookup)
        self._store(key, lookup)
        return lookup

    def _store(self, key: _Key, lookup: Lookup[Any]) -> None:
        """Keep an answer for as long as its TTL allows."""
        ttl = self._ttl(lookup)
        if ttl <= 0:
            return
        self._entries[key] = (self._clock() + ttl, lookup)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def _ttl(self, lookup: Lookup[Any]) -> float:
        status = lookup.status
        if status is LookupStatus.ANSWER:
            return min(max(lookup.ttl, self.min_ttl), self.max_ttl)
        if status in _NEGATIVE:
            return min(max(lookup.ttl, self.min_ttl), self.max_negative_ttl)
        return self.error_ttl
