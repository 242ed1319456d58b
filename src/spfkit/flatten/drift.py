"""Drift: what a domain's SPF tree is now, against what the state file remembers (``spfkit watch``).

A tree is observed as a :class:`TreeFacts`: its source record, the DNS lookups and void
lookups it needs (``spfkit.tree.build_tree``'s counts with the §4.6.4 limits lifted, the
numbers ``lint`` and ``show`` print), the errors in it (a missing include target, a loop, a
syntax error), and the ``pass`` networks of each source (include/redirect target, ``a``/``mx``
term, :func:`~spfkit.flatten.plan.plan_flattening`). A DNS failure anywhere is an *outage*:
nothing can be said about the tree, and no network is reported removed (RFC 7208 §2.6.6).

Once the flattened records are published, the domain's own record is the flattened one; its
source record is then taken from the state file and evaluated in its place
(:class:`~spfkit.lookup.overlay.OverlayResolver`), so providers are still followed.
Sans-I/O apart from the injected resolver.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from spfkit.flatten.plan import FlattenError, Plan, Source, plan_flattening, top_record
from spfkit.flatten.state import SourceChange, diff_sources
from spfkit.lookup.overlay import OverlayResolver
from spfkit.lookup.protocol import Resolver
from spfkit.results import Result
from spfkit.tree import RecordTree, build_tree
from spfkit.tree.model import ErrorKind

__all__ = ["TreeChanges", "TreeFacts", "compare", "facts_state", "observe", "source_record",
           "tree_facts"]

#: errors that the lookup counts already show (the source of a flattening is often over them)
_COUNTED = frozenset({ErrorKind.LOOKUP_LIMIT, ErrorKind.VOID_LIMIT})


@dataclass(frozen=True, slots=True)
class TreeFacts:
    """One observation of a domain's tree."""

    domain: str
    #: the source record (the state file's, when the flattened copy is what DNS serves)
    record: str
    #: the record DNS serves for the domain now
    published: str
    lookups: int
    void_lookups: int
    errors: tuple[str, ...]
    sources: tuple[Source, ...]
    #: a DNS failure somewhere in the tree (then nothing else here is reliable)
    outage: str | None = None

    @property
    def flattened_live(self) -> bool:
        """DNS serves the flattened copy (the source record is the state file's)."""
        return not _same(self.record, self.published)


@dataclass(frozen=True, slots=True)
class TreeChanges:
    """What differs from the remembered tree; empty when nothing does."""

    record: tuple[str, str] | None = None  # (before, now)
    lookups: tuple[int, int] | None = None
    void_lookups: tuple[int, int] | None = None
    errors_added: tuple[str, ...] = ()
    errors_removed: tuple[str, ...] = ()
    sources: tuple[SourceChange, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.record or self.lookups or self.void_lookups or self.errors_added
                    or self.errors_removed or self.sources)


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).lower() == " ".join(b.split()).lower()


def _published_tops(entry: Mapping[str, Any]) -> list[str]:
    """The top records of the flattened generations the state file knows (current, previous)."""
    tops = []
    for key in ("records", "previous_records"):
        records = entry.get(key) or []
        if records:
            tops.append(str(records[0][1]))
    return tops


def source_record(domain: str, published: str, entry: Mapping[str, Any] | None) -> str:
    """The record to follow: the published one, or the remembered source when what DNS
    serves is one of the remembered flattened generations."""
    if entry is None or not any(_same(published, top) for top in _published_tops(entry)):
        return published
    remembered = entry.get("source_record")
    if not remembered:
        raise FlattenError(f"{domain} publishes the flattened records, and the state file has "
                           "no source record to follow (write it again with 'spfkit flatten "
                           "--state')")
    return str(remembered)


async def observe(domain: str, resolver: Resolver,
                  entry: Mapping[str, Any] | None = None) -> TreeFacts:
    """The tree of ``domain`` now (see the module doc); :class:`FlattenError` when the
    domain's own record cannot be read (no record, a DNS error)."""
    domain = domain.lower().rstrip(".")
    published = await top_record(domain, resolver)
    record = source_record(domain, published, entry)
    view = resolver if _same(record, published) else OverlayResolver(resolver, {domain: record})
    tree = await build_tree(domain, view)
    plan = await plan_flattening(domain, view)
    return tree_facts(published, tree, plan)


def tree_facts(published: str, tree: RecordTree, plan: Plan) -> TreeFacts:
    """The facts of a source tree already walked (``tree``) and planned (``plan``)."""
    errors: set[str] = set()
    outage: str | None = None
    for node in tree.nodes():
        for error in node.errors:
            text = f"{node.domain}: {error.message}"
            if error.result is Result.TEMPERROR:
                outage = outage or text
            elif error.kind not in _COUNTED:
                errors.add(text)
    for source in plan.sources:
        if source.temporary and outage is None:
            outage = f"{source.name}: {source.error}"
    return TreeFacts(
        plan.domain, plan.record, published,
        lookups=max(tree.v4.needed_lookups, tree.v6.needed_lookups),
        void_lookups=max(tree.v4.needed_void, tree.v6.needed_void),
        errors=tuple(sorted(errors)), sources=plan.sources, outage=outage)


def compare(entry: Mapping[str, Any], facts: TreeFacts) -> TreeChanges:
    """What changed since ``entry`` (a state file's domain entry) was written."""
    before = entry.get("source_record")
    record = (str(before), facts.record) if before and not _same(before, facts.record) else None
    lookups = _pair(entry.get("source_lookups"), facts.lookups)
    voids = _pair(entry.get("void_lookups"), facts.void_lookups)
    was = set(entry.get("errors") or ())
    now = set(facts.errors)
    sources = tuple(c for c in diff_sources(entry.get("sources", {}), facts.sources)
                    if c.error is None or not _known_error(entry, c))
    return TreeChanges(record, lookups, voids, tuple(sorted(now - was)),
                       tuple(sorted(was - now)), sources)


def _pair(before: object, now: int) -> tuple[int, int] | None:
    """(before, now) when both are known and differ (an old state file may lack one)."""
    return (before, now) if isinstance(before, int) and before != now else None


def _known_error(entry: Mapping[str, Any], change: SourceChange) -> bool:
    """The source had the same error when the state was written (no change)."""
    old = entry.get("sources", {}).get(change.name) or {}
    return bool(old.get("error")) and old.get("error") == change.error


def facts_state(facts: TreeFacts) -> dict[str, Any]:
    """The tree part of a state file's domain entry."""
    return {
        "source_record": facts.record,
        "source_lookups": facts.lookups,
        "void_lookups": facts.void_lookups,
        "errors": list(facts.errors),
    }
