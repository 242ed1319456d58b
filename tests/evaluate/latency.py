"""A resolver with latency, so that the evaluator's background (prefetch) lookups really run."""

from __future__ import annotations

import asyncio
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from spfkit.lookup.memory import MemoryResolver
from spfkit.lookup.protocol import Lookup, MXHost, RRType, TXTRecord


class Latency:
    """``MemoryResolver`` answering after ``delay`` seconds, so background (prefetch) lookups
    really run. A question counts as received when it is asked, even if later cancelled."""

    def __init__(self, zone: dict[str, Any], delay: float = 0.001) -> None:
        self.inner = MemoryResolver(zone)
        self.delay = delay

    @property
    def queries(self) -> list[tuple[RRType, str]]:
        return self.inner.queries

    async def _ask(self, ask: Any, name: str) -> Any:
        answer = await ask(name)
        await asyncio.sleep(self.delay)
        return answer

    async def txt(self, name: str) -> Lookup[TXTRecord]:
        return await self._ask(self.inner.txt, name)

    async def a(self, name: str) -> Lookup[IPv4Address]:
        return await self._ask(self.inner.a, name)

    async def aaaa(self, name: str) -> Lookup[IPv6Address]:
        return await self._ask(self.inner.aaaa, name)

    async def mx(self, name: str) -> Lookup[MXHost]:
        return await self._ask(self.inner.mx, name)

    async def ptr(self, name: str) -> Lookup[str]:
        return await self._ask(self.inner.ptr, name)
