"""Prefetch: start lookups that later terms will need while a term waits on DNS.

Placeholder replaced below.
"""

from __future__ import annotations

from spfkit.evaluate.run import Evaluation
from spfkit.record.model import Record


def plan_prefetch(run: Evaluation, record: Record, domain: str) -> None:
    """Start the lookups later terms of ``record`` will need (see module docstring)."""
    return None
