"""``create_app()``: the ASGI application of ``spfkit web`` (FastAPI), built around one resolver.

Nothing happens at import: the caller (``spfkit web``, a test) passes the resolver — the one
shared :class:`~spfkit.lookup.CachingResolver`, or a :class:`~spfkit.lookup.ZoneResolver`
for the bundled example zone — and the limits. The app serves the pages
(``spfkit.web.wizard``, ``.check``, ``.flatten``, ``.tester``), the JSON API (``spfkit.web.api``) with its
schema at ``/openapi.json``, the stylesheet and script under ``/static/``, and answers every
refusal in the form the client asked for: JSON under ``/api/``, a page elsewhere.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spfkit import __version__
from spfkit.lookup.protocol import Resolver
from spfkit.metrics import NO_METRICS, ServiceMetrics
from spfkit.web import api, check, flatten, tester, wizard
from spfkit.web.errors import api_detail
from spfkit.web.limits import (
    MAX_QUERIES,
    REQUEST_DEADLINE,
    BodyLimit,
    Busy,
    EvaluationGate,
    RateLimited,
    RateLimiter,
)
from spfkit.web.metered import Metered
from spfkit.web.pages import WebContext, make_templates, render

__all__ = ["create_app"]

HERE: Final = Path(__file__).resolve().parent

#: no inline script or style anywhere, so the policy can forbid them (a second line of
#: defence behind autoescaping against record text that holds markup)
_SECURITY_HEADERS: Final = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]

_DESCRIPTION: Final = """\
SPF (RFC 7208) for postmasters: draft a record (the wizard), check a domain's record tree and
lint findings, flatten a tree over the lookup limit (proven equivalent), test whether a client
may send for an address. Every lookup obeys the RFC's
limits; each request is also bounded in DNS questions, and each client in requests a minute.
"""


class _SecurityHeaders:
    """ASGI middleware adding :data:`_SECURITY_HEADERS` to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(
    resolver: Resolver,
    *,
    rate_limit: int | None = 60,
    receiver: str | None = None,
    max_concurrent: int = 4,
    queue_wait: float = 10.0,
    max_queries: int = MAX_QUERIES,
    deadline: float = REQUEST_DEADLINE,
    clock: Callable[[], float] = time.monotonic,
    metrics: ServiceMetrics = NO_METRICS,
) -> FastAPI:
    """The web UI and JSON API over ``resolver``.

    ``rate_limit``: requests that do work, per client and minute (None: no limit);
    ``receiver``: the host name written into the headers (default: this host's name);
    ``max_concurrent`` evaluations at once, a request waiting at most ``queue_wait`` seconds
    for its turn (then 503); ``max_queries`` DNS questions and ``deadline`` seconds per
    request. ``clock`` drives the rate limiter (tests pass a fake one). ``metrics`` hears of
    every request and DNS lookup (docs/metrics.md).
    """
    app = FastAPI(
        title="spfkit", version=__version__, description=_DESCRIPTION,
        docs_url=None, redoc_url=None,  # they load scripts from a CDN; /openapi.json stays
    )
    app.state.web = WebContext(
        resolver=metrics.resolver(resolver),
        templates=make_templates(),
        receiver=receiver or platform.node() or "localhost",
        limiter=RateLimiter(rate_limit, clock=clock) if rate_limit else None,
        gate=EvaluationGate(max_concurrent, wait=queue_wait),
        max_queries=max_queries,
        deadline=deadline,
    )

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def home(request: Request) -> HTMLResponse:
        return render(request, "home.html", {"page": "home"})

    for module in (wizard, check, flatten, tester, api):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _add_handlers(app)
    app.add_middleware(BodyLimit)
    app.add_middleware(_SecurityHeaders)
    if metrics is not NO_METRICS:
        app.add_middleware(Metered, metrics=metrics)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def _add_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return JSONResponse({"detail": api_detail(exc.errors())}, status_code=422)

    @app.exception_handler(RateLimited)
    async def limited(request: Request, exc: RateLimited) -> Response:
        message = (f"Too many requests: this server answers at most {exc.rate} a minute from "
                   f"one client. Try again in {exc.retry_after} s.")
        return _refusal(request, 429, message, exc.retry_after)

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> Response:
        message = f"The server is busy with other checks. Try again in {exc.retry_after} s."
        return _refusal(request, 503, message, exc.retry_after)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if _wants_json(request) or exc.status_code < 400:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                                headers=exc.headers)
        message = "There is no such page." if exc.status_code == 404 else str(exc.detail)
        return render(request, "error.html", {"page": "error", "message": message,
                                              "status": exc.status_code},
                      status=exc.status_code, headers=exc.headers)


def _refusal(request: Request, status: int, message: str, retry_after: int) -> Response:
    headers = {"Retry-After": str(retry_after)}
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    return render(request, "error.html", {"page": "error", "message": message, "status": status},
                  status=status, headers=headers)
