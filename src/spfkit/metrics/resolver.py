"""A resolver that tells someone how each lookup ended: the DNS half of the metrics.

It wraps any :class:`~spfkit.lookup.protocol.Resolver` and passes every question on unchanged;
after each answer it calls ``seen(rrtype, status)``. It counts what the evaluator asked
(RFC 7208 §4.6.4: an answer from a cache is still a lookup) — how many of them reached the
network is the DNS cache's miss count. No I/O of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from spfkit.lookup.protocol import BaseResolver, Lookup, LookupStatus, Resolver, RRType

__all__ = ["CountingResolver"]


class CountingResolver(BaseResolver):
    """``inner``'s answers, each reported to ``seen(rrtype, status)`` on its way back."""

    __slots__ = ("inner", "seen")

    def __init__(self, inner: Resolver, seen: Callable[[RRType, LookupStatus], None]) -> None:
        self.inner = inner
        self.seen = seen

    async def lookup(self, rrtype: RRType, name: str) -> Lookup[Any]:
        """The inner resolver's answer; its status counted."""
        answer = await self.inner.lookup(rrtype, name)
        self.seen(rrtype, answer.status)
        return answer

    def peek(self, rrtype: RRType, name: str) -> Lookup[Any] | None:
        """What the inner resolver has at hand (not counted: a lookup follows or was made)."""
        return self.inner.peek(rrtype, name)

    async def aclose(self) -> None:
        """Close the inner resolver if it has ``aclose()``."""
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()

    def __repr__(self) -> str:
        return f"CountingResolver({self.inner!r})"
