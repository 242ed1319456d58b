"""Test a sender: ``/test``, the page, and :func:`evaluate_sender`, the answer of the API.

``spfkit check`` in a browser: :func:`spfkit.evaluate.check` for the MAIL FROM identity
(RFC 7208 §2.4; the null sender checks ``postmaster@HELO``) with the RFC's limits
(§4.6.4: 10 DNS-querying terms, 2 void lookups), and the :class:`~spfkit.view.CheckReport`
of ``spfkit check`` for the JSON and the ``Received-SPF:`` (§9.1) and
``Authentication-Results:`` (RFC 8601) headers; the page's trace is the
:func:`~spfkit.view.trace_nodes` tree ``spfkit check --trace`` draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from spfkit.evaluate import CheckOptions
from spfkit.identity import Identity, subject_for
from spfkit.tree.needs import check_with_needs
from spfkit.view.check import CheckReport
from spfkit.view.trace import trace_nodes
from spfkit.web.errors import field_errors
from spfkit.web.limits import BudgetResolver
from spfkit.web.models import TestQuery, TestResponse
from spfkit.web.pages import WebContext, render, web_context

__all__ = ["SenderTest", "evaluate_sender", "router"]

LABELS: Final = {"ip": "IP address", "sender": "MAIL FROM", "helo": "HELO name"}
_FIELDS: Final = ("ip", "sender", "helo")

router = APIRouter()


@dataclass(frozen=True, slots=True)
class SenderTest:
    """One check and what it cost."""

    report: CheckReport
    queries: int

    def response(self) -> TestResponse:
        return TestResponse.model_validate({**self.report.as_dict(), "dns_queries": self.queries})


async def evaluate_sender(query: TestQuery, resolver: BudgetResolver, receiver: str) -> SenderTest:
    """§2.4: may ``query.ip`` send mail from ``query.sender`` (HELO ``query.helo``)?"""
    identity = Identity.MAILFROM
    result, needed = await check_with_needs(query.ip, query.sender, query.helo, resolver=resolver,
                                            identity=identity, receiver=receiver,
                                            options=CheckOptions(), trace=True)
    subject = subject_for(identity, query.sender, query.helo)
    report = CheckReport(query.ip, query.sender, query.helo, identity, subject, receiver, result,
                         needed)
    return SenderTest(report, resolver.queries)


def mechanism_text(test: SenderTest) -> str:
    r = test.report.result
    if r.mechanism == "default":
        return f"no mechanism matched in the record of {r.domain}: the default result (§4.7)"
    if r.mechanism:
        return f"{r.mechanism} in the record of {r.domain}"
    return f"no term decided: {r.problem or 'no SPF record for ' + r.domain}"


@router.get("/test", response_class=HTMLResponse, include_in_schema=False)
async def test_page(request: Request, ctx: WebContext = Depends(web_context)) -> HTMLResponse:
    """The form; with ``?ip=…&sender=…`` the result, its meaning, the header and the trace."""
    params = request.query_params
    form = {name: params.get(name, "") for name in _FIELDS}
    values: dict[str, object] = {"page": "test", "form": form, "result": None}
    if not any(name in params for name in _FIELDS):
        return render(request, "test.html", values)
    ctx.admit(request)
    try:
        query = TestQuery.model_validate(form)
    except ValidationError as exc:
        # a form-wide error (the null sender without HELO) is shown at the HELO field
        return render(request, "test.html", values,
                      errors=field_errors(exc.errors(), LABELS, fallback="helo"))
    test = await ctx.evaluate(lambda budget: evaluate_sender(query, budget, ctx.receiver))
    values.update(result=test, r=test.report.result, mechanism=mechanism_text(test),
                  trace=trace_nodes(test.report.result.trace), budget=test.report.budget,
                  received_spf=str(test.report.received_spf()),
                  auth_results=str(test.report.authentication_results()))
    return render(request, "test.html", values)
