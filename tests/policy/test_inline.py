"""inline.awaited: ``await coro`` in the current task, with a hook at its first wait."""

from __future__ import annotations

import asyncio

import pytest

from spfkit.policy.inline import awaited


async def _at_once() -> str:
    return "now"


async def _waits(event: asyncio.Event) -> str:
    await event.wait()
    return "later"


def test_a_coroutine_that_never_waits_is_answered_without_the_hook() -> None:
    calls: list[str] = []

    async def main() -> str:
        return await awaited(_at_once(), lambda: calls.append("waited"))

    assert asyncio.run(main()) == "now" and calls == []


def test_the_hook_runs_once_at_the_first_wait_and_the_result_comes_through() -> None:
    calls: list[str] = []

    async def main() -> str:
        event = asyncio.Event()

        async def two_waits() -> str:
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            return await _waits(event)

        loop = asyncio.get_running_loop()
        loop.call_later(0.05, event.set)
        return await awaited(two_waits(), lambda: calls.append("waited"))

    assert asyncio.run(main()) == "later" and calls == ["waited"]


def test_cancellation_timeouts_and_errors_reach_the_coroutine_as_with_await() -> None:
    seen: list[str] = []

    async def guarded() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            seen.append("cancelled inside")
            raise

    async def failing() -> None:
        await asyncio.sleep(0)
        raise LookupError("boom")

    async def in_place() -> None:
        await awaited(guarded(), lambda: None)

    async def main() -> None:
        task = asyncio.ensure_future(in_place())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(LookupError, match="boom"):
            await awaited(failing(), lambda: None)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):  # the current task's timeout applies inside
                await awaited(guarded(), lambda: None)

    asyncio.run(main())
    assert seen == ["cancelled inside", "cancelled inside"]
