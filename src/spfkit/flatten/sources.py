"""What a term of an SPF record resolves to, for flattening (RFC 7208 §5, §5.2, §6.1).

The flattening's types (:class:`Networks`, :class:`Kept`, :class:`Source`, :class:`Plan`)
and the probe: a plain ``a``, ``mx`` or ``include`` is compiled (``spfkit.compile``) as a
one-term record ``v=spf1 <term> -all`` served beside the real records, and its ``pass``
networks are what the term matches. Sans-I/O apart from the injected resolver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network
from typing import Final

from spfkit.compile import PolicyMap, compile_policy
from spfkit.errors import PermError
from spfkit.evaluate.options import CheckOptions
from spfkit.lookup.overlay import OverlayResolver
from spfkit.lookup.protocol import LookupStatus, Resolver, RRType
from spfkit.record.select import select_record
from spfkit.record.terms import (
    MX,
    A,
    Include,
    Mechanism,
    Qualifier,
    Redirect,
)
from spfkit.results import Result

__all__ = ["PROBE_TTL", "RESULT_QUALIFIER", "UNLIMITED", "FlattenError", "Item", "Kept", "Network", "Networks", "Plan", "Source",
           "has_macro", "is_temporary", "map_networks", "map_problem", "probe_body", "subtract",
           "target_of", "term_maps", "term_networks", "top_record"]

Network = IPv4Network | IPv6Network
#: the source tree is read without the §4.6.4 limits: the policy its owner meant
UNLIMITED: Final = CheckOptions(max_dns_terms=10_000, max_void_lookups=10_000)
_PROBE: Final = "_spfkit-flatten-probe"
PROBE_TTL: Final = float(2**31 - 1)
RESULT_QUALIFIER: Final = {Result.PASS: Qualifier.PASS, Result.FAIL: Qualifier.FAIL,
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
    #: the error is a DNS failure (an outage), not what the records say
    temporary: bool = False


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


async def term_maps(name: str, resolver: Resolver) -> tuple[PolicyMap, PolicyMap]:
    v4 = await compile_policy(name, 4, resolver=resolver, options=UNLIMITED)
    v6 = await compile_policy(name, 6, resolver=resolver, options=UNLIMITED)
    return v4, v6


def map_problem(maps: tuple[PolicyMap, PolicyMap], allowed: set[Result]) -> str | None:
    """Why these maps are not plain networks, or None."""
    for policy in maps:
        for _first, _last, decision in policy.ranges():
            if decision is None:
                return "depends on the client (ptr, exists or a macro inside)"
            if decision.result not in allowed:
                why = f": {decision.problem}" if decision.problem else ""
                return f"gives {decision.result.value} for some clients{why}"
    return None


def map_networks(maps: tuple[PolicyMap, PolicyMap], result: Result) -> tuple[Network, ...]:
    return tuple(maps[0].networks(result)) + tuple(maps[1].networks(result))


def probe_body(term: Mechanism, domain: str) -> str:
    """The term with "+" and an explicit domain (a bare ``a``/``mx`` means ``domain``)."""
    body = term.canonical().lstrip("+-~?")
    if isinstance(term, A | MX) and term.domain_spec is None:
        body = f"{term.name}:{domain}{body[len(term.name):]}"
    return body


def has_macro(term: object) -> bool:
    spec = getattr(term, "domain_spec", None)
    return spec is not None and "%" in str(spec)


async def term_networks(term: Mechanism, domain: str, resolver: Resolver
                         ) -> tuple[str | None, tuple[Network, ...], float]:
    """The networks a plain ``a``/``mx``/``include`` matches (compiled from a one-term probe
    record), or why it is not plain networks; and the smallest TTL of the answers."""
    probe = f"{_PROBE}.{domain}"
    # the probe's own TTL is the largest, so the map's TTL is the smallest of the real answers
    overlay = OverlayResolver(resolver, {probe: f"v=spf1 {probe_body(term, domain)} -all"},
                              ttl=PROBE_TTL)
    maps = await term_maps(probe, overlay)
    problem = map_problem(maps, {Result.PASS, Result.FAIL})
    ttl = min(maps[0].ttl, maps[1].ttl)
    return problem, (() if problem else map_networks(maps, Result.PASS)), ttl


def target_of(term: Include | Redirect) -> str:
    return str(term.domain_spec).lower().rstrip(".")


def is_temporary(problem: str) -> bool:
    """A DNS failure (§2.6.6 temperror): an outage, not a change of the tree."""
    return problem.startswith(f"gives {Result.TEMPERROR.value}")


def subtract(nets: tuple[Network, ...], blocked: list[Network]) -> list[Network]:
    """``nets`` without the addresses of ``blocked`` (never wider than ``nets``)."""
    out: list[Network] = []
    for net in nets:
        pieces = [net]
        for cut in blocked:
            if cut.version != net.version:
                continue
            nxt: list[Network] = []
            for piece in pieces:
                if not piece.overlaps(cut):
                    nxt.append(piece)
                elif not cut.supernet_of(piece):  # type: ignore[arg-type]
                    nxt.extend(piece.address_exclude(cut))  # type: ignore[arg-type]
            pieces = nxt
        out.extend(pieces)
    return out
