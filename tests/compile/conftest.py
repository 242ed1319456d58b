"""The loopback DNS server of the conformance run, for the compiled-policy proofs too."""

from __future__ import annotations

# the evaluator's package first: it imports the dispatcher (evaluate.identities), which
# imports the evaluator; a test that imports spfkit.compile.dispatch first would meet a
# half-made module
import spfkit.evaluate  # noqa: F401
from tests.conformance.conftest import conformance_dns, pytest_configure

__all__ = ["conformance_dns", "pytest_configure"]
