"""What a domain authorises: how many client addresses get ``pass`` (RFC 7208 §2.6.3), per
IP version, and which terms of the domain's record contribute them. Read off the compiled
maps (``PolicyMap``), so the count is that of a real check for every address.
Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from spfkit.compile.policy_map import PolicyMap
from spfkit.results import Result

__all__ = ["AddressCounts", "Contributor", "address_counts"]


@dataclass(frozen=True, slots=True)
class Contributor:
    """One deciding term (``include:_spf.provider.example``, ``ip4:…``, ``mx``) and the
    addresses it passes; ``domain`` is the record the term sits in."""

    domain: str
    mechanism: str
    ipv4: int
    ipv6: int


@dataclass(frozen=True, slots=True)
class AddressCounts:
    """Addresses that get ``pass`` for ``domain``, per IP version, largest contributors first.

    ``complete`` is False when some clients reach a term that depends on the client ("ptr",
    ``%{i}`` …): those are not counted, so the counts are a lower bound.
    """

    domain: str
    ipv4: int
    ipv6: int
    complete: bool
    contributors: tuple[Contributor, ...] = ()


def address_counts(v4: PolicyMap, v6: PolicyMap) -> AddressCounts:
    """The counts of one domain from its IPv4 and its IPv6 map."""
    found: dict[tuple[str, str], list[int]] = {}
    for index, policy in enumerate((v4, v6)):
        for first, last, decision in policy.ranges():
            if decision is not None and decision.result is Result.PASS:
                key = (decision.domain, decision.mechanism or "")
                found.setdefault(key, [0, 0])[index] += last - first + 1
    contributors = sorted((Contributor(d, m, n4, n6) for (d, m), (n4, n6) in found.items()),
                          key=lambda c: (-c.ipv4, -c.ipv6, c.mechanism))
    return AddressCounts(v4.domain, v4.count(), v6.count(), v4.complete and v6.complete,
                         tuple(contributors))
