"""Prefetching is an optimisation only: for every openspf vector, ``check()`` with
``CheckOptions(prefetch=False)`` and ``prefetch=True`` against the same loopback DNS server
gives the same result, explanation, §4.6.4 counts, deciding mechanism and domain."""

from __future__ import annotations

import asyncio

import pytest

from tests.conformance import harness
from tests.conformance.harness import ScenarioServer
from tests.fixtures.openspf import Case, Scenario


@pytest.mark.parametrize(("scenario", "case"), harness.params())
def test_prefetch_changes_nothing(conformance_dns: ScenarioServer, scenario: Scenario, case: Case) -> None:
    server = conformance_dns.serve(scenario)
    plain = asyncio.run(harness.evaluate(case, server.port, prefetch=False))
    eager = asyncio.run(harness.evaluate(case, server.port, prefetch=True))
    assert harness.outcome(eager) == harness.outcome(plain), (
        f"prefetch=False:\n{harness.describe(case, plain, server)}\n"
        f"prefetch=True:\n{harness.describe(case, eager, server)}"
    )
