"""The ``run`` fixture of the evaluator tests (see ``common.py``)."""

from __future__ import annotations

import pytest

from tests.evaluate.common import Run, check_zone


@pytest.fixture(params=["sequential", "prefetch"])
def run(request: pytest.FixtureRequest) -> Run:
    """Check against an in-memory zone: sequentially (instant answers, no prefetch), or with
    prefetch over a resolver with latency, where prefetch lookups actually go out."""
    prefetch = request.param == "prefetch"
    return lambda zone, **kwargs: check_zone(zone, prefetch, **kwargs)
