"""A resolver that answers as DNS would once some TXT records are published (RFC 7208 §4.4).

``OverlayResolver(base, {"example.net": "v=spf1 mx ~all"})`` answers the TXT question of each
overridden name from memory and every other question from ``base`` (real DNS, a nameserver,
zone files), so a record can be evaluated, and its lookups counted (§4.6.4), *before* it is
published. The override replaces the name's whole TXT RRset, as publishing the drafted
records in place of the old ones would. With ``base=None`` the overrides are the only records
in the world: other names are NXDOMAIN, the overridden names have no other types (NODATA),
and their parents are empty non-terminals (NODATA, RFC 8020).

The overrides are held by a :class:`~spfkit.lookup.memory.MemoryResolver`, so their values use
its TXT format: a ``str``/``bytes`` is one record of one string, a ``tuple`` one record of
several strings, a ``list`` several records. Imports nothing but the standard library and
other ``spfkit.lookup`` modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

from spfkit.lookup._names import name_key
from spfkit.lookup.memory import MemoryResolver
from spfkit.lookup.protocol import BaseResolver, Lookup, Resolver, RRType

__all__ = ["OverlayResolver", "TXTValue"]

#: The TXT value of one overridden name, in :class:`MemoryResolver`'s format.
TXTValue: TypeAlias = (
    str | bytes | tuple[str | bytes, ...] | list[str | bytes | tuple[str | bytes, ...]]
)


class OverlayResolver(BaseResolver):
    """A :class:`~spfkit.lookup.protocol.Resolver`: drafted TXT from memory, the rest from ``base``.

    Raises :class:`ValueError` for an override name that cannot exist in DNS.
    """

    def __init__(
        self,
        base: Resolver | None,
        overrides: Mapping[str, TXTValue],
        *,
        ttl: float = 0.0,
    ) -> None:
        self.base = base
        self._memory = MemoryResolver(
            {name: {"TXT": value} for name, value in overrides.items()}, ttl=ttl
        )
        self._names = frozenset(name_key(name) for name in overrides)

    def __repr__(self) -> str:
        return f"OverlayResolver({self.base!r}, {sorted(self._names)})"

    @property
    def local_queries(self) -> list[tuple[RRType, str]]:
        """The questions answered from memory, in order, as ``(RRType, name)``."""
        return list(self._memory.queries)

    def _drafted(self, rrtype: RRType, name: str) -> bool:
        """Is this the TXT question of an overridden name?"""
        return rrtype == RRType.TXT and name_key(name) in self._names

    async def lookup(self, rrtype: RRType, name: str) -> Lookup[Any]:
        """§4.4: the drafted record(s) of an overridden name, else the base's answer."""
        base = self.base
        if base is None or self._drafted(rrtype, name):
            return await self._memory.lookup(rrtype, name)
        return await base.lookup(rrtype, name)

    def peek(self, rrtype: RRType, name: str) -> Lookup[Any] | None:
        """Memory answers at once; the base when it holds the answer."""
        base = self.base
        if base is None or self._drafted(rrtype, name):
            return self._memory.peek(rrtype, name)
        return base.peek(rrtype, name)
