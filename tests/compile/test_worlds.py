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

import pytest

from spfkit.evaluate import CheckOptions
from spfkit.identity import Identity, normalize_ip, subject_for
from tests.compile.identity import Tally, compare
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
