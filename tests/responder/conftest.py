"""Fixtures shared by the verifier's tests: ``verifier`` (test_handler.py's SMTP session)."""

from tests.responder.test_handler import verifier

__all__ = ["verifier"]
