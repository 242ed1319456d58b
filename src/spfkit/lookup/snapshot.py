"""One answer per question for as long as the snapshot lives, over any resolver.

``SnapshotResolver(inner)`` asks ``inner`` each distinct question (type, name without ASCII
case or the trailing dot) at most once and gives that same answer ever after, TTLs
notwithstanding: every evaluation that reads DNS through one snapshot sees the same world
(``show``'s tree runs the evaluator several times; a web request runs the tree and the
linter). Identical questions asked while the first is on the wire share it
(:class:`~spfkit.lookup.inflight.InFlight`). Answers already held are at hand for ``peek``.

§4.6.4 is not affected: the evaluator counts DNS terms and void lookups before it asks.
A subclass may bound the new questions (:meth:`SnapshotResolver.refusal`: the web's
per-request budget).
"""

from __future__ import annotations

from typing import Any

from spfkit.lookup._names import name_key
from spfkit.lookup.inflight import InFlight
from spfkit.lookup.protocol import BaseResolver, Lookup, Resolver, RRType

__all__ = ["SnapshotResolver"]

_Key = tuple[RRType, str]


class SnapshotResolver(BaseResolver):
    """Each question asked of ``inner`` once; its answer kept for the snapshot's life."""

    def __init__(self, inner: Resolver) -> None:
        self.inner = inner
        self._answers: dict[_Key, Lookup[Any]] = {}
        self._inflight = InFlight()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.inner!r}, {len(self._answers)} answers)"

    async def lookup(self, rrtype: RRType, name: str) -> Lookup[Any]:
        """The answer this snapshot holds, or ``inner``'s, asked once and then held."""
        key = (rrtype, name_key(name))
        known = self._answers.get(key)
        if known is not None:
            return known
        return await self._inflight.ask(key, lambda: self._first(key, rrtype, name))

    def peek(self, rrtype: RRType, name: str) -> Lookup[Any] | None:
        """The answer held for the question, if it was asked before."""
        return self._answers.get((rrtype, name_key(name)))

    def refusal(self, rrtype: RRType, name: str) -> Lookup[Any] | None:
        """Called once for each question about to be asked of ``inner``: None lets it go.

        A subclass that bounds the questions (the web's per-request budget) returns the
        answer to give instead; that answer is not held, so the next asker is judged again.
        """
        return None

    async def _first(self, key: _Key, rrtype: RRType, name: str) -> Lookup[Any]:
        refused = self.refusal(rrtype, name)
        if refused is not None:
            return refused
        answer = await self.inner.lookup(rrtype, name)
        self._answers[key] = answer
        return answer
