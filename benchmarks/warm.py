"""Part 4 of ``bench_check.py``: warm checks answered from compiled policies (issue 12).

A long-lived resolver (``CachingResolver(MemoryResolver)``, as in ``policyd``) and its
compiled cache: the workload is replayed until every domain is known (the first check of a
domain is the evaluator's, the second compiles it), then measured, best of N passes, on one
core (``time.process_time``):

* **whole workload** — every check, compiled where the map decides, the evaluator where it
  does not (``exists:%{i}``, ``ptr``, …) the first time a client asks, its remembered answer
  after that (``compile/answers.py``); and the same with nothing remembered, in the same run;
  CPU per check against pyspf's from part 1;
* **compilable checks** — only the checks a map answers (asked of the cache after the run);
* **memory** — the compiled cache of N sender domains (both IP versions), measured with
  ``tracemalloc`` (all Python memory the cache and its maps keep, after a first pass has
  filled the resolver's and the parser's own caches) and as the cache's own byte estimate.
"""

from __future__ import annotations

import asyncio
import gc
import time
import tracemalloc
from collections.abc import Sequence
from typing import Any

import adapters
from world import Check, World, build_world

from spfkit.compile import CompiledCache, compile_policy
from spfkit.compile.answers import RememberedAnswers
from spfkit.compile.dispatch import cache_for
from spfkit.evaluate import CheckOptions, check
from spfkit.identity import Identity, normalize_ip, sender_with_local_part, subject_for
from spfkit.results import CheckResult

__all__ = ["measure_cache_memory", "measure_warm"]


async def _replay(checks: Sequence[Check], resolver: Any, options: CheckOptions) -> tuple[list[CheckResult], float]:
    cpu0 = time.process_time()
    out = [await check(c.ip, c.mail_from, c.helo, resolver=resolver, options=options) for c in checks]
    return out, time.process_time() - cpu0


def measure_warm(world: World, repeats: int, pyspf_us: float | None) -> dict[str, Any]:
    """Warm checks: whole workload (with and without remembered evaluator answers, in the
    same run), compilable checks only; ratios against pyspf's CPU per check."""
    options = CheckOptions()
    zone = adapters.memory_zone(world.zonedata)

    async def main() -> dict[str, Any]:
        resolver = adapters.CachingResolver(adapters.MemoryResolver(zone))
        await _replay(world.checks, resolver, options)  # every domain seen once
        second, _ = await _replay(world.checks, resolver, options)  # compiled now
        third, _ = await _replay(world.checks, resolver, options)  # evaluator answers remembered
        cache = cache_for(resolver)
        assert cache is not None
        compiled = [c for c in world.checks if _map_decides(cache, c)]
        remembered = sum(1 for r in third if not r.trace) - len(compiled)
        # the same workload with nothing remembered (the answers' bytes set to 0)
        plain = adapters.CachingResolver(adapters.MemoryResolver(zone))
        plain_cache = cache_for(plain)
        assert plain_cache is not None
        plain_cache.answers = RememberedAnswers(0)
        for _ in range(3):
            await _replay(world.checks, plain, options)
        best_all = best_compiled = best_plain = float("inf")
        for _ in range(repeats):
            _, cpu = await _replay(world.checks, resolver, options)
            best_all = min(best_all, cpu)
            _, cpu = await _replay(compiled, resolver, options)
            best_compiled = min(best_compiled, cpu)
            _, cpu = await _replay(world.checks, plain, options)
            best_plain = min(best_plain, cpu)
        n, k = len(world.checks), len(compiled)
        us_all, us_compiled = best_all / n * 1e6, best_compiled / max(k, 1) * 1e6
        us_plain = best_plain / n * 1e6
        return {
            "checks": n, "compiled_checks": k, "remembered_checks": remembered,
            "evaluated_checks": sum(1 for r in third if r.trace),
            "cpu_us_per_check_all": us_all, "checks_per_cpu_s_all": 1e6 / us_all,
            "cpu_us_per_check_not_remembering": us_plain,
            "checks_per_cpu_s_not_remembering": 1e6 / us_plain,
            "cpu_us_per_check_compiled": us_compiled, "checks_per_cpu_s_compiled": 1e6 / us_compiled,
            "x_pyspf_all": (pyspf_us / us_all) if pyspf_us else None,
            "x_pyspf_not_remembering": (pyspf_us / us_plain) if pyspf_us else None,
            "x_pyspf_compiled": (pyspf_us / us_compiled) if pyspf_us else None,
            "results": [r.result.value for r in third],
            "same_outcome_all_passes": all(_same(a, b) for a, b in zip(second, third)),
        }

    return asyncio.run(main())


def _map_decides(cache: CompiledCache, c: Check) -> bool:
    """Whether a compiled map (not a remembered answer) answers this check."""
    subject = subject_for(Identity.MAILFROM if c.mail_from else Identity.HELO, c.mail_from, c.helo)
    client = normalize_ip(c.ip)
    policy = cache.get((subject.domain, client.version, None),
                       sender_with_local_part(subject.sender, subject.domain), c.helo.strip())
    return policy is not None and policy.decide(int(client)) is not None


def _same(a: CheckResult, b: CheckResult) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in (
        "result", "domain", "mechanism", "explanation", "problem", "lookups", "void_lookups",
        "no_such_domain"))


def measure_cache_memory(n_domains: int) -> dict[str, Any]:
    """The compiled cache of ``n_domains`` sender domains of a world of that size, both IP
    versions: Python memory kept (tracemalloc) and the cache's own estimate."""
    world = build_world(n_domains, 10, seed=12)
    resolver = adapters.MemoryResolver(adapters.memory_zone(world.zonedata))
    domains = sorted(world.shapes)
    cache = CompiledCache(max_bytes=1 << 40)

    kept_maps = 0

    async def main(keep: bool) -> float:
        nonlocal kept_maps
        cpu0 = time.process_time()
        for d in domains:
            for version in (4, 6):
                policy = await compile_policy(d, version, resolver=resolver, sender=f"postmaster@{d}", helo=d)
                if keep:
                    cache.put((d, version, None), policy, f"postmaster@{d}", d)
                    kept_maps += policy.ttl > 0
        return time.process_time() - cpu0

    # a first pass fills what is not the cache's (the resolver's answers, the parser's cache)
    asyncio.run(main(keep=False))
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    cpu = asyncio.run(main(keep=True))
    resolver.queries.clear()  # the in-memory resolver's log of questions is not the cache's
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return {"domains": len(domains), "maps": kept_maps, "entries": len(cache), "tracemalloc_bytes": kept,
            "estimated_bytes": cache.stats().bytes, "compile_cpu_us_per_map": cpu / (2 * len(domains)) * 1e6,
            "mb_per_100k_domains": kept / len(domains) * 100_000 / 1e6}
