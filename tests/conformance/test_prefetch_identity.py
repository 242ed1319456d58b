"""Prefetching is an optimisation only: for every openspf vector (both suites), ``check()``
without prefetch, with sequential prefetch and with eager prefetch (``FetchOrder``) against
the same loopback DNS server gives the same result, explanation, §4.6.4 counts, deciding
mechanism and domain, and the same evaluation steps in the same order."""

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
    for order in ("sequential", "eager"):
        ahead = asyncio.run(harness.evaluate(case, server.port, prefetch=True, fetch_order=order))
        assert harness.outcome(ahead) == harness.outcome(plain), (
            f"prefetch=False:\n{harness.describe(case, plain, server)}\n"
            f"prefetch=True, {order}:\n{harness.describe(case, ahead, server)}"
        )
        assert harness.steps(ahead) == harness.steps(plain), order
