"""Fixtures of the web tests: the app over the bundled example zone, in-process (no sockets).

``client`` is Starlette's TestClient over ``create_app(ZoneResolver(examples/example.zone))``
with the rate limit off (its own tests turn it on) and a fixed receiver name, so headers are
the same on every machine.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spfkit.lookup import ZoneResolver
from spfkit.web import create_app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ZONE = ROOT / "examples" / "example.zone"
RECEIVER = "mx.example.org"

with warnings.catch_warnings():
    # Starlette >= 1.x asks for the httpx2 package and warns when it uses httpx
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def make_client(resolver: Any = None, *, client: tuple[str, int] | None = None,
                **options: Any) -> TestClient:
    """A TestClient of ``create_app(resolver, **options)`` (the example zone by default)."""
    options.setdefault("rate_limit", None)
    options.setdefault("receiver", RECEIVER)
    app = create_app(resolver if resolver is not None else ZoneResolver(EXAMPLE_ZONE), **options)
    return TestClient(app, client=client) if client else TestClient(app)


@pytest.fixture(scope="module")
def zone() -> ZoneResolver:
    return ZoneResolver(EXAMPLE_ZONE)


@pytest.fixture(scope="module")
def client(zone: ZoneResolver) -> Iterator[TestClient]:
    with make_client(zone) as test_client:
        yield test_client
