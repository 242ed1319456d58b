"""One SPF check and everything needed to show it: ``spfkit check`` and the web's ``/test``.

A :class:`CheckReport` is a ``check_host()`` result (RFC 7208 §4) with the request it
answered: the client address, MAIL FROM, HELO, the identity checked (§2.3, §2.4) and the
receiver. From it come the ``Received-SPF:`` (§9.1) and ``Authentication-Results:``
(RFC 8601) headers and the JSON of ``spfkit check --json`` and ``GET /api/test``.

Pure data: imports no rich, click, fastapi or asyncio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from spfkit.compile.counts import AddressCounts
from spfkit.headers import HeaderField, authentication_results, received_spf
from spfkit.identity import Identity, Subject
from spfkit.results import CheckResult
from spfkit.tree.model import Needed
from spfkit.view.budget import Budget, check_budget

__all__ = ["CheckReport", "amount", "authorised_dict", "authorised_text"]


@dataclass(frozen=True, slots=True)
class CheckReport:
    """One check and everything needed to show it."""

    ip: str
    sender: str
    helo: str
    identity: Identity
    subject: Subject
    receiver: str
    result: CheckResult
    needed: Needed | None = None  # §4.6.4: the real totals, when the check stopped at a limit

    @property
    def budget(self) -> Budget:
        """The counts against the limits, with the real totals past them (``11/10``)."""
        return check_budget(self.result, self.needed)

    def received_spf(self) -> HeaderField:
        """§9.1: the header a receiver adds for this check."""
        return received_spf(
            self.result,
            client_ip=self.ip,
            identity=self.identity,
            envelope_from=self.sender,
            helo=self.helo or None,
            receiver=self.receiver,
        )

    def authentication_results(self) -> HeaderField:
        """RFC 8601: the ``spf=`` method of an Authentication-Results header."""
        return authentication_results(
            self.result,
            authserv_id=self.receiver,
            identity=self.identity,
            envelope_from=self.sender,
            helo=self.helo or None,
        )

    def as_dict(self) -> dict[str, Any]:
        """The JSON of ``spfkit check --json`` and ``GET /api/test`` (without its DNS count)."""
        r = self.result
        return {
            "result": r.result.value,
            "meaning": r.result.meaning,
            "explanation": r.explanation,
            "problem": r.problem,
            "domain": r.domain,
            "mechanism": r.mechanism,
            "lookups": r.lookups,
            "void_lookups": r.void_lookups,
            "budget": self.budget.as_dict(),
            "identity": self.identity.value,
            "ip": self.ip,
            "sender": self.subject.sender,
            "helo": self.helo,
            "checked_domain": self.subject.domain,
            "received_spf": str(self.received_spf()),
            "authentication_results": str(self.authentication_results()),
            "trace": [event.as_dict() for event in r.trace],
        }


def authorised_dict(counts: AddressCounts) -> dict[str, Any]:
    """RFC 7208 §2.6.3: the addresses a domain passes, for JSON (``show --json``, the web)."""
    return {
        "ipv4": counts.ipv4,
        "ipv6": counts.ipv6,
        "complete": counts.complete,
        "contributors": [{"domain": c.domain, "mechanism": c.mechanism, "ipv4": c.ipv4,
                          "ipv6": c.ipv6} for c in counts.contributors],
    }


def authorised_text(counts: AddressCounts) -> str:
    """``authorises 1,280 IPv4 and 2^80 IPv6 addresses (pass)``; "at least" when some
    clients reach a client-dependent term ("ptr", ``%{i}``) and are not counted."""
    least = "" if counts.complete else "at least "
    return (f"authorises {least}{amount(counts.ipv4)} IPv4 and {amount(counts.ipv6)} IPv6 "
            "addresses (pass)")


def amount(n: int) -> str:
    """An address count for people: ``4,278,190,080`` (every IPv4 count is written out);
    ``2^64``, ``~2^70.6``, ``just over 2^81`` or ``just under 2^128`` when huge."""
    if n <= 1 << 32:
        return f"{n:,}"
    power = n.bit_length() - 1
    if n == 1 << power:
        return f"2^{power}"
    shown = f"{math.log2(n):.1f}"
    if shown == f"{power + 1}.0":
        return f"just under 2^{power + 1}"
    return f"just over 2^{power}" if shown == f"{power}.0" else f"~2^{shown}"
