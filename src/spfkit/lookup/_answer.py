"""Answers as an authoritative server gives them, from records held in memory.

RFC 1034 §4.3.2 (the algorithm), RFC 2308 (NXDOMAIN vs NODATA, negative TTLs), RFC 8020
(an empty non-terminal exists: NODATA, not NXDOMAIN) and RFC 4592 (wildcards). Shared by
:mod:`~spfkit.lookup.zonefile` and :mod:`~spfkit.lookup.memory`, which only differ in where
the records come from. Everything is indexed when loaded, so an answer costs a few dict hits.

Imports nothing but the standard library and the protocol types.
"""

from __future__ import annotations

from typing import Any, Final

from spfkit.lookup._chain import follow_cnames
from spfkit.lookup._names import checked_key, name_key, parent_keys
from spfkit.lookup.protocol import BaseResolver, Lookup, LookupStatus, RRType

CNAME: Final = "CNAME"


class AnswerTable:
    """Records by (name key, type), plus what is needed for negative answers.

    Keys are :func:`~spfkit.lookup._names.name_key` forms. A record of type CNAME holds the
    key of its target. Types SPF never asks for are kept as empty entries: they make a name
    exist, which turns NXDOMAIN into NODATA.
    """

    def __init__(self, negative_ttl: float = 0.0) -> None:
        #: name → type → the ANSWER (or forced status) for that type
        self._nodes: dict[str, dict[str, Lookup[object]]] = {}
        #: names that have names below them (RFC 8020: they exist even without records)
        self._interior: set[str] = set()
        #: name → a status forced for every type (memory resolver's "TIMEOUT")
        self._forced: dict[str, Lookup[object]] = {}
        #: zone apex → negative TTL (RFC 2308 §5: min of SOA TTL and SOA MINIMUM)
        self._apex_ttl: dict[str, float] = {}
        self._default_negative_ttl = negative_ttl

    def _node(self, key: str) -> dict[str, Lookup[object]]:
        node = self._nodes.get(key)
        if node is None:
            node = self._nodes[key] = {}
            self._interior.update(parent_keys(key))
        return node

    def add(self, key: str, rrtype: str, records: tuple[object, ...], ttl: float) -> None:
        """Add records to the RRset (key, rrtype); an RRset's TTL is the lowest given."""
        node = self._node(key)
        old = node.get(rrtype)
        if old is not None and old.status is LookupStatus.ANSWER:
            records = old.records + tuple(r for r in records if r not in old.records)
            ttl = min(ttl, old.ttl)
        node[rrtype] = Lookup(LookupStatus.ANSWER, records, float(ttl))

    def declare(self, key: str) -> None:
        """Make ``key`` exist without records (every question about it is NODATA)."""
        self._node(key)

    def force(self, key: str, rrtype: str | None, status: LookupStatus) -> None:
        """Answer ``status`` for (key, rrtype), or for every type of ``key`` if rrtype is None."""
        if rrtype is None:
            self._node(key)
            self._forced[key] = Lookup(status)
        else:
            self._node(key)[rrtype] = Lookup(status)

    def set_apex(self, key: str, negative_ttl: float) -> None:
        """Record a zone apex (an SOA owner) and its negative TTL."""
        self._apex_ttl[key] = float(negative_ttl)
        self._node(key)

    def keys(self) -> tuple[str, ...]:
        """Every name that holds data, in the order it was added (lower-case, no final dot)."""
        return tuple(self._nodes)

    def names(self) -> int:
        """How many names hold records (for ``repr`` and tests)."""
        return len(self._nodes)

    def _negative_ttl(self, key: str) -> float:
        ttl = self._apex_ttl.get(key)
        if ttl is not None:
            return ttl
        for parent in parent_keys(key):
            ttl = self._apex_ttl.get(parent)
            if ttl is not None:
                return ttl
        return self._default_negative_ttl

    def _wildcard(self, key: str) -> dict[str, Lookup[object]] | None:
        """RFC 4592 §3.3.1: the ``*`` node below the closest encloser of a missing name."""
        for parent in parent_keys(key):
            if parent in self._nodes or parent in self._interior:
                return self._nodes.get("*." + parent)
        return self._nodes.get("*")

    def answer(self, name: str, rrtype: str) -> Lookup[object]:
        """RFC 1034 §4.3.2: the outcome of asking for ``rrtype`` records at ``name``."""
        key = checked_key(name)
        if key is None:
            return Lookup(LookupStatus.NXDOMAIN)  # no such name can exist
        outcome = follow_cnames(key, lambda at: self._at(at, rrtype))
        assert isinstance(outcome, Lookup)  # every name of the table holds an outcome
        return outcome

    def _at(self, key: str, rrtype: str) -> Lookup[object] | tuple[str, float]:
        """What ``key`` holds for ``rrtype``: an outcome, or a CNAME ``(target, ttl)`` to follow."""
        forced = self._forced.get(key)
        if forced is not None:
            return forced
        node = self._nodes.get(key)
        if node is None and key not in self._interior:
            node = self._wildcard(key)
            if node is None:  # RFC 2308 §2.1: the name does not exist
                return Lookup(LookupStatus.NXDOMAIN, (), self._negative_ttl(key))
        if node is None:  # RFC 8020: an empty non-terminal
            return Lookup(LookupStatus.NODATA, (), self._negative_ttl(key))
        hit = node.get(rrtype)
        if hit is not None and (hit.records or hit.status is not LookupStatus.ANSWER):
            return hit
        alias = node.get(CNAME)
        if alias is None or not alias.records:  # RFC 2308 §2.2: NODATA
            return Lookup(LookupStatus.NODATA, (), self._negative_ttl(key))
        # RFC 1034 §3.6.2: restart the query at the canonical name
        target = alias.records[0]
        assert isinstance(target, str)
        return target, alias.ttl


class TableResolver(BaseResolver):
    """The Resolver protocol over an :class:`AnswerTable`, recording every question.

    Shared by ``MemoryResolver`` and ``ZoneResolver``, which differ only in how they fill
    ``_table``. ``queries`` lists ``(RRType, name)`` in the order asked.
    """

    _table: AnswerTable
    queries: list[tuple[RRType, str]]

    def count(self, rrtype: RRType | str | None = None, name: str | None = None) -> int:
        """How many questions matched ``rrtype`` and ``name`` (None matches any)."""
        want = name_key(name) if name is not None else None
        return sum(
            1
            for t, n in self.queries
            if (rrtype is None or t == str(rrtype).upper())
            and (want is None or name_key(n) == want)
        )

    async def lookup(self, rrtype: RRType, name: str) -> Lookup[Any]:
        """The table's answer, as its authoritative server would give it."""
        self.queries.append((rrtype, name))
        return self._table.answer(name, rrtype)

    def peek(self, rrtype: RRType, name: str) -> Lookup[Any]:
        """In-memory data is always at hand (the question is recorded like any other)."""
        self.queries.append((rrtype, name))
        return self._table.answer(name, rrtype)

    def owner_names(self) -> tuple[str, ...]:
        """The names that hold records (wildcard owners left out), in load order."""
        return tuple(k for k in self._table.keys() if not k.startswith("*"))
