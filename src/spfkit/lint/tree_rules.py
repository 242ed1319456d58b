"""Lint rules over the include/redirect tree (RFC 7208 §4.6.4, §5.2, §6.1, §6.2, §7): ``SPF-x4xx``.

The rules read a :class:`~spfkit.tree.RecordTree` made by ``spfkit.tree.build_tree``, so every
count is ``check_host()``'s own (the linter and ``spfkit check`` can never disagree on one).
Lookup and void counts are judged per client family: an IPv6 client costs more void lookups
when ``a``/``mx`` targets lack AAAA records. Pure: no I/O imports.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from spfkit.lint.codes import CodeInfo
from spfkit.lint.findings import Finding, Severity
from spfkit.lookup.protocol import LookupStatus
from spfkit.record.terms import Redirect
from spfkit.tree.model import (
    ErrorKind,
    Family,
    NodeKind,
    RecordTree,
    TreeError,
    TreeNode,
)
from spfkit.tree.rewrite import replace_voids, without

__all__ = ["TREE_CODES", "tree_findings"]

_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

#: the 4xx codes (the range ``lint/codes.py`` reserves for the tree rules)
TREE_CODES: Final[dict[str, CodeInfo]] = {
    "SPF-E401": CodeInfo(_E, "more than 10 DNS lookups", "7208 §4.6.4"),
    "SPF-W402": CodeInfo(_W, "8 or more DNS lookups: little room left", "7208 §4.6.4"),
    "SPF-E403": CodeInfo(_E, "more than 2 void lookups", "7208 §4.6.4"),
    "SPF-E404": CodeInfo(_E, "include target has no SPF record", "7208 §5.2"),
    "SPF-E405": CodeInfo(_E, "error in an included or redirected record", "7208 §5.2, §6.1"),
    "SPF-E406": CodeInfo(_E, "include/redirect loop", "7208 §4.6.4, §5.2"),
    "SPF-E407": CodeInfo(_E, "redirect target has no SPF record", "7208 §6.1"),
    "SPF-E408": CodeInfo(_E, "more than 10 MX names", "7208 §4.6.4"),
    "SPF-W409": CodeInfo(_W, "exp target has no TXT record", "7208 §6.2"),
    "SPF-W410": CodeInfo(_W, "exp target has several TXT records", "7208 §6.2"),
    "SPF-W411": CodeInfo(_W, "exp text is not a valid explain-string", "7208 §6.2"),
    "SPF-W412": CodeInfo(_W, "DNS error in the tree (temperror)", "7208 §2.6.6, §4.4"),
    "SPF-I413": CodeInfo(_I, "the tree depends on the sender (macros)", "7208 §7"),
}

_NEAR_LIMIT: Final = 8


def tree_findings(tree: RecordTree) -> list[Finding]:
    """Every 4xx finding for ``tree``, in a stable order."""
    if tree.root is None:
        return []  # "no SPF record" is the record rules' finding
    return [
        *_lookups(tree), *_voids(tree), *_targets(tree), *_mx(tree), *_exp(tree),
        *_dns(tree), *_sender(tree),
    ]


def _finding(
    code: str, message: str, fix: str, *, domain: str | None = None, column: int | None = None,
    term: str | None = None, fixed_record: str | None = None,
) -> Finding:
    info = TREE_CODES[code]
    return Finding(code, info.severity, message, info.rfc, fix, domain=domain, column=column,
                   term=term, fixed_record=fixed_record)


def _edges(node: TreeNode, parent: TreeNode | None = None) -> Iterator[tuple[TreeNode, TreeNode | None]]:
    """Every node with its parent, depth first in term order."""
    yield node, parent
    for child in node.children:
        yield from _edges(child, node)


def _by_family(tree: RecordTree, value: dict[Family, int]) -> list[tuple[Family | None, int]]:
    """One entry when both families agree (family None), else one per family."""
    if value[Family.IPV4] == value[Family.IPV6]:
        return [(None, value[Family.IPV4])]
    return [(f, value[f]) for f in (Family.IPV4, Family.IPV6)]


def _client(family: Family | None) -> str:
    return "every client" if family is None else f"an {family.label} client"


def _subject(tree: RecordTree, family: Family | None) -> str:
    return f"The SPF tree of {tree.domain}" if family is None else f"An {family.label} client"


# -- §4.6.4 DNS lookups -----------------------------------------------------------------------


def _lookups(tree: RecordTree) -> Iterator[Finding]:
    root = tree.root
    assert root is not None
    needed = {f: tree.run(f).needed_lookups for f in Family}
    for family, count in _by_family(tree, needed):
        if count < _NEAR_LIMIT:
            continue
        complete = all(tree.run(f).complete for f in ([family] if family else list(Family)))
        at_least = "" if complete else "at least "
        who = _subject(tree, family)
        verb = "costs" if family else "needs"
        why = _why_differ(tree, family, "lookups")
        costs = _costs(root)
        listed = ", ".join(f"{t} {c}" for t, c in costs) or "none in the top record"
        if count > tree.max_lookups:
            stop = _where(tree, family, ErrorKind.LOOKUP_LIMIT)
            message = (f"{who} {verb} {at_least}{count} DNS lookups{why}; the limit is "
                       f"{tree.max_lookups}. Receivers stop at the 11th{stop} and return permerror, "
                       f"so SPF fails for all mail from {tree.domain}.")
            over = count - tree.max_lookups
            fix = (f"Remove at least {over} lookup{'s' if over > 1 else ''}: flatten the costliest "
                   "include into its ip4/ip6 ranges (they must then be kept up to date by hand), "
                   "replace a and mx with the addresses they stand for, and drop terms that are "
                   f"no longer used. Cost of each term of the top record: {listed}.")
            # the flattened records (proven equal) are added by lint_domain: spfkit.flatten
            yield _finding("SPF-E401", message, fix, domain=tree.domain)
        else:
            message = (f"{who} {verb} {count} of the {tree.max_lookups} DNS lookups a receiver "
                       f"allows{why}: one more include from a provider that grows its record "
                       "tips it into permerror.")
            fix = ("Make room before it breaks: flatten an include into ip4/ip6 ranges, replace "
                   f"a and mx with addresses, drop unused terms. Cost of each term: {listed}.")
            yield _finding("SPF-W402", message, fix, domain=tree.domain)


def _costs(root: TreeNode) -> list[tuple[str, int]]:
    """The DNS-querying terms of the top record and what each costs (include: its whole subtree)."""
    out: list[tuple[str, int]] = []
    for view in root.terms:
        if not view.term.queries_dns:
            continue
        cost = max((c.costs[f].lookups for c in view.children for f in c.costs), default=1)
        out.append((view.text, cost))
    return sorted(out, key=lambda item: -item[1])


def _where(tree: RecordTree, family: Family | None, kind: ErrorKind) -> str:
    for node in tree.nodes():
        for e in node.errors:
            if e.kind is kind and (family is None or e.family is family) and e.family is not None:
                at = f"{e.term} in the record of {node.domain}" if e.term else f"the TXT lookup of {node.domain}"
                return f" ({at})"
    return ""


def _why_differ(tree: RecordTree, family: Family | None, what: str) -> str:
    """Why one family costs more than the other: the first term whose counts differ."""
    if family is None:
        return ""
    other = Family.IPV6 if family is Family.IPV4 else Family.IPV4
    mine, theirs = tree.run(family), tree.run(other)
    a = mine.needed_lookups if what == "lookups" else mine.needed_void
    b = theirs.needed_lookups if what == "lookups" else theirs.needed_void
    if a <= b:
        return f" (an {other.label} client {b})"
    for node in tree.nodes():
        for view in node.terms:
            o, p = view.outcomes.get(family), view.outcomes.get(other)
            if o is None:
                continue
            if what == "void" and o.voids and (p is None or len(o.voids) > len(p.voids)):
                return (f" (an {other.label} client {b}) because {view.text} in the record of "
                        f"{node.domain} finds nothing for it: {'; '.join(o.voids)}")
            kids = {c.domain for c in view.children if family in c.costs}
            if what == "lookups" and (p is None or kids != {c.domain for c in view.children if other in c.costs}):
                reason = (f"the evaluation for an {other.label} client stopped before it"
                          if p is None else f"it leads to {', '.join(sorted(kids))} for this family")
                return f" (an {other.label} client {b}) because of {view.text} in {node.domain}: {reason}"
    return f" (an {other.label} client {b})"


# -- §4.6.4 void lookups ----------------------------------------------------------------------


def _voids(tree: RecordTree) -> Iterator[Finding]:
    needed = {f: tree.run(f).needed_void for f in Family}
    for family, count in _by_family(tree, needed):
        if count <= tree.max_void:
            continue
        fam = family or Family.IPV4
        listed = [f"{v} ({t})" for t, v in _void_list(tree, fam)]
        who = _subject(tree, family)
        stop = _where(tree, family, ErrorKind.VOID_LIMIT)
        message = (f"{who} causes {count} void lookups{_why_differ(tree, family, 'void')}; "
                   f"the limit is {tree.max_void} DNS answers with no records. Receivers return "
                   f"permerror at the 3rd{stop}. Void: {'; '.join(listed)}.")
        fix = ("Publish the missing records, or remove the terms that point at names without "
               "them: replace an 'a' or 'mx' whose target has no AAAA (or A) with ip4/ip6 ranges, "
               "and drop includes of names without a record.")
        yield _finding("SPF-E403", message, fix, domain=tree.domain,
                       fixed_record=replace_voids(tree, count - tree.max_void))


def _void_list(tree: RecordTree, family: Family) -> list[tuple[str, str]]:
    """(where, lookup) for each void lookup a family's evaluation made, in order."""
    out: list[tuple[str, str]] = []
    for node in tree.nodes():
        cost = node.costs.get(family)
        if cost is not None:
            out.extend((node.via or node.domain, v) for v in cost.voids)
        for view in node.terms:
            if (o := view.outcomes.get(family)) is not None:
                out.extend((f"{view.text} in {node.domain}", v) for v in o.voids)
    return out


