"""The rules over what a domain authorises (RFC 7208 §5.1, §5.2, §5.6): the addresses its
compiled policy passes (``compile.counts.AddressCounts``), and the terms that contribute them.

A pass for every address of an IP version is "anyone may send" (SPF-E304) wherever it comes
from: an included "+all", an include of ``ip4:0.0.0.0/0``, networks that add up to
everything. A pass for hundreds of thousands of addresses (SPF-W350) usually comes from a
shared provider's include: every customer of that provider may then send as the domain.
Pure: no I/O imports.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Final

from spfkit.compile.counts import AddressCounts, Contributor
from spfkit.lint.codes import finding
from spfkit.lint.findings import Finding

__all__ = ["EVERY_IPV4", "EVERY_IPV6", "MANY_IPV4", "address_findings"]

#: more IPv4 addresses than any one organisation's outgoing mail servers need
MANY_IPV4: Final = 100_000
#: every IPv4 address; every IPv6 address but ::ffff:0:0/96, which ``PolicyMap.count``
#: leaves out (a client at an IPv4-mapped address is checked as IPv4, §5)
EVERY_IPV4: Final = 1 << 32
EVERY_IPV6: Final = (1 << 128) - (1 << 32)
#: contributors named in a message
_NAMED: Final = 3

_Share = Callable[[Contributor], int]


def _v4(c: Contributor) -> int:
    return c.ipv4


def _v6(c: Contributor) -> int:
    return c.ipv6


def address_findings(counts: AddressCounts, *, limit: int = MANY_IPV4,
                     reported: Collection[str] = ()) -> list[Finding]:
    """§5.1, §5.6: SPF-E304 when every address of an IP version passes, SPF-W350 when more
    than ``limit`` IPv4 addresses (but not all) do.

    ``reported``: the terms of the domain's own record that the record rules already report
    as SPF-E304 (a literal "+all", ``ip4:0.0.0.0/0``); an IP version one of them passes is
    not reported again.
    """
    own = {t.lower() for t in reported}
    versions: tuple[tuple[str, _Share, int, int], ...] = (
        ("IPv4", _v4, counts.ipv4, EVERY_IPV4), ("IPv6", _v6, counts.ipv6, EVERY_IPV6))
    every = [(label, share) for label, share, n, full in versions
             if n >= full and not any(share(c) and _own(counts, c) and c.mechanism.lower() in own
                                      for c in counts.contributors)]
    out = [_everyone(counts, every)] if every else []
    if limit < counts.ipv4 < EVERY_IPV4:
        out.append(_many(counts))
    return out


def _own(counts: AddressCounts, c: Contributor) -> bool:
    return c.domain.lower() == counts.domain.lower()


def _term(counts: AddressCounts, c: Contributor) -> str:
    """``'include:_spf.example'``, ``'+all' in other.example``: the term, and whose it is."""
    return f"'{c.mechanism}'" + ("" if _own(counts, c) else f" in {c.domain}")


def _everyone(counts: AddressCounts, every: list[tuple[str, _Share]]) -> Finding:
    """SPF-E304 (§5.1, §5.2): every address of the ``every`` versions passes, through the
    terms named (an include, a redirect target's record, networks that add up)."""
    big = [c for c in counts.contributors if any(share(c) for _, share in every)]
    terms = [_term(counts, c) for c in big[:_NAMED]] + (["others"] if len(big) > _NAMED else [])
    named = " and ".join([", ".join(terms[:-1]), terms[-1]] if len(terms) > 1 else terms)
    labels = " and every ".join(label for label, _ in every)
    fixes = [f"remove '{c.mechanism}', or ask its provider for a record that lists only the "
             "provider's own mail servers" for c in big
             if _own(counts, c) and c.mechanism.lower().startswith("include:")]
    fixes += [f"correct the record of {d}" for d in
              dict.fromkeys(c.domain for c in big if not _own(counts, c))]
    if any(_own(counts, c) and not c.mechanism.lower().startswith("include:") for c in big):
        fixes.append("list only your own networks")
    return finding(
        "SPF-E304",
        f"{counts.domain} passes SPF for every {labels} address"
        + (f", through {named}" if big else "")
        + ": anyone can send mail in its name, as if the record ended in '+all'",
        "; ".join(fixes) or "list only your own networks",
        domain=counts.domain, term=big[0].mechanism if big else None)


def _many(counts: AddressCounts) -> Finding:
    """SPF-W350 (§5.2, §5.6): more than the limit of IPv4 addresses; the terms that give most."""
    big = [c for c in counts.contributors if c.ipv4][:_NAMED]
    least = "" if counts.complete else " at least"
    return finding(
        "SPF-W350",
        f"{counts.domain} authorises{least} {counts.ipv4:,} IPv4 addresses; most come from "
        + ", ".join(f"{c.mechanism} ({c.ipv4:,}" + ("" if _own(counts, c) else f" in {c.domain}")
                    + ")" for c in big),
        "list only the networks that send your mail: ask each provider for a narrower include "
        "(or one per service you use) and drop includes you no longer need",
        domain=counts.domain,
        term=big[0].mechanism if big else None,
    )
