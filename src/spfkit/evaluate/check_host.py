"""``check_host()`` (RFC 7208 §4): initial processing, record lookup and selection,
mechanism and modifier evaluation, and the one place where errors become results.

Sans-I/O apart from the injected resolver; imports only ``lookup.protocol`` from ``lookup``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from spfkit.errors import (
    EvaluationError,
    MacroSyntaxError,
    PermError,
    RecordSyntaxError,
    TempError,
    shorten,
)
from spfkit.evaluate.mechanisms import match
from spfkit.evaluate.options import CheckOptions
from spfkit.evaluate.prefetch import plan_prefetch
from spfkit.evaluate.run import Evaluation
from spfkit.identity import is_valid_domain, normalize_ip, sender_with_local_part
from spfkit.lookup.protocol import LookupStatus, Resolver, RRType
from spfkit.macros import parse_macro_string
from spfkit.record.model import Record
from spfkit.record.parse import parse_record
from spfkit.record.select import decode_record, join_strings, select_record
from spfkit.results import CheckResult, Result, TraceKind

_DEFAULT_OPTIONS = CheckOptions()


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What one (possibly nested) check_host() call concluded."""

    result: Result
    domain: str
    term: str | None = None
    record: Record | None = None


async def check_host(
    ip: str | IPv4Address | IPv6Address,
    domain: str,
    sender: str,
    *,
    resolver: Resolver,
    helo: str = "",
    receiver: str | None = None,
    options: CheckOptions = _DEFAULT_OPTIONS,
) -> CheckResult:
    """RFC 7208 §4: the SPF result for <ip>, <domain> and <sender>.

    Never raises for anything the published records or DNS do; ``ValueError`` only when
    ``ip`` is not an IP address.
    """
    client = normalize_ip(ip)
    sender = sender_with_local_part(sender, domain)
    run = Evaluation(resolver, client, sender, helo, receiver or "unknown", options, int(time.time()))

    async def check_include(target: str, depth: int, chain: tuple[str, ...]) -> Result:
        return (await _check_host(run, target, depth, chain, count_void=True)).result

    run.check_include = check_include
    try:
        async with asyncio.timeout(options.time_budget):
            outcome = await _check_host(run, domain, 0, (), count_void=False)
            explanation = None
            if outcome.result is Result.FAIL:
                explanation = await _explain(run, outcome)
    except TimeoutError:
        return _error_result(run, domain, TempError(
            f"the check took longer than its time limit of {options.time_budget:g} s"
        ))
    except EvaluationError as exc:
        return _error_result(run, domain, exc)
    finally:
        run.close()
    return CheckResult(
        result=outcome.result,
        domain=outcome.domain,
        mechanism=outcome.term,
        explanation=explanation,
        lookups=run.budget.dns_terms,
        void_lookups=run.budget.void_lookups,
        trace=tuple(run.trace),
    )


def _error_result(run: Evaluation, domain: str, exc: EvaluationError) -> CheckResult:
    result = Result.PERMERROR if isinstance(exc, PermError) else Result.TEMPERROR
    if exc.domain is None:
        run.note(TraceKind.RESULT, 0, domain, result.value, exc.reason)
    return CheckResult(
        result=result,
        domain=exc.domain or domain,
        mechanism=exc.term,
        problem=exc.reason,
        lookups=run.budget.dns_terms,
        void_lookups=run.budget.void_lookups,
        trace=tuple(run.trace),
    )


async def fetch_record(run: Evaluation, domain: str, depth: int, *, count_void: bool) -> Record | None:
    """§4.4–§4.5: the domain's record, or None; TempError on DNS errors, PermError on syntax."""
    lookup = await run.query(RRType.TXT, domain, depth, domain)
    if lookup.status.is_error:
        raise TempError(f"DNS {lookup.status.value} looking up TXT {domain}")
    if count_void and lookup.is_void:
        run.budget.charge_void_lookup(domain)
    text = select_record(lookup.records, run.options.scope)
    if text is None:
        return None
    try:
        return parse_record(text)
    except RecordSyntaxError as exc:
        term = shorten(exc.term) if exc.term else None
        raise PermError(f"syntax error in the record of {domain}: {exc}", term) from None


