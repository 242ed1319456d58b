"""An include flattened in place around the includes named with ``--keep`` inside it
(RFC 7208 §5.2, §6.1).

``spfkit flatten --keep INNER`` where INNER is included by a provider: the provider's other
terms become networks and ``include:INNER`` stays as written, in its place. Sans-I/O apart
from the injected resolver.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, collapse_addresses
from typing import Final

from spfkit.errors import RecordSyntaxError
from spfkit.flatten.sources import (
    PROBE_TTL,
    FlattenError,
    Item,
    Kept,
    Network,
    Networks,
    has_macro,
    subtract,
    target_of,
    term_networks,
    top_record,
)
from spfkit.lookup.protocol import Resolver
from spfkit.record.parse import parse_record
from spfkit.record.terms import (
    IP4,
    IP6,
    PTR,
    All,
    Exists,
    Include,
    Mechanism,
    Qualifier,
    Redirect,
)

__all__ = ["MAX_DEPTH", "CannotInline", "Inline", "holds_kept"]

class CannotInline(Exception):
    """Why an include cannot be flattened around a kept include inside it."""


#: how deep includes are followed to find a kept one (the §4.6.4 limit is 10 lookups)
MAX_DEPTH: Final = 12


async def holds_kept(name: str, resolver: Resolver, keep: frozenset[str],
                      seen: set[str]) -> bool:
    """Does ``name``'s subtree include (or redirect to) a ``keep`` target?"""
    if name in seen or len(seen) > 4 * MAX_DEPTH:
        return False
    seen.add(name)
    try:
        record = parse_record(await top_record(name, resolver))
    except (FlattenError, RecordSyntaxError):
        return False  # the probe path keeps it as written, with the reason
    for term in record.terms:
        if isinstance(term, Include | Redirect) and not has_macro(term):
            target = target_of(term)
            if target in keep or await holds_kept(target, resolver, keep, seen):
                return True
    return False


class Inline:
    """An include flattened in place around the kept includes inside it (§5.2).

    Inside an include only ``pass`` is a match; any other result is "no match", so the
    addresses an include's ``-``/``~``/``?`` terms catch never reach its later terms
    (``blocked``): later networks are written without them. A kept include can stay in place
    only where nothing is blocked yet (its addresses must reach it exactly as before) and only
    unqualified (it must pass through its result unchanged). ``redirect=`` continues the
    include with its target's terms (§6.1).
    """

    def __init__(self, resolver: Resolver, keep: frozenset[str]) -> None:
        self.resolver = resolver
        self.keep = keep
        self.ttl = PROBE_TTL
        self._passed: list[Network] = []
        self._path: list[str] = []  # the includes being flattened, outermost first
        self._records = 0

    def passed(self) -> tuple[Network, ...]:
        v4 = [n for n in self._passed if isinstance(n, IPv4Network)]
        v6 = [n for n in self._passed if isinstance(n, IPv6Network)]
        return tuple(collapse_addresses(v4)) + tuple(collapse_addresses(v6))

    async def record(self, name: str, qualifier: Qualifier, outer: tuple[Network, ...]
                     ) -> list[Item]:
        """The items that stand for ``qualifier`` + ``include:name`` in the parent record."""
        blocked = list(outer)
        items: list[Item] = []
        domain: str | None = name
        depth = len(self._path)
        while domain is not None:
            if domain in self._path:
                raise CannotInline(f"{domain} includes itself (a loop, §4.6.4)")
            self._records += 1
            if len(self._path) > MAX_DEPTH or self._records > 4 * MAX_DEPTH:
                raise CannotInline(f"the tree below {name} is too deep or too large")
            self._path.append(domain)
            try:
                record = parse_record(await top_record(domain, self.resolver))
            except (FlattenError, RecordSyntaxError) as exc:
                raise CannotInline(str(exc)) from None
            ended = False
            for term in record.mechanisms:
                if isinstance(term, All):
                    if term.qualifier is Qualifier.PASS:
                        raise CannotInline(f"{domain} ends with +all")
                    ended = True
                    break
                items += await self._term(term, domain, qualifier, blocked)
            redirect = record.redirect
            domain = None
            if not ended and redirect is not None:
                if has_macro(redirect):
                    raise CannotInline(f"redirect={redirect.domain_spec} uses a macro")
                domain = target_of(redirect)
                if domain in self.keep:
                    items.append(self._kept(f"include:{domain}", qualifier, blocked))
                    domain = None
        del self._path[depth:]
        return items

    async def _term(self, term: Mechanism, domain: str, qualifier: Qualifier,
                    blocked: list[Network]) -> list[Item]:
        if isinstance(term, PTR | Exists) or has_macro(term):
            raise CannotInline(f"{domain}'s {term} depends on the client")
        plain = term.qualifier is Qualifier.PASS
        if isinstance(term, Include):
            target = target_of(term)
            if target in self.keep or await holds_kept(target, self.resolver, self.keep, set()):
                if not plain:
                    raise CannotInline(f"{domain}'s {term} is qualified (only + passes through)")
                if target in self.keep:
                    return [self._kept(f"include:{target}", qualifier, blocked)]
                return await self.record(target, qualifier, tuple(blocked))
        if isinstance(term, IP4 | IP6):
            nets: tuple[Network, ...] = (term.network,)
        else:
            problem, nets, ttl = await term_networks(term, domain, self.resolver)
            self.ttl = min(self.ttl, ttl)
            if problem is not None:
                raise CannotInline(f"{domain}'s {term} {problem}")
        if not plain:
            blocked.extend(nets)
            return []
        left = tuple(subtract(nets, blocked))
        self._passed.extend(left)
        return [Networks(qualifier, left, f"include:{domain}")]

    def _kept(self, text: str, qualifier: Qualifier, blocked: list[Network]) -> Kept:
        if blocked:
            raise CannotInline(f"its '-'/'~'/'?' terms before {text} would no longer stop "
                                f"the addresses they catch ({blocked[0]}…)")
        prefix = "" if qualifier is Qualifier.PASS else qualifier.value
        return Kept(f"{prefix}{text}", "kept (--keep)")