# -- targets: no record, errors, loops (§5.2, §6.1) -------------------------------------------


def _targets(tree: RecordTree) -> Iterator[Finding]:
    assert tree.root is not None
    seen: set[tuple[str, str, str | None]] = set()
    for node, parent in _edges(tree.root):
        for error in node.errors:
            key = (error.kind.value, node.domain, error.term)
            if key in seen:
                continue
            seen.add(key)
            found = _found(node, error)
            if error.kind is ErrorKind.NO_RECORD and error.term:
                yield _no_record(tree, node, error, found)
            elif error.kind is ErrorKind.LOOP and parent is not None:
                fixed = without(tree, parent, node.via)
                yield _finding(
                    "SPF-E406",
                    f"Include/redirect loop: {node.via} in the record of {parent.domain} leads back "
                    f"to {node.domain}, which is already being evaluated ({error.message}){found}. "
                    "Receivers return permerror.",
                    f"Remove {node.via} from the record of {parent.domain}.",
                    domain=parent.domain, term=node.via, column=_column(parent, node.via),
                    fixed_record=fixed,
                )
            elif error.kind in (ErrorKind.BAD_RECORD, ErrorKind.OTHER) and parent is not None:
                yield _finding(
                    "SPF-E405",
                    f"The record of {node.domain} ({node.via} in the record of {parent.domain}) has "
                    f"an error: {error.message}{found}. Receivers return permerror for all mail "
                    f"from {tree.domain}.",
                    f"Ask the owner of {node.domain} to fix its record, or remove {node.via} from "
                    f"the record of {parent.domain}.",
                    domain=node.domain, term=node.via,
                    fixed_record=without(tree, parent, node.via) if node.kind is NodeKind.INCLUDE else None,
                )


