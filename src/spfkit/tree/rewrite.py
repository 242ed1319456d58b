"""Rewriting the top record from its tree: replacing and dropping terms (RFC 7208 §4.6.4, §5.6).

Fixes the tree rules offer as ``fixed_record``: an ``a``/``mx`` term that makes void lookups
replaced by the addresses both families resolved, a term dropped. Every other term is kept
as written. Flattening a tree over the lookup limit is :mod:`spfkit.flatten`'s (``lint``
calls it). Pure: no I/O imports.
"""

from __future__ import annotations

from spfkit.record.model import Record
from spfkit.record.terms import MX, A, Qualifier
from spfkit.tree.model import (
    Family,
    Network,
    RecordTree,
    TermView,
    TreeNode,
)

__all__ = ["render_replacing", "replace_voids", "resolved_in_both", "without"]


def resolved_in_both(view: TermView) -> bool:
    """Both families' evaluations resolved the term (so its networks are complete)."""
    return set(view.outcomes) == set(Family) and all(
        o.detail != "error" for o in view.outcomes.values())


def render_replacing(
    record: Record, views: tuple[TermView, ...], replaced: dict[int, list[Network]],
    dropped: frozenset[int] = frozenset(),
) -> str:
    """The record with some terms replaced by networks (or dropped), every other term as written."""
    parts: list[str] = [record.version_text]
    have = {str(t) for t in record.terms}
    for i, view in enumerate(views):
        if i in dropped:
            continue
        if i not in replaced:
            parts.append(view.text)
            continue
        qualifier = getattr(view.term, "qualifier", Qualifier.PASS)
        prefix = "" if qualifier is Qualifier.PASS else qualifier.value
        for net in dict.fromkeys(n.network for n in replaced[i]):
            kind = "ip4" if net.version == 4 else "ip6"
            full = net.prefixlen == net.max_prefixlen
            text = f"{prefix}{kind}:{net.network_address if full else net}"
            if text not in have:
                parts.append(text)
                have.add(text)
    return " ".join(parts)


def replace_voids(tree: RecordTree, excess: int) -> str | None:
    """Replace void-making a/mx terms of the top record by the addresses they do have."""
    root = tree.root
    if root is None or root.record is None or not all(tree.run(f).complete for f in Family):
        return None
    replaced: dict[int, list[Network]] = {}
    for i, view in enumerate(root.terms):
        if isinstance(view.term, (A, MX)) and resolved_in_both(view):
            saves = max(len(o.voids) for o in view.outcomes.values())
            if saves:
                replaced[i] = list(view.networks)
                excess -= saves
    return render_replacing(root.record, root.terms, replaced) if replaced and excess <= 0 else None


def without(tree: RecordTree, node: TreeNode, term: str | None) -> str | None:
    """The top record without ``term`` (only when ``node`` is the top record)."""
    if node is not tree.root or node.record is None or term is None:
        return None
    drop = frozenset(i for i, v in enumerate(node.terms) if v.text == term)
    return render_replacing(node.record, node.terms, {}, drop) if drop else None
