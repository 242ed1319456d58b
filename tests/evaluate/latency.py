"""A resolver with latency, so that the evaluator's background (prefetch) lookups really run."""

from __future__ import annotations

import asyncio
from typing import Any

from spfkit.lookup.memory import MemoryResolver
from spfkit.lookup.protocol import BaseResolver, Lookup, RRType


class Latency(BaseResolver):
    """``MemoryResolver`` answering after ``delay`` seconds, so background (prefetch) lookups
    really run. A question counts as received when it is asked, even if later cancelled."""

    def __init__(self, zone: dict[str, Any], delay: float = 0.001) -> None:
        self.inner = MemoryResolver(zone)
        self.delay = delay

    @property
    def queries(self) -> list[tuple[RRType, str]]:
        return self.inner.queries

    async def lookup(self, rrtype: RRType, name: str) -> Lookup[Any]:
        answer = await self.inner.lookup(rrtype, name)
        await asyncio.sleep(self.delay)
        return answer
