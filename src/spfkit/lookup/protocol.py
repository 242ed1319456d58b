"""The one seam between SPF evaluation and DNS (RFC 7208 §4.4, §4.6.4, §5).

A :class:`Resolver` answers ``lookup(rrtype, name)`` with :class:`Lookup` values; it never
raises for DNS trouble (a timeout is a value too). :class:`BaseResolver` writes the typed
questions (``txt``, ``a``, ``aaaa``, ``mx``, ``ptr``) once over ``lookup()``, so a resolver
implements only ``lookup()`` — and ``peek()`` if it holds answers. Implementations:
``lookup.stub`` (real DNS), ``lookup.cache`` (TTL cache wrapping any resolver),
``lookup.snapshot`` (one answer per question), ``lookup.overlay`` (drafted records),
``lookup.zonefile`` (BIND master files) and ``lookup.memory`` (a dict, for tests).
Imports nothing but the standard library.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")

#: One TXT record as published: its character-strings, in order (RFC 1035 §3.3.14).
TXTRecord = tuple[bytes, ...]


class LookupStatus(StrEnum):
    """How a DNS query ended; the value is shown in traces."""

    ANSWER = "NOERROR"  # at least one record of the asked type
    NODATA = "NODATA"  # NOERROR with an empty answer
    NXDOMAIN = "NXDOMAIN"  # RCODE 3, "Name Error"
    TIMEOUT = "TIMEOUT"  # no answer within the time limit
    SERVFAIL = "SERVFAIL"  # any other RCODE, or an unusable answer

    @property
    def is_error(self) -> bool:
        """§2.6.6 / §4.4: an error other than "no such name" is a TempError."""
        return self in (LookupStatus.TIMEOUT, LookupStatus.SERVFAIL)


class RRType(StrEnum):
    """The record types SPF evaluation asks for (RFC 7208 §4.4, §5)."""

    TXT = "TXT"
    A = "A"
    AAAA = "AAAA"
    MX = "MX"
    PTR = "PTR"


@dataclass(frozen=True, slots=True)
class MXHost:
    """One MX record (RFC 1035 §3.3.9); ``exchange`` has no trailing dot."""

    preference: int
    exchange: str

    def __str__(self) -> str:
        return f"{self.preference} {self.exchange or '.'}"


@dataclass(frozen=True, slots=True)
class Lookup(Generic[T]):
    """The outcome of one query: a status, the records, and how long it may be cached."""

    status: LookupStatus
    records: tuple[T, ...] = ()
    ttl: float = 0.0
    #: what went wrong, in words, where a status alone misleads (a refused connection is no
    #: server's SERVFAIL); not part of equality
    reason: str = field(default="", compare=False)

    @property
    def outcome(self) -> str:
        """The status for messages (``SERVFAIL``), or what went wrong when no server said so:
        ``failure (server 127.0.0.1:9 refused the connection: …)``."""
        return f"failure ({self.reason})" if self.reason else self.status.value

    @property
    def is_void(self) -> bool:
        """§4.6.4: a "void lookup" is an answer with no records or an NXDOMAIN."""
        return self.status in (LookupStatus.NODATA, LookupStatus.NXDOMAIN)

    def summary(self, limit: int = 5) -> str:
        """The answer code and the first records, for traces: ``NOERROR: 10 mx.example``."""
        if self.status is not LookupStatus.ANSWER:
            return self.status.value
        shown = ", ".join(_record_text(r) for r in self.records[:limit])
        more = f" (+{len(self.records) - limit} more)" if len(self.records) > limit else ""
        return f"NOERROR: {shown}{more}"


def _record_text(record: object) -> str:
    if isinstance(record, tuple):  # a TXT record: its character-strings
        return '"' + '" "'.join(s.decode("utf-8", "replace") for s in record) + '"'
    return str(record)


class Resolver(Protocol):
    """Answers the questions SPF asks (RFC 7208 §4.4, §5). Names are given without a trailing dot.

    Implementations return a :class:`Lookup` for every outcome, including timeouts and
    server failures; they raise only for programming errors. Subclass :class:`BaseResolver`
    to get the typed methods from :meth:`lookup`.
    """

    async def lookup(self, rrtype: RRType, name: str) -> Lookup[Any]:
        """The outcome of asking for the ``rrtype`` records of ``name``."""
        ...

    def peek(self, rrtype: RRType, name: str) -> Lookup[Any] | None:
        """The answer already at hand (a fresh cache entry, in-memory data), else None.

        Never does I/O and never waits; the evaluator uses it to skip starting background
        lookups whose answers are already there.
        """
        ...

    async def txt(self, name: str) -> Lookup[TXTRecord]: ...

    async def a(self, name: str) -> Lookup[IPv4Address]: ...

    async def aaaa(self, name: str) -> Lookup[IPv6Address]: ...

    async def mx(self, name: str) -> Lookup[MXHost]: ...

    async def ptr(self, name: str) -> Lookup[str]: ...


class Peekable(Protocol):
    """The ``peek`` half of :class:`Resolver` (every Resolver has it now; kept for imports)."""

    def peek(self, rrtype: RRType, name: str) -> Lookup[Any] | None: ...


class BaseResolver(ABC):
    """The typed questions of :class:`Resolver`, written once over :meth:`lookup`.

    A subclass implements :meth:`lookup`; one that holds answers overrides :meth:`peek`
    too (by default nothing is at hand).
    """

    __slots__ = ()

    @abstractmethod
    async def lookup(self, rrtype: RRType, name: str) -> Lookup[Any]:
        """The outcome of asking for the ``rrtype`` records of ``name``."""

    def peek(self, rrtype: RRType, name: str) -> Lookup[Any] | None:
        """Nothing is at hand unless a subclass says so (see :meth:`Resolver.peek`)."""
        return None

    async def txt(self, name: str) -> Lookup[TXTRecord]:
        """RFC 7208 §4.4: the TXT RRset; each record its character-strings."""
        return await self.lookup(RRType.TXT, name)

    async def a(self, name: str) -> Lookup[IPv4Address]:
        """§5.3, §5.4: IPv4 addresses."""
        return await self.lookup(RRType.A, name)

    async def aaaa(self, name: str) -> Lookup[IPv6Address]:
        """§5.3, §5.4: IPv6 addresses."""
        return await self.lookup(RRType.AAAA, name)

    async def mx(self, name: str) -> Lookup[MXHost]:
        """§5.4: mail exchangers."""
        return await self.lookup(RRType.MX, name)

    async def ptr(self, name: str) -> Lookup[str]:
        """§5.5: PTR targets of a reverse name."""
        return await self.lookup(RRType.PTR, name)
