"""What the wizard learns from DNS and the linter about a draft, shared by CLI and web.

Two steps, because the interactive wizard asks its questions in between:
:func:`look_up_mx` (the domain's MX hosts, whose own names get HELO records, RFC 7208 §2.3),
then :func:`survey` (the records to publish, their lint findings, and — where DNS answers —
the lookups receivers will count once they are published, §4.6.4, through an
:class:`~spfkit.lookup.overlay.OverlayResolver`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from spfkit.evaluate.budget import MAX_DNS_TERMS, MAX_VOID_LOOKUPS
from spfkit.lint.findings import Finding
from spfkit.lookup.overlay import OverlayResolver
from spfkit.lookup.protocol import LookupStatus, Resolver
from spfkit.record.model import Record
from spfkit.wizard.draft import (
    MailHostRecord,
    WizardAnswers,
    build_record,
    mail_host_records,
    split_mx_hosts,
)
from spfkit.wizard.zones import split_strings

__all__ = ["Draft", "LookupCounts", "MxSurvey", "PublishedRecord", "look_up_mx", "survey"]


Purpose = Literal["mail-from", "helo"]


@dataclass(frozen=True, slots=True)
class MxSurvey:
    """The domain's MX hosts (None: unknown), the answer code, and why DNS is out of reach."""

    hosts: tuple[str, ...] | None = None
    status: LookupStatus | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class PublishedRecord:
    """One record to publish: its owner name, what it protects, and its text."""

    name: str
    purpose: Purpose
    text: str


@dataclass(frozen=True, slots=True)
class LookupCounts:
    """§4.6.4: what the published draft needs, per client family: the evaluator's counts with
    the limits lifted, so a draft that needs 11 lookups says 11 (receivers stop at 10)."""

    ipv4: int
    ipv6: int
    void_ipv4: int
    void_ipv6: int

    @property
    def over_limit(self) -> bool:
        return max(self.ipv4, self.ipv6) > MAX_DNS_TERMS or \
            max(self.void_ipv4, self.void_ipv6) > MAX_VOID_LOOKUPS

    def as_dict(self) -> dict[str, int]:
        """The JSON of ``spfkit wizard --format json`` and of ``POST /api/wizard``."""
        return {"ipv4": self.ipv4, "ipv6": self.ipv6, "void_ipv4": self.void_ipv4,
                "void_ipv6": self.void_ipv6, "limit": MAX_DNS_TERMS,
                "void_limit": MAX_VOID_LOOKUPS}


@dataclass(frozen=True, slots=True)
class Draft:
    """Everything the wizard shows about a draft."""

    domain: str
    answers: WizardAnswers
    record: Record
    published: tuple[PublishedRecord, ...]
    mail_hosts: tuple[MailHostRecord, ...]
    mx: MxSurvey
    notes: tuple[str, ...]
    #: problems receivers will see (e.g. more DNS-querying terms than §4.6.4 allows)
    errors: tuple[str, ...]
    findings: tuple[Finding, ...]
    lookups: LookupCounts | None
    #: why the lookups were not counted (no DNS, DNS out of reach)
    not_counted: str | None


async def look_up_mx(resolver: Resolver | None, domain: str) -> MxSurvey:
    """§5.4: the domain's MX hosts; a timeout or server failure means DNS is out of reach."""
    if resolver is None:
        return MxSurvey(problem="no DNS was used")
    lookup = await resolver.mx(domain)
    if lookup.status.is_error:
        return MxSurvey(status=lookup.status,
                        problem=f"DNS did not answer ({lookup.status.value} for {domain} MX)")
    ordered = sorted(lookup.records, key=lambda h: (h.preference, h.exchange))
    hosts = tuple(dict.fromkeys(h.exchange for h in ordered if h.exchange))
    return MxSurvey(hosts=hosts, status=lookup.status)


async def survey(
    domain: str,
    answers: WizardAnswers,
    mx: MxSurvey,
    resolver: Resolver | None,
    mail_hosts: tuple[str, ...] = (),
) -> Draft:
    """The records to publish for ``answers``, linted and — when DNS answers — counted."""
    # imported here: the linter and the tree are only needed once a draft is surveyed
    from spfkit.compile import authorised_addresses
    from spfkit.lint import lint_text
    from spfkit.lint.address_rules import address_findings
    from spfkit.lint.tree_rules import tree_findings
    from spfkit.tree import Family, build_tree

    record = build_record(answers)
    inside, outside = split_mx_hosts(domain, mx.hosts or ())
    hosts = mail_host_records(domain, (*(inside if answers.mx else ()), *mail_hosts))
    published = (
        PublishedRecord(domain, "mail-from", record.canonical()),
        *(PublishedRecord(h.name, "helo", h.record.canonical()) for h in hosts),
    )
    notes: list[str] = []
    if answers.mx and mx.hosts == ():
        notes.append(f"{domain} has no MX records ({mx.status}), so mx matches nothing; "
                     "leave mx out if none are planned")
    if answers.mx and outside:
        notes.append(f"MX hosts outside {domain} get no HELO record here (their operator "
                     f"publishes it): {', '.join(outside)}")
    errors: list[str] = []
    if answers.dns_terms > MAX_DNS_TERMS:
        errors.append(f"the record has {answers.dns_terms} terms that cause DNS lookups; RFC 7208 "
                     f"§4.6.4 allows {MAX_DNS_TERMS} in all, so receivers will return permerror: "
                     "list addresses (ip4/ip6) instead of names")
    findings: list[Finding] = []
    for p in published:
        findings += lint_text(p.text, domain=p.name, strings=split_strings(p.text))  # §3.3
    counts: LookupCounts | None = None
    if resolver is not None and mx.problem is None:
        # §4.6.4: counted as receivers will count them once the drafts are published
        overlay = OverlayResolver(resolver, {p.name: split_strings(p.text) for p in published})
        tree = await build_tree(domain, overlay)
        v4, v6 = tree.run(Family.IPV4), tree.run(Family.IPV6)
        counts = LookupCounts(v4.needed_lookups, v6.needed_lookups, v4.needed_void, v6.needed_void)
        findings += tree_findings(tree)
        # §5.1: what the published draft would authorise (an include of "+all": SPF-E304),
        # as `spfkit lint` says it of the published record
        said = {f.term for f in findings if f.code == "SPF-E304" and f.term}
        findings += address_findings(await authorised_addresses(domain, resolver=overlay),
                                     reported=said)
    findings.sort(key=lambda f: -f.severity.rank)
    return Draft(domain, answers, record, published, hosts, mx, tuple(notes), tuple(errors),
                 tuple(findings), counts, mx.problem if counts is None else None)
