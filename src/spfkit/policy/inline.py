"""Awaiting a coroutine in place, told when it first has to wait: concurrency only when needed.

A warm check is answered from a compiled map or cached answers without ever waiting, so a
task per check (created, scheduled, stepped on the loop's next turn, its waiter woken on a
later one) is pure overhead; but a cold check waits on DNS, and then the other checks of the
transaction should already be running (RFC 7208 §2.3 and §2.4 checks are independent).
:func:`awaited` runs a coroutine inside the current task, exactly as ``await coro`` would (the
same task, so ``asyncio.timeout`` and cancellation apply as before), and calls ``on_wait``
once, the first time the coroutine suspends: that is where the caller starts the rest as tasks.

Imports no asyncio: it drives the coroutine protocol (``send``/``throw``) by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Generator
from typing import Any, Generic, TypeVar, cast

__all__ = ["Inline", "awaited"]

T = TypeVar("T")


def awaited(coro: Coroutine[Any, Any, T], on_wait: Callable[[], object]) -> Inline[T]:
    """``await awaited(coro, on_wait)`` is ``await coro``, and ``on_wait()`` is called the first
    time ``coro`` suspends (never, when it finishes at once)."""
    return Inline(coro, on_wait)


class Inline(Generic[T]):
    """The awaitable :func:`awaited` returns (await it once)."""

    __slots__ = ("_coro", "_on_wait")

    def __init__(self, coro: Coroutine[Any, Any, T], on_wait: Callable[[], object]) -> None:
        self._coro = coro
        self._on_wait = on_wait

    def __await__(self) -> Generator[Any, Any, T]:
        coro = self._coro
        try:
            waiting = coro.send(None)
        except StopIteration as done:
            return cast(T, done.value)
        self._on_wait()
        while True:  # what ``yield from`` does, by hand (the first step is taken above)
            try:
                sent = yield waiting
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # thrown in by the task: cancellation
                try:
                    waiting = coro.throw(exc)
                except StopIteration as done:
                    return cast(T, done.value)
            else:
                try:
                    waiting = coro.send(sent)
                except StopIteration as done:
                    return cast(T, done.value)
