"""``spfkit lint``'s engine: the record set of a domain, its records, and the tree they reach.

* :func:`lint_text` — the static rules (text + record) on one record text, no DNS (RFC 7208
  §3–§6, §12; RFC 4406 §3);
* :func:`lint_domain` — the domain's TXT RRset through a :class:`Resolver` (§4.4), the
  record-set rules (none, several, Sender ID, broken copies: §3.2, §4.5; RFC 4406 §4.4), the
  static rules on each SPF-like record, then the tree rules on :func:`spfkit.tree.build_tree`
  — whose counts are the evaluator's own (§4.6.4), so ``lint``, ``show`` and ``check`` never
  disagree — and the rules over the addresses the compiled policy passes (§5.1, §5.6);
* :func:`lint_zone` — every name of a zone that publishes something SPF-like.

Async only because the resolver is; no sockets, no asyncio, no dnspython here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Final

from spfkit.compile.authorised import authorised_addresses
from spfkit.errors import RecordSyntaxError
from spfkit.flatten import FlattenError, flatten
from spfkit.lint.address_rules import address_findings
from spfkit.lint.codes import finding
from spfkit.lint.findings import Finding, Severity, worst
from spfkit.lint.fixes import MAX_FIXED_RECORD
from spfkit.lint.pasted import identify
from spfkit.lint.record_rules import record_findings
from spfkit.lint.spelling import looks_like_spf
from spfkit.lint.text_rules import TextCheck, check_text
from spfkit.lint.tree_rules import tree_findings
from spfkit.lookup.protocol import LookupStatus, Resolver, TXTRecord
from spfkit.lookup.zonefile import ZoneResolver
from spfkit.record.model import Record, Scope, Version
from spfkit.record.parse import is_spf1_text, parse_record
from spfkit.record.select import decode_record, join_strings
from spfkit.record.terms import All, Mechanism, Modifier
from spfkit.tree import RecordTree, build_tree
from spfkit.view.budget import tree_budgets

__all__ = ["LintReport", "corrected_record", "lint_domain", "lint_record", "lint_text", "lint_zone"]

#: exit statuses of ``spfkit lint`` (documented in its --help and the README)
EXIT_CLEAN: Final = 0
EXIT_WARNINGS: Final = 1
EXIT_ERRORS: Final = 2


@dataclass(frozen=True, slots=True)
class LintReport:
    """What ``spfkit lint`` found for one domain (or one record text, ``domain`` None).

    ``records`` are the SPF-like TXT texts found; ``findings`` are sorted by severity, then
    column; ``finding_records[i]`` is the record text ``findings[i].column`` points into
    (None when it points into none). Counts come from the tree (None when no tree was built:
    no record, a DNS error, or a record given as text). ``fixed_record`` is the record with
    every computable fix of an error or warning applied, when there is one.
    """

    domain: str | None
    records: tuple[str, ...]
    findings: tuple[Finding, ...]
    finding_records: tuple[str | None, ...] = ()
    lookups_v4: int | None = None
    lookups_v6: int | None = None
    void_v4: int | None = None
    void_v6: int | None = None
    fixed_record: str | None = None

    @property
    def exit_status(self) -> int:
        """0: nothing above info; 1: warnings but no errors; 2: errors."""
        return _exit_status(self.findings)

    def as_dict(self) -> dict[str, object]:
        return {
            "domain": self.domain,
            "records": list(self.records),
            "findings": [f.as_dict() for f in self.findings],
            "lookups": {"ipv4": self.lookups_v4, "ipv6": self.lookups_v6},
            "void_lookups": {"ipv4": self.void_v4, "ipv6": self.void_v6},
            "fixed_record": self.fixed_record,
            "exit_status": self.exit_status,
        }


def _exit_status(findings: Iterable[Finding]) -> int:
    level = worst(tuple(findings))
    if level is Severity.ERROR:
        return EXIT_ERRORS
    return EXIT_WARNINGS if level is Severity.WARNING else EXIT_CLEAN


# -- static rules ---------------------------------------------------------------------------------


def _static(text: str, domain: str | None, strings: TXTRecord | None,
            rrset_octets: int | None = None) -> tuple[list[Finding], TextCheck]:
    check = check_text(text, domain=domain, strings=strings, rrset_octets=rrset_octets)
    findings = list(check.findings)
    if check.record is not None:
        findings += [replace(f, column=check.original_column(f.column))
                     for f in record_findings(check.record, domain=domain)]
    return findings, check


def lint_text(
    text: str, *, domain: str | None = None, strings: tuple[bytes, ...] | None = None
) -> list[Finding]:
    """The static rules on one record text (no DNS): text repairs, then record rules.

    ``domain`` is whose record it is (for messages, and so "a" equals "a:domain");
    ``strings`` its DNS character-strings, when known (§3.3 split rules). Never raises.
    """
    findings, _ = _static(text, domain, strings)
    return sorted(findings, key=_order)


def corrected_record(text: str, *, domain: str | None = None) -> str | None:
    """``text`` with every computable fix of an error or warning applied, or None.

    None when nothing needs fixing or the text cannot be repaired into a record.
    """
    return _corrected(check_text(text, domain=domain), text, domain)


def _corrected(check: TextCheck, original: str, domain: str | None) -> str | None:
    if check.record is None or len(check.record.text) > MAX_FIXED_RECORD:
        return None  # no fixed copies of a record longer than any real one (lint/fixes.py)
    text = check.record.text
    for _ in range(16):
        fixes = sorted(
            (f for f in record_findings(parse_record(text), domain=domain)
             if f.fixed_record is not None and f.severity is not Severity.INFO
             and f.fixed_record != text),
            key=_order,
        )
        if not fixes:
            break
        text = fixes[0].fixed_record or text
    return text if text != original else None


def lint_record(text: str, *, domain: str | None = None) -> LintReport:
    """:func:`lint_text` as a report (``spfkit lint --record``, the wizard's previews)."""
    findings, check = _static(text, domain, None)
    findings.sort(key=_order)
    return LintReport(domain, (text,), tuple(findings), (text,) * len(findings),
                      fixed_record=_corrected(check, text, domain))


def _order(f: Finding) -> tuple[int, int, str]:
    return (-f.severity.rank, -1 if f.column is None else f.column, f.code)


# -- the record set (§3.2, §4.5; RFC 4406 §4.4) -----------------------------------------------


@dataclass(frozen=True, slots=True)
class _RRset:
    """A domain's TXT records, sorted into what receivers will see."""

    texts: tuple[str, ...]
    strings: tuple[TXTRecord, ...]
    spf1: tuple[int, ...]
    spf2: tuple[int, ...]
    broken: tuple[int, ...]
    octets: int

    @classmethod
    def of(cls, records: tuple[TXTRecord, ...]) -> _RRset:
        texts = tuple(decode_record(join_strings(r)) for r in records)
        spf1 = tuple(i for i, r in enumerate(records) if is_spf1_text(join_strings(r)))
        spf2 = tuple(i for i, t in enumerate(texts) if t[:7].lower() == "spf2.0/")
        broken = tuple(i for i, t in enumerate(texts)
                       if i not in spf1 and i not in spf2 and looks_like_spf(t))
        octets = sum(len(join_strings(r)) for r in records)
        return cls(texts, records, spf1, spf2, broken, octets)


def _record_set(domain: str, status: LookupStatus, rrs: _RRset) -> list[Finding]:
    out: list[Finding] = []
    if not rrs.spf1:
        out.append(_no_record(domain, status, rrs))
    elif len(rrs.spf1) > 1:
        merged = _merge([rrs.texts[i] for i in rrs.spf1])
        out.append(finding(
            "SPF-E102", f"{domain} publishes {len(rrs.spf1)} TXT records that start with "
            "'v=spf1'. A domain must have exactly one (§3.2): receivers return permerror, and "
            "many reject the mail", "publish one record with the terms of all of them"
            + (" — merged, that could be the corrected record (check it)" if merged else ""),
            domain=domain, fixed_record=merged))
    else:
        out += [finding(
            "SPF-W105", f"besides its SPF record, {domain} publishes '{_short(rrs.texts[i])}', "
            "which looks like a broken SPF record; receivers ignore it (§4.5)", "delete it "
            "(do not fix it: a second v=spf1 record would make every check a permerror)",
            domain=domain, term=rrs.texts[i][:80]) for i in rrs.broken]
    for scope in Scope:
        covering = [i for i in rrs.spf2 if _covers(rrs.texts[i], scope)]
        if len(covering) > 1:
            out.append(finding(
                "SPF-E104", f"{len(covering)} Sender ID records cover the '{scope.value}' "
                "scope; RFC 4406 §4.4 allows one, so Sender ID checks of that scope give "
                "permerror", f"keep one spf2.0 record listing '{scope.value}'", domain=domain))
    return out


def _no_record(domain: str, status: LookupStatus, rrs: _RRset) -> Finding:
    fix = ("publish one TXT record starting with 'v=spf1' — 'v=spf1 -all' if the domain sends "
           "no mail, otherwise one listing its mail servers, e.g. 'v=spf1 mx ~all'")
    if status is LookupStatus.NXDOMAIN:
        why = f"{domain} does not exist (NXDOMAIN), so it has no SPF record"
    elif rrs.broken:
        why = (f"{domain} has no TXT record that starts with 'v=spf1'; "
               f"'{_short(rrs.texts[rrs.broken[0]])}' looks like one but receivers ignore it "
               "(§4.5), so checks give 'none'")
        fix = "correct the record (see the findings below)"
    elif rrs.spf2:
        why = (f"{domain} publishes only a Sender ID (spf2.0) record; SPF receivers ignore "
               "it (RFC 7208 §4.5), so checks give 'none'")
    else:
        why = f"{domain} publishes no SPF record: checks give 'none' and receivers cannot " \
              "tell forged mail from real"
        others = [f for f in map(identify, rrs.texts) if f is not None]
        if others:
            why += (f"; its TXT records hold {' and '.join(sorted({f.what for f in others}))}, "
                    "which are not SPF records")
    return finding("SPF-E101", why, fix, domain=domain)


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:59] + "…"


