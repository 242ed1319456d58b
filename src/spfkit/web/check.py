"""Check a domain: ``/check``, the page, and :func:`check_domain`, the answer of the API.

``spfkit show`` and ``spfkit lint`` in one: the record tree from
:func:`~spfkit.tree.build_tree` (every count is the evaluator's own, RFC 7208 §4.6.4) and the
findings of :func:`~spfkit.lint.lint_domain`. Both read DNS through the request's
:class:`~spfkit.web.limits.BudgetResolver`, which remembers its answers: the linter's walk
costs no second round of queries. This module only turns the tree into rows for the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from spfkit.lint import LintReport, lint_domain
from spfkit.record.terms import Mechanism
from spfkit.tree import Family, RecordTree, TermView, TreeNode, build_tree
from spfkit.tree.model import Cost, TermOutcome
from spfkit.web.errors import field_errors
from spfkit.web.limits import BudgetResolver
from spfkit.web.models import CheckQuery, CheckResponse, LintReportModel, Pair, TreeModel
from spfkit.web.pages import WebContext, render, web_context

__all__ = ["DomainCheck", "check_domain", "router"]

_FAMILIES: Final = (Family.IPV4, Family.IPV6)
LABELS: Final = {"domain": "Domain"}

router = APIRouter()


@dataclass(frozen=True, slots=True)
class DomainCheck:
    """One domain's tree and lint report, and what the request cost in DNS questions."""

    tree: RecordTree
    report: LintReport
    queries: int
    exhausted: bool

    def response(self) -> CheckResponse:
        tree = self.tree
        return CheckResponse(
            domain=tree.domain,
            record=tree.root.record_text if tree.root else None,
            lookups=Pair(ipv4=tree.lookups_v4, ipv6=tree.lookups_v6),
            void_lookups=Pair(ipv4=tree.void_v4, ipv6=tree.void_v6),
            limits={"lookups": tree.max_lookups, "void_lookups": tree.max_void},
            tree=TreeModel.model_validate(tree.as_dict()),
            lint=LintReportModel.model_validate(self.report.as_dict()),
            dns_queries=self.queries, query_limit_reached=self.exhausted,
        )


async def check_domain(domain: str, resolver: BudgetResolver) -> DomainCheck:
    """``spfkit show`` and ``spfkit lint`` of ``domain`` (already validated)."""
    tree = await build_tree(domain, resolver)
    report = await lint_domain(domain, resolver, tree=tree)
    return DomainCheck(tree, report, resolver.queries, resolver.exhausted)


# -- the tree as rows for the page ------------------------------------------------------------


@dataclass(slots=True)
class TermRow:
    """A term of a record as written, and what the evaluation made of it."""

    text: str
    mechanism: bool
    bits: list[str] = field(default_factory=list)
    stopped: bool = False
    is_node: bool = False


@dataclass(slots=True)
class NodeView:
    """A record of the tree: the term that reached it, its text, its cost, its terms."""

    title: str
    target: str | None
    record: str | None
    missing: str
    counts: str
    errors: list[str] = field(default_factory=list)
    exp: str | None = None
    items: list[TermRow | NodeView] = field(default_factory=list)
    is_node: bool = True
    top: bool = False


def node_view(node: TreeNode, tree: RecordTree, via: TermView | None = None) -> NodeView:
    title, target = node.domain, None
    if via is not None:
        title = via.text
        if via.text.split(":", 1)[-1].split("=", 1)[-1].lower() != node.domain.lower():
            target = node.domain
    if not node.counted:
        counts = "not counted: looked up to show it, after an error stopped the evaluation"
    elif not node.evaluated:
        counts = "not evaluated"
    else:
        counts = _counts(node.costs, tree)
    view = NodeView(title, target, node.record_text, node.missing, counts,
                    errors=_errors(node), top=via is None)
    if node.exp is not None:
        problem = node.exp.problem
        state = "ok" if problem is None else f"{problem}: receivers ignore it (§6.2)"
        view.exp = f"exp → TXT {node.exp.target}: {state}"
    for term in node.terms:
        view.items += [node_view(child, tree, term) for child in term.children]
        if not term.children:
            view.items.append(_term_row(term, node, tree))
    return view


def _total(value: int, limit: int) -> str:
    return f"{value}/{limit}"


def _counts(costs: object, tree: RecordTree) -> str:
    """``lookups 2 (total 3/10), void 0`` — per family when the two differ."""
    assert isinstance(costs, dict)
    per: list[tuple[Family, Cost]] = [(f, costs[f]) for f in _FAMILIES if f in costs]
    if not per:
        return ""
    parts: list[str] = []
    if len({(c.lookups, c.total_lookups) for _, c in per}) == 1:
        c = per[0][1]
        parts.append(f"lookups {c.lookups} (total {_total(c.total_lookups, tree.max_lookups)})")
    else:
        parts.append("lookups " + ", ".join(
            f"{f.label} {c.lookups} (total {_total(c.total_lookups, tree.max_lookups)})"
            for f, c in per))
    if len({(c.void, c.total_void) for _, c in per}) == 1:
        parts.append(f"void {per[0][1].void}")
    else:
        parts.append("void " + ", ".join(f"{f.label} {c.void}" for f, c in per))
    if len(per) == 1:
        parts.append(f"({per[0][0].label} client only)")
    if any(c.beyond_limit for _, c in per):
        parts.append("beyond the limit: receivers stop before this")
    return ", ".join(parts)


