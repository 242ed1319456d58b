"""Rewriting the top record from its tree: flattening and dropping terms (RFC 7208 §4.6.4, §5.6).

Fixes the tree rules offer as ``fixed_record``: an ``include`` whose whole subtree is plain
``+ip4``/``+ip6``/``+a``/``+mx``/``+include`` (ending in a non-``+`` ``all``) authorises
exactly the networks its evaluation found, so it can be replaced by them; an ``a``/``mx``
term by the addresses both families resolved. Every other term is kept as written.
Pure: no I/O imports.
"""

from __future__ import annotations

from spfkit.macros import MacroString
from spfkit.record.model import Record
from spfkit.record.terms import IP4, IP6, MX, A, All, Include, Modifier, Qualifier, Term
from spfkit.tree.model import (
    SENDER_LETTERS,
    Family,
    Network,
    RecordTree,
    TermView,
    TreeNode,
)

__all__ = [
    "flatten", "flattenable", "render_replacing", "replace_voids", "resolved_in_both",
    "subtree_networks", "without",
]


def flatten(tree: RecordTree, excess: int) -> str | None:
    """The top record with its costliest includes (then a/mx) replaced by their networks."""
    root = tree.root
    if root is None or root.record is None:
        return None
    candidates: list[tuple[int, int]] = []  # (saving, index in root.terms)
    for i, view in enumerate(root.terms):
        if isinstance(view.term, (A, MX)) and resolved_in_both(view):
            candidates.append((1, i))
        elif (isinstance(view.term, Include) and view.term.qualifier is Qualifier.PASS
              and len(view.children) == 1 and flattenable(view.children[0])):
            child = view.children[0]
            candidates.append((max(c.lookups for c in child.costs.values()), i))
    chosen: dict[int, list[Network]] = {}
    for saving, i in sorted(candidates, key=lambda c: (-c[0], c[1])):
        if excess <= 0:
            break
        view = root.terms[i]
        chosen[i] = list(view.networks) if not view.children else subtree_networks(view.children[0])
        excess -= saving
    if excess > 0:
        return None
    return render_replacing(root.record, root.terms, chosen)


def resolved_in_both(view: TermView) -> bool:
    """Both families' evaluations resolved the term (so its networks are complete)."""
    return set(view.outcomes) == set(Family) and all(
        o.detail != "error" for o in view.outcomes.values())


def flattenable(node: TreeNode) -> bool:
    """Can the node's subtree be replaced by its networks without changing any result?"""
    record = node.record
    if record is None or node.errors or set(node.costs) != set(Family) or record.redirect:
        return False
    for view in node.terms:
        term = view.term
        if isinstance(term, All):
            return term.qualifier is not Qualifier.PASS
        if isinstance(term, (IP4, IP6)):
            ok = term.qualifier is Qualifier.PASS
        elif isinstance(term, (A, MX)):
            ok = term.qualifier is Qualifier.PASS and resolved_in_both(view)
        elif isinstance(term, Include):
            ok = (term.qualifier is Qualifier.PASS and len(view.children) == 1
                  and flattenable(view.children[0]))
        else:
            ok = isinstance(term, Modifier)  # exp= and unknown modifiers match nothing
        if not ok or _sender_dependent(term):
            return False
    return True


def _sender_dependent(term: Term) -> bool:
    spec = getattr(term, "domain_spec", None)
    return isinstance(spec, MacroString) and bool(spec.letters & SENDER_LETTERS)


def subtree_networks(node: TreeNode) -> list[Network]:
    """The networks a flattenable node authorises: its own and its includes', up to "all"."""
    out: list[Network] = []
    for view in node.terms:
        if isinstance(view.term, All):
            break
        out.extend(view.networks)
        for child in view.children:
            out.extend(subtree_networks(child))
    return out


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