async def _check_host(
    run: Evaluation, domain: str, depth: int, chain: tuple[str, ...], *, count_void: bool
) -> _Outcome:
    """§4.3–§4.7 for one domain; nested include/redirect calls share ``run``."""
    try:
        return await _evaluate_domain(run, domain, depth, chain, count_void=count_void)
    except EvaluationError as exc:
        if exc.domain is None:  # mark the error where it sits (innermost domain)
            exc.domain, exc.depth = domain, depth
            kind = "permerror" if isinstance(exc, PermError) else "temperror"
            run.note(TraceKind.RESULT, depth, domain, kind, exc.reason)
        raise


async def _evaluate_domain(
    run: Evaluation, domain: str, depth: int, chain: tuple[str, ...], *, count_void: bool
) -> _Outcome:
    run.note(TraceKind.CHECK, depth, domain, f"check_host({run.ip}, {domain})")
    if not is_valid_domain(domain):
        run.note(TraceKind.RESULT, depth, domain, "none", "not a valid multi-label domain name (§4.3)")
        return _Outcome(Result.NONE, domain)
    key = domain.rstrip(".").lower()
    if key in chain:
        loop = " → ".join((*chain, key))
        raise PermError(f"include/redirect loop: {loop}")
    chain = (*chain, key)
    record = await fetch_record(run, domain, depth, count_void=count_void)
    if record is None:
        run.note(TraceKind.RESULT, depth, domain, "none", "no SPF record")
        return _Outcome(Result.NONE, domain)
    run.note(TraceKind.RECORD, depth, domain, str(record))
    if run.options.prefetch and depth == 0:
        plan_prefetch(run, record, domain)

    ip = run.ip
    for mech in record.mechanisms:
        if mech.queries_dns:
            matched = await match(mech, run, domain, depth, chain)
        else:
            matched = mech.matches(ip)  # type: ignore[attr-defined]  # all, ip4, ip6 (§5.1, §5.6)
        run.note(TraceKind.TERM, depth, domain, str(mech), "match" if matched else "no match")
        if matched:
            result = mech.qualifier.result
            run.note(TraceKind.RESULT, depth, domain, result.value, f"matched {mech}")
            return _Outcome(result, domain, str(mech), record)
    if record.redirect is not None:  # §6.1
        term = str(record.redirect)
        run.budget.charge_dns_term(term)
        target = await run.expand(record.redirect.domain_spec, domain, depth)
        run.note(TraceKind.TERM, depth, domain, term, f"→ {target}")
        inner = await _check_host(run, target, depth + 1, chain, count_void=True)
        if inner.result is Result.NONE:
            raise PermError(f"redirect={target}: the target has no SPF record", term)
        return inner
    run.note(TraceKind.RESULT, depth, domain, "neutral", "no mechanism matched (§4.7 default)")
    return _Outcome(Result.NEUTRAL, domain, "default", record)


async def _explain(run: Evaluation, outcome: _Outcome) -> str:
    """§6.2: the explanation of a fail; any problem with "exp" gives the default text."""
    exp = outcome.record.explanation if outcome.record is not None else None
    ctx = run.context(outcome.domain)
    if exp is not None:
        target = await run.expand(exp.domain_spec, outcome.domain, 0)
        lookup = await run.query(RRType.TXT, target, 0, outcome.domain)
        if lookup.status is LookupStatus.ANSWER and len(lookup.records) == 1:
            text = decode_record(join_strings(lookup.records[0]))
            try:
                if "p" in (spec := parse_macro_string(text, explanation=True)).letters:
                    ctx = run.context(outcome.domain, await run.validated_name(outcome.domain, 0))
                return spec.expand(ctx)
            except MacroSyntaxError as exc:
                run.note(TraceKind.NOTE, 0, outcome.domain, "exp ignored", exc.reason)
        else:
            run.note(TraceKind.NOTE, 0, outcome.domain, "exp ignored", f"TXT {target}: {lookup.status.value}, {len(lookup.records)} records")
    try:
        return parse_macro_string(run.options.default_explanation, explanation=True).expand(ctx)
    except MacroSyntaxError:
        return run.options.default_explanation
