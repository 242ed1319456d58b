"""``build_tree()``: a domain's record and everything it reaches, from the evaluator's own traces.

There is no second lookup counter here (RFC 7208 §4.6.4 is counted by ``check_host()`` alone):

1. ``check_host()`` runs for the domain with a sample sender and two sample clients, one IPv4
   and one IPv6, that no realistic record lists (:data:`SAMPLE_IPV4`, :data:`SAMPLE_IPV6`).
   No term but ``all`` (or a range as wide as ``0.0.0.0/1``) matches them, so the evaluation
   walks every term a receiver could reach, in order. Prefetch is off: same counts, one
   lookup at a time.
2. When a run stops at a §4.6.4 limit, the same evaluator runs again with the limits lifted,
   to learn what the tree really costs and to show what lies beyond the limit. The receiver's
   counts (``CheckResult.lookups``/``void_lookups``) stay the tree's official counts.
3. ``tree.walk`` turns each trace into a tree; the IPv4 and IPv6 trees are merged.
4. Targets that no evaluation reached because an error stopped it are looked up without
   evaluating or counting anything, so the tree can still show them (``counted`` False),
   and so is the TXT of ``exp=`` (§6.2; the evaluator fetches it only for a ``fail``).

Every run reads DNS through one snapshot, so all of them see the same answers.
"""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address, IPv6Address
from typing import Final

from spfkit.errors import MacroSyntaxError
from spfkit.evaluate.check_host import check_host
from spfkit.evaluate.options import CheckOptions
from spfkit.identity import is_valid_domain, sender_with_local_part
from spfkit.lookup.protocol import LookupStatus, Resolver
from spfkit.lookup.snapshot import SnapshotResolver
from spfkit.macros import MacroContext, MacroString, parse_macro_string
from spfkit.record.select import decode_record, join_strings
from spfkit.record.terms import MX, PTR, A, All, Exists, Include, Redirect, Term
from spfkit.results import Result
from spfkit.tree.model import (
    SENDER_LETTERS,
    ErrorKind,
    ExpLookup,
    Family,
    FamilyRun,
    MacroUse,
    Needed,
    NodeKind,
    RecordTree,
    TermView,
    TreeError,
    TreeNode,
)
from spfkit.tree.needs import EXPLORE_LIMIT, hit_limit, lifted
from spfkit.tree.walk import Overlay, read_record, static_networks, walk_trace

__all__ = ["EXPLORE_LIMIT", "SAMPLE_IPV4", "SAMPLE_IPV6", "build_tree"]

#: 240.0.0.0/4 is "reserved for future use" (RFC 1112 §4, RFC 6890): never assigned, never
#: routed, so no ip4 range a real record lists contains it, and no A record points at it.
SAMPLE_IPV4: Final = IPv4Address("255.255.255.254")
#: ff00::/8 is multicast (RFC 4291 §2.7): never an SMTP client, never in an ip6 range or AAAA.
SAMPLE_IPV6: Final = IPv6Address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe")
#: at most this many records are looked up ahead (uncounted) after an error
_LOOK_AHEAD_NODES: Final = 40


async def build_tree(
    domain: str, resolver: Resolver, *, sender: str | None = None, helo: str | None = None
) -> RecordTree:
    """The include/redirect tree of ``domain``'s SPF record, evaluated for an IPv4 and an IPv6 client.

    ``sender`` (default ``postmaster@<domain>``) and ``helo`` (default ``domain``) are the
    sample values for macros (§7); a tree that depends on them says so (``sender_dependent``).
    Never raises for anything DNS or the records do.
    """
    domain = domain.rstrip(".") or domain
    snap = SnapshotResolver(resolver)
    sender = sender_with_local_part(sender or "", domain)
    helo = helo or domain
    runs: list[FamilyRun] = []
    trees: list[TreeNode | None] = []
    for family, client in ((Family.IPV4, SAMPLE_IPV4), (Family.IPV6, SAMPLE_IPV6)):
        run, tree = await _evaluate(snap, family, client, domain, sender, helo)
        runs.append(run)
        trees.append(tree)
    root = _merge(trees[0], trees[1])
    ctx = MacroContext(sender=sender, domain=domain, ip=SAMPLE_IPV4, helo=helo)
    if root is not None:
        root = await _look_ahead(root, snap, ctx, (), [0])
        root = await _with_exp(root, snap, ctx)
        if root.record_text is None and not root.errors:
            root = None  # §4.5: no record at all
    macro_uses = tuple(_macro_uses(root)) if root is not None else ()
    return RecordTree(
        domain=domain, root=root, v4=runs[0], v6=runs[1], sample_sender=sender,
        sample_helo=helo, macro_uses=macro_uses, notes=tuple(_notes(runs)),
    )


