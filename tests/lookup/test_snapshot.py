"""SnapshotResolver: each question asked once, the same answer ever after."""

from __future__ import annotations

import asyncio
from typing import Any

from spfkit.lookup import Lookup, LookupStatus, MemoryResolver, RRType, SnapshotResolver

ZONE = {"example.com": {"TXT": "v=spf1 -all", "A": "192.0.2.1"}}


def test_each_question_is_asked_once_whatever_the_case_or_dot() -> None:
    world = MemoryResolver(ZONE)
    snap = SnapshotResolver(world)

    async def scenario() -> list[Lookup[Any]]:
        return [await snap.txt("example.com"), await snap.txt("EXAMPLE.com."),
                await snap.lookup(RRType.TXT, "example.com"), await snap.a("example.com")]

    first, again, third, address = asyncio.run(scenario())
    assert first is again is third and first.status is LookupStatus.ANSWER
    assert address.status is LookupStatus.ANSWER
    assert world.queries == [(RRType.TXT, "example.com"), (RRType.A, "example.com")]


def test_peek_gives_only_what_was_asked_before() -> None:
    snap = SnapshotResolver(MemoryResolver(ZONE))
    assert snap.peek(RRType.TXT, "example.com") is None
    answer = asyncio.run(snap.txt("example.com"))
    assert snap.peek(RRType.TXT, "Example.Com") is answer


def test_concurrent_identical_questions_share_one_query() -> None:
    world = MemoryResolver(ZONE)

    async def scenario() -> list[Lookup[Any]]:
        gate = asyncio.Event()

        class Gated(MemoryResolver):
            async def lookup(self, rrtype: RRType, name: str) -> Lookup[Any]:
                await gate.wait()
                return await world.lookup(rrtype, name)

        snap = SnapshotResolver(Gated())
        tasks = [asyncio.create_task(snap.txt("example.com")) for _ in range(3)]
        await asyncio.sleep(0)
        gate.set()
        return await asyncio.gather(*tasks)

    answers = asyncio.run(scenario())
    assert answers[0] is answers[1] is answers[2]
    assert len(world.queries) == 1


def test_a_refusal_is_given_but_not_held() -> None:
    world = MemoryResolver(ZONE)

    class Closed(SnapshotResolver):
        refusals = 0

        def refusal(self, rrtype: RRType, name: str) -> Lookup[Any] | None:
            self.refusals += 1
            return Lookup(LookupStatus.TIMEOUT)

    snap = Closed(world)
    for _ in range(2):
        assert asyncio.run(snap.txt("example.com")).status is LookupStatus.TIMEOUT
    assert snap.refusals == 2 and world.queries == []
    assert snap.peek(RRType.TXT, "example.com") is None
