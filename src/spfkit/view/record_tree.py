"""The record tree as ``spfkit show`` and the web's ``/check`` page show it (RFC 7208 §4.6.4).

:func:`tree_view` reads a :class:`~spfkit.tree.RecordTree` once and decides everything both
front ends show: one :class:`NodeView` per record reached (the term that reached it, its
text, what it costs against the limits of 10 DNS-querying terms and 2 void lookups, its
errors, its ``exp=``), one :class:`TermRow` per term (lookups, void lookups, MX names,
where the evaluation stopped, the networks it authorises), one :class:`RunView` per client
family. Each piece also has its plain words (``text``), which the web page prints as they
are; ``cli/show.py`` draws the same pieces with rich styles. Nothing here counts: every
number is the evaluator's own.

Pure data: imports no rich, click, fastapi or asyncio.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from spfkit.evaluate.budget import MAX_MX_NAMES
from spfkit.record.terms import Mechanism
from spfkit.results import Result
from spfkit.tree.model import Cost, Family, FamilyRun, RecordTree, TermView, TreeNode
from spfkit.view.budget import Budget, tree_budgets, worst_budget

__all__ = [
    "BEYOND_LIMIT", "FAMILIES", "NOT_COUNTED", "NOT_EVALUATED", "SAMPLE_RESULT", "Bit", "BitKind",
    "Count", "ErrorLine", "ExpLine", "Needs", "NodeCounts", "NodeView", "RunView", "TermRow",
    "Total", "TreeView", "count_phrase", "tree_view",
]

#: the client families, in the order every view lists them
FAMILIES: Final = (Family.IPV4, Family.IPV6)
BEYOND_LIMIT: Final = "beyond the limit: receivers stop before this"
NOT_COUNTED: Final = ("not counted: looked up to show it; the sample evaluation stopped before "
                      "this term (an error, or an earlier term matched)")
NOT_EVALUATED: Final = "not evaluated"


@dataclass(frozen=True, slots=True)
class Total:
    """A running total against its §4.6.4 limit: ``3/10``."""

    value: int
    limit: int

    def __str__(self) -> str:
        return f"{self.value}/{self.limit}"


@dataclass(frozen=True, slots=True)
class Count:
    """What a step costs and the running total after it; ``family`` None: every family alike."""

    family: Family | None
    own: int
    total: Total


def _counts(values: list[tuple[Family, int, int]], limit: int) -> tuple[Count, ...]:
    """One :class:`Count` when the families agree, else one per family."""
    if len({(own, total) for _, own, total in values}) == 1:
        _, own, total = values[0]
        return (Count(None, own, Total(total, limit)),)
    return tuple(Count(family, own, Total(total, limit)) for family, own, total in values)


def count_phrase(counts: tuple[Count, ...], *, sign: str = "",
                 total: Callable[[Total], str] = str) -> str:
    """``3 (total 3/10)``, or ``IPv4 3 (total 3/10), IPv6 4 (total 4/10)`` when they differ."""
    return ", ".join(f"{c.family.label + ' ' if c.family else ''}{sign}{c.own} "
                     f"(total {total(c.total)})" for c in counts)


@dataclass(frozen=True, slots=True)
class NodeCounts:
    """What reaching a record costs, for the families whose evaluation reached it."""

    families: tuple[Family, ...]
    lookups: tuple[Count, ...]
    void: tuple[Count, ...]
    beyond: tuple[Family, ...]  # only the walk with the limits lifted got here, for these

    @property
    def only(self) -> Family | None:
        """The one family that reached the record, when the other did not."""
        return self.families[0] if len(self.families) == 1 else None

    @property
    def text(self) -> str:
        """``lookups 2 (total 3/10), void 0`` — per family when the two differ."""
        parts = ["lookups " + count_phrase(self.lookups),
                 "void " + ", ".join(f"{c.family.label} {c.own}" if c.family else str(c.own)
                                     for c in self.void)]
        if self.only is not None:
            parts.append(f"({self.only.label} client only)")
        if self.beyond:
            parts.append(BEYOND_LIMIT)
        return ", ".join(parts)


def _node_counts(costs: Mapping[Family, Cost], tree: RecordTree) -> NodeCounts:
    per = [(f, costs[f]) for f in FAMILIES if f in costs]
    return NodeCounts(
        families=tuple(f for f, _ in per),
        lookups=_counts([(f, c.lookups, c.total_lookups) for f, c in per], tree.max_lookups),
        void=_counts([(f, c.void, c.total_void) for f, c in per], tree.max_void),
        beyond=tuple(f for f, c in per if c.beyond_limit),
    )


class BitKind(StrEnum):
    """What a :class:`Bit` of a term's row tells, in the order a row lists them."""

    LOOKUPS = "lookups"  # what the term charged, and the running total
    VOID = "void"  # its void lookups, for one family
    MX_NAMES = "mx-names"  # §4.6.4: more than 10 MX names
    STOPPED = "stopped"  # the evaluation stopped at this term
    BEYOND = "beyond"  # only the walk with the limits lifted got here
    NOT_EVALUATED = "not-evaluated"
    NETWORKS = "networks"  # what an a/mx term resolved to
    NO_ADDRESSES = "no-addresses"  # an a/mx term that resolved to nothing


