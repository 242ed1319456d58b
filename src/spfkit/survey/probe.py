"""The per-domain probe: SPF (RFC 7208) and DMARC (RFC 7489) of one domain → :class:`DomainResult`.

Everything is spfkit's own machinery, reached through one Resolver:

* the TXT RRset of the domain (§4.4) decides ``spf`` (§4.5: none / one / several) and ``dns``;
  a timeout or SERVFAIL is ``dns-error``, never "no record";
* one v=spf1 record is parsed once (``record.parse``); ``check_host()`` evaluates it for
  ``tree``'s sample IPv4 and IPv6 clients (which no record lists, so every term is reached),
  and where a receiver would stop at a §4.6.4 limit, once more with the limits lifted: those
  counts are the ``lookups_*``/``void_*`` fields;
* the lint codes are ``lint.lint_text``'s static rules, or with ``deep`` the whole
  ``lint.lint_domain`` over ``tree.build_tree`` (every tree rule too);
* ``dmarc.lookup_dmarc`` reads ``_dmarc.DOMAIN`` (RFC 7489 §6.6.3);
* :func:`authorised_addresses` is the one place the compiled address maps are called.

No sockets here: the caller passes the resolver (its cache, retries and rate limit).
"""

from __future__ import annotations

from typing import Final

from spfkit.compile import authorised_addresses as compiled_counts
from spfkit.dmarc import DmarcLookup, lookup_dmarc
from spfkit.errors import RecordSyntaxError
from spfkit.evaluate.check_host import check_host
from spfkit.evaluate.options import CheckOptions
from spfkit.lint.runner import lint_domain, lint_text
from spfkit.lookup.protocol import Lookup, LookupStatus, Resolver, TXTRecord
from spfkit.record.model import Record
from spfkit.record.parse import is_spf1_text, parse_record
from spfkit.record.select import decode_record, join_strings
from spfkit.record.terms import All, Include
from spfkit.results import CheckResult, Result
from spfkit.survey.result import DomainResult, SpfStatus
from spfkit.tree import SAMPLE_IPV4, SAMPLE_IPV6, RecordTree, build_tree
from spfkit.tree.build import EXPLORE_LIMIT

__all__ = ["UDP_LIMIT", "answer_octets", "authorised_addresses", "probe_domain"]

#: RFC 1035 §4.2.1: "Messages carried by UDP are restricted to 512 bytes"
UDP_LIMIT: Final = 512
#: the receiver's limits (§4.6.4), and the lifted ones that measure what a record really needs
_RECEIVER: Final = CheckOptions()
_LIFTED: Final = CheckOptions(max_dns_terms=EXPLORE_LIMIT, max_void_lookups=EXPLORE_LIMIT)


def answer_octets(name: str, records: tuple[TXTRecord, ...]) -> int:
    """RFC 1035 §4.1: octets of the reply carrying ``records`` (no EDNS, owner compressed).

    Header 12; question: the name's labels + root (len + 2) and type/class 4; each RR: a
    2-octet pointer, type/class/TTL/RDLENGTH 10, and one length octet per character-string.
    """
    question = len(name.rstrip(".")) + 2 + 4
    return 12 + question + sum(12 + sum(1 + len(s) for s in r) for r in records)


async def authorised_addresses(domain: str, resolver: Resolver,
                               tree: RecordTree | None = None) -> tuple[int | None, int | None]:
    """How many IPv4 / IPv6 addresses ``domain``'s record gives ``pass`` (RFC 7208 §2.6.3), from
    its compiled address maps (:mod:`spfkit.compile`; clients that reach ``ptr`` or ``%{i}`` are
    not counted). Called once per domain with one valid record, in both modes (``tree`` is the
    built tree with ``deep``, else None; the maps read the same cached answers)."""
    counts = await compiled_counts(domain, resolver=resolver)
    return counts.ipv4, counts.ipv6


def _top_terms(record: Record) -> tuple[str | None, tuple[str, ...], str | None]:
    """The qualifier of ``all``, the include targets and the redirect target, as written."""
    qualifier = next((t.qualifier.value for t in record.mechanisms if isinstance(t, All)), None)
    includes = tuple(str(t.domain_spec).lower() for t in record.mechanisms if isinstance(t, Include))
    redirect = str(record.redirect.domain_spec).lower() if record.redirect else None
    return qualifier, includes, redirect


def _dmarc_fields(found: DmarcLookup) -> dict[str, object]:
    rec = found.record
    out: dict[str, object] = {"dmarc": found.status.value, "dmarc_dns": found.dns.value,
                              "dmarc_record": found.text, "dmarc_error": found.error or None}
    if rec is not None:
        out.update(dmarc_p=rec.p.value, dmarc_sp=rec.sp.value if rec.sp else None,
                   dmarc_pct=rec.pct, dmarc_rua=bool(rec.rua), dmarc_ruf=bool(rec.ruf),
                   dmarc_adkim=rec.adkim.value, dmarc_aspf=rec.aspf.value)
    return out


