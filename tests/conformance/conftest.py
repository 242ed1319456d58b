"""Fixtures of the real-DNS conformance run: one loopback DNS server per test session
(per xdist worker), reloaded with each scenario's zone data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conformance.harness import ScenarioServer
from tests.fixtures.dnsserver import ZoneDataServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "spec(*sections): the RFC section/paragraph a vector checks")


@pytest.fixture(scope="session")
def conformance_dns() -> Iterator[ScenarioServer]:
    with ZoneDataServer() as server:
        yield ScenarioServer(server)