@dataclass(frozen=True, slots=True)
class Bit:
    """One fact about a term, in plain words: ``lookup +1 (total 3/10)``."""

    kind: BitKind
    text: str


@dataclass(frozen=True, slots=True)
class TermRow:
    """A term of a record as written, and what the evaluation made of it."""

    text: str
    mechanism: bool
    families: tuple[Family, ...]  # the families that evaluated it
    lookups: tuple[Count, ...]  # empty for a term that queries no DNS or was not evaluated
    beyond: tuple[Family, ...]
    networks: tuple[tuple[str, tuple[str, ...]], ...]  # each resolved host and its networks
    stopped: bool
    bits: tuple[Bit, ...]

    @property
    def is_node(self) -> bool:
        return False


def _term_row(view: TermView, node: TreeNode, tree: RecordTree) -> TermRow:
    term = view.term
    outcomes = [(f, view.outcomes[f]) for f in FAMILIES if f in view.outcomes]
    mechanism = isinstance(term, Mechanism)
    lookups: tuple[Count, ...] = ()
    bits: list[Bit] = []
    if outcomes and term.queries_dns:
        lookups = _counts([(f, o.lookups, o.total_lookups) for f, o in outcomes], tree.max_lookups)
        bits.append(Bit(BitKind.LOOKUPS, "lookup " + count_phrase(lookups, sign="+")))
    bits += [Bit(BitKind.VOID, f"void ({f.label}): {', '.join(o.voids)}")
             for f, o in outcomes if o.voids]
    if view.mx_names is not None and view.mx_names > MAX_MX_NAMES:
        bits.append(Bit(BitKind.MX_NAMES, f"{view.mx_names} MX names (limit {MAX_MX_NAMES})"))
    stopped = any(o.detail == "error" for _, o in outcomes)
    beyond = () if stopped else tuple(f for f, o in outcomes if o.beyond_limit)
    if stopped:
        bits.append(Bit(BitKind.STOPPED, "evaluation stopped here"))
    elif beyond:
        bits.append(Bit(BitKind.BEYOND, BEYOND_LIMIT))
    if not outcomes and mechanism and node.evaluated and node.counted:
        bits.append(Bit(BitKind.NOT_EVALUATED, NOT_EVALUATED))
    by_host: dict[str, list[str]] = {}
    for net in view.networks:
        if net.host is not None:
            by_host.setdefault(net.host, []).append(str(net.network))
    if by_host:
        bits.append(Bit(BitKind.NETWORKS,
                        "; ".join(f"{h}: {', '.join(n)}" for h, n in by_host.items())))
    elif outcomes and not stopped and term.name in ("a", "mx"):
        bits.append(Bit(BitKind.NO_ADDRESSES, "no addresses"))
    return TermRow(view.text, mechanism, tuple(f for f, _ in outcomes), lookups, beyond,
                   tuple((h, tuple(n)) for h, n in by_host.items()), stopped, tuple(bits))


@dataclass(frozen=True, slots=True)
class ErrorLine:
    """An error of a record, once, with the client families whose evaluation met it."""

    message: str  # "permerror: include:x.example has no SPF record"
    term: str | None
    whom: tuple[str, ...]  # "IPv4 client", "IPv6 client", "looking ahead, not counted"
    beyond_limit: bool  # only past the limit: receivers stop earlier

    @property
    def every_client(self) -> bool:
        return len(self.whom) == 2 and all("client" in w for w in self.whom)

    def text(self, whom: str | None = None) -> str:
        """``permerror: … at include:x.example (IPv4 client, IPv6 client)``; or ``whom``."""
        where = f" at {self.term}" if self.term else ""
        when = "; only past the limit, receivers stop earlier" if self.beyond_limit else ""
        return f"{self.message}{where} ({', '.join(self.whom) if whom is None else whom}{when})"


def _errors(node: TreeNode) -> tuple[ErrorLine, ...]:
    seen: dict[tuple[str, str | None, bool], list[str]] = {}
    for e in node.errors:
        who = e.family.label + " client" if e.family else "looking ahead, not counted"
        seen.setdefault((f"{e.result.value}: {e.message}", e.term, e.beyond_limit), []).append(who)
    return tuple(ErrorLine(message, term, tuple(whom), beyond)
                 for (message, term, beyond), whom in seen.items())


@dataclass(frozen=True, slots=True)
class ExpLine:
    """§6.2: a record's ``exp=`` target, and whether receivers could use it."""

    target: str
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def state(self) -> str:
        return "ok" if self.problem is None else f"{self.problem}: receivers ignore it (§6.2)"

    @property
    def text(self) -> str:
        return f"exp → TXT {self.target}: {self.state}"


