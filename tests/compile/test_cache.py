"""The compiled-map cache: a map lives no longer than the smallest TTL it was built from,
a map from a failure (TTL 0) is not kept, the cache stays within its bytes (whose estimate
tracks the memory held), a domain's two maps share one entry, and maps that depend on the
sender are kept per sender."""

from __future__ import annotations

import asyncio
import gc
import importlib
import sys
import tracemalloc
from pathlib import Path
from types import ModuleType

from spfkit.compile import PolicyMap, compile_policy
from spfkit.compile.cache import CompiledCache
from spfkit.lookup import CachingResolver, MemoryResolver
from tests.fixtures.zone_resolver import ZoneDataResolver
from tests.fixtures.zonedata import Zone


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _policy(zone: dict[str, object], domain: str = "a.test", ttl: float = 300.0,
            sender: str = "") -> PolicyMap:
    return asyncio.run(compile_policy(domain, 4, resolver=MemoryResolver(zone, ttl=ttl), sender=sender))


def test_a_map_expires_with_its_smallest_ttl() -> None:
    clock = Clock()
    cache = CompiledCache(clock=clock)
    policy = _policy({"a.test": {"TXT": "v=spf1 ip4:192.0.2.0/24 -all"}}, ttl=60)
    assert policy.ttl == 60
    key = ("a.test", 4, None)
    cache.put(key, policy, "x@a.test", "")
    clock.now += 59
    assert cache.get(key, "x@a.test", "") is policy
    clock.now += 1
    assert cache.get(key, "x@a.test", "") is None


def test_a_map_built_from_cached_answers_lives_only_as_long_as_they_have_left() -> None:
    """Through a DNS cache, the map's TTL is the time its answers have left there, not the
    TTL they were published with: it is never served after the answers would be asked again."""
    clock = Clock()
    zone = {"a.test": {"TXT": "v=spf1 include:b.test -all"},
            "b.test": {"TXT": "v=spf1 ip4:192.0.2.0/24 -all"}}
    resolver = CachingResolver(MemoryResolver(zone, ttl=300), clock=clock)
    asyncio.run(resolver.txt("b.test"))  # b.test cached first, a.test 100 s later
    clock.now += 100
    first = asyncio.run(compile_policy("a.test", 4, resolver=resolver))
    assert first.ttl == 200  # b.test's answer expires from the DNS cache in 200 s
    clock.now += 150
    again = asyncio.run(compile_policy("a.test", 4, resolver=resolver))
    assert again.ttl == 50


def test_a_map_built_from_a_failure_is_not_kept() -> None:
    cache = CompiledCache()
    policy = _policy({"a.test": {"TXT": "v=spf1 include:b.test -all"}, "b.test": "TIMEOUT"})
    assert policy.decide(1).result.value == "temperror"  # type: ignore[union-attr]
    failed = PolicyMap(policy.domain, 4, policy.starts, policy.decisions, 0.0, index=policy.index)
    cache.put(("a.test", 4, None), failed, "", "")
    assert cache.get(("a.test", 4, None), "", "") is None


def test_the_cache_stays_within_its_bytes() -> None:
    cache = CompiledCache(max_bytes=20_000)
    zone = {f"d{i}.test": {"TXT": f"v=spf1 ip4:10.{i}.0.0/16 ip4:10.{i}.9.9 ~all"} for i in range(200)}
    resolver = MemoryResolver(zone)
    for i in range(200):
        policy = asyncio.run(compile_policy(f"d{i}.test", 4, resolver=resolver))
        cache.put((f"d{i}.test", 4, None), policy, "", "")
    stats = cache.stats()
    assert stats.bytes <= 20_000 and stats.evictions > 0
    assert cache.get(("d199.test", 4, None), "", "") is not None
    assert cache.get(("d0.test", 4, None), "", "") is None


def test_maps_keyed_on_the_sender_do_not_mix() -> None:
    zone = {"a.test": {"TXT": "v=spf1 include:%{l}.u.test -all"},
            "alice.u.test": {"TXT": "v=spf1 ip4:192.0.2.1 -all"},
            "bob.u.test": {"TXT": "v=spf1 ip4:192.0.2.2 -all"}}
    cache = CompiledCache()
    key = ("a.test", 4, None)
    alice = _policy(zone, sender="alice@a.test")
    assert alice.keyed_on == {"sender"}
    cache.put(key, alice, "alice@a.test", "")
    assert cache.get(key, "bob@a.test", "") is None
    assert cache.get(key, "alice@a.test", "") is alice


def test_the_first_question_about_a_domain_is_only_remembered() -> None:
    cache = CompiledCache()
    assert cache.first_time(("a.test", 4, None))
    assert not cache.first_time(("a.test", 4, None))
    assert cache.first_time(("a.test", 6, None))


def test_a_domain_has_one_entry_for_both_ip_versions_and_their_equal_decisions_once() -> None:
    zone = {"a.test": {"TXT": "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"}}
    resolver = MemoryResolver(zone)
    cache = CompiledCache()
    v4 = asyncio.run(compile_policy("a.test", 4, resolver=resolver))
    v6 = asyncio.run(compile_policy("a.test", 6, resolver=resolver))
    assert cache.first_time(("a.test", 6, None))
    cache.put(("a.test", 4, None), v4, "", "")
    cache.put(("a.test", 6, None), v6, "", "")
    assert len(cache) == 1 and not cache.first_time(("a.test", 6, None))
    got4, got6 = cache.get(("a.test", 4, None), "", ""), cache.get(("a.test", 6, None), "", "")
    assert got4 is v4 and got6 is not None and got6.ranges() == v6.ranges()
    fail4 = v4.decide(0)
    fail6 = got6.decide(0)
    assert fail4 is not None and fail4 is fail6  # "-all" of both versions: one object
    assert cache.stats().bytes < v4.size() + v6.size() + 400


def test_the_byte_estimate_tracks_the_memory_a_cache_of_real_maps_holds() -> None:
    """The estimate the byte bound uses is within 15 % of what tracemalloc counts, over the
    maps of a world of ``benchmarks/world.py`` (both IP versions)."""
    world = _bench_world().build_world(n_domains=150, n_checks=10, seed=12)
    resolver = ZoneDataResolver(Zone(world.zonedata))
    domains = sorted(world.shapes)

    async def maps() -> list[tuple[str, int, PolicyMap]]:
        return [(d, v, await compile_policy(d, v, resolver=resolver, sender=f"postmaster@{d}",
                                            helo=d)) for d in domains for v in (4, 6)]

    asyncio.run(maps())  # the resolver's and the parser's own caches filled first
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    cache = CompiledCache(max_bytes=1 << 30)
    for d, v, policy in asyncio.run(maps()):
        cache.put((d, v, None), policy, f"postmaster@{d}", d)
    resolver.queries.clear()  # the resolver's log of questions is not the cache's
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    estimate = cache.stats().bytes
    assert 0.85 * kept <= estimate <= 1.15 * kept, (kept, estimate)


def _bench_world() -> ModuleType:
    benchmarks = str(Path(__file__).resolve().parents[2] / "benchmarks")
    if benchmarks not in sys.path:
        sys.path.insert(0, benchmarks)
    return importlib.import_module("world")
