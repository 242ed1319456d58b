"""``spfkit flatten``'s core: a domain's tree replaced by the networks it resolves to, proven
equal (RFC 7208 §4.6.4, §5).

* :mod:`~spfkit.flatten.plan` — which terms flatten, which are kept as written;
* :mod:`~spfkit.flatten.pack` — the top record and the chained ``_spf{n}`` records;
* :mod:`~spfkit.flatten.proof` — both trees compiled and compared, address range by range;
* :mod:`~spfkit.flatten.state` — the JSON state file and its diff (``spfkit watch``).

:func:`flatten` runs the three first steps and refuses (:class:`FlattenError`) a result that
is not equal, or that needs more lookups than the target. Sans-I/O apart from the resolver.
"""

from __future__ import annotations

from dataclasses import dataclass

from spfkit.evaluate.budget import MAX_DNS_TERMS, MAX_VOID_LOOKUPS
from spfkit.flatten.pack import DEFAULT_PATTERN, MAX_RECORD_BYTES, PackError, pack
from spfkit.flatten.plan import FlattenError, Kept, Plan, plan_flattening
from spfkit.flatten.proof import Proof, prove
from spfkit.lookup.overlay import OverlayResolver
from spfkit.lookup.protocol import Resolver
from spfkit.record.parse import parse_record
from spfkit.tree import RecordTree, build_tree
from spfkit.wizard.zones import bind_owner

__all__ = ["DEFAULT_PATTERN", "MAX_RECORD_BYTES", "FlattenError", "Flattened", "flatten",
           "published_lookups"]

#: RFC 7208 §4.6.4
MAX_LOOKUPS = MAX_DNS_TERMS


@dataclass(frozen=True, slots=True)
class Flattened:
    """The records to publish (top first), the plan they come from and the proof."""

    plan: Plan
    records: tuple[tuple[str, str], ...]
    proof: Proof
    #: the most DNS lookups a receiver spends on the flattened tree (§4.6.4)
    lookups: int
    #: what the source tree needs, the §4.6.4 limits lifted (``lint``'s and ``show``'s count)
    source_lookups: int
    #: the source tree, walked as ``lint`` and ``show`` walk it
    source_tree: RecordTree


async def flatten(domain: str, resolver: Resolver, *, keep: frozenset[str] = frozenset(),
                  only: frozenset[str] | None = None, max_bytes: int = MAX_RECORD_BYTES, pattern: str = DEFAULT_PATTERN,
                  target_lookups: int = MAX_LOOKUPS) -> Flattened:
    """Flatten, split and prove; :class:`FlattenError` says why not."""
    plan = await plan_flattening(domain, resolver, keep, only)
    broken = [s for s in plan.sources if s.error is not None and s.error.startswith("gives ")]
    if broken:
        # a loop, a syntax error, a missing record or a DNS failure: flattening would only
        # copy it (receivers return permerror or temperror there); it must be fixed first
        first = broken[0]
        later = "; try again later" if first.temporary else "; fix it first"
        raise FlattenError(f"the tree is broken at {first.name}: it {first.error}{later}")
    try:
        records = tuple(pack(plan, max_bytes=max_bytes, pattern=pattern))
    except PackError as exc:
        raise FlattenError(str(exc)) from None
    for name, _text in records:
        try:
            bind_owner(name)  # a zone line that would not load is never printed
        except ValueError as exc:
            raise FlattenError(str(exc)) from None
    written = published_lookups(records)
    if written > target_lookups:
        raise _over(plan, records, written, target_lookups)
    proof = await prove(plan.domain, dict(records), resolver)
    if proof.difference is not None:
        d = proof.difference
        raise FlattenError(
            f"not equivalent: {d.address} gets {_name(d.source)} from the source tree "
            f"but {_name(d.flattened)} from the flattened one")
    # the maps count the clients they decide; a walk of the whole tree (lint's counts) also
    # counts what a kept ptr/exists/macro term leaves to the evaluator
    walked = await build_tree(plan.domain, OverlayResolver(resolver, dict(records)))
    lookups = max(proof.lookups, written, walked.v4.needed_lookups, walked.v6.needed_lookups)
    if lookups > target_lookups:
        raise _over(plan, records, lookups, target_lookups)
    voids = max(proof.void_lookups, walked.v4.needed_void, walked.v6.needed_void)
    if voids > MAX_VOID_LOOKUPS:
        raise FlattenError(
            f"cannot flatten: the flattened tree has {voids} void lookups for some "
            f"clients (limit {MAX_VOID_LOOKUPS}, RFC 7208 §4.6.4): receivers would return "
            "permerror")
    source = await build_tree(plan.domain, resolver)
    needed = max(proof.source_lookups, source.v4.needed_lookups, source.v6.needed_lookups)
    return Flattened(plan, records, proof, lookups, needed, source)


def published_lookups(records: tuple[tuple[str, str], ...]) -> int:
    """§4.6.4: the DNS-querying terms written in the published records (a kept include's
    own subtree is counted by the proof, for the clients the compiler decides)."""
    return sum(sum(1 for term in parse_record(text).terms if term.queries_dns)
               for _name, text in records)


def _over(plan: Plan, records: tuple[tuple[str, str], ...], lookups: int,
          target: int) -> FlattenError:
    kept = sum(1 for i in plan.items if isinstance(i, Kept))
    return FlattenError(
        f"cannot flatten below the limit: the flattened tree still needs {lookups} lookups "
        f"(target {target}): {kept} term(s) kept as written and {len(records) - 1} chained "
        f"record(s)")


def _name(result: object) -> str:
    return "the evaluator (not compiled)" if result is None else str(result)
