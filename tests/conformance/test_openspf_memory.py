"""The openspf suites again, answered in-process (no sockets): every vector, every commit.

Same vectors and expectations as ``test_openspf.py``; the zone data is answered by
``tests/fixtures/zone_resolver.py``, which shares the loopback server's rules.
"""

from __future__ import annotations

import asyncio

import pytest

from spfkit.evaluate import CheckOptions, check
from tests.conformance import harness
from tests.fixtures.openspf import Case, Scenario
from tests.fixtures.zone_resolver import ZoneDataResolver
from tests.fixtures.zonedata import Zone

_ZONES: dict[int, Zone] = {}


def _zone(scenario: Scenario) -> Zone:
    # scenarios are loaded once per session (harness.scenarios is cached)
    if id(scenario) not in _ZONES:
        _ZONES[id(scenario)] = Zone(scenario.zonedata)
    return _ZONES[id(scenario)]


@pytest.mark.parametrize(("scenario", "case"), harness.params())
def test_vector(scenario: Scenario, case: Case) -> None:
    resolver = ZoneDataResolver(_zone(scenario))
    options = CheckOptions(default_explanation=harness.DEFAULT_EXPLANATION)
    result = asyncio.run(check(case.host, case.mailfrom, case.helo, resolver=resolver, options=options))
    results, explanation = harness.expected(case)
    detail = f"{case.id}: got {result.result.value} {result.explanation!r} ({result.problem})"
    assert result.result.value in results, detail
    if explanation is not None:
        assert result.explanation == explanation, detail
