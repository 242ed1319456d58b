"""The verdict of ``/check``: one sentence on what a domain's SPF does to its mail (RFC 7208).

:func:`domain_verdict` reads the tree (both sample clients' results, the §4.6.4 budget) and the
linter's findings once and says which of five things is true, and why:

* :attr:`Verdict.EVERYONE` — broken for everyone: both client families get permerror, so
  every receiver treats the record as unusable (over a §4.6.4 limit, a syntax error, an
  include without a record);
* :attr:`Verdict.SOME` — will break for some receivers: one family only (an IPv6 client
  past the void limit), a DNS error some receivers will also see, or a linter error;
* :attr:`Verdict.ANYONE` — anyone may send as the domain: the record passes every address
  of a family (SPF-E304: "+all", or an include of a record that passes everyone, §5.1);
* :attr:`Verdict.FINE` — every receiver can evaluate it;
* :attr:`Verdict.NONE` — no record at all (or no such domain): nothing to break, nothing
  protected.

``addresses`` is the slot for the number of addresses the record authorises
(:class:`AddressCount`, filled by the caller from the compiled address map); the page shows
it only when it is given. Pure data: imports no rich, click, fastapi or asyncio.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from spfkit.lint.findings import Finding, Severity
from spfkit.results import Result
from spfkit.tree.model import RecordTree
from spfkit.view.budget import Budget, Level, tree_budgets, worst_budget
from spfkit.view.check import amount
from spfkit.view.record_tree import SAMPLE_RESULT

__all__ = ["AddressCount", "DomainVerdict", "Verdict", "domain_verdict"]

_BROKEN = (Result.PERMERROR, Result.TEMPERROR)


class Verdict(StrEnum):
    """How bad it is; the value is the CSS class suffix and the JSON token."""

    FINE = "fine"
    SOME = "some"  # will break for some receivers
    EVERYONE = "everyone"  # broken for everyone
    ANYONE = "anyone"  # every address of a family passes (SPF-E304)
    NONE = "none"  # no record, or no such domain

    @property
    def headline(self) -> str:
        return {
            Verdict.FINE: "Fine",
            Verdict.SOME: "Will break for some receivers",
            Verdict.EVERYONE: "Broken for everyone",
            Verdict.ANYONE: "Anyone may send as this domain",
            Verdict.NONE: "No SPF protection",
        }[self]


@dataclass(frozen=True, slots=True)
class AddressCount:
    """How many client addresses the record lets pass (``+`` qualifier), per family."""

    ipv4: int
    ipv6: int

    @property
    def text(self) -> str:
        """``authorises 256 IPv4 addresses and 2^80 IPv6 addresses`` (:func:`~spfkit.view.check.amount`)."""
        return (f"authorises {amount(self.ipv4)} IPv4 address{'es' * (self.ipv4 != 1)} "
                f"and {amount(self.ipv6)} IPv6 address{'es' * (self.ipv6 != 1)}")


@dataclass(frozen=True, slots=True)
class DomainVerdict:
    """One sentence (``sentence``, the headline and why) and what it rests on."""

    verdict: Verdict
    why: str
    budget: Budget
    addresses: AddressCount | None = None

    @property
    def sentence(self) -> str:
        """``Broken for everyone: …``, one sentence ending in a full stop."""
        return f"{self.verdict.headline}: {self.why.rstrip('.')}."

    def as_dict(self) -> dict[str, object]:
        return {
            "verdict": self.verdict.value, "headline": self.verdict.headline, "why": self.why,
            "sentence": self.sentence, "budget": self.budget.as_dict(),
            "authorised_addresses": (
                {"ipv4": self.addresses.ipv4, "ipv6": self.addresses.ipv6}
                if self.addresses is not None else None),
        }


def domain_verdict(tree: RecordTree, findings: Sequence[Finding] = (),
                   addresses: AddressCount | None = None) -> DomainVerdict:
    """The verdict on ``tree`` and the linter's ``findings`` of the same domain."""
    budget = worst_budget(tree_budgets(tree))
    verdict, why = _judge(tree, findings, budget)
    return DomainVerdict(verdict, why, budget, addresses)


def _judge(tree: RecordTree, findings: Sequence[Finding], budget: Budget) -> tuple[Verdict, str]:
    v4, v6 = tree.result_v4, tree.result_v6
    if tree.root is None:
        if v4.no_such_domain:
            return Verdict.NONE, (f"{tree.domain} does not exist (NXDOMAIN), so receivers find "
                                  "no record; check the spelling of the domain")
        return Verdict.NONE, (f"{tree.domain} publishes no SPF record, so receivers get none "
                              "and cannot tell its mail from forgeries")
    if budget.consequence is not None:
        verdict = Verdict.EVERYONE if budget.family is None else Verdict.SOME
        return verdict, f"the record needs {budget.over_text}, so {budget.consequence}"
    if v4.result is Result.PERMERROR and v6.result is Result.PERMERROR:
        return Verdict.EVERYONE, f"every receiver returns permerror ({v4.problem or 'an error'})"
    for family, r in (("IPv4", v4), ("IPv6", v6)):
        if r.result is Result.PERMERROR:
            return Verdict.SOME, (f"receivers return permerror for mail from {family} clients "
                                  f"({r.problem or 'an error'})")
    if Result.TEMPERROR in (v4.result, v6.result):
        r = v4 if v4.result is Result.TEMPERROR else v6
        return Verdict.SOME, (f"a DNS lookup failed ({r.problem or 'temperror'}); receivers that "
                              "meet the same error defer or accept the mail")
    anyone = next((f for f in findings if f.code == "SPF-E304"), None)
    if anyone is not None:  # nothing breaks: every receiver passes the whole Internet
        return Verdict.ANYONE, f"{anyone.message.rstrip('.')} ({anyone.code})"
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if errors:
        return Verdict.SOME, f"{errors[0].message.rstrip('.')} ({errors[0].code})"
    why = f"every receiver can evaluate the record, and {SAMPLE_RESULT[v4.result]}"
    if budget.level is Level.NEAR:
        why += f", but it uses {budget.lookups} DNS lookups: one more include breaks it"
    warnings = sum(1 for f in findings if f.severity is Severity.WARNING)
    if warnings:
        why += f" ({warnings} warning{'s' * (warnings != 1)} below)"
    return Verdict.FINE, why
