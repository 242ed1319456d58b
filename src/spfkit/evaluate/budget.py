"""Processing limits (RFC 7208 §4.6.4), charged before the query is sent.

One :class:`Budget` per ``check_host()`` call is shared by every nested include and redirect,
so the limits hold across the whole evaluation. Pure: no I/O imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from spfkit.errors import PermError, shorten

#: §4.6.4: at most 10 mechanisms/modifiers that cause DNS queries
MAX_DNS_TERMS: Final = 10
#: §4.6.4: SHOULD limit "void lookups" to two (configurable, default 2)
MAX_VOID_LOOKUPS: Final = 2
#: §4.6.4: an "mx" must not cause more than 10 address lookups
MAX_MX_NAMES: Final = 10
#: §4.6.4: a "ptr" (or %{p}) must not cause more than 10 address lookups
MAX_PTR_NAMES: Final = 10
#: §4.6.4 "to avoid unreasonable load": the work one check may do, in characters of record
#: text evaluated plus addresses compared. A real tree (at most 11 records of a few hundred
#: octets, a 512-octet UDP answer each) needs a few thousand; one 64 KB record fits too.
MAX_WORK: Final = 131_072
#: characters of record text past which a record is more than any real one needs: parsing it
#: is long enough work to yield after, and prefetch does not parse it ahead of time
LARGE_RECORD: Final = 4096


@dataclass(slots=True)
class Budget:
    """What one evaluation has used of the §4.6.4 limits."""

    max_dns_terms: int = MAX_DNS_TERMS
    max_void_lookups: int = MAX_VOID_LOOKUPS
    max_work: int = MAX_WORK
    dns_terms: int = 0
    void_lookups: int = 0
    work: int = 0

    def charge_dns_term(self, term: str) -> None:
        """§4.6.4: the 11th DNS-querying term is a PermError, raised before it queries."""
        if self.dns_terms >= self.max_dns_terms:
            raise PermError(
                f"more than {self.max_dns_terms} DNS-querying terms (limit reached at '{shorten(term)}')",
                term,
            )
        self.dns_terms += 1

    def charge_void_lookup(self, term: str) -> None:
        """§4.6.4: a void lookup beyond the limit (default 2) is a PermError."""
        self.void_lookups += 1
        if self.void_lookups > self.max_void_lookups:
            raise PermError(
                f"more than {self.max_void_lookups} void lookups (at '{shorten(term)}')", term
            )

    def charge_work(self, units: int, what: str) -> None:
        """§4.6.4 "unreasonable load": CPU work (record text, addresses compared) is bounded
        too, so a check costs little whatever is published; charged before the work."""
        self.work += units
        if self.work > self.max_work:
            raise PermError(
                f"the check exceeded its work budget of {self.max_work} units "
                f"(record text and addresses; at {shorten(what)})"
            )
