"""The CNAME walk (RFC 1034 §3.6.2, §4.3.2 step 3a; RFC 2308 §2.1–2.2), written once.

An alias sends the question on to its target; the outcome's TTL is the least TTL along the
way (RFC 2308 §5: the alias may expire first); a loop or a chain of more than
:data:`MAX_CHAIN` hops is a server failure. :class:`Chain` holds that state, and
:func:`follow_cnames` walks records already at hand with it: the answer tables of
:mod:`~spfkit.lookup._answer` (zone files, dicts) and the answer section of one reply in
:mod:`~spfkit.lookup._wire`. :mod:`~spfkit.lookup.resolution` keeps its own :class:`Chain` for
the new queries it sends when a server leaves a CNAME unresolved.

Imports nothing but the standard library and the protocol types.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from spfkit.lookup.protocol import Lookup, LookupStatus

__all__ = ["MAX_CHAIN", "Chain", "ChainEnd", "follow_cnames"]

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")

MAX_CHAIN: Final = 16  # CNAME hops; a longer chain (or a loop) is a server failure
_SERVFAIL: Final[Lookup[Any]] = Lookup(LookupStatus.SERVFAIL)


class Chain(Generic[K]):
    """The names an answer has passed through, and the least TTL on the way."""

    __slots__ = ("_seen", "_limit", "ttl")

    def __init__(self, start: K, limit: int = MAX_CHAIN) -> None:
        self._seen = {start}
        self._limit = limit
        self.ttl = float("inf")

    def follow(self, target: K, ttl: float) -> bool:
        """Take one hop to ``target``; False when it closes a loop or makes the chain too long."""
        self.ttl = min(self.ttl, ttl)
        if target in self._seen or len(self._seen) > self._limit:
            return False
        self._seen.add(target)
        return True

    def end(self, lookup: Lookup[T]) -> Lookup[T]:
        """The outcome at the end of the chain, its TTL cut to the least TTL of the chain."""
        if self.ttl < lookup.ttl:
            return Lookup(lookup.status, lookup.records, self.ttl)
        return lookup


@dataclass(frozen=True, slots=True)
class ChainEnd(Generic[K]):
    """The walk reached ``key``, where there is neither an answer nor an alias."""

    key: K
    ttl: float  # the least TTL of the aliases that led here (inf for none)


#: what a name holds for the walk: the outcome there, an alias ``(target, ttl)``, or nothing
Step = Lookup[Any] | tuple[K, float] | None


def follow_cnames(start: K, at: Callable[[K], Step[K]]) -> Lookup[Any] | ChainEnd[K]:
    """From ``start``, follow aliases until ``at`` gives an outcome or nothing is left to follow.

    ``at(key)`` is asked about each name on the way. An outcome comes back with its TTL cut
    to the chain's; a loop or an overlong chain is SERVFAIL; a name with nothing at all ends
    the walk as a :class:`ChainEnd`, for the caller to turn into a negative answer.
    """
    found = at(start)
    if isinstance(found, Lookup):
        return found  # the common case, no alias: no chain to keep
    chain = Chain(start)
    key = start
    while True:
        if isinstance(found, Lookup):
            return chain.end(found)
        if found is None:
            return ChainEnd(key, chain.ttl)
        target, ttl = found
        if not chain.follow(target, ttl):
            return _SERVFAIL
        key = target
        found = at(key)
