"""The loopback DNS server of the conformance run, for the compiled-policy proofs too."""

from __future__ import annotations

from tests.conformance.conftest import conformance_dns, pytest_configure

__all__ = ["conformance_dns", "pytest_configure"]