@dataclass(frozen=True, slots=True)
class NodeView:
    """A record of the tree: the term that reached it, its text, its cost, its terms."""

    title: str  # the domain, or the include/redirect term that reached it
    target: str | None  # the domain, when the term does not name it as written
    record: str | None
    missing: str  # why there is no record text (tree.TreeNode.missing)
    note: str | None  # instead of counts: not counted, or not evaluated
    counts: NodeCounts | None
    errors: tuple[ErrorLine, ...]
    exp: ExpLine | None
    items: tuple[TermRow | NodeView, ...]  # in the record's order; a record for each target
    top: bool

    @property
    def is_node(self) -> bool:
        return True

    @property
    def status(self) -> str:
        """The counts in plain words, or why there are none."""
        return self.note or (self.counts.text if self.counts else "")


def _node_view(node: TreeNode, tree: RecordTree, via: TermView | None = None) -> NodeView:
    title, target = node.domain, None
    if via is not None:
        title = via.text
        if via.text.split(":", 1)[-1].split("=", 1)[-1].lower() != node.domain.lower():
            target = node.domain
    note = NOT_COUNTED if not node.counted else None if node.evaluated else NOT_EVALUATED
    items: list[TermRow | NodeView] = []
    for term in node.terms:
        items += [_node_view(child, tree, term) for child in term.children]
        if not term.children:
            items.append(_term_row(term, node, tree))
    return NodeView(
        title, target, node.record_text, node.missing, note,
        counts=_node_counts(node.costs, tree) if note is None else None,
        errors=_errors(node),
        exp=ExpLine(node.exp.target, node.exp.problem) if node.exp is not None else None,
        items=tuple(items), top=via is None,
    )


@dataclass(frozen=True, slots=True)
class Needs:
    """What the whole tree costs, with the limits lifted, when more than receivers count."""

    lookups: int
    void: int
    at_least: bool  # that walk stopped at an error: the counts are lower bounds

    def text(self, lookups: Callable[[int], str] = str) -> str:
        """``the whole tree needs 13 lookups and 0 void lookups``; ``lookups`` draws the count."""
        more = "at least " if self.at_least else ""
        return (f"the whole tree needs {more}{lookups(self.lookups)} lookups and "
                f"{self.void} void lookups")


#: what a sample client's result says about the record: no record lists the client, so its
#: result is the one every host the record does not list gets (§2.6, §4.7)
SAMPLE_RESULT: Final = {
    Result.FAIL: "hosts the record does not list are refused, as intended",
    Result.SOFTFAIL: "hosts the record does not list are marked suspect (~all)",
    Result.NEUTRAL: "the record says nothing about hosts it does not list",
    Result.PASS: "the record lets every host on the Internet pass, even this one",
    Result.NONE: "no SPF record applies",
    Result.PERMERROR: "receivers cannot use the record",
    Result.TEMPERROR: "a DNS error stopped the evaluation: receivers defer or accept",
}


@dataclass(frozen=True, slots=True)
class RunView:
    """The evaluation for one sample client family, with the limits receivers use (§4.6.4).

    The client is an address no record lists (``tree.build``): its result is not "your
    domain fails" but what the record does with every host it does not list.
    """

    family: Family
    client: str
    result: Result
    problem: str | None
    lookups: Total
    void: Total
    needs: Needs | None
    budget: Budget

    @property
    def who(self) -> str:
        """``sample IPv4 client 255.255.255.254 (no record lists it)``."""
        return f"sample {self.family.label} client {self.client} (no record lists it)"

    @property
    def says(self) -> str:
        """What its result says about the record, in words."""
        return SAMPLE_RESULT[self.result]

    @property
    def text(self) -> str:
        """One line: who, the counts, the result and what it says (no markup)."""
        line = f"{self.who}: {self.budget.text} → {self.result.value}: {self.says}"
        return line + (f" ({self.problem})" if self.problem else "")


def _run_view(run: FamilyRun, tree: RecordTree, budget: Budget) -> RunView:
    r = run.result
    needs = None
    if run.needed_lookups > r.lookups or run.needed_void > r.void_lookups:
        needs = Needs(run.needed_lookups, run.needed_void, at_least=not run.complete)
    return RunView(run.family, str(run.client), r.result, r.problem,
                   Total(r.lookups, tree.max_lookups), Total(r.void_lookups, tree.max_void), needs,
                   budget)


@dataclass(frozen=True, slots=True)
class TreeView:
    """The tree to show: the top record (None when the domain has none) and both runs;
    ``budget`` is the gauge's: the family that costs most, with its real totals."""

    root: NodeView | None
    runs: tuple[RunView, RunView]
    budget: Budget

    @property
    def budgets(self) -> tuple[Budget, Budget]:
        return self.runs[0].budget, self.runs[1].budget

    def budget_dict(self) -> dict[str, object]:
        """The JSON of the gauge (``gauge``: the costlier family's) and of each family."""
        return {"gauge": self.budget.as_dict(),
                **{run.family.value: run.budget.as_dict() for run in self.runs}}


def tree_view(tree: RecordTree) -> TreeView:
    """What ``spfkit show`` and the ``/check`` page show of ``tree``."""
    root = _node_view(tree.root, tree) if tree.root is not None else None
    v4, v6 = tree_budgets(tree)
    runs = (_run_view(tree.v4, tree, v4), _run_view(tree.v6, tree, v6))
    return TreeView(root, runs, worst_budget((v4, v6)))