def _covers(text: str, scope: Scope) -> bool:
    try:
        return parse_record(text).covers(scope)
    except RecordSyntaxError:
        return False


def _merge(texts: list[str]) -> str | None:
    """One record with the terms of several (§3.2), or None when they do not merge cleanly."""
    try:
        records: list[Record] = [parse_record(t) for t in texts]
    except RecordSyntaxError:
        return None
    mechanisms: list[Mechanism] = []
    modifiers: list[Modifier] = []
    final: All | None = None
    for record in records:
        for m in record.mechanisms:
            if isinstance(m, All):
                final = final or m
                break
            if m not in mechanisms:
                mechanisms.append(m)
        modifiers += [m for m in record.modifiers if m not in modifiers]
    terms = [*mechanisms, *([final] if final else []), *modifiers]
    text = " ".join([Version.SPF1.value, *(str(t) for t in terms)])
    try:
        parse_record(text)
    except RecordSyntaxError:
        return None
    return text


# -- domains and zones --------------------------------------------------------------------------


async def lint_domain(
    domain: str, resolver: Resolver, *, tree: RecordTree | None = None,
    flatten_fix: bool = True,
) -> LintReport:
    """Every rule for ``domain``: its TXT RRset (§4.4–§4.5), its records, its tree (§4.6.4).

    ``tree``: the domain's tree when the caller has already built it (``spfkit show``, web).
    ``flatten_fix``: a tree over the lookup limit gets ``spfkit flatten``'s records, proven
    equal, as its fix (False: not worth the work, e.g. in a survey).
    """
    domain = domain.rstrip(".")
    lookup = await resolver.txt(domain)
    if lookup.status.is_error:
        problem = finding(
            "SPF-E103", f"the TXT lookup of {domain} failed ({lookup.status.value}); receivers "
            "would return temperror and usually defer the mail", "check the domain's name "
            "servers (and --nameserver / --timeout); then run lint again", domain=domain)
        return LintReport(domain, (), (problem,), (None,))
    rrs = _RRset.of(lookup.records)
    tagged: list[tuple[Finding, str | None]] = [
        (f, None) for f in _record_set(domain, lookup.status, rrs)
    ]
    linted = rrs.spf1 + rrs.spf2 + (rrs.broken if not rrs.spf1 else ())
    # the one record receivers use (or the one broken record meant to be it) gets corrected
    target = rrs.spf1 if rrs.spf1 else rrs.broken
    fixed: str | None = None
    said_anyone: set[str] = set()  # the terms the record rules report as "anyone may send"
    for n, i in enumerate(linted):
        found, check = _static(rrs.texts[i], domain, rrs.strings[i],
                               rrs.octets if n == 0 else 0)
        tagged += [(f, rrs.texts[i]) for f in found]
        if i in rrs.spf1:
            said_anyone.update(f.term for f in found if f.code == "SPF-E304" and f.term)
        if target == (i,):
            fixed = _corrected(check, rrs.texts[i], domain)
    counts: tuple[int | None, int | None, int | None, int | None] = (None, None, None, None)
    if rrs.spf1:
        if tree is None:
            tree = await build_tree(domain, resolver)
        texts = {n.domain.lower(): n.record_text for n in tree.nodes()}
        found = tree_findings(tree)
        if flatten_fix and any(f.code == "SPF-E401" for f in found):
            found = await _with_flattening(found, domain, resolver)
        tagged += [(f, texts.get((f.domain or domain).lower()) if f.column is not None else None)
                   for f in found]
        # the real totals past the limit (11/10), as show's and the web's gauges give them
        v4, v6 = tree_budgets(tree)
        counts = (v4.lookups.needed, v6.lookups.needed, v4.void.needed, v6.void.needed)
        allowed = await authorised_addresses(domain, resolver=resolver)
        tagged += [(f, None) for f in address_findings(allowed, reported=said_anyone)]
    # the domain's own findings first, then those in the records it includes
    tagged.sort(key=lambda pair: (pair[0].severity.rank * -1,
                                  (pair[0].domain or domain).lower() != domain.lower(),
                                  _order(pair[0])))
    return LintReport(
        domain, tuple(rrs.texts[i] for i in (rrs.spf1 + rrs.spf2 + rrs.broken)),
        tuple(f for f, _ in tagged), tuple(t for _, t in tagged),
        lookups_v4=counts[0], lookups_v6=counts[1], void_v4=counts[2], void_v6=counts[3],
        fixed_record=fixed,
    )


