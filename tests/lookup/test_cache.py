"""CachingResolver: TTLs on an injected clock, negative caching, coalescing, LRU bound."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from ipaddress import IPv4Address, IPv6Address
from typing import Any, TypeVar

import pytest

from spfkit.lookup import (
    BaseResolver,
    CacheStats,
    CachingResolver,
    Lookup,
    LookupStatus,
    MemoryResolver,
    MXHost,
    RRType,
    TXTRecord,
)

T = TypeVar("T")


def run(awaitable: Awaitable[T]) -> T:
    async def main() -> T:
        return await awaitable

    return asyncio.run(main())


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Scripted(BaseResolver):
    """An inner resolver answering TXT with a fixed Lookup, after ``gate`` opens if given."""

    def __init__(self, answer: Lookup[TXTRecord], gate: asyncio.Event | None = None) -> None:
        self.answer = answer
        self.gate = gate
        self.calls = 0
        self.closed = False
        self.error: Exception | None = None

    async def lookup(self, rrtype: RRType, name: str) -> Lookup[Any]:
        if rrtype is not RRType.TXT:
            raise NotImplementedError
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return self.answer

    async def aclose(self) -> None:
        self.closed = True


ZONE = {
    "example.com": {"TXT": "v=spf1 mx -all", "MX": (10, "mail.example.com"), "A": "192.0.2.1"},
    "mail.example.com": {"A": "192.0.2.25", "AAAA": "2001:db8::25"},
    "25.2.0.192.in-addr.arpa": {"PTR": "mail.example.com"},
}


def test_second_lookup_is_a_hit():
    inner = MemoryResolver(ZONE, ttl=60)
    cache = CachingResolver(inner, clock=Clock())

    async def twice() -> tuple[Lookup[TXTRecord], Lookup[TXTRecord]]:
        return await cache.txt("example.com"), await cache.txt("Example.COM.")

    first, second = run(twice())
    assert first == second  # no time passed: the same answer, the same time left
    assert inner.count() == 1
    assert cache.stats() == CacheStats(hits=1, misses=1, coalesced=0, entries=1)


def test_every_type_is_cached_separately():
    inner = MemoryResolver(ZONE, ttl=60)
    cache = CachingResolver(inner, clock=Clock())

    async def all_types() -> None:
        for _ in range(2):
            assert (await cache.txt("example.com")).records == ((b"v=spf1 mx -all",),)
            assert (await cache.mx("example.com")).records == (MXHost(10, "mail.example.com"),)
            assert (await cache.a("mail.example.com")).records == (IPv4Address("192.0.2.25"),)
            assert (await cache.aaaa("mail.example.com")).records == (IPv6Address("2001:db8::25"),)
            assert (await cache.ptr("25.2.0.192.in-addr.arpa")).records == ("mail.example.com",)

    run(all_types())
    assert inner.count() == 5
    assert (cache.hits, cache.misses, len(cache)) == (5, 5, 5)


def test_entries_expire_with_their_ttl():
    clock = Clock()
    inner = MemoryResolver(ZONE, ttl=60)
    cache = CachingResolver(inner, clock=clock)
    run(cache.a("example.com"))
    clock.now += 59.9
    run(cache.a("example.com"))
    assert inner.count() == 1
    clock.now += 0.1
    run(cache.a("example.com"))
    assert inner.count() == 2


def test_a_hit_carries_the_time_it_has_left():
    """What is built from a cached answer (a compiled map) must not outlive it."""
    clock = Clock()
    cache = CachingResolver(MemoryResolver(ZONE, ttl=60), clock=clock)
    fresh = run(cache.txt("example.com"))
    clock.now += 45
    later = run(cache.txt("example.com"))
    assert (fresh.ttl, later.ttl) == (60, 15)
    assert later.records == fresh.records and later.status is fresh.status


def test_the_time_left_is_the_clamped_ttl():
    clock = Clock()
    cache = CachingResolver(Scripted(Lookup(LookupStatus.ANSWER, ((b"x",),), 10**7)),
                            max_ttl=3600, clock=clock)
    assert run(cache.txt("a.example")).ttl == 3600
    clock.now += 600
    assert run(cache.txt("a.example")).ttl == 3000


def test_negative_answers_are_cached_for_their_ttl():
    clock = Clock()
    inner = MemoryResolver(ZONE, ttl=30)
    cache = CachingResolver(inner, clock=clock)
    for _ in range(3):
        assert run(cache.txt("nope.example.com")).status is LookupStatus.NXDOMAIN
        assert run(cache.txt("mail.example.com")).status is LookupStatus.NODATA
    assert inner.count() == 2
    clock.now += 30
    run(cache.txt("nope.example.com"))
    assert inner.count() == 3


def test_zero_ttl_is_not_cached_unless_min_ttl():
    inner = MemoryResolver(ZONE, ttl=0)
    cache = CachingResolver(inner, clock=Clock())
    run(cache.a("example.com"))
    run(cache.a("example.com"))
    run(cache.a("nope.example.com"))  # RFC 2308 §5: no SOA, no negative caching
    run(cache.a("nope.example.com"))
    assert inner.count() == 4
    floor = CachingResolver(MemoryResolver(ZONE, ttl=0), min_ttl=5, clock=Clock())
    run(floor.a("example.com"))
    run(floor.a("example.com"))
    assert floor.misses == 1


@pytest.mark.parametrize(
    ("lookup", "keep"),
    [
        (Lookup(LookupStatus.ANSWER, ((b"x",),), 10**7), 86400),
        (Lookup(LookupStatus.NXDOMAIN, (), 10**7), 10800),
        (Lookup(LookupStatus.NODATA, (), 10**7), 10800),
    ],
)
def test_ttls_are_clamped(lookup, keep):
    clock = Clock()
    inner = Scripted(lookup)
    cache = CachingResolver(inner, clock=clock)
    run(cache.txt("a.example"))
    clock.now += keep - 1
    run(cache.txt("a.example"))
    assert inner.calls == 1
    clock.now += 1
    run(cache.txt("a.example"))
    assert inner.calls == 2


@pytest.mark.parametrize("status", [LookupStatus.TIMEOUT, LookupStatus.SERVFAIL])
def test_failures_are_not_cached_by_default(status):
    clock = Clock()
    inner = Scripted(Lookup(status))
    cache = CachingResolver(inner, clock=clock)
    run(cache.txt("a.example"))
    run(cache.txt("a.example"))
    assert inner.calls == 2
    brief = CachingResolver(inner, error_ttl=5, clock=clock)
    run(brief.txt("a.example"))
    run(brief.txt("a.example"))
    assert inner.calls == 3
    clock.now += 5
    run(brief.txt("a.example"))
    assert inner.calls == 4


def test_size_is_bounded_least_recently_used_first():
    inner = MemoryResolver({f"n{i}.example": {"A": f"192.0.2.{i}"} for i in range(5)}, ttl=60)
    cache = CachingResolver(inner, max_entries=2, clock=Clock())

    async def ask(*indices: int) -> None:
        for i in indices:
            await cache.a(f"n{i}.example")

    run(ask(0, 1, 0, 2))  # n1 is the least recently used when n2 arrives
    assert len(cache) == 2
    asked = inner.count()
    run(ask(0, 2))
    assert inner.count() == asked
    run(ask(1))
    assert inner.count() == asked + 1
    with pytest.raises(ValueError):
        CachingResolver(inner, max_entries=0)


def test_concurrent_identical_lookups_are_coalesced():
    async def scenario() -> tuple[Scripted, CachingResolver, list[Lookup[TXTRecord]]]:
        gate = asyncio.Event()
        inner = Scripted(Lookup(LookupStatus.ANSWER, ((b"v=spf1 -all",),), 60), gate)
        cache = CachingResolver(inner, clock=Clock())
        waiters = [asyncio.create_task(cache.txt("slow.example")) for _ in range(50)]
        await asyncio.sleep(0)  # all 50 are now waiting on the one query
        gate.set()
        return inner, cache, await asyncio.gather(*waiters)

    inner, cache, results = run(scenario())
    assert inner.calls == 1
    assert all(r is results[0] for r in results)
    assert (cache.misses, cache.coalesced, cache.hits) == (1, 49, 0)


def test_a_cancelled_waiter_does_not_cancel_the_shared_query():
    """Cancelled waiters get CancelledError; the others still get the answer.

    The first asker runs the query itself (no Task per miss); when it is cancelled, a
    waiting asker asks again, so the inner resolver sees the question twice.
    """
    async def scenario() -> tuple[Scripted, list[object]]:
        gate = asyncio.Event()
        inner = Scripted(Lookup(LookupStatus.ANSWER, ((b"ok",),), 60), gate)
        cache = CachingResolver(inner, clock=Clock())
        first = asyncio.create_task(cache.txt("a.example"))  # the one that started the query
        await asyncio.sleep(0)
        second = asyncio.create_task(cache.txt("a.example"))
        third = asyncio.create_task(cache.txt("a.example"))
        await asyncio.sleep(0)
        first.cancel()
        third.cancel()
        await asyncio.sleep(0)
        gate.set()
        results = await asyncio.gather(first, second, third, return_exceptions=True)
        assert (await cache.txt("a.example")).records == ((b"ok",),)  # and it was stored
        return inner, results

    inner, (first, second, third) = run(scenario())
    assert isinstance(first, asyncio.CancelledError) and isinstance(third, asyncio.CancelledError)
    assert second == Lookup(LookupStatus.ANSWER, ((b"ok",),), 60)
    assert inner.calls == 2


def test_a_cancelled_joiner_does_not_disturb_the_asker():
    async def scenario() -> tuple[Scripted, list[object]]:
        gate = asyncio.Event()
        inner = Scripted(Lookup(LookupStatus.ANSWER, ((b"ok",),), 60), gate)
        cache = CachingResolver(inner, clock=Clock())
        first = asyncio.create_task(cache.txt("a.example"))
        await asyncio.sleep(0)
        second = asyncio.create_task(cache.txt("a.example"))
        await asyncio.sleep(0)
        second.cancel()
        gate.set()
        return inner, await asyncio.gather(first, second, return_exceptions=True)

    inner, (first, second) = run(scenario())
    assert first == Lookup(LookupStatus.ANSWER, ((b"ok",),), 60)
    assert isinstance(second, asyncio.CancelledError)
    assert inner.calls == 1


def test_an_exception_reaches_every_waiter_and_is_not_cached():
    async def scenario() -> tuple[Scripted, list[object]]:
        gate = asyncio.Event()
        inner = Scripted(Lookup(LookupStatus.ANSWER, ((b"ok",),), 60), gate)
        inner.error = RuntimeError("bug in the inner resolver")
        cache = CachingResolver(inner, clock=Clock())
        waiters = [asyncio.create_task(cache.txt("a.example")) for _ in range(3)]
        await asyncio.sleep(0)
        gate.set()
        results = await asyncio.gather(*waiters, return_exceptions=True)
        inner.error = None
        assert (await cache.txt("a.example")).records == ((b"ok",),)
        return inner, results

    inner, results = run(scenario())
    assert all(isinstance(r, RuntimeError) for r in results)
    assert inner.calls == 2


def test_hits_create_no_tasks():
    async def scenario() -> int:
        created = 0
        loop = asyncio.get_running_loop()

        def factory(loop: asyncio.AbstractEventLoop, coro, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal created
            created += 1
            return asyncio.Task(coro, loop=loop, **kwargs)

        cache = CachingResolver(MemoryResolver(ZONE, ttl=60), clock=Clock())
        await cache.txt("example.com")
        loop.set_task_factory(factory)
        try:
            for _ in range(100):
                await cache.txt("example.com")
        finally:
            loop.set_task_factory(None)
        assert cache.hits == 100
        return created

    assert run(scenario()) == 0


def test_clear_and_aclose():
    inner = Scripted(Lookup(LookupStatus.ANSWER, ((b"x",),), 60))
    cache = CachingResolver(inner, clock=Clock())
    run(cache.txt("a.example"))
    cache.clear()
    assert len(cache) == 0
    run(cache.txt("a.example"))
    assert inner.calls == 2
    run(cache.aclose())
    assert inner.closed
    run(CachingResolver(MemoryResolver()).aclose())  # inner without aclose(): fine


def test_the_cache_is_bounded_in_bytes_whatever_senders_publish() -> None:
    """Senders decide how large their TXT answers are: the cache's bound is in bytes."""
    big = tuple(bytes([65 + n % 26]) * 250 for n in range(200))  # a 50 KB TXT record
    zone = {f"d{n}.example": {"TXT": [big]} for n in range(300)}
    cache = CachingResolver(MemoryResolver(zone), max_bytes=4 * 1024 * 1024,
                            max_entry_bytes=128 * 1024, min_ttl=60)

    async def main() -> None:
        for n in range(300):
            answer = await cache.txt(f"d{n}.example")
            assert answer.records == (big,)
    asyncio.run(main())
    assert cache.stats().bytes <= 4 * 1024 * 1024
    assert 0 < len(cache) < 300  # the oldest went, the newest stayed
    assert cache.peek(RRType.TXT, "d299.example") is not None


def test_an_answer_over_the_entry_bound_is_used_but_not_kept() -> None:
    huge = tuple(b"x" * 255 for _ in range(256))  # 64 KB
    cache = CachingResolver(MemoryResolver({"big.example": {"TXT": [huge]}}),
                            max_entry_bytes=32 * 1024, min_ttl=60)
    assert asyncio.run(cache.txt("big.example")).records == (huge,)
    assert len(cache) == 0 and cache.peek(RRType.TXT, "big.example") is None
