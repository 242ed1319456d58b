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

With ``FetchOrder.EAGER`` (the default) the records of include/redirect targets are also
fetched *eagerly*: as soon as a record is parsed, the TXT queries of all its targets start at
once, and each answer, once parsed, starts its own targets' (:func:`_eager`). The planner
above then finds them in flight, so a tree costs one round trip per level of include depth
instead of one per include. What bounds it (docs/prefetch.md):

* a target is fetched only if a sequential evaluation could reach it within the 10-term
  limit, counting every earlier DNS-querying term at its least cost (1): terms at a position
  of 10 or more, after an ``all``, behind a loop or a ``%{p}`` are never fetched ahead;
* at most ``max_dns_terms`` TXT queries per check are sent ahead of the sequential order.

So for a tree within the RFC's limits — one whose evaluation visits every include and
redirect without reaching §4.6.4's limits, as real domains publish — nothing is asked that a
sequential evaluation could not ask; for a tree past them (a permerror anyway), at most ten
TXT queries more.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from spfkit.errors import PermError, RecordSyntaxError
from spfkit.evaluate.budget import LARGE_RECORD, MAX_MX_NAMES
from spfkit.evaluate.options import FetchOrder
from spfkit.evaluate.run import Evaluation, Frame
from spfkit.identity import is_valid_domain
from spfkit.lookup.protocol import Lookup, LookupStatus, RRType
from spfkit.record.model import Record
from spfkit.record.select import select_record
from spfkit.record.terms import (
    MX,
    PTR,
    A,
    All,
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


@dataclass(slots=True)
class _Ahead:
    """What eager fetching may still send ahead of the sequential order in one check."""

    left: int


def plan_prefetch(run: Evaluation, record: Record, domain: str) -> None:
    """Plan prefetches for the top-level record as soon as the evaluation waits on DNS."""
    plan = _Plan(run.budget.dns_terms, run.budget.void_lookups)
    frame = Frame(domain)
    if run.options.fetch_order is FetchOrder.EAGER:
        ahead, first = _Ahead(run.options.max_dns_terms), run.budget.dns_terms
        run.queries.spawn_when_waiting(lambda: _eager(run, ahead, record, frame, first))
    run.queries.spawn_when_waiting(lambda: _plan(run, plan, record, frame))


async def _eager(run: Evaluation, ahead: _Ahead, record: Record, frame: Frame, first: int) -> None:
    """§5.2, §6.1: start the TXT queries of ``record``'s include/redirect targets at once.

    ``first`` is the least number of DNS-querying terms a sequential evaluation has charged
    before the record's first term; each DNS-querying term adds at least one.
    """
    ctx = run.context(frame.domain)
    position = first
    targets: list[tuple[str, Frame, int]] = []
    terms: list[Mechanism | Modifier] = [*record.mechanisms]
    if record.redirect is not None:
        terms.append(record.redirect)
    for term in terms:
        if isinstance(term, All):
            break  # §5.1: nothing after "all" is evaluated; §6.1: redirect is then ignored
        if not term.queries_dns:
            continue
        if position >= run.options.max_dns_terms or ahead.left <= 0:
            break  # §4.6.4: a sequential evaluation stops with a PermError before this term
        position += 1
        if not isinstance(term, (Include, Redirect)):
            continue
        spec = term.domain_spec
        if spec is None or "p" in spec.letters:
            continue  # the target needs the PTR validation first
        target = spec.expand_domain(ctx)
        inner = frame.child(target)
        if not is_valid_domain(target) or inner.key in inner.chain:
            continue
        if run.queries.start(RRType.TXT, target):
            ahead.left -= 1
        targets.append((target, inner, position))
    for target, inner, inner_first in targets:
        run.queries.spawn(_follow(run, ahead, target, inner, inner_first))


async def _follow(run: Evaluation, ahead: _Ahead, target: str, frame: Frame, first: int) -> None:
    """Once a target's record is in and parsed, fetch its own targets eagerly."""
    record = await _record_of(run, target)
    if record is not None:
        await _eager(run, ahead, record, frame, first)


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
