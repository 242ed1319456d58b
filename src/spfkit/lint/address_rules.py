"""The rule over what a domain authorises (RFC 7208 §5.2, §5.6): the addresses its compiled
policy passes (``compile.counts.AddressCounts``), and the terms that contribute them.

A pass for hundreds of thousands of addresses usually comes from a shared provider's
include: every customer of that provider may then send as the domain. Pure: no I/O imports.
"""

from __future__ import annotations

from typing import Final

from spfkit.compile.counts import AddressCounts
from spfkit.lint.codes import finding
from spfkit.lint.findings import Finding

__all__ = ["MANY_IPV4", "address_findings"]

#: more IPv4 addresses than any one organisation's outgoing mail servers need
MANY_IPV4: Final = 100_000
#: contributors named in the message
_NAMED: Final = 3


def address_findings(counts: AddressCounts, *, limit: int = MANY_IPV4) -> list[Finding]:
    """SPF-W350 when ``counts`` passes more than ``limit`` IPv4 addresses (but not all of
    them: that is SPF-E304's "anyone may send")."""
    if counts.ipv4 <= limit or counts.ipv4 == 1 << 32:
        return []
    big = [c for c in counts.contributors if c.ipv4][:_NAMED]
    named = ", ".join(f"{c.mechanism} ({c.ipv4:,}"
                      + ("" if c.domain.lower() == counts.domain.lower() else f" in {c.domain}")
                      + ")" for c in big)
    least = "" if counts.complete else " at least"
    return [finding(
        "SPF-W350",
        f"{counts.domain} authorises{least} {counts.ipv4:,} IPv4 addresses; most come from {named}",
        "list only the networks that send your mail: ask each provider for a narrower include "
        "(or one per service you use) and drop includes you no longer need",
        domain=counts.domain,
        term=big[0].mechanism if big else None,
    )]
