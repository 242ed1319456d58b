"""The one seam between SPF evaluation and DNS (RFC 7208 §4.4, §4.6.4, §5).

A :class:`Resolver` answers typed questions with :class:`Lookup` values; it never raises for
DNS trouble (a timeout is a value too). Implementations: ``lookup.dnspython`` (real DNS),
``lookup.cache`` (TTL cache wrapping any resolver), ``lookup.zonefile`` (BIND master files)
and ``lookup.memory`` (a dict, for tests). Imports nothing but the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    """Answers the five kinds of question SPF asks. Names are given without a trailing dot.

    Implementations return a :class:`Lookup` for every outcome, including timeouts and
    server failures; they raise only for programming errors.
    """

    async def txt(self, name: str) -> Lookup[TXTRecord]: ...

    async def a(self, name: str) -> Lookup[IPv4Address]: ...

    async def aaaa(self, name: str) -> Lookup[IPv6Address]: ...

    async def mx(self, name: str) -> Lookup[MXHost]: ...

    async def ptr(self, name: str) -> Lookup[str]: ...


class Peekable(Protocol):
    """Optional: a resolver that can answer at once, without waiting, when it knows.

    ``peek`` returns the answer it holds (a fresh cache entry, in-memory data) or None; the
    evaluator uses it to skip starting background lookups whose answers are already there.
    """

    def peek(self, rrtype: RRType, name: str) -> Lookup[Any] | None: ...