async def _with_flattening(found: list[Finding], domain: str,
                           resolver: Resolver) -> list[Finding]:
    """The over-limit findings (SPF-E401) with ``spfkit flatten``'s records as their fix."""
    try:
        result = await flatten(domain, resolver)
    except FlattenError as exc:
        addition = f" 'spfkit flatten {domain}' cannot do it: {exc}."
        return [replace(f, fix=f.fix + addition) if f.code == "SPF-E401" else f for f in found]
    chained = len(result.records) - 1
    addition = (
        f" 'spfkit flatten {domain}' does it: {result.lookups} lookup"
        f"{'' if result.lookups == 1 else 's'} instead of {result.source_lookups}, "
        "proven to give the same result for every IPv4 and IPv6 address"
        + (f", with {chained} chained record{'s' if chained > 1 else ''} to publish first"
           if chained else "")
        + "; 'spfkit watch' then tells when a provider's networks change.")
    return [replace(f, fix=f.fix + addition, fixed_record=result.records[0][1],
                    extra_records=result.records[1:]) if f.code == "SPF-E401" else f
            for f in found]


async def lint_zone(source: ZoneResolver | str | os.PathLike[str], *,
                    trees: dict[str, RecordTree] | None = None) -> list[LintReport]:
    """:func:`lint_domain` for every name of the zone whose TXT records look like SPF.

    That is a record starting with "v=spf1" or "spf2.0/", or one that looks like a broken
    SPF record ("spf1 …", quoted, full-width characters), so typos are not missed.
    ``trees``: when given, each linted name's tree (the gauge's real totals, §4.6.4) is
    stored in it by name.
    """
    resolver = source if isinstance(source, ZoneResolver) else ZoneResolver(source)
    reports: list[LintReport] = []
    for name in resolver.owner_names():
        lookup = await resolver.txt(name)
        rrs = _RRset.of(lookup.records)
        if rrs.spf1 or rrs.spf2 or rrs.broken:
            tree = None
            if trees is not None:
                tree = trees[name] = await build_tree(name, resolver)
            reports.append(await lint_domain(name, resolver, tree=tree))
    return reports
