"""``Queries``: each question asked at most once per check; background work ends with it."""

from __future__ import annotations

import asyncio
from typing import Any

from spfkit.evaluate.memo import Queries
from spfkit.lookup.memory import MemoryResolver
from spfkit.lookup.protocol import LookupStatus, RRType
from tests.evaluate.latency import Latency

ZONE: dict[str, Any] = {"example.com": {"TXT": "v=spf1 -all", "A": "192.0.2.1"}}


def test_a_question_is_asked_once_whatever_its_case() -> None:
    resolver = MemoryResolver(ZONE)

    async def main() -> None:
        queries = Queries(resolver)
        first = await queries.ask(RRType.A, "example.com")
        again = await queries.ask(RRType.A, "EXAMPLE.com")
        assert first is again and first.status is LookupStatus.ANSWER

    asyncio.run(main())
    assert resolver.queries == [(RRType.A, "example.com")]


def test_a_started_question_is_not_asked_again() -> None:
    resolver = Latency(ZONE)

    async def main() -> None:
        queries = Queries(resolver)
        queries.start(RRType.TXT, "example.com")
        queries.start(RRType.TXT, "example.com")
        peeked, asked = await asyncio.gather(
            queries.peek(RRType.TXT, "example.com"), queries.ask(RRType.TXT, "example.com"))
        assert peeked == asked

    asyncio.run(main())
    assert resolver.queries == [(RRType.TXT, "example.com")]


def test_close_cancels_what_nobody_will_read() -> None:
    resolver = Latency(ZONE)

    async def main() -> list[bool]:
        queries = Queries(resolver)
        ran: list[bool] = []

        async def job() -> None:
            ran.append(True)

        queries.spawn_when_waiting(job)  # never reached: closed before the loop runs it
        queries.start(RRType.A, "example.com")
        pending = list(queries._tasks)
        queries.close()
        await asyncio.sleep(0)
        assert all(task.cancelled() for task in pending)
        return ran

    assert asyncio.run(main()) == []