def _found(node: TreeNode, error: TreeError) -> str:
    if error.family is None or not node.counted:
        return " (found by looking ahead: every evaluation had stopped at an earlier error)"
    if error.beyond_limit:
        return " (found past the lookup limit: fixing the count will reveal it)"
    return ""


def _no_record(tree: RecordTree, node: TreeNode, error: TreeError, found: str) -> Finding:
    term = error.term or ""
    view = next((v for v in node.terms if v.text == term), None)
    target = view.children[0].domain if view is not None and view.children else term.split(":", 1)[-1]
    redirect = view is not None and isinstance(view.term, Redirect)
    fixed = without(tree, node, term)
    if redirect:
        return _finding(
            "SPF-E407",
            f"{term} in the record of {node.domain}: {target} publishes no SPF record, so "
            f"receivers return permerror for all mail from {tree.domain}{found}.",
            f"Point redirect= at a domain that publishes a record (check the spelling of {target}), "
            "or replace it with the mechanisms you need and an 'all' (e.g. '-all').",
            domain=node.domain, term=term, column=_column(node, term), fixed_record=None,
        )
    return _finding(
        "SPF-E404",
        f"{term} in the record of {node.domain}: {target} publishes no SPF record, so "
        f"receivers return permerror for all mail from {tree.domain}{found}.",
        f"Remove {term}, or correct the name (check the spelling of {target} against your "
        "provider's documentation), or ask its owner to publish a record.",
        domain=node.domain, term=term, column=_column(node, term), fixed_record=fixed,
    )


