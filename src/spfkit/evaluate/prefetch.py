"""Prefetch: start the lookups later terms will need while an earlier term waits on DNS.

RFC 7208 §4.6.4 limits what an evaluation may query, so prefetching must never ask what a
sequential evaluation could not have asked. The planner walks the record tree in evaluation
order and keeps an upper bound of the DNS-querying terms charged before each term (an
``include``/``redirect`` costs 1 plus everything its record could charge). It starts a term's
lookup only while that bound stays within the limit, i.e. only for terms a sequential
evaluation would reach and be allowed to query if no earlier term matched. Where a bound is
unknown (a ``%{p}`` target, a target without a usable record), planning stops.

Answers land in the evaluation's per-check memo; the sequential evaluation reads them there,
so results, explanations, counts and the trace are those of a sequential evaluation.
"""

from __future__ import annotations

import asyncio
from typing import Any

from spfkit.errors import PermError, RecordSyntaxError
from spfkit.evaluate.budget import MAX_MX_NAMES
from spfkit.evaluate.run import Evaluation
from spfkit.lookup.protocol import Lookup, LookupStatus, RRType
from spfkit.record.model import Record
from spfkit.record.parse import parse_record
from spfkit.record.select import select_record
from spfkit.record.terms import MX, PTR, A, Exists, Include, Mechanism, Modifier, Redirect


def plan_prefetch(run: Evaluation, record: Record, domain: str) -> None:
    """Start planning for the top-level record in the background."""
    run.spawn(_plan(run, record, domain, run.budget.dns_terms, (domain.rstrip(".").lower(),)))


async def _plan(
    run: Evaluation, record: Record, domain: str, charged: int, chain: tuple[str, ...]
) -> int | None:
    """Prefetch for ``record``; return the most DNS terms it can charge, or None if unknown."""
    from spfkit.evaluate.check_host import is_valid_domain  # circular at import time

    limit = run.options.max_dns_terms
    ctx = run.context(domain)
    cost = 0
    terms: list[Mechanism | Modifier] = [*record.mechanisms]
    if record.redirect is not None:
        terms.append(record.redirect)
    for term in terms:
        if not term.queries_dns:
            continue
        if charged + cost + 1 > limit:
            return None  # a sequential evaluation would stop with a PermError here
        spec = getattr(term, "domain_spec", None)
        if spec is not None and "p" in spec.letters:
            if isinstance(term, (Include, Redirect)):
                return None
            cost += 1
            continue
        target = spec.expand_domain(ctx) if spec is not None else domain
        if isinstance(term, (Include, Redirect)):
            key = target.rstrip(".").lower()
            if not is_valid_domain(target) or key in chain:
                return None
            inner = await _record_of(run, target)
            if inner is None:
                return None
            inner_cost = await _plan(run, inner, target, charged + cost + 1, (*chain, key))
            if inner_cost is None:
                return None
            cost += 1 + inner_cost
            continue
        cost += 1
        if isinstance(term, A):
            run.start(run.address_type, target)
        elif isinstance(term, Exists):
            run.start(RRType.A, target)
        elif isinstance(term, MX):
            run.start(RRType.MX, target)
            run.spawn(_mx_hosts(run, target))
        elif isinstance(term, PTR):
            run.start(RRType.PTR, run.ip.reverse_pointer)
    return cost


async def _record_of(run: Evaluation, target: str) -> Record | None:
    """The record an include/redirect target will use, fetched through the memo."""
    run.start(RRType.TXT, target)
    lookup = await run.peek(RRType.TXT, target)
    if lookup.status is not LookupStatus.ANSWER:
        return None
    try:
        text = select_record(lookup.records, run.options.scope)
        return parse_record(text) if text is not None else None
    except (PermError, RecordSyntaxError):
        return None


async def _mx_hosts(run: Evaluation, target: str) -> None:
    """§5.4: once the MX answer is in, start the address lookups "mx" will make."""
    lookup: Lookup[Any] = await run.peek(RRType.MX, target)
    if lookup.status is LookupStatus.ANSWER and len(lookup.records) <= MAX_MX_NAMES:
        for mx in lookup.records:
            if mx.exchange not in ("", "."):
                run.start(run.address_type, mx.exchange)
    await asyncio.sleep(0)
