"""Compile one domain's SPF tree into a :class:`PolicyMap` (RFC 7208 §4.6, §5, §6.1, §4.6.4).

The walk follows ``check_host()`` term by term, in evaluation order, but carries a *region*
of the client address space instead of one client, and the §4.6.4 counts (DNS terms, void
lookups, work) of every sub-region: a term splits the region into the clients it matches
(decided) and the rest (which go on). An "include" splits the region by its own compiled
result; the limits turn what is left of a region into ``permerror`` at exactly the term
where a sequential evaluation hits them. Terms whose answer depends on the client ("ptr",
``%{i}``, ``%{p}``, ``%{v}`` in a domain-spec) end the compiled part: the clients that reach
them are left to the evaluator. ``%{s}``/``%{l}``/``%{o}``/``%{h}`` make the map depend on
the sender or HELO (``PolicyMap.keyed_on``).

Sans-I/O apart from the injected resolver, like the evaluator; the messages, limits and
result mapping are the evaluator's own (``evaluate.budget``, ``evaluate.run.Frame``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from typing import Any, Final

from spfkit.compile.policy_map import (
    Decision,
    PolicyMap,
    compact_starts,
    decision,
    merge_ranges,
)
from spfkit.compile.regions import BITS, Region, cidr_interval
from spfkit.errors import (
    EvaluationError,
    PermError,
    RecordSyntaxError,
    TempError,
    shorten,
)
from spfkit.evaluate.budget import MAX_MX_NAMES, Budget
from spfkit.evaluate.options import CheckOptions
from spfkit.evaluate.run import Frame
from spfkit.identity import is_valid_domain, sender_with_local_part
from spfkit.lookup.protocol import Lookup, LookupStatus, Resolver, RRType
from spfkit.macros import MacroContext, MacroString
from spfkit.record.model import Record
from spfkit.record.parse import parse_record
from spfkit.record.select import select_record
from spfkit.record.terms import MX, PTR, A, Exists, Include, LocalMechanism, Mechanism
from spfkit.results import Result

__all__ = ["MAX_STEPS", "TooComplex", "compile_policy"]

#: steps (a term for a region; 64 spans of a region count one more) one compilation may take
#: before it gives up and leaves every client to the evaluator; real trees need a few dozen
MAX_STEPS: Final = 8192
#: macro letters that tie a name to the client: its address, validated name, IP version
_CLIENT_LETTERS: Final = frozenset("ipvcrt")
_KEY_LETTERS: Final = {"s": "sender", "l": "sender", "o": "sender", "h": "helo"}
_NOT_KEYED: Final[frozenset[str]] = frozenset()


class TooComplex(Exception):
    """The tree splits the address space into more pieces than :data:`MAX_STEPS`."""


@dataclass(frozen=True, slots=True)
class _Done:
    """A (nested) check_host() returned, with the counts at that point."""

    result: Result
    domain: str
    term: str | None
    record: Record | None
    budget: Budget
    no_such_domain: bool = False


class _Fallback:
    """These clients reach a client-dependent term: the evaluator decides."""


_FALLBACK: Final = _Fallback()
_Outcome = _Done | Decision | _Fallback
_Pieces = list[tuple[Region, _Outcome]]


def _failed(exc: EvaluationError, domain: str, budget: Budget) -> Decision:
    """The ``CheckResult`` fields ``check_host()`` makes of an error (its one ``except``)."""
    result = Result.PERMERROR if isinstance(exc, PermError) else Result.TEMPERROR
    return decision(result, exc.domain or domain, exc.term, exc.reason,
                    budget.dns_terms, budget.void_lookups)


class _Compiler:
    __slots__ = ("context", "keyed_on", "memo", "options", "resolver", "steps", "ttl", "version")

    def __init__(self, resolver: Resolver, version: int, context: MacroContext,
                 options: CheckOptions) -> None:
        self.resolver = resolver
        self.version = version
        self.context = context
        self.options = options
        self.memo: dict[tuple[RRType, str], Lookup[Any]] = {}
        self.ttl = float("inf")
        self.steps = 0
        self.keyed_on: set[str] = set()

    @property
    def address_type(self) -> RRType:
        """§5: A records for an IPv4 client, AAAA for an IPv6 one."""
        return RRType.A if self.version == 4 else RRType.AAAA

    def step(self, spans: int = 0) -> None:
        """Count one piece of work (and the spans it handles): a hostile tree may split the
        space finely, but compiling it stays bounded; past the bound the evaluator answers."""
        self.steps += 1 + spans // 64
        if self.steps > MAX_STEPS:
            raise TooComplex

    async def query(self, rrtype: RRType, name: str) -> Lookup[Any]:
        """One answer per question for the whole compilation (the evaluator's memo)."""
        key = (rrtype, name.lower())
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = await self.resolver.lookup(rrtype, name)
            self.ttl = min(self.ttl, found.ttl)
        return found

    def expand(self, spec: MacroString, frame: Frame) -> str | None:
        """§7.3 for a domain-spec; None when it depends on the client."""
        letters = spec.letters
        if letters & _CLIENT_LETTERS:
            return None
        self.keyed_on.update(_KEY_LETTERS[x] for x in letters if x in _KEY_LETTERS)
        return spec.expand_domain(_with_domain(self.context, frame.domain))

    async def target(self, mech: Mechanism, frame: Frame) -> str | None:
        """§4.8: the expanded domain-spec, or <domain> when the term has none."""
        spec = getattr(mech, "domain_spec", None)
        return frame.domain if spec is None else self.expand(spec, frame)

    # -- §4.3–§4.7 ----------------------------------------------------------------------

    async def check_host(self, frame: Frame, region: Region, budget: Budget) -> _Pieces:
        """One (nested) check_host() for every client of ``region``."""
        self.step()
        domain = frame.domain
        if not is_valid_domain(domain):
            return [(region, _Done(Result.NONE, domain, None, None, budget))]
        try:
            frame.check_loop()
            record = await self.fetch_record(frame, budget)
        except EvaluationError as exc:
            return [(region, self.fail(exc, frame, budget))]
        if not isinstance(record, Record):
            return [(region, _Done(Result.NONE, domain, None, None, budget,
                                   record is LookupStatus.NXDOMAIN))]
        return await self.mechanisms(frame, record, 0, region, budget)

    def fail(self, exc: EvaluationError, frame: Frame, budget: Budget) -> Decision:
        if exc.domain is None:  # the innermost domain, as check_host() marks it
            exc.domain = frame.domain
        return _failed(exc, frame.domain, budget)

    async def fetch_record(self, frame: Frame, budget: Budget) -> Record | LookupStatus:
        """§4.4–§4.5, as ``check_host.fetch_record``."""
        domain = frame.domain
        lookup = await self.query(RRType.TXT, domain)
        if lookup.status.is_error:
            raise TempError(f"DNS {lookup.outcome} looking up TXT {domain}")
        if frame.counts_void and lookup.is_void:
            budget.charge_void_lookup(domain)
        text = select_record(lookup.records, self.options.scope)
        if text is None:
            return lookup.status
        budget.charge_work(len(text), f"the record of {domain}")
        try:
            return parse_record(text)
        except RecordSyntaxError as exc:
            term = shorten(exc.term) if exc.term else None
            raise PermError(f"syntax error in the record of {domain}: {exc}", term) from None

    async def mechanisms(
        self, frame: Frame, record: Record, start: int, region: Region, budget: Budget
    ) -> _Pieces:
        """§4.6.2: the terms from ``start`` on, for the clients of ``region``."""
        out: _Pieces = []
        mechs = record.mechanisms
        index = start
        while region and index < len(mechs):
            self.step(len(region.spans))
            mech = mechs[index]
            index += 1
            if isinstance(mech, LocalMechanism):  # all, ip4, ip6 (§5.1, §5.6)
                network = _local_span(mech, self.version)
                if network is not None:
                    hit, region = region.split(*network)
                    if hit:
                        out.append((hit, _Done(mech.qualifier.result, frame.domain, str(mech),
                                               record, budget)))
                continue
            term = str(mech)
            budget = copy.copy(budget)
            try:
                budget.charge_dns_term(term)
            except PermError as exc:
                out.append((region, self.fail(exc, frame, budget)))
                return out
            target = await self.target(mech, frame)
            if target is None or isinstance(mech, PTR):
                out.append((region, _FALLBACK))  # §5.5, §7: the answer depends on the client
                return out
            if isinstance(mech, Include):
                out.extend(await self.include(frame, record, index, region, budget, term, target))
                return out
            try:
                hits, budget, error = await self.match(mech, term, target, region, budget)
            except EvaluationError as exc:
                out.append((region, self.fail(exc, frame, budget)))
                return out
            for hit, counts in hits:
                out.append((hit, _Done(mech.qualifier.result, frame.domain, term, record, counts)))
                region -= hit
            if error is not None:  # an "mx" host past the ones that matched failed
                out.append((region, self.fail(error, frame, budget)))
                return out
        if not region:
            return out
        if record.redirect is not None:
            out.extend(await self.redirect(frame, record, region, budget))
        else:  # §4.7
            out.append((region, _Done(Result.NEUTRAL, frame.domain, "default", record, budget)))
        return out

    async def include(self, frame: Frame, record: Record, index: int, region: Region,
                      budget: Budget, term: str, target: str) -> _Pieces:
        """§5.2: the target's result per sub-region; pass matches, fail/softfail/neutral go
        on with the next term (grouped by their counts), none is a PermError."""
        out: _Pieces = []
        going_on: dict[tuple[int, int, int], tuple[Region, Budget]] = {}
        for part, inner in await self.check_host(frame.child(target), region, budget):
            if not isinstance(inner, _Done):
                out.append((part, inner))
            elif inner.result is Result.PASS:
                out.append((part, _Done(record.mechanisms[index - 1].qualifier.result,
                                        frame.domain, term, record, inner.budget)))
            elif inner.result is Result.NONE:
                none = PermError(f"include:{target} has no SPF record", term)
                out.append((part, self.fail(none, frame, inner.budget)))
            else:
                b = inner.budget
                key = (b.dns_terms, b.void_lookups, b.work)
                before = going_on.get(key)
                going_on[key] = ((before[0] | part) if before else part, b)
        for part, b in going_on.values():
            out.extend(await self.mechanisms(frame, record, index, part, b))
        return out

    async def redirect(self, frame: Frame, record: Record, region: Region,
                       budget: Budget) -> _Pieces:
        """§6.1: the target's result is the result; a target without a record, PermError."""
        assert record.redirect is not None
        term = str(record.redirect)
        budget = copy.copy(budget)
        try:
            budget.charge_dns_term(term)
        except PermError as exc:
            return [(region, self.fail(exc, frame, budget))]
        target = self.expand(record.redirect.domain_spec, frame)
        if target is None:
            return [(region, _FALLBACK)]
        out: _Pieces = []
        for part, inner in await self.check_host(frame.child(target), region, budget):
            if isinstance(inner, _Done) and inner.result is Result.NONE:
                none = PermError(f"redirect={target}: the target has no SPF record", term)
                inner = self.fail(none, frame, inner.budget)
            out.append((part, inner))
        return out

    # -- §5.3, §5.4, §5.7 ---------------------------------------------------------------

    async def match(self, mech: Mechanism, term: str, target: str, region: Region,
                    budget: Budget) -> tuple[list[tuple[Region, Budget]], Budget, EvaluationError | None]:
        """The clients of ``region`` that ``mech`` matches (with their counts), the counts of
        those it does not, and the error those meet; raises errors that hit the whole region."""
        if isinstance(mech, Exists):
            lookup = await self.query(RRType.A, target)
            _raise_on_error(lookup, f"A {target}")
            _void(budget, lookup, term)
            return ([(region, budget)] if lookup.status is LookupStatus.ANSWER else []), budget, None
        assert isinstance(mech, A | MX)
        prefix = mech.cidr4 if self.version == 4 else mech.cidr6
        rrtype = self.address_type
        if isinstance(mech, A):
            lookup = await self.query(rrtype, target)
            _raise_on_error(lookup, f"{rrtype.value} {target}")
            _void(budget, lookup, term)
            budget.charge_work(len(lookup.records), term)
            hit = region & Region.of_addresses(self.version, lookup.records, prefix)
            return [(hit, budget)], budget, None
        lookup = await self.query(RRType.MX, target)
        _raise_on_error(lookup, f"MX {target}")
        _void(budget, lookup, term)
        if len(lookup.records) > MAX_MX_NAMES:
            raise PermError(f"{target} has {len(lookup.records)} MX records (limit {MAX_MX_NAMES})", term)
        hosts = [mx.exchange for mx in lookup.records if mx.exchange not in ("", ".")]
        hits: list[tuple[Region, Budget]] = []
        for host in hosts:  # in order: the first host whose addresses match decides
            if not region:
                break
            answer = await self.query(rrtype, host)
            budget = copy.copy(budget)
            try:
                _raise_on_error(answer, f"{rrtype.value} {host}")
                budget.charge_work(len(answer.records), term)
            except EvaluationError as exc:
                return hits, budget, exc
            hit = region & Region.of_addresses(self.version, answer.records, prefix)
            if hit:
                hits.append((hit, budget))
                region -= hit
        return hits, budget, None


def _raise_on_error(lookup: Lookup[Any], what: str) -> None:
    if lookup.status.is_error:
        raise TempError(f"DNS {lookup.outcome} for {what}")


def _void(budget: Budget, lookup: Lookup[Any], term: str) -> None:
    if lookup.is_void:
        budget.charge_void_lookup(term)


def _local_span(mech: LocalMechanism, version: int) -> tuple[int, int] | None:
    """The addresses "all", "ip4" or "ip6" matches for clients of ``version``, or None."""
    network = getattr(mech, "network", None)
    if network is None:  # "all"
        return 0, (1 << BITS[version]) - 1
    if network.version != version:
        return None
    return cidr_interval(int(network.network_address), network.prefixlen, BITS[version])


def _with_domain(ctx: MacroContext, domain: str) -> MacroContext:
    return MacroContext(ctx.sender, domain, ctx.ip, ctx.helo, ctx.receiver, ctx.timestamp)


async def compile_policy(
    domain: str,
    version: int,
    *,
    resolver: Resolver,
    sender: str = "",
    helo: str = "",
    options: CheckOptions | None = None,
) -> PolicyMap:
    """§4: ``check_host(ip, domain, sender)`` for every ``ip`` of one IP version, as a map.

    A tree that splits the space into more than :data:`MAX_STEPS` pieces compiles to "ask
    the evaluator" everywhere. A domain without a record compiles to one ``none`` range
    (``no_such_domain`` when its TXT lookup was NXDOMAIN, as the evaluator sets it).
    """
    options = options or CheckOptions()
    ip: IPv4Address | IPv6Address = IPv4Address(0) if version == 4 else IPv6Address(0)
    context = MacroContext(sender_with_local_part(sender, domain), domain, ip, helo)
    compiler = _Compiler(resolver, version, context, options)
    budget = Budget(options.max_dns_terms, options.max_void_lookups, options.max_work)
    everything = Region.everything(version)
    pieces: list[tuple[int, int, Decision | None]] = []
    try:
        outcomes = await compiler.check_host(Frame(domain), everything, budget)
    except TooComplex:
        outcomes = [(everything, _FALLBACK)]
    for region, outcome in outcomes:
        decision = _decision(outcome)
        pieces.extend((low, high, decision) for low, high in region.spans)
    starts, decisions, index = merge_ranges(pieces)
    ttl = 0.0 if compiler.ttl == float("inf") else compiler.ttl
    keyed_on = frozenset(compiler.keyed_on) if compiler.keyed_on else _NOT_KEYED
    return PolicyMap(domain, version, compact_starts(version, starts), decisions, ttl, keyed_on,
                     index)


def _decision(outcome: _Outcome) -> Decision | None:
    if isinstance(outcome, _Fallback):
        return None
    if not isinstance(outcome, _Done):
        return outcome
    b = outcome.budget
    return decision(outcome.result, outcome.domain, outcome.term, None,
                    b.dns_terms, b.void_lookups, outcome.record, outcome.no_such_domain)
