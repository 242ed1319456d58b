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
    PermError,
    RecordSyntaxError,
    TempError,
    shorten,
)
from spfkit.evaluate.budget import LARGE_RECORD
from spfkit.evaluate.explanation import explain
from spfkit.evaluate.mechanisms import match
from spfkit.evaluate.options import CheckOptions
from spfkit.evaluate.prefetch import plan_prefetch
from spfkit.evaluate.run import Evaluation, Frame
from spfkit.identity import (
    idn_arguments,
    is_valid_domain,
    normalize_ip,
    sender_with_local_part,
)
from spfkit.lookup.protocol import LookupStatus, Resolver, RRType
from spfkit.record.model import Record
from spfkit.record.select import select_record
from spfkit.record.terms import Include, LocalMechanism
from spfkit.results import CheckResult, Result, TraceKind

_DEFAULT_OPTIONS = CheckOptions()


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What one (possibly nested) check_host() call concluded."""

    result: Result
    domain: str
    term: str | None = None
    record: Record | None = None
    no_such_domain: bool = False  # §4.3: "none" because the domain's TXT lookup was NXDOMAIN


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
    evaluated = await evaluate_check(ip, domain, sender, resolver=resolver, helo=helo,
                                     receiver=receiver, options=options)
    return evaluated.answer


class Evaluated:
    """A ``check_host()`` answer and what it depended on, for a caller that remembers
    answers (``compile.answers``): the record that decided, the macro letters the records
    used and how long the DNS answers read stay true."""

    __slots__ = ("answer", "record", "_run")

    def __init__(self, answer: CheckResult, record: Record | None, run: Evaluation) -> None:
        self.answer = answer
        #: the record whose term decided (its "exp" explains a fail, §6.2)
        self.record = record
        self._run = run

    def ttl(self) -> float:
        """Seconds the answer stays true (§4.4): the smallest TTL of the DNS answers the
        check read; 0 when one was a DNS error (TIMEOUT, SERVFAIL) or had a TTL of 0."""
        return self._run.queries.smallest_ttl()

    def letters(self) -> frozenset[str]:
        """§7: the macro letters of the domain-specs of every record the check read (not
        "exp", which is expanded per client): what besides the address the answer can
        depend on ("s", "h", "r", "t" …)."""
        return self._run.letters()


async def evaluate_check(
    ip: str | IPv4Address | IPv6Address,
    domain: str,
    sender: str,
    *,
    resolver: Resolver,
    helo: str = "",
    receiver: str | None = None,
    options: CheckOptions = _DEFAULT_OPTIONS,
) -> Evaluated:
    """:func:`check_host`, and what its answer depended on (:class:`Evaluated`)."""
    client = normalize_ip(ip)
    domain, sender, helo = idn_arguments(domain, sender, helo)
    sender = sender_with_local_part(sender, domain)
    run = Evaluation(resolver, client, sender, helo, receiver or "unknown", options, int(time.time()))
    try:
        async with asyncio.timeout(options.time_budget):
            outcome = await _check_host(run, Frame(domain))
            explanation = None
            if outcome.result is Result.FAIL:
                explanation = await explain(run, outcome.record, outcome.domain)
    except TimeoutError:
        return Evaluated(_error_result(run, domain, TempError(
            f"the check took longer than its time limit of {options.time_budget:g} s"
        )), None, run)
    except EvaluationError as exc:
        return Evaluated(_error_result(run, domain, exc), None, run)
    finally:
        run.queries.close()
    return Evaluated(CheckResult(
        result=outcome.result,
        domain=outcome.domain,
        mechanism=outcome.term,
        explanation=explanation,
        lookups=run.budget.dns_terms,
        void_lookups=run.budget.void_lookups,
        trace=tuple(run.trace),
        no_such_domain=outcome.no_such_domain,
    ), outcome.record, run)


def _error_result(run: Evaluation, domain: str, exc: EvaluationError) -> CheckResult:
    result = Result.PERMERROR if isinstance(exc, PermError) else Result.TEMPERROR
    if exc.domain is None:
        run.note(TraceKind.RESULT, Frame(domain), result.value, exc.reason)
    return CheckResult(
        result=result,
        domain=exc.domain or domain,
        mechanism=exc.term,
        problem=exc.reason,
        lookups=run.budget.dns_terms,
        void_lookups=run.budget.void_lookups,
        trace=tuple(run.trace),
    )


async def fetch_record(run: Evaluation, frame: Frame) -> Record | LookupStatus:
    """§4.4–§4.5: the domain's record, or the status of a TXT answer that holds none
    (NXDOMAIN: no such domain); TempError on DNS errors, PermError on syntax."""
    domain = frame.domain
    lookup = await run.query(RRType.TXT, domain, frame)
    if lookup.status.is_error:
        raise TempError(f"DNS {lookup.outcome} looking up TXT {domain}")
    if frame.counts_void and lookup.is_void:
        run.budget.charge_void_lookup(domain)
    text = select_record(lookup.records, run.options.scope)
    if text is None:
        return lookup.status
    run.budget.charge_work(len(text), f"the record of {domain}")
    try:
        record = run.parse(text)
    except RecordSyntaxError as exc:
        term = shorten(exc.term) if exc.term else None
        raise PermError(f"syntax error in the record of {domain}: {exc}", term) from None
    if len(text) > LARGE_RECORD:
        await asyncio.sleep(0)  # long CPU work yields, so other checks keep being answered
    return record


async def _check_host(run: Evaluation, frame: Frame) -> _Outcome:
    """§4.3–§4.7 for one domain; nested include/redirect calls share ``run``."""
    try:
        return await _evaluate(run, frame)
    except EvaluationError as exc:
        if exc.domain is None:  # mark the error where it sits (innermost domain)
            exc.domain, exc.depth = frame.domain, frame.depth
            kind = "permerror" if isinstance(exc, PermError) else "temperror"
            run.note(TraceKind.RESULT, frame, kind, exc.reason)
        raise


async def _evaluate(run: Evaluation, frame: Frame) -> _Outcome:
    domain = frame.domain
    run.note(TraceKind.CHECK, frame, f"check_host({run.ip}, {domain})")
    if not is_valid_domain(domain):
        run.note(TraceKind.RESULT, frame, "none", "not a valid multi-label domain name (§4.3)")
        return _Outcome(Result.NONE, domain)
    frame.check_loop()
    record = await fetch_record(run, frame)
    if not isinstance(record, Record):
        run.note(TraceKind.RESULT, frame, "none", "no SPF record")
        return _Outcome(Result.NONE, domain, no_such_domain=record is LookupStatus.NXDOMAIN)
    run.note(TraceKind.RECORD, frame, str(record))
    if run.options.prefetch and frame.depth == 0:
        plan_prefetch(run, record, domain)

    ip = run.ip
    for mech in record.mechanisms:
        if isinstance(mech, LocalMechanism):  # all, ip4, ip6 (§5.1, §5.6): no DNS
            matched = mech.matches(ip)
        elif isinstance(mech, Include):
            matched = await _include(run, mech, frame)
        else:
            matched = await match(mech, run, frame)  # a, mx, ptr, exists
        run.note(TraceKind.TERM, frame, str(mech), "match" if matched else "no match")
        if matched:
            result = mech.qualifier.result
            run.note(TraceKind.RESULT, frame, result.value, f"matched {mech}")
            return _Outcome(result, domain, str(mech), record)
    if record.redirect is not None:  # §6.1
        term = str(record.redirect)
        run.budget.charge_dns_term(term)
        target = await run.expand(record.redirect.domain_spec, frame)
        run.note(TraceKind.TERM, frame, term, f"→ {target}")
        inner = await _check_host(run, frame.child(target))
        if inner.result is Result.NONE:
            raise PermError(f"redirect={target}: the target has no SPF record", term)
        return inner
    run.note(TraceKind.RESULT, frame, "neutral", "no mechanism matched (§4.7 default)")
    return _Outcome(Result.NEUTRAL, domain, "default", record)


async def _include(run: Evaluation, mech: Include, frame: Frame) -> bool:
    """§5.2 "include": a recursive check_host() of the target; the table of §5.2 maps its
    result (temperror and permerror inside it propagate as exceptions)."""
    term = str(mech)
    run.budget.charge_dns_term(term)
    target = await run.expand(mech.domain_spec, frame)
    inner = (await _check_host(run, frame.child(target))).result
    if inner is Result.PASS:
        return True
    if inner in (Result.FAIL, Result.SOFTFAIL, Result.NEUTRAL):
        return False
    raise PermError(f"include:{target} has no SPF record", term)  # Result.NONE
