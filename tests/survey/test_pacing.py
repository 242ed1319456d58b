"""PacedResolver: retries after TIMEOUT/SERVFAIL only, and never more queries in flight than allowed."""

from __future__ import annotations

import asyncio
from typing import Any

from spfkit.lookup import BaseResolver, Lookup, LookupStatus, MemoryResolver, RRType
from spfkit.survey.pacing import PacedResolver, fd_budget


def test_retries_after_errors_only() -> None:
    inner = MemoryResolver({"slow.example": "TIMEOUT", "bad.example": "SERVFAIL",
                            "ok.example": {"TXT": "v=spf1 -all"}})
    paced = PacedResolver(inner, retries=2)

    async def ask() -> list[LookupStatus]:
        return [(await paced.txt(n)).status for n in ("slow.example", "bad.example", "ok.example",
                                                       "gone.example")]

    assert asyncio.run(ask()) == [LookupStatus.TIMEOUT, LookupStatus.SERVFAIL, LookupStatus.ANSWER,
                                  LookupStatus.NXDOMAIN]
    assert len(inner.queries) == 3 + 3 + 1 + 1 and paced.retried == 4


class _Counting(BaseResolver):
    def __init__(self) -> None:
        self.now = 0
        self.most = 0

    async def lookup(self, rrtype: RRType, name: str) -> Lookup[Any]:
        self.now += 1
        self.most = max(self.most, self.now)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        self.now -= 1
        return Lookup(LookupStatus.NODATA)


def test_in_flight_cap_holds() -> None:
    inner = _Counting()
    paced = PacedResolver(inner, in_flight=7, retries=0)

    async def many() -> None:
        await asyncio.gather(*(paced.txt(f"d{i}.example") for i in range(200)))

    asyncio.run(many())
    assert inner.most == 7 and paced.sent == 200
    assert 8 <= fd_budget() and PacedResolver(inner, in_flight=10**9).in_flight <= fd_budget()
