"""RFC 7208 §2–§8: the openspf suites, every vector through spfkit's real resolver.

One test per vector of ``../shared/spf-test-suite/rfc7208-tests.yml`` and ``rfc4408-tests.yml``,
id ``rfc7208/<scenario>/<test>``, marked ``spec(...)`` with the suite's section/paragraph. Each
scenario's zone data is served by a loopback DNS server (``tests/fixtures/dnsserver.py``:
UDP + TCP, silence for TIMEOUT). RFC 4408 vectors whose answer RFC 7208 changed take their
expected result from ``rfc4408-changes.yml``. No skip, no xfail.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.conformance import harness
from tests.conformance.harness import ScenarioServer
from tests.fixtures.openspf import Case, Scenario


@pytest.mark.parametrize(("scenario", "case"), harness.params())
def test_vector(conformance_dns: ScenarioServer, scenario: Scenario, case: Case) -> None:
    server = conformance_dns.serve(scenario)
    result = asyncio.run(harness.evaluate(case, server.port, prefetch=True))
    results, explanation = harness.expected(case)
    assert result.result.value in results, harness.describe(case, result, server)
    if explanation is not None:
        assert result.explanation == explanation, harness.describe(case, result, server)


def test_rfc4408_changes_are_valid() -> None:
    """Every entry of rfc4408-changes.yml names a real RFC 4408 vector and RFC 7208 results."""
    ids = {case.id for scenario in harness.scenarios("rfc4408") for case in scenario.tests}
    for change in harness.load_changes().values():
        assert change.id in ids, f"{change.id}: no such vector in rfc4408-tests.yml"
        assert change.new_result and set(change.new_result) <= harness.RESULTS, change
        assert change.rfc7208_section and change.why, change


def test_every_vector_has_a_unique_id() -> None:
    ids = [case.id for _, case in harness.vectors()]
    assert len(ids) == len(set(ids)) == 203 + 191