async def _evaluate(domain: str, resolver: Resolver) -> dict[str, object]:
    """``check_host()`` for the two sample clients; past a §4.6.4 limit once more with the limits
    lifted (as ``tree.build`` does), so the counts are what the record really needs."""
    out: dict[str, object] = {}
    sender = f"postmaster@{domain}"
    for family, client in (("v4", SAMPLE_IPV4), ("v6", SAMPLE_IPV6)):
        run = await check_host(client, domain, sender, resolver=resolver, helo=domain, options=_RECEIVER)
        out[f"result_{family}"] = run.result.value
        if _hit_limit(run):
            run = await check_host(client, domain, sender, resolver=resolver, helo=domain, options=_LIFTED)
        out[f"lookups_{family}"], out[f"void_{family}"] = run.lookups, run.void_lookups
    return out


def _hit_limit(result: CheckResult) -> bool:
    """Did the evaluation stop at a §4.6.4 limit (the 11th term or the 3rd void lookup)?"""
    return result.result is Result.PERMERROR and (
        result.lookups >= _RECEIVER.max_dns_terms or result.void_lookups > _RECEIVER.max_void_lookups)


#: what check_host() gives every client of a domain without one record that parses
_RESULT_OF: Final = {SpfStatus.NONE: Result.NONE, SpfStatus.SEVERAL: Result.PERMERROR,
                     SpfStatus.INVALID: Result.PERMERROR, SpfStatus.DNS_ERROR: Result.TEMPERROR}


async def _spf_fields(domain: str, answer: Lookup[TXTRecord], resolver: Resolver,
                      deep: bool) -> dict[str, object]:
    out = await _spf_status_fields(domain, answer, resolver, deep)
    if (result := _RESULT_OF.get(SpfStatus(str(out["spf"])))) is not None:  # §4.4-§4.6
        out.update(result_v4=result.value, result_v6=result.value)
    return out


async def _spf_status_fields(domain: str, answer: Lookup[TXTRecord], resolver: Resolver,
                             deep: bool) -> dict[str, object]:
    out: dict[str, object] = {"dns": answer.status.value}
    if answer.status.is_error:
        out.update(spf=SpfStatus.DNS_ERROR.value, dns_reason=answer.reason or None,
                   spf_error=f"TXT lookup: {answer.outcome}")
        return out
    out["tcp"] = answer_octets(domain, answer.records) > UDP_LIMIT
    spf1 = [r for r in answer.records if is_spf1_text(join_strings(r))]
    if not spf1:
        out["spf"] = SpfStatus.NONE.value
        return out
    tree: RecordTree | None = None
    if len(spf1) > 1:
        out.update(spf=SpfStatus.SEVERAL.value, spf_error=f"{len(spf1)} v=spf1 records (§4.5)")
    else:
        text = decode_record(join_strings(spf1[0]))
        out["spf_record"] = text
        try:
            record = parse_record(text)
        except RecordSyntaxError as exc:
            out.update(spf=SpfStatus.INVALID.value, spf_error=str(exc))
        else:
            out["spf"] = SpfStatus.RECORD.value
            out["all"], out["includes"], out["redirect"] = _top_terms(record)
            if deep:
                tree = await build_tree(domain, resolver)
                out.update(result_v4=tree.result_v4.result.value, result_v6=tree.result_v6.result.value,
                           lookups_v4=tree.v4.needed_lookups, lookups_v6=tree.v6.needed_lookups,
                           void_v4=tree.v4.needed_void, void_v6=tree.v6.needed_void)
            else:
                out.update(await _evaluate(domain, resolver))
            out["pass_ipv4"], out["pass_ipv6"] = await authorised_addresses(domain, resolver, tree)
    if deep:
        findings = (await lint_domain(domain, resolver, tree=tree, flatten_fix=False)).findings
    else:
        findings = tuple(f for r in spf1 for f in lint_text(decode_record(join_strings(r)),
                                                             domain=domain, strings=r))
    out["lint"] = tuple(sorted({f.code for f in findings}))
    return out


async def probe_domain(domain: str, resolver: Resolver, *, deep: bool = False) -> DomainResult:
    """Survey one domain (a valid name, no trailing dot) through ``resolver``. Never raises for
    anything DNS or the records do.

    ``deep``: build the whole include/redirect tree (``tree.build_tree``) and run every lint
    rule on it (``lint.lint_domain``), as ``spfkit lint`` does — about twice the CPU. Otherwise
    the evaluator runs for the two sample clients and the lint codes are the static rules'
    (``lint.lint_text``) on the domain's own record.
    """
    answer = await resolver.txt(domain)
    spf = await _spf_fields(domain, answer, resolver, deep)
    if answer.status is LookupStatus.NXDOMAIN:
        # RFC 8020: nothing exists below a name that does not exist, _dmarc included
        dmarc: dict[str, object] = {"dmarc": "none", "dmarc_dns": LookupStatus.NXDOMAIN.value}
    else:
        dmarc = _dmarc_fields(await lookup_dmarc(resolver, domain))
    return DomainResult(domain=domain, **spf, **dmarc)  # type: ignore[arg-type]
