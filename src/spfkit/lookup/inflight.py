"""Questions in flight: identical questions asked while one is being answered share it.

The one memo of pending questions, used by every resolver that coalesces
(:class:`~spfkit.lookup.cache.CachingResolver`,
:class:`~spfkit.lookup.snapshot.SnapshotResolver` and the web's per-request budget).
Keys are whatever the caller uses, normally ``(RRType, name_key(name))``.

**The cancellation rule.** The query runs in the task of the asker that started it (no Task
per question: a miss costs one Future). An asker that joined only waits: cancelling it never
touches the shared query. Cancelling the asker that started the query stops it; the askers
still waiting are not left hanging: one of them asks again and the others wait for that.
A question leaves the memo the moment it ends, answered or not, so the next asker after an
exception asks again; the exception itself (other than a cancellation) reaches every asker
that was waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from spfkit.lookup.protocol import Lookup

__all__ = ["InFlight"]


class _Abandoned(Exception):
    """The asker that was fetching an answer for others was cancelled."""


class InFlight:
    """The memo of pending questions; ``joined`` counts the askers that waited on another's."""

    __slots__ = ("_pending", "joined")

    def __init__(self) -> None:
        self._pending: dict[Hashable, asyncio.Future[Lookup[Any]]] = {}
        self.joined = 0

    def __contains__(self, key: Hashable) -> bool:
        return key in self._pending

    def __len__(self) -> int:
        return len(self._pending)

    async def ask(self, key: Hashable, fetch: Callable[[], Awaitable[Lookup[Any]]]) -> Lookup[Any]:
        """The answer of ``fetch()`` for ``key``: joined if in flight, else fetched here."""
        while (shared := self._pending.get(key)) is not None:
            self.joined += 1
            try:
                # shield: cancelling this waiter must not cancel the shared Future
                return await asyncio.shield(shared)
            except _Abandoned:
                continue  # the asker fetching it was cancelled: ask again
        shared = asyncio.get_running_loop().create_future()
        self._pending[key] = shared
        try:
            answer = await fetch()
        except BaseException as exc:
            del self._pending[key]
            shared.set_exception(_Abandoned() if isinstance(exc, asyncio.CancelledError) else exc)
            shared.exception()  # retrieved: nobody may be waiting, the loop must not log it
            raise
        del self._pending[key]
        shared.set_result(answer)
        return answer
