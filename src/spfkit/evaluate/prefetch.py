"""Prefetch: start the lookups later terms will need while an earlier term waits on DNS.

RFC 7208 §4.6.4 limits what an evaluation may query, so prefetching must never ask what a
sequential evaluation could not have asked. The planner walks the record tree in evaluation
order and keeps an upper bound of the DNS-querying terms charged before each term (an
``include``/``redirect`` costs 1 plus everything its record could charge) and of the void
lookups (every answer not yet known counts as possibly void). It starts a term's lookup only
while both bounds stay within the limits, i.e. only for terms a sequential evaluation would
reach and be allowed to query if no earlier term matched; when the void bound is in the way
it waits for earlier answers. Where a bound is unknown (a ``%{p}`` target, a target without
a usable record), planning stops.

Answers land in the evaluation's per-check memo; the sequential evaluation reads them there,
so results, explanations, counts and the trace are those of a sequential evaluation.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from spfkit.errors import PermError, RecordSyntaxError
from spfkit.evaluate.budget import LARGE_RECORD, MAX_MX_NAMES
from spfkit.evaluate.run import Evaluation, Frame
from spfkit.identity import is_valid_domain
from spfkit.lookup.protocol import Lookup, LookupStatus, RRType
from spfkit.record.model import Record
from spfkit.record.select import select_record
from spfkit.record.terms import (
    MX,
    PTR,
    A,
    DNSMechanism,
    Exists,
    Include,
    Mechanism,
    Modifier,
    Redirect,
)


@dataclass(slots=True)
class _Plan:
    """Upper bounds of what a sequential evaluation has charged before the next term."""

    dns_terms: int
    voids: int
    #: first lookups of planned terms whose answers are not known yet (each may be void)
    unresolved: list[tuple[RRType, str]] = field(default_factory=list)


def plan_prefetch(run: Evaluation, record: Record, domain: str) -> None:
    """Plan prefetches for the top-level record as soon as the evaluation waits on DNS."""
    plan = _Plan(run.budget.dns_terms, run.budget.void_lookups)
    frame = Frame(domain)
    run.queries.spawn_when_waiting(lambda: _plan(run, plan, record, frame))


async def _reachable(run: Evaluation, plan: _Plan) -> bool:
    """Could a sequential evaluation get past the void-lookup limit to the next term?

    Waits for earlier answers while they could still be void and push the count over.
    """
    limit = run.options.max_void_lookups
    while plan.unresolved and plan.voids + len(plan.unresolved) > limit:
        rrtype, name = plan.unresolved.pop(0)
        if (await run.queries.peek(rrtype, name)).is_void:
            plan.voids += 1
    return plan.voids <= limit


async def _plan(run: Evaluation, plan: _Plan, record: Record, frame: Frame) -> bool:
    """Prefetch for ``record``, advancing ``plan``; False when the rest cannot be bounded."""
    ctx = run.context(frame.domain)
    terms: list[Mechanism | Modifier] = [*record.mechanisms]
    if record.redirect is not None:
        terms.append(record.redirect)
    for term in terms:
        if not term.queries_dns:
            continue
        if plan.dns_terms + 1 > run.options.max_dns_terms or not await _reachable(run, plan):
            return False  # a sequential evaluation would stop with a PermError here
        plan.dns_terms += 1
        assert isinstance(term, (DNSMechanism, Redirect))  # the terms that query DNS
        spec = term.domain_spec
        if spec is not None and "p" in spec.letters:
            return False  # its target needs the PTR validation first: stop planning here
        target = spec.expand_domain(ctx) if spec is not None else frame.domain
        if isinstance(term, (Include, Redirect)):
            inner_frame = frame.child(target)
            if not is_valid_domain(target) or inner_frame.key in inner_frame.chain:
                return False
            inner = await _record_of(run, target)
            if inner is None or not await _plan(run, plan, inner, inner_frame):
                return False
            continue
        question = _first_question(run, term, target)
        run.queries.start(*question)
        plan.unresolved.append(question)
        if isinstance(term, MX):
            run.queries.spawn(_mx_hosts(run, target))
    return True


def _first_question(run: Evaluation, term: DNSMechanism, target: str) -> tuple[RRType, str]:
    """The lookup whose emptiness makes ``term`` a void lookup (§4.6.4)."""
    if isinstance(term, A):
        return run.address_type, target
    if isinstance(term, Exists):
        return RRType.A, target
    if isinstance(term, MX):
        return RRType.MX, target
    assert isinstance(term, PTR)
    return RRType.PTR, run.ip.reverse_pointer


async def _record_of(run: Evaluation, target: str) -> Record | None:
    """The record an include/redirect target will use, fetched through the memo."""
    lookup = await run.queries.peek(RRType.TXT, target)
    if lookup.status is not LookupStatus.ANSWER:
        return None
    try:
        text = select_record(lookup.records, run.options.scope)
        if text is None or len(text) > LARGE_RECORD:
            return None  # a record no real tree needs: not worth parsing ahead of time
        return run.parse(text)
    except (PermError, RecordSyntaxError):
        return None


async def _mx_hosts(run: Evaluation, target: str) -> None:
    """§5.4: once the MX answer is in, start the address lookups "mx" will make."""
    lookup: Lookup[Any] = await run.queries.peek(RRType.MX, target)
    if lookup.status is LookupStatus.ANSWER and len(lookup.records) <= MAX_MX_NAMES:
        for mx in lookup.records:
            if mx.exchange not in ("", "."):
                run.queries.start(run.address_type, mx.exchange)
    await asyncio.sleep(0)
