"""InFlight: one query per question in flight, and its one cancellation rule."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from spfkit.lookup import InFlight, Lookup, LookupStatus

ANSWER: Lookup[Any] = Lookup(LookupStatus.ANSWER, (b"x",), 60)


class Fetch:
    """Counts its calls; each waits for ``gate``, then answers (or raises ``error``)."""

    def __init__(self) -> None:
        self.calls = 0
        self.gate = asyncio.Event()
        self.error: Exception | None = None

    async def __call__(self) -> Lookup[Any]:
        self.calls += 1
        await self.gate.wait()
        if self.error is not None:
            raise self.error
        return ANSWER


def test_identical_questions_share_one_query() -> None:
    async def scenario() -> tuple[list[Lookup[Any]], int, int, int]:
        memo, fetch = InFlight(), Fetch()
        tasks = [asyncio.create_task(memo.ask("k", fetch)) for _ in range(3)]
        other = asyncio.create_task(memo.ask("other", fetch))
        await asyncio.sleep(0)
        assert "k" in memo and len(memo) == 2
        fetch.gate.set()
        answers = await asyncio.gather(*tasks, other)
        return answers, fetch.calls, memo.joined, len(memo)

    answers, calls, joined, left = asyncio.run(scenario())
    assert all(a is ANSWER for a in answers)
    assert (calls, joined, left) == (2, 2, 0)


def test_cancelling_a_waiter_never_touches_the_shared_query() -> None:
    async def scenario() -> tuple[Lookup[Any], bool, int]:
        memo, fetch = InFlight(), Fetch()
        starter = asyncio.create_task(memo.ask("k", fetch))
        waiter = asyncio.create_task(memo.ask("k", fetch))
        await asyncio.sleep(0)
        waiter.cancel()
        await asyncio.sleep(0)
        fetch.gate.set()
        return await starter, waiter.cancelled(), fetch.calls

    answer, cancelled, calls = asyncio.run(scenario())
    assert answer is ANSWER and cancelled and calls == 1


def test_cancelling_the_starter_hands_the_question_to_a_waiter() -> None:
    async def scenario() -> tuple[bool, Lookup[Any], Lookup[Any], int]:
        memo, fetch = InFlight(), Fetch()
        starter = asyncio.create_task(memo.ask("k", fetch))
        waiters = [asyncio.create_task(memo.ask("k", fetch)) for _ in range(2)]
        await asyncio.sleep(0)
        starter.cancel()
        for _ in range(3):  # the starter ends; one waiter asks again, the other joins it
            await asyncio.sleep(0)
        fetch.gate.set()
        first, second = await asyncio.gather(*waiters)
        return starter.cancelled(), first, second, fetch.calls

    cancelled, first, second, calls = asyncio.run(scenario())
    assert cancelled and first is ANSWER and second is ANSWER
    assert calls == 2  # asked once more, by one waiter, for both


def test_an_exception_reaches_every_waiter_and_leaves_the_memo() -> None:
    async def scenario() -> tuple[list[BaseException | Lookup[Any]], int, Lookup[Any], int]:
        memo, fetch = InFlight(), Fetch()
        fetch.error = RuntimeError("resolver bug")
        tasks = [asyncio.create_task(memo.ask("k", fetch)) for _ in range(2)]
        await asyncio.sleep(0)
        fetch.gate.set()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        left = len(memo)
        fetch.error = None
        return outcomes, left, await memo.ask("k", fetch), fetch.calls

    outcomes, left, again, calls = asyncio.run(scenario())
    assert [type(o) for o in outcomes] == [RuntimeError, RuntimeError]
    assert left == 0 and again is ANSWER and calls == 2


def test_a_cancelled_lone_starter_leaves_nothing_behind() -> None:
    async def scenario() -> int:
        memo, fetch = InFlight(), Fetch()
        task = asyncio.create_task(memo.ask("k", fetch))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return len(memo)

    assert asyncio.run(scenario()) == 0
