"""The JSON API: ``POST /api/wizard``, ``GET /api/check``, ``GET /api/test``, ``GET /api/flatten``.

Each route validates its input with the models of ``spfkit.web.models`` (422 with clear
messages otherwise), counts against the client's rate limit (429 with ``Retry-After``), then
runs the same function its page runs, in a slot of the evaluation gate (503 when the server
stays busy) and over the request's bounded view of DNS. The pages use this API for live
updates; scripts may too.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request

from spfkit.web.check import check_domain
from spfkit.web.flatten import flatten_domain
from spfkit.web.flatten_models import FlattenQuery, FlattenResponse
from spfkit.web.models import (
    CheckQuery,
    CheckResponse,
    ErrorMessage,
    TestQuery,
    TestResponse,
    WizardRequest,
    WizardResponse,
)
from spfkit.web.pages import WebContext, web_context
from spfkit.web.tester import evaluate_sender
from spfkit.web.wizard import draft

__all__ = ["router"]

_RETRY_AFTER: Final = {
    "Retry-After": {"description": "Seconds to wait before the next request.",
                    "schema": {"type": "integer"}},
}
#: the answers every route may give besides 200 and 422 (documented for the schema's users)
RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    429: {"model": ErrorMessage, "headers": _RETRY_AFTER,
          "description": "Too many requests from this client in the last minute."},
    503: {"model": ErrorMessage, "headers": _RETRY_AFTER,
          "description": "Every evaluation slot stayed busy; try again shortly."},
}
_BODY_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    **RESPONSES,
    400: {"model": ErrorMessage, "description": "The body could not be read as JSON (UTF-8)."},
    411: {"model": ErrorMessage, "description": "A request body without Content-Length."},
    413: {"model": ErrorMessage, "description": "The request body is too large."},
}


def admitted(request: Request, ctx: WebContext = Depends(web_context)) -> WebContext:
    """Dependency: count this request against its client's rate limit."""
    ctx.admit(request)
    return ctx


router = APIRouter(prefix="/api", tags=["api"])


@router.post("/wizard", responses=_BODY_RESPONSES, summary="Draft a domain's SPF record")
async def api_wizard(
    answers: WizardRequest, ctx: WebContext = Depends(admitted)
) -> WizardResponse:
    """The wizard (``spfkit wizard --format json``): the record for the answers, the HELO
    records of the mail hosts (RFC 7208 §2.3), BIND and tinydns lines, lint findings, and —
    when DNS answers — the lookups receivers will count once it is published (§4.6.4)."""
    return await ctx.evaluate(lambda budget: draft(answers, budget))


@router.get("/check", responses=RESPONSES, summary="Check a domain's SPF record")
async def api_check(
    query: Annotated[CheckQuery, Query()], ctx: WebContext = Depends(admitted)
) -> CheckResponse:
    """The record tree (``spfkit show --json``: every include and redirect, lookups against
    the limit of 10 and void lookups against 2, RFC 7208 §4.6.4) and the lint report
    (``spfkit lint --json``: findings with fixes and the corrected record)."""
    result = await ctx.evaluate(lambda budget: check_domain(query.domain, budget))
    return result.response()


@router.get("/test", responses=RESPONSES, summary="Test a sender as a receiver would")
async def api_test(
    query: Annotated[TestQuery, Query()], ctx: WebContext = Depends(admitted)
) -> TestResponse:
    """``check_host()`` for the MAIL FROM identity (``spfkit check --json``, RFC 7208 §2.4,
    §4): the result, what it means, the deciding term, the explanation of a fail (§6.2),
    the evaluation trace and the ``Received-SPF:`` header a receiver would add (§9.1)."""
    test = await ctx.evaluate(lambda budget: evaluate_sender(query, budget, ctx.receiver))
    return test.response()


@router.get("/flatten", responses=RESPONSES,
            summary="Flatten a domain's SPF tree into networks, proven equivalent")
async def api_flatten(
    query: Annotated[FlattenQuery, Query()], ctx: WebContext = Depends(admitted)
) -> FlattenResponse:
    """``spfkit flatten``: includes, ``a``, ``mx`` and ``redirect`` replaced by the networks
    they resolve to, split into a top record and chained ``_spf{n}`` records within the
    lookup limit (RFC 7208 §4.6.4); ``ptr``, ``exists``, macros and the ``keep`` includes
    stay as written. The records are given only when the proof finds them equivalent to the
    source tree for every IPv4 and IPv6 address; otherwise ``reason`` says why not. A
    refusal is an answer (200), not an error."""
    result = await ctx.evaluate(lambda budget: flatten_domain(query, budget))
    return result.response()
