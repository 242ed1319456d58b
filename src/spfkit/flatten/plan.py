"""Which terms of a domain's record flatten into networks, and which are kept (RFC 7208 §5, §6.1).

The top record is walked in evaluation order (§4.6.2). A plain ``ip4``/``ip6`` is its own
network; a plain ``a``, ``mx`` or ``include`` becomes the networks it matches, found by
compiling a one-term probe record (``spfkit.compile``); a ``redirect=`` (§6.1, only when no
``all``) becomes its target's whole map: one network term per result and an ``all`` for the
rest. Kept as written: ``ptr``, ``exists``, any term with a macro, the includes named with
``keep``, and a term whose target does not compile to plain pass/fail (a DNS error, a
permerror, a client-dependent term inside). Qualifiers stay on their terms: an include's own
``-``/``~`` terms only mean "no match" (§5.2), so only its ``pass`` networks are taken.
An include whose subtree holds a ``keep`` include is flattened term by term around it
(:mod:`~spfkit.flatten.nested`). The types and the probe live in :mod:`~spfkit.flatten.sources`.

Sans-I/O apart from the injected resolver.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from ipaddress import IPv4Network, IPv6Network, collapse_addresses

from spfkit.errors import RecordSyntaxError
from spfkit.flatten.nested import MAX_DEPTH, CannotInline, Inline, holds_kept
from spfkit.flatten.sources import (
    RESULT_QUALIFIER,
    UNLIMITED,
    FlattenError,
    Item,
    Kept,
    Network,
    Networks,
    Plan,
    Source,
    has_macro,
    is_temporary,
    map_networks,
    map_problem,
    subtract,
    target_of,
    term_maps,
    term_networks,
    top_record,
)
from spfkit.lookup.protocol import Resolver
from spfkit.record.model import Record
from spfkit.record.parse import parse_record
from spfkit.record.terms import (
    IP4,
    IP6,
    PTR,
    All,
    Exists,
    Explanation,
    Include,
    Mechanism,
)
from spfkit.results import Result

__all__ = ["UNLIMITED", "FlattenError", "Item", "Kept", "Network", "Networks", "Plan", "Source",
           "nameable_targets", "plan_flattening", "subtract", "top_record", "unknown_target"]


def _reached_targets(record: Record) -> list[str]:
    """The include targets before ``all`` (§4.6.2) and the redirect target when there is no
    ``all`` (§6.1), in evaluation order; a target with a macro cannot be named."""
    out: list[str] = []
    for term in record.mechanisms:
        if isinstance(term, All):
            return out
        if isinstance(term, Include) and not has_macro(term):
            out.append(target_of(term))
    if record.redirect is not None and not has_macro(record.redirect):
        out.append(target_of(record.redirect))
    return out


def unknown_target(names: Collection[str], known: Sequence[str], domain: str, *,
                   top: bool = False) -> str | None:
    """Why a ``keep`` (or, ``top``, an ``only``) name is refused: the first of ``names`` that
    is not in ``known`` (:func:`nameable_targets`), with what can be named; None if all are."""
    unknown = sorted(set(names) - set(known))
    if not unknown:
        return None
    name = domain.lower().rstrip(".")
    where, verb = (f"of {name}'s record", "flattened") if top else (f"in {name}'s tree", "kept")
    listed = ", ".join(known[:12]) + (f" and {len(known) - 12} more" if len(known) > 12 else "")
    return (f"{unknown[0]}: not an include or redirect target {where} "
            f"({f'what can be {verb}: {listed}' if known else 'it has none'})")


async def nameable_targets(domain: str, resolver: Resolver
                           ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What ``only`` can name (the top record's include and redirect targets) and what
    ``keep`` can (those of the whole tree), each in evaluation order. The top record's
    problems are :class:`FlattenError`; a nested record that fails has no targets."""
    domain = domain.lower().rstrip(".")
    try:
        top = _reached_targets(parse_record(await top_record(domain, resolver)))
    except RecordSyntaxError as exc:
        raise FlattenError(f"{domain}: {exc}") from None
    tree = list(dict.fromkeys(top))
    queue = [(name, 1) for name in tree]
    while queue:
        name, depth = queue.pop(0)
        if depth >= MAX_DEPTH or len(tree) > 4 * MAX_DEPTH:
            continue
        try:
            found = _reached_targets(parse_record(await top_record(name, resolver)))
        except (FlattenError, RecordSyntaxError):
            continue  # the plan keeps it as written, with the reason
        for target in found:
            if target not in tree:
                tree.append(target)
                queue.append((target, depth + 1))
    return tuple(dict.fromkeys(top)), tuple(tree)


async def _flatten_term(term: Mechanism, domain: str, resolver: Resolver,
                        keep: frozenset[str], only: frozenset[str] | None
                        ) -> tuple[list[Item], Source | None]:
    text = str(term)
    if isinstance(term, IP4 | IP6):
        return [Networks(term.qualifier, (term.network,), text)], None
    if isinstance(term, PTR | Exists):
        return [Kept(text, f"{term.name} depends on the client")], None
    if has_macro(term):
        return [Kept(text, "a macro depends on the message")], None
    name = target_of(term) if isinstance(term, Include) else text
    if isinstance(term, Include) and name in keep:
        return [Kept(text, "kept (--keep)")], None
    if only is not None and not (isinstance(term, Include) and name in only):
        return [Kept(text, "not named with --only")], None
    if isinstance(term, Include) and keep and await holds_kept(name, resolver, keep, set()):
        try:
            inline = Inline(resolver, keep)
            items = await inline.record(name, term.qualifier, ())
        except CannotInline as exc:
            reason = f"{name} cannot be flattened around the kept include: {exc}"
            return [Kept(text, reason)], Source(name, error=reason)
        return items, Source(name, inline.passed(), inline.ttl)
    problem, nets, ttl = await term_networks(term, domain, resolver)
    if problem is not None:
        return [Kept(text, f"{name} {problem}")], Source(name, ttl=ttl, error=problem,
                                                          temporary=is_temporary(problem))
    return [Networks(term.qualifier, nets, text)], Source(name, nets, ttl)


async def _flatten_redirect(target: str, resolver: Resolver
                            ) -> tuple[list[Item], str | None, Source]:
    maps = await term_maps(target, resolver)
    ttl = min(maps[0].ttl, maps[1].ttl)
    problem = map_problem(maps, set(RESULT_QUALIFIER))
    if problem is not None:
        return [], None, Source(target, ttl=ttl, error=problem, temporary=is_temporary(problem))
    by_result = {r: map_networks(maps, r) for r in RESULT_QUALIFIER}
    default = max(by_result, key=lambda r: len(by_result[r]))
    items: list[Item] = [Networks(RESULT_QUALIFIER[r], nets, f"redirect={target}")
                         for r, nets in by_result.items() if nets and r is not default]
    all_term = f"{'' if default is Result.PASS else RESULT_QUALIFIER[default].value}all"
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
        more_items, source = await _flatten_term(term, domain, resolver, keep, only)
        items.extend(more_items)
        if source is not None:
            sources.append(source)
    redirect = record.redirect
    if not ended and redirect is not None:
        target = target_of(redirect)
        if "%" in target or target in keep or (only is not None and target not in only) \
                or (keep and await holds_kept(target, resolver, keep, set())):
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