def _term_row(view: TermView, node: TreeNode, tree: RecordTree) -> TermRow:
    term = view.term
    row = TermRow(view.text, isinstance(term, Mechanism))
    outcomes: list[tuple[Family, TermOutcome]] = [
        (f, view.outcomes[f]) for f in _FAMILIES if f in view.outcomes]
    if outcomes and term.queries_dns:
        if len({(o.lookups, o.total_lookups) for _, o in outcomes}) == 1:
            o = outcomes[0][1]
            total = _total(o.total_lookups, tree.max_lookups)
            row.bits.append(f"lookup +{o.lookups} (total {total})")
        else:
            row.bits.append("lookup " + ", ".join(
                f"{f.label} +{o.lookups} (total {_total(o.total_lookups, tree.max_lookups)})"
                for f, o in outcomes))
    for family, outcome in outcomes:
        if outcome.voids:
            row.bits.append(f"void ({family.label}): {', '.join(outcome.voids)}")
    if view.mx_names is not None and view.mx_names > 10:
        row.bits.append(f"{view.mx_names} MX names (limit 10)")
    row.stopped = any(o.detail == "error" for _, o in outcomes)
    if row.stopped:
        row.bits.append("evaluation stopped here")
    elif any(o.beyond_limit for _, o in outcomes):
        row.bits.append("beyond the limit: receivers stop before this")
    if not outcomes and row.mechanism and node.evaluated and node.counted:
        row.bits.append("not evaluated")
    by_host: dict[str, list[str]] = {}
    for net in view.networks:
        if net.host is not None:
            by_host.setdefault(net.host, []).append(str(net.network))
    if by_host:
        row.bits.append("; ".join(f"{h}: {', '.join(n)}" for h, n in by_host.items()))
    elif outcomes and not row.stopped and term.name in ("a", "mx"):
        row.bits.append("no addresses")
    return row


def _errors(node: TreeNode) -> list[str]:
    """Each error once, with the client families it concerns."""
    seen: dict[tuple[str, str | None, bool], list[str]] = {}
    for e in node.errors:
        who = e.family.label + " client" if e.family else "looking ahead, not counted"
        seen.setdefault((f"{e.result.value}: {e.message}", e.term, e.beyond_limit), []).append(who)
    lines = []
    for (message, term, beyond), whom in seen.items():
        where = f" at {term}" if term else ""
        when = "; only past the limit, receivers stop earlier" if beyond else ""
        lines.append(f"{message}{where} ({', '.join(whom)}{when})")
    return lines


def summary(tree: RecordTree) -> dict[str, object]:
    """The gauge and the totals: ``3/10 DNS lookups`` (and IPv6 when it differs)."""
    v4, v6 = tree.lookups_v4, tree.lookups_v6
    count = f"{v4}/{tree.max_lookups} DNS lookups"
    if v6 != v4:
        count += f" (IPv6: {v6}/{tree.max_lookups})"
    void = f"{tree.void_v4}/{tree.max_void} void lookups"
    if tree.void_v6 != tree.void_v4:
        void += f" (IPv6: {tree.void_v6}/{tree.max_void})"
    runs = []
    for run in (tree.v4, tree.v6):
        r = run.result
        line = f"{run.family.label} client {run.client}: {r.result.value}"
        if r.problem:
            line += f" ({r.problem})"
        if run.needed_lookups > r.lookups or run.needed_void > r.void_lookups:
            more = "at least " if not run.complete else ""
            line += (f"; the whole tree needs {more}{run.needed_lookups} lookups and "
                     f"{run.needed_void} void lookups")
        runs.append(line)
    return {"gauge": max(v4, v6), "count": count, "void": void, "runs": runs,
            "limit": tree.max_lookups}


@router.get("/check", response_class=HTMLResponse, include_in_schema=False)
async def check_page(request: Request, ctx: WebContext = Depends(web_context)) -> HTMLResponse:
    """The form; with ``?domain=…`` the tree, the lookup gauge and the findings."""
    raw = request.query_params.get("domain")
    values: dict[str, object] = {"page": "check", "domain": raw or "", "result": None}
    if raw is None:
        return render(request, "check.html", values)
    ctx.admit(request)
    try:
        domain = CheckQuery.model_validate({"domain": raw}).domain
    except ValidationError as exc:
        return render(request, "check.html", values,
                      errors=field_errors(exc.errors(), LABELS, fallback="domain"))
    result = await ctx.evaluate(lambda budget: check_domain(domain, budget))
    tree = result.tree
    values.update(
        result=result, summary=summary(tree),
        root=node_view(tree.root, tree) if tree.root is not None else None,
    )
    return render(request, "check.html", values)
