"""Check a domain: ``/check``, the page, and :func:`check_domain`, the answer of the API.

``spfkit show`` and ``spfkit lint`` in one: the record tree from
:func:`~spfkit.tree.build_tree` (every count is the evaluator's own, RFC 7208 §4.6.4) and the
findings of :func:`~spfkit.lint.lint_domain`. Both read DNS through the request's
:class:`~spfkit.web.limits.BudgetResolver`, which remembers its answers: the linter's walk
costs no second round of queries. What the page shows of the tree is
:func:`~spfkit.view.tree_view`'s (``spfkit show`` draws the same); ``templates/check.html``
lays it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from spfkit.lint import LintReport, lint_domain
from spfkit.tree import RecordTree, build_tree
from spfkit.view.record_tree import TreeView, tree_view
from spfkit.web.errors import field_errors
from spfkit.web.limits import BudgetResolver
from spfkit.web.models import (
    CheckQuery,
    CheckResponse,
    LintReportModel,
    Pair,
    TreeModel,
)
from spfkit.web.pages import WebContext, render, web_context

__all__ = ["DomainCheck", "check_domain", "router"]

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


def summary(tree: RecordTree, view: TreeView) -> dict[str, object]:
    """The gauge and the totals: ``3/10 DNS lookups`` (and IPv6 when it differs)."""
    v4, v6 = tree.lookups_v4, tree.lookups_v6
    count = f"{v4}/{tree.max_lookups} DNS lookups"
    if v6 != v4:
        count += f" (IPv6: {v6}/{tree.max_lookups})"
    void = f"{tree.void_v4}/{tree.max_void} void lookups"
    if tree.void_v6 != tree.void_v4:
        void += f" (IPv6: {tree.void_v6}/{tree.max_void})"
    runs = []
    for run in view.runs:
        line = f"{run.family.label} client {run.client}: {run.result.value}"
        if run.problem:
            line += f" ({run.problem})"
        if run.needs is not None:
            line += "; " + run.needs.text()
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
    view = tree_view(result.tree)
    values.update(result=result, summary=summary(result.tree, view), root=view.root)
    return render(request, "check.html", values)
