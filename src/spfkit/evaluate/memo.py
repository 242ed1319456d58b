"""The questions one ``check_host()`` call asks, each at most once (RFC 7208 §4.6.4, §11.1).

:class:`Queries` is the evaluation's only door to the injected
:class:`~spfkit.lookup.protocol.Resolver`: it keeps one answer per (type, name) for the whole
check, lets later steps start questions early (prefetch) and read them without tracing, and
cancels what nobody will read once the evaluation has its result. Counting and tracing are
the evaluation's business (``evaluate/run.py``), not this memo's.
Imports only ``lookup.protocol`` from ``lookup``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from spfkit.lookup.protocol import Lookup, Resolver, RRType


class Queries:
    """One answer per (type, name) within one check; background work ends with the check."""

    __slots__ = ("_later", "_memo", "_resolver", "_tasks")

    def __init__(self, resolver: Resolver) -> None:
        self._resolver = resolver
        self._memo: dict[tuple[RRType, str], Lookup[Any] | asyncio.Future[Lookup[Any]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._later: list[asyncio.Handle] = []

    async def ask(self, rrtype: RRType, name: str) -> Lookup[Any]:
        """The answer to a question, asked of the resolver the first time only."""
        key = (rrtype, name.lower())
        got = self._memo.get(key)
        if got is None:
            # mark the question as asked before awaiting, so a prefetch never repeats it
            pending: asyncio.Future[Lookup[Any]] = asyncio.get_running_loop().create_future()
            self._memo[key] = pending
            try:
                lookup: Lookup[Any] = await self._resolver.lookup(rrtype, name)
            except BaseException:
                del self._memo[key]
                pending.cancel()
                raise
            pending.set_result(lookup)
            self._memo[key] = lookup
            return lookup
        if isinstance(got, Lookup):
            return got
        lookup = await got
        self._memo[key] = lookup
        return lookup

    def start(self, rrtype: RRType, name: str) -> bool:
        """Send a question now whose answer a later step will need; False when it was
        asked already or its answer is at hand (nothing sent)."""
        key = (rrtype, name.lower())
        if key in self._memo:
            return False
        if (known := self._resolver.peek(rrtype, name)) is not None:
            self._memo[key] = known  # already at hand: no background work needed
            return False
        task = asyncio.ensure_future(self._resolver.lookup(rrtype, name))
        self._memo[key] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def peek(self, rrtype: RRType, name: str) -> Lookup[Any]:
        """The answer to a question, started if need be, for a step that must not wait on
        behalf of the evaluation (prefetch planning): the shared query is never cancelled."""
        key = (rrtype, name.lower())
        if key not in self._memo:
            self.start(rrtype, name)
        got = self._memo[key]
        return got if isinstance(got, Lookup) else await asyncio.shield(got)

    def spawn_when_waiting(self, job: Callable[[], Awaitable[Any]]) -> None:
        """Run ``job()`` in the background once the evaluation first waits for DNS.

        An evaluation answered without ever waiting (warm cache, in-memory data) never
        pays for it: the callback is cancelled unrun when the evaluation closes.
        """
        self._later.append(asyncio.get_running_loop().call_soon(lambda: self.spawn(job())))

    def spawn(self, job: Awaitable[Any]) -> None:
        """Run background work (prefetch planning) that ends with the evaluation."""
        task = asyncio.ensure_future(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def smallest_ttl(self) -> float:
        """The smallest TTL of the answers at hand (those read, and those the resolver
        already held when a prefetch asked); 0 if one of them is a DNS error."""
        smallest = float("inf")
        for got in self._memo.values():
            if isinstance(got, Lookup):
                if got.status.is_error:
                    return 0.0
                smallest = min(smallest, got.ttl)
        return smallest

    def close(self) -> None:
        """Cancel lookups nobody will read (the evaluation has its result)."""
        for handle in self._later:
            handle.cancel()
        for task in list(self._tasks):
            task.cancel()