async def _evaluate(
    snap: SnapshotResolver, family: Family, client: IPv4Address | IPv6Address, domain: str,
    sender: str, helo: str,
) -> tuple[FamilyRun, TreeNode | None]:
    """The receiver's evaluation, and (past a limit) the same with the limits lifted."""
    options = CheckOptions(prefetch=False)
    result = await check_host(client, domain, sender, resolver=snap, helo=helo, options=options)
    walked, overlay, limits = result, None, options
    if hit_limit(result, options):
        explored = await check_host(client, domain, sender, resolver=snap, helo=helo,
                                    options=lifted(options))
        stop = len(result.trace) - 1
        same_start = [e[:5] for e in explored.trace[:stop]] == [e[:5] for e in result.trace[:stop]]
        if len(explored.trace) > len(result.trace) and same_start:
            kind = (ErrorKind.VOID_LIMIT if result.void_lookups > options.max_void_lookups
                    else ErrorKind.LOOKUP_LIMIT)
            walked, overlay, limits = explored, Overlay(stop, result.trace[-1], kind), lifted(options)
    tree = walk_trace(walked.trace, family, max_lookups=limits.max_dns_terms,
                      max_void=limits.max_void_lookups, overlay=overlay)
    needed = Needed.of(walked)
    run = FamilyRun(family, client, result, needed.lookups, needed.void, needed.complete)
    return run, tree


# -- merging the two families --------------------------------------------------------------


def _merge(a: TreeNode | None, b: TreeNode | None) -> TreeNode | None:
    if a is None or b is None:
        return a or b
    terms = tuple(
        _merge_term(x, y) if str(x.term) == str(y.term) else x
        for x, y in zip(a.terms, b.terms)
    ) + a.terms[len(b.terms):] + b.terms[len(a.terms):]
    return replace(
        a, terms=terms, costs={**a.costs, **b.costs}, errors=a.errors + b.errors,
        record_text=a.record_text or b.record_text, record=a.record or b.record,
    )


def _merge_term(x: TermView, y: TermView) -> TermView:
    networks = tuple(dict.fromkeys((*x.networks, *y.networks)))
    children = list(x.children)
    for child in y.children:
        twin = next((i for i, c in enumerate(children)
                     if c.domain.lower() == child.domain.lower()
                     and not set(c.costs) & set(child.costs)), None)
        if twin is None:
            children.append(child)
        else:
            merged = _merge(children[twin], child)
            assert merged is not None
            children[twin] = merged
    mx = max((n for n in (x.mx_names, y.mx_names) if n is not None), default=None)
    return replace(x, outcomes={**x.outcomes, **y.outcomes}, networks=networks,
                   children=tuple(children), mx_names=mx)


# -- looking ahead past an error (uncounted) -------------------------------------------------


def _reachable(node: TreeNode) -> list[int]:
    """Indexes of include/redirect terms a receiver could evaluate but none of our runs did."""
    if node.record is None:
        return []
    out: list[int] = []
    seen_all = False
    for i, view in enumerate(node.terms):
        term = view.term
        if isinstance(term, All):
            seen_all = True  # §5.1: terms after "all" are never evaluated
        elif isinstance(term, Include) and not seen_all and not view.evaluated and not view.children:
            out.append(i)
    redirect = node.record.redirect
    if redirect is not None and not any(isinstance(t, All) for t in node.record.mechanisms):
        i = next(i for i, v in enumerate(node.terms) if v.term is redirect)
        if not node.terms[i].evaluated and not node.terms[i].children:
            out.append(i)
    return out


async def _look_ahead(
    node: TreeNode, snap: SnapshotResolver, ctx: MacroContext, path: tuple[str, ...], budget: list[int]
) -> TreeNode:
    """Show the records after the point where every evaluation stopped, without counting."""
    path = (*path, node.domain.rstrip(".").lower())
    terms = list(node.terms)
    errors = list(node.errors)
    for i, view in enumerate(terms):
        if view.children:
            terms[i] = replace(view, children=tuple(
                [await _look_ahead(c, snap, ctx, path, budget) for c in view.children]))
    for i in _reachable(node):
        view = terms[i]
        term = view.term
        assert isinstance(term, (Include, Redirect))
        if budget[0] >= _LOOK_AHEAD_NODES:
            break
        budget[0] += 1
        target = term.domain_spec.expand_domain(replace(ctx, domain=node.domain))
        kind = NodeKind.INCLUDE if isinstance(term, Include) else NodeKind.REDIRECT
        child, missing = await _fetch(snap, target, kind, str(term), path)
        if missing is not None:
            errors.append(TreeError(ErrorKind.NO_RECORD, Result.PERMERROR, missing, None, str(term)))
        if child.record is not None and not child.errors:
            child = await _look_ahead(child, snap, ctx, path, budget)
        terms[i] = replace(view, children=(child,))
    return replace(node, terms=tuple(terms), errors=tuple(errors))


