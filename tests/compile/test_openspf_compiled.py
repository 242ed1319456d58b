"""Compiled policies over both openspf suites: for every vector, the compiled answer equals the
evaluator's (result, deciding term, domain, §4.6.4 counts, problem, explanation, headers).

Through real DNS: the vector's zone served by the loopback fixture (UDP + TCP), the compiler
and the evaluator both asking it through ``DnsResolver``, at the vector's client, the
boundaries of the range it falls in, and its IPv4-mapped form. In memory: at every boundary
of every map of every vector, both IP versions.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from spfkit.evaluate import CheckOptions
from spfkit.identity import Identity, normalize_ip, subject_for
from spfkit.lookup import DnsResolver
from tests.compile.identity import Tally, compare
from tests.conformance import harness
from tests.conformance.harness import ScenarioServer
from tests.fixtures.openspf import Case, Scenario
from tests.fixtures.zone_resolver import ZoneDataResolver
from tests.fixtures.zonedata import Zone

OPTIONS = CheckOptions(default_explanation=harness.DEFAULT_EXPLANATION)
_ZONES: dict[int, Zone] = {}


def _zone(scenario: Scenario) -> Zone:
    if id(scenario) not in _ZONES:
        _ZONES[id(scenario)] = Zone(scenario.zonedata)
    return _ZONES[id(scenario)]


def _around(policy_ranges: list[tuple[int, int, object]], x: int, end: int) -> list[int]:
    for first, last, _ in policy_ranges:
        if first <= x <= last:
            return sorted({p for p in (x, first, last, first - 1, last + 1) if 0 <= p <= end})
    raise AssertionError("the map does not cover the space")


async def _over_dns(case: Case, port: int) -> Tally:
    resolver = DnsResolver(nameservers=["127.0.0.1"], port=port, timeout=harness.QUERY_TIMEOUT)
    subject = subject_for(Identity.MAILFROM, case.mailfrom, case.helo)
    client = normalize_ip(case.host)
    tally = Tally()
    # the vector's client first (compiling answers what the map needs to know)
    policy = await compare(resolver, subject.domain, subject.sender, case.helo.strip(),
                           version=client.version, options=OPTIONS, points=[int(client)], tally=tally)
    end = (1 << (32 if client.version == 4 else 128)) - 1
    await compare(resolver, subject.domain, subject.sender, case.helo.strip(), version=client.version,
                  options=OPTIONS, points=_around(policy.ranges(), int(client), end), tally=tally)
    return tally


@pytest.mark.parametrize(("scenario", "case"), harness.params())
def test_compiled_equals_evaluator_over_dns(conformance_dns: ScenarioServer, scenario: Scenario,
                                            case: Case) -> None:
    server = conformance_dns.serve(scenario)
    tally = asyncio.run(_over_dns(case, server.port))
    assert tally.compared + tally.fallback >= 2


@pytest.mark.parametrize(("scenario", "case"), harness.params())
def test_compiled_equals_evaluator_in_memory(scenario: Scenario, case: Case) -> None:
    resolver = ZoneDataResolver(_zone(scenario))
    subject = subject_for(Identity.MAILFROM, case.mailfrom, case.helo)
    rng = random.Random(case.id)

    async def both() -> None:
        for version in (4, 6):
            await compare(resolver, subject.domain, subject.sender, case.helo.strip(),
                          version=version, options=OPTIONS, rng=rng)

    asyncio.run(both())
