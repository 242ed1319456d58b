"""Processing limits (RFC 7208 §4.6.4), charged before the query is sent.

One :class:`Budget` per ``check_host()`` call is shared by every nested include and redirect,
so the limits hold across the whole evaluation. Pure: no I/O imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from spfkit.errors import PermError

#: §4.6.4: at most 10 mechanisms/modifiers that cause DNS queries
MAX_DNS_TERMS: Final = 10
#: §4.6.4: SHOULD limit "void lookups" to two (configurable, default 2)
MAX_VOID_LOOKUPS: Final = 2
#: §4.6.4: an "mx" must not cause more than 10 address lookups
MAX_MX_NAMES: Final = 10
#: §4.6.4: a "ptr" (or %{p}) must not cause more than 10 address lookups
MAX_PTR_NAMES: Final = 10


@dataclass(slots=True)
class Budget:
    """What one evaluation has used of the §4.6.4 limits."""

    max_dns_terms: int = MAX_DNS_TERMS
    max_void_lookups: int = MAX_VOID_LOOKUPS
    dns_terms: int = 0
    void_lookups: int = 0

    def charge_dns_term(self, term: str) -> None:
        """§4.6.4: the 11th DNS-querying term is a PermError, raised before it queries."""
        if self.dns_terms >= self.max_dns_terms:
            raise PermError(
                f"more than {self.max_dns_terms} DNS-querying terms (limit reached at '{term}')",
                term,
            )
        self.dns_terms += 1

    def charge_void_lookup(self, term: str) -> None:
        """§4.6.4: a void lookup beyond the limit (default 2) is a PermError."""
        self.void_lookups += 1
        if self.void_lookups > self.max_void_lookups:
            raise PermError(
                f"more than {self.max_void_lookups} void lookups (at '{term}')", term
            )