async def _fetch(
    snap: SnapshotResolver, target: str, kind: NodeKind, via: str, path: tuple[str, ...]
) -> tuple[TreeNode, str | None]:
    """An uncounted node for ``target``, and the error its parent gets when it has no record."""
    node = TreeNode(domain=target, kind=kind, via=via, counted=False)
    what = "include" if kind is NodeKind.INCLUDE else "redirect"
    if not is_valid_domain(target):
        return node, f"{what} target {target!r} is not a valid domain name (§4.3)"
    if target.rstrip(".").lower() in path:
        loop = " → ".join((*path, target.rstrip(".").lower()))
        error = TreeError(ErrorKind.LOOP, Result.PERMERROR, f"include/redirect loop: {loop}", None)
        return replace(node, errors=(error,)), None
    answer = await snap.txt(target)
    if answer.status.is_error:
        error = TreeError(ErrorKind.DNS, Result.TEMPERROR,
                          f"DNS {answer.outcome} looking up TXT {target}", None)
        return replace(node, errors=(error,)), None
    text, record, problem = read_record(answer)
    if problem is not None:
        error = TreeError(ErrorKind.BAD_RECORD, Result.PERMERROR,
                          f"the record of {target}: {problem}", None)
        return replace(node, record_text=text, errors=(error,)), None
    if record is None:
        return node, f"{what}:{target} has no SPF record ({answer.status.value})"
    views = tuple(TermView(term=t, networks=tuple(static_networks(t))) for t in record.terms)
    return replace(node, record_text=text, record=record, terms=views), None


# -- exp (§6.2) ---------------------------------------------------------------------------


async def _with_exp(node: TreeNode, snap: SnapshotResolver, ctx: MacroContext) -> TreeNode:
    """§6.2: look up ``exp=`` of the top record and of each redirect target (not of includes,
    whose explanation a receiver never uses)."""
    exp = node.record.explanation if node.record is not None else None
    if exp is not None:
        target = exp.domain_spec.expand_domain(replace(ctx, domain=node.domain))
        node = replace(node, exp=await _exp_lookup(snap, target))
    terms = list(node.terms)
    for i, view in enumerate(terms):
        if isinstance(view.term, Redirect) and view.children:
            terms[i] = replace(view, children=tuple(
                [await _with_exp(c, snap, ctx) for c in view.children]))
    return replace(node, terms=tuple(terms))


async def _exp_lookup(snap: SnapshotResolver, target: str) -> ExpLookup:
    if not is_valid_domain(target):
        return ExpLookup(target, LookupStatus.NXDOMAIN, (), f"{target!r} is not a valid domain name")
    answer = await snap.txt(target)
    texts = tuple(decode_record(join_strings(r)) for r in answer.records)
    if answer.status.is_error:
        problem: str | None = f"the TXT lookup failed ({answer.status.value})"
    elif answer.status is not LookupStatus.ANSWER:
        problem = f"no TXT record ({answer.status.value})"
    elif len(texts) > 1:
        problem = f"{len(texts)} TXT records (exactly one is needed)"
    else:
        try:
            parse_macro_string(texts[0], explanation=True)
            problem = None
        except MacroSyntaxError as exc:
            problem = f"the text is not a valid explain-string: {exc}"
    return ExpLookup(target, answer.status, texts, problem)


# -- sender dependence and notes ------------------------------------------------------------


def _macro_uses(root: TreeNode) -> list[MacroUse]:
    """§7: terms whose target is built from the sender, the client or the HELO name."""
    uses: list[MacroUse] = []
    for node in root.walk():
        for view in node.terms:
            spec = _target_spec(view.term)
            letters = "".join(sorted(spec.letters & SENDER_LETTERS)) if spec is not None else ""
            if letters:
                uses.append(MacroUse(node.domain, view.text, letters))
    return uses


def _target_spec(term: Term) -> MacroString | None:
    if isinstance(term, (Include, Exists, Redirect, A, MX, PTR)):
        return term.domain_spec
    return None


def _notes(runs: list[FamilyRun]) -> list[str]:
    notes: list[str] = []
    for run in runs:
        r = run.result
        decided = r.mechanism not in (None, "default") and r.result not in (
            Result.PERMERROR, Result.TEMPERROR)
        if decided and not _is_all(r.mechanism or ""):
            notes.append(
                f"the sample {run.family.label} client {run.client} matched {r.mechanism!r} in "
                f"the record of {r.domain}: terms after it were not evaluated for it"
            )
        if run.needed_lookups >= EXPLORE_LIMIT or run.needed_void > EXPLORE_LIMIT:
            notes.append(
                f"the {run.family.label} walk stopped at {EXPLORE_LIMIT} lookups even with the "
                "limits lifted: the real cost is higher"
            )
    return notes


def _is_all(term: str) -> bool:
    return term.lstrip("+-~?").lower() == "all"
