"""Which terms of a domain's record flatten into networks, and which are kept (RFC 7208 §5, §6.1).

The top record is walked in evaluation order (§4.6.2). A plain ``ip4``/``ip6`` is its own
network; a plain ``a``, ``mx`` or ``include`` becomes the networks it matches, found by
compiling a one-term probe record (``spfkit.compile``); a ``redirect=`` (§6.1, only when no
``all``) becomes its target's whole map: one network term per result and an ``all`` for the
rest. Kept as written: ``ptr``, ``exists``, any term with a macro, the includes named with
``keep``, and a term whose target does not compile to plain pass/fail (a DNS error, a
permerror, a client-dependent term inside). Qualifiers stay on their terms: an include's own
``-``/``~`` terms only mean "no match" (§5.2), so only its ``pass`` networks are taken.

Sans-I/O apart from the injected resolver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, collapse_addresses
from typing import Final

from spfkit.compile import PolicyMap, compile_policy
from spfkit.errors import PermError, RecordSyntaxError
from spfkit.evaluate.options import CheckOptions
from spfkit.lookup.overlay import OverlayResolver
from spfkit.lookup.protocol import LookupStatus, Resolver, RRType
from spfkit.record.parse import parse_record
from spfkit.record.select import select_record
from spfkit.record.terms import (
    IP4,
    IP6,
    MX,
    PTR,
    A,
    All,
    Exists,
    Explanation,
    Include,
    Mechanism,
    Qualifier,
)
from spfkit.results import Result

__all__ = ["UNLIMITED", "FlattenError", "Kept", "Networks", "Plan", "Source", "plan_flattening"]

Network = IPv4Network | IPv6Network
#: the source tree is read without the §4.6.4 limits: the policy its owner meant
UNLIMITED: Final = CheckOptions(max_dns_terms=10_000, max_void_lookups=10_000)
_PROBE: Final = "_spfkit-flatten-probe"
_PROBE_TTL: Final = float(2**31 - 1)
_QUALIFIER: Final = {Result.PASS: Qualifier.PASS, Result.FAIL: Qualifier.FAIL,
                     Result.SOFTFAIL: Qualifier.SOFTFAIL, Result.NEUTRAL: Qualifier.NEUTRAL}


class FlattenError(Exception):
    """The tree cannot be flattened (no record, a DNS error, a syntax error); says why."""


@dataclass(frozen=True, slots=True)
class Networks:
    """Flattened terms: ``qualifier`` on each network, in place of ``source``."""

    qualifier: Qualifier
    networks: tuple[Network, ...]
    source: str

    def tokens(self) -> list[str]:
        """The terms as written: ``ip4:192.0.2.1`` (a host without its ``/32``)."""
        prefix = "" if self.qualifier is Qualifier.PASS else self.qualifier.value
        out = []
        for net in self.networks:
            kind = "ip4" if net.version == 4 else "ip6"
            host = net.prefixlen == net.max_prefixlen
            out.append(f"{prefix}{kind}:{net.network_address if host else net}")
        return out


@dataclass(frozen=True, slots=True)
class Kept:
    """A term kept as written, and why."""

    text: str
    reason: str


Item = Networks | Kept


@dataclass(frozen=True, slots=True)
class Source:
    """What one include/redirect target (or ``a``/``mx`` term) resolved to: its pass
    networks, the smallest TTL of the answers, or the error that stopped it."""

    name: str
    networks: tuple[Network, ...] = ()
    ttl: float = 0.0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """The flattened top record: items in evaluation order, then the kept modifiers and
    the final ``all`` (``tail``)."""

    domain: str
    record: str
    items: tuple[Item, ...]
    tail: tuple[str, ...]
    sources: tuple[Source, ...] = field(default=())


async def top_record(domain: str, resolver: Resolver) -> str:
    """§4.4–4.5: the domain's SPF record text, or :class:`FlattenError`."""
    lookup = await resolver.lookup(RRType.TXT, domain)
    if lookup.status.is_error:
        raise FlattenError(f"{domain}: DNS error ({lookup.outcome})")
    if lookup.status is not LookupStatus.ANSWER:
        raise FlattenError(f"{domain}: no SPF record ({lookup.status.value})")
    try:
        text = select_record(lookup.records)
    except PermError as exc:
        raise FlattenError(f"{domain}: {exc}") from None
    if text is None:
        raise FlattenError(f"{domain}: no SPF record")
    return text


async def _maps(name: str, resolver: Resolver) -> tuple[PolicyMap, PolicyMap]:
    v4 = await compile_policy(name, 4, resolver=resolver, options=UNLIMITED)
    v6 = await compile_policy(name, 6, resolver=resolver, options=UNLIMITED)
    return v4, v6


def _problem(maps: tuple[PolicyMap, PolicyMap], allowed: set[Result]) -> str | None:
    """Why these maps are not plain networks, or None."""
    for policy in maps:
        for _first, _last, decision in policy.ranges():
            if decision is None:
                return "depends on the client (ptr, exists or a macro inside)"
            if decision.result not in allowed:
                why = f": {decision.problem}" if decision.problem else ""
                return f"gives {decision.result.value} for some clients{why}"
    return None


def _nets(maps: tuple[PolicyMap, PolicyMap], result: Result) -> tuple[Network, ...]:
    return tuple(maps[0].networks(result)) + tuple(maps[1].networks(result))


