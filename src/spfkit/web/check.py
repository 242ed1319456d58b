"""Check a domain: ``/check``, the page, and :func:`check_domain`, the answer of the API.

``spfkit show`` and ``spfkit lint`` in one: the record tree from
:func:`~spfkit.tree.build_tree` (every count is the evaluator's own, RFC 7208 §4.6.4) and the
findings of :func:`~spfkit.lint.lint_domain`. Both read DNS through the request's
:class:`~spfkit.web.limits.BudgetResolver`, which remembers its answers: the linter's walk
costs no second round of queries. What the page shows of the tree is
:func:`~spfkit.view.tree_view`'s (``spfkit show`` draws the same); ``templates/check.html``
lays it out, with the offer to flatten a tree over the limit (``spfkit.web.flatten``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from spfkit.compile import authorised_addresses
from spfkit.dmarc import DmarcLookup, lookup_dmarc
from spfkit.lint import LintReport, lint_domain
from spfkit.tree import RecordTree, build_tree
from spfkit.view.dmarc import DmarcView, dmarc_view
from spfkit.view.record_tree import TreeView, tree_view
from spfkit.view.verdict import AddressCount, DomainVerdict, domain_verdict
from spfkit.web.errors import field_errors
from spfkit.web.flatten import FlattenOffer, flatten_offer
from spfkit.web.limits import BudgetResolver
from spfkit.web.models import (
    CheckQuery,
    CheckResponse,
    LintReportModel,
    Pair,
    TreeModel,
)
from spfkit.web.pages import WebContext, render, web_context
from spfkit.web.report_models import BudgetsModel, DmarcModel, VerdictModel

__all__ = ["DomainCheck", "check_domain", "router"]

LABELS: Final = {"domain": "Domain"}

router = APIRouter()


@dataclass(frozen=True, slots=True)
class DomainCheck:
    """One domain's tree, lint report and DMARC record, and what the request cost in DNS
    questions. ``addresses``: how many addresses the record authorises, when known (the
    verdict card shows it only then)."""

    tree: RecordTree
    report: LintReport
    dmarc_lookup: DmarcLookup
    queries: int
    exhausted: bool
    addresses: AddressCount | None = None

    @property
    def view(self) -> TreeView:
        return tree_view(self.tree)

    @property
    def verdict(self) -> DomainVerdict:
        return domain_verdict(self.tree, self.report.findings, self.addresses)

    @property
    def dmarc(self) -> DmarcView:
        return dmarc_view(self.dmarc_lookup)

    @property
    def offer(self) -> FlattenOffer | None:
        """The offer to flatten the tree, when it is over the limit (``spfkit.web.flatten``)."""
        return flatten_offer(self.tree, self.view.budget.lookups)

    def response(self) -> CheckResponse:
        tree = self.tree
        return CheckResponse(
            domain=tree.domain,
            verdict=VerdictModel.model_validate(self.verdict.as_dict()),
            budget=BudgetsModel.model_validate(self.view.budget_dict()),
            dmarc=DmarcModel.model_validate(self.dmarc.as_dict()),
            record=tree.root.record_text if tree.root else None,
            lookups=Pair(ipv4=tree.lookups_v4, ipv6=tree.lookups_v6),
            void_lookups=Pair(ipv4=tree.void_v4, ipv6=tree.void_v6),
            limits={"lookups": tree.max_lookups, "void_lookups": tree.max_void},
            tree=TreeModel.model_validate(tree.as_dict()),
            lint=LintReportModel.model_validate(self.report.as_dict()),
            dns_queries=self.queries, query_limit_reached=self.exhausted,
        )


async def check_domain(domain: str, resolver: BudgetResolver) -> DomainCheck:
    """``spfkit show`` and ``spfkit lint`` of ``domain`` (already validated), and its DMARC."""
    tree = await build_tree(domain, resolver)
    # the page offers flattening itself (/flatten): the lint fix need not flatten too
    report = await lint_domain(domain, resolver, tree=tree, flatten_fix=False)
    dmarc = await lookup_dmarc(resolver, domain)
    addresses = None
    if tree.root is not None:  # what the compiled policy passes (§2.6.3), as `spfkit show` says
        counts = await authorised_addresses(domain, resolver=resolver)
        addresses = AddressCount(counts.ipv4, counts.ipv6)
    return DomainCheck(tree, report, dmarc, resolver.queries, resolver.exhausted, addresses)


def summary(view: TreeView) -> dict[str, object]:
    """The gauge: the real total of the costlier family (``11/10``) and each family's line."""
    budget = view.budget
    return {"budget": budget, "gauge": budget.lookups, "count": f"{budget.lookups} DNS lookups",
            "void": f"{budget.void} void lookups", "runs": [run.text for run in view.runs],
            "limit": budget.lookups.limit}


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
    view = result.view
    values.update(result=result, summary=summary(view), root=view.root, verdict=result.verdict,
                  dmarc=result.dmarc)
    return render(request, "check.html", values)