def _column(node: TreeNode, term: str | None) -> int | None:
    for view in node.terms:
        if view.text == term:
            return view.term.column
    return None


# -- §4.6.4 MX names, §6.2 exp, DNS errors, §7 macros -------------------------------------------


def _mx(tree: RecordTree) -> Iterator[Finding]:
    for node in tree.nodes():
        for view in node.terms:
            if view.mx_names is not None and view.mx_names > 10:
                yield _finding(
                    "SPF-E408",
                    f"{view.text} in the record of {node.domain}: the target has {view.mx_names} MX "
                    "records; an mx term may name at most 10 hosts, receivers return permerror.",
                    f"Replace {view.text} with the ip4/ip6 ranges of the hosts that really send "
                    "mail, or with a:host terms for at most a few of them.",
                    domain=node.domain, term=view.text, column=view.term.column,
                )


def _exp(tree: RecordTree) -> Iterator[Finding]:
    for node in tree.nodes():
        exp = node.exp
        if exp is None or exp.problem is None:
            continue
        term = str(node.record.explanation) if node.record and node.record.explanation else None
        code = ("SPF-W410" if len(exp.texts) > 1
                else "SPF-W411" if exp.texts and exp.status is LookupStatus.ANSWER else "SPF-W409")
        fix = (f"Publish exactly one TXT record at {exp.target}, e.g. \"%{{i}} is not allowed to "
               "send mail for %{d}\", or remove the exp= modifier.")
        if code == "SPF-W411":
            fix = (f"Rewrite the TXT record of {exp.target} as an explain-string: macros are "
                   "%{letter}, a literal percent sign is written %%.")
        yield _finding(
            code,
            f"{term} in the record of {node.domain}: TXT {exp.target} — {exp.problem}. Receivers "
            "ignore the explanation and give their default text with a fail.",
            fix,
            domain=node.domain, term=term, column=_column(node, term),
            fixed_record=without(tree, node, term),
        )


def _dns(tree: RecordTree) -> Iterator[Finding]:
    seen: set[str] = set()
    for node in tree.nodes():
        for error in node.errors:
            if error.kind is not ErrorKind.DNS or error.message in seen:
                continue
            seen.add(error.message)
            yield _finding(
                "SPF-W412",
                f"A DNS lookup failed while following the record of {node.domain}: {error.message}"
                f"{_found(node, error)}. While it fails, receivers return temperror and defer "
                "mail; the rest of the tree could not be counted.",
                f"Check that the name servers of {node.domain} answer (dig TXT {node.domain}); "
                f"if {node.via or 'the record'} is no longer needed, remove it.",
                domain=node.domain, term=error.term,
            )


def _sender(tree: RecordTree) -> Iterator[Finding]:
    if not tree.sender_dependent:
        return
    uses = "; ".join(f"{m.term} in {m.domain}" for m in tree.macro_uses)
    yield _finding(
        "SPF-I413",
        f"The tree depends on the sender or the client ({uses}): a receiver's lookups differ "
        f"from message to message. The counts shown are for the sample sender "
        f"{tree.sample_sender}, HELO {tree.sample_helo} and clients {tree.v4.client} and "
        f"{tree.v6.client}.",
        "Check other senders with spfkit show --sender ADDR, and keep every macro-built "
        "target within the limits whatever the sender.",
        domain=tree.domain,
    )

