"""Compiled policies over the random worlds of ``benchmarks/world.py`` (several seeds): for
every domain a check of the world asks about, the compiled answer equals the evaluator's at
every range boundary of its IPv4 and IPv6 maps, at random addresses, at the world's own
clients, and for IPv4-mapped clients (in memory)."""

from __future__ import annotations

import asyncio
import importlib
import random
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from spfkit.evaluate import CheckOptions
from spfkit.evaluate import check as check_identity
from spfkit.evaluate.check_host import check_host
from spfkit.identity import Identity, normalize_ip, subject_for
from spfkit.lookup import CachingResolver
from spfkit.results import CheckResult
from tests.compile.identity import Tally, compare, headers, outcome
from tests.fixtures.zone_resolver import ZoneDataResolver
from tests.fixtures.zonedata import Zone

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _bench(name: str) -> ModuleType:
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    return importlib.import_module(name)


@pytest.mark.parametrize("seed", [1, 7208, 31337, 4])
def test_compiled_equals_evaluator_in_a_random_world(seed: int) -> None:
    world = _bench("world").build_world(n_domains=40, n_checks=80, seed=seed)
    resolver = ZoneDataResolver(Zone(world.zonedata))
    options = CheckOptions()
    rng = random.Random(seed)
    tally = Tally()

    async def run() -> None:
        seen: set[tuple[str, str, str, int]] = set()
        for check in world.checks:
            identity = Identity.MAILFROM if check.mail_from else Identity.HELO
            subject = subject_for(identity, check.mail_from, check.helo)
            client = normalize_ip(check.ip)
            await compare(resolver, subject.domain, subject.sender, check.helo, version=client.version,
                          options=options, points=[int(client)], tally=tally)
            for version in (4, 6):
                key = (subject.domain, subject.sender, check.helo, version)
                if key not in seen:
                    seen.add(key)
                    await compare(resolver, subject.domain, subject.sender, check.helo,
                                  version=version, options=options, rng=rng, tally=tally)

    asyncio.run(run())
    # the world is mostly compilable: most clients were answered from the map
    assert tally.compared > 4 * tally.fallback, tally
    assert {"pass", "fail", "softfail", "neutral", "permerror"} <= set(tally.results), tally


@pytest.mark.parametrize("seed", [1, 7208, 31337])
def test_every_check_of_a_random_world_answers_as_the_evaluator_when_warm(seed: int) -> None:
    """The world's checks replayed through ``check()`` (as a policy server does): once
    (first checks), again (compiled; clients the maps leave to the evaluator remembered),
    and a third time, answered from maps and remembered answers; every answer of the third
    pass equals ``check_host()``'s in every field and both headers."""
    world = _bench("world").build_world(n_domains=40, n_checks=120, seed=seed)
    # a policy server's cache keeps every answer a minute at least (the zone data's negative
    # answers carry no SOA, so a TTL of 0, and answers built from them are not remembered)
    resolver = CachingResolver(ZoneDataResolver(Zone(world.zonedata)), min_ttl=60)

    async def run() -> tuple[int, int]:
        await _replay(world.checks, resolver)
        second = sum(1 for r in await _replay(world.checks, resolver) if r.trace)
        third = 0
        for c in world.checks:
            got = await check_identity(c.ip, c.mail_from, c.helo, resolver=resolver)
            identity = Identity.MAILFROM if c.mail_from else Identity.HELO
            subject = subject_for(identity, c.mail_from, c.helo)
            want = await check_host(c.ip, subject.domain, subject.sender, resolver=resolver,
                                    helo=c.helo.strip())
            detail = f"{c}: evaluator {outcome(want)}, warm {outcome(got)}"
            assert outcome(got) == outcome(want), detail
            assert headers(got, c.ip, subject.sender, c.helo) == headers(want, c.ip, subject.sender, c.helo)
            third += bool(got.trace)
        return second, third

    # the clients the maps left to the evaluator the second time were remembered
    second, third = asyncio.run(run())
    assert second > 0 and third == 0, (second, third)


async def _replay(checks: list[Any], resolver: CachingResolver) -> list[CheckResult]:
    return [await check_identity(c.ip, c.mail_from, c.helo, resolver=resolver) for c in checks]