def _probe_body(term: Mechanism, domain: str) -> str:
    """The term with "+" and an explicit domain (a bare ``a``/``mx`` means ``domain``)."""
    body = term.canonical().lstrip("+-~?")
    if isinstance(term, A | MX) and term.domain_spec is None:
        body = f"{term.name}:{domain}{body[len(term.name):]}"
    return body


def _has_macro(term: object) -> bool:
    spec = getattr(term, "domain_spec", None)
    return spec is not None and "%" in str(spec)


async def _flatten_term(term: Mechanism, domain: str, resolver: Resolver,
                        keep: frozenset[str], only: frozenset[str] | None
                        ) -> tuple[Item, Source | None]:
    text = str(term)
    if isinstance(term, IP4 | IP6):
        return Networks(term.qualifier, (term.network,), text), None
    if isinstance(term, PTR | Exists):
        return Kept(text, f"{term.name} depends on the client"), None
    if _has_macro(term):
        return Kept(text, "a macro depends on the message"), None
    name = str(term.domain_spec).lower().rstrip(".") if isinstance(term, Include) else text
    if isinstance(term, Include) and name in keep:
        return Kept(text, "kept (--keep)"), None
    if only is not None and not (isinstance(term, Include) and name in only):
        return Kept(text, "not named with --only"), None
    probe = f"{_PROBE}.{domain}"
    # the probe's own TTL is the largest, so the map's TTL is the smallest of the real answers
    overlay = OverlayResolver(resolver, {probe: f"v=spf1 {_probe_body(term, domain)} -all"},
                              ttl=_PROBE_TTL)
    maps = await _maps(probe, overlay)
    problem = _problem(maps, {Result.PASS, Result.FAIL})
    ttl = min(maps[0].ttl, maps[1].ttl)
    if problem is not None:
        return Kept(text, f"{name} {problem}"), Source(name, ttl=ttl, error=problem)
    nets = _nets(maps, Result.PASS)
    return Networks(term.qualifier, nets, text), Source(name, nets, ttl)


async def _flatten_redirect(target: str, resolver: Resolver
                            ) -> tuple[list[Item], str | None, Source]:
    maps = await _maps(target, resolver)
    ttl = min(maps[0].ttl, maps[1].ttl)
    problem = _problem(maps, set(_QUALIFIER))
    if problem is not None:
        return [], None, Source(target, ttl=ttl, error=problem)
    by_result = {r: _nets(maps, r) for r in _QUALIFIER}
    default = max(by_result, key=lambda r: len(by_result[r]))
    items: list[Item] = [Networks(_QUALIFIER[r], nets, f"redirect={target}")
                         for r, nets in by_result.items() if nets and r is not default]
    all_term = f"{'' if default is Result.PASS else _QUALIFIER[default].value}all"
    return items, all_term, Source(target, by_result[Result.PASS], ttl)


def merge_items(items: list[Item]) -> list[Item]:
    """Adjacent network terms with the same qualifier become one, collapsed per version
    (``ipaddress.collapse_addresses`` joins only what touches: it never widens)."""
    out: list[Item] = []
    for item in items:
        if isinstance(item, Networks) and not item.networks:
            continue  # matches no client: nothing to write
        last = out[-1] if out else None
        if isinstance(item, Networks) and isinstance(last, Networks) \
                and last.qualifier is item.qualifier:
            out[-1] = Networks(item.qualifier, last.networks + item.networks,
                               f"{last.source} {item.source}")
        else:
            out.append(item)
    return [_collapsed(i) if isinstance(i, Networks) else i for i in out]


def _collapsed(item: Networks) -> Networks:
    v4 = [n for n in item.networks if isinstance(n, IPv4Network)]
    v6 = [n for n in item.networks if isinstance(n, IPv6Network)]
    nets: tuple[Network, ...] = tuple(collapse_addresses(v4)) + tuple(collapse_addresses(v6))
    return Networks(item.qualifier, nets, item.source)


async def plan_flattening(domain: str, resolver: Resolver,
                          keep: frozenset[str] = frozenset(),
                          only: frozenset[str] | None = None) -> Plan:
    """The flattening of ``domain``'s record (see the module doc).

    ``only``: flatten just these include (and redirect) targets; every other term that would
    be resolved (other includes, ``a``, ``mx``) stays as written, in place.
    """
    domain = domain.lower().rstrip(".")
    text = await top_record(domain, resolver)
    try:
        record = parse_record(text)
    except RecordSyntaxError as exc:
        raise FlattenError(f"{domain}: {exc}") from None
    items: list[Item] = []
    tail: list[str] = []
    sources: list[Source] = []
    ended = False
    for term in record.mechanisms:
        if isinstance(term, All):
            tail.append(term.canonical())
            ended = True
            break  # §4.6.2: later terms are never reached, redirect is ignored (§6.1)
        item, source = await _flatten_term(term, domain, resolver, keep, only)
        items.append(item)
        if source is not None:
            sources.append(source)
    redirect = record.redirect
    if not ended and redirect is not None:
        target = str(redirect.domain_spec).lower().rstrip(".")
        if "%" in target or target in keep or (only is not None and target not in only):
            tail.append(f"redirect={redirect.domain_spec}")
        else:
            more, all_term, source = await _flatten_redirect(target, resolver)
            sources.append(source)
            if all_term is None:
                tail.append(f"redirect={redirect.domain_spec}")
            else:
                items.extend(more)
                tail.append(all_term)
    if record.explanation is not None:
        exp: Explanation = record.explanation
        tail.append(f"exp={exp.domain_spec}")
    return Plan(domain, text, tuple(merge_items(items)), tuple(tail), tuple(sources))
