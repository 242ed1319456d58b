"""What every page and API route shares: the server's context, templates, rendering, limits.

:class:`WebContext` is made once by :func:`spfkit.web.app.create_app` and kept on
``app.state``: the one shared resolver, the rate limiter and the evaluation gate. A route
asks it to :meth:`~WebContext.admit` a request that will do work (the rate limit), and to
:meth:`~WebContext.evaluate` — in a slot of the gate, over a fresh :class:`BudgetResolver`.
Templates are Jinja2 with autoescaping on for every file: nothing from DNS or the user
reaches a page unescaped, and no text reads as something else: every printed text passes
:func:`~spfkit.visible.visible_text` (the ``finalize`` of the environment), so a control,
format or bidi character from DNS or a form reads as its escape (``\\x1b``, ``\\u202e``), as in
``spfkit show`` and ``lint``; a multi-line block (``<pre>``, ``<textarea>``) goes through the
``lines`` filter, which keeps its newlines and applies the same rule to each line.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from spfkit.lookup.protocol import Resolver
from spfkit.visible import visible_text
from spfkit.web.errors import FieldError
from spfkit.web.limits import (
    MAX_QUERIES,
    REQUEST_DEADLINE,
    BudgetResolver,
    EvaluationGate,
    RateLimiter,
    client_key,
)

__all__ = ["WebContext", "form_lines", "make_templates", "render", "shown", "shown_lines",
           "web_context"]

_T = TypeVar("_T")
HERE = Path(__file__).resolve().parent


@dataclass(slots=True)
class WebContext:
    """The server's shared state: DNS, the limits, the receiver name for headers."""

    resolver: Resolver
    templates: Jinja2Templates
    receiver: str
    limiter: RateLimiter | None = None
    gate: EvaluationGate = field(default_factory=lambda: EvaluationGate(4))
    max_queries: int = MAX_QUERIES
    deadline: float = REQUEST_DEADLINE

    def admit(self, request: Request) -> None:
        """Count one request that does work against its client (raises ``RateLimited``)."""
        if self.limiter is not None:
            self.limiter.check(client_key(request.client.host if request.client else None))

    async def evaluate(self, work: Callable[[BudgetResolver], Awaitable[_T]]) -> _T:
        """``work`` in a slot of the gate, with its own bounded view of DNS."""
        budget = BudgetResolver(self.resolver, max_queries=self.max_queries,
                                deadline=self.deadline)
        return await self.gate.run(lambda: work(budget))


def web_context(request: Request) -> WebContext:
    """FastAPI dependency: the app's :class:`WebContext`."""
    ctx = request.app.state.web
    assert isinstance(ctx, WebContext)
    return ctx


def shown(value: object) -> object:
    """What a template prints (the environment's ``finalize``): a text with each control,
    format or separator character as its escape (:func:`~spfkit.visible.visible_text`);
    markup (a macro's output, :func:`shown_lines`) and numbers as they are."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible_text(value)
    return value


_NEWLINE = re.compile(r"\r?\n")


def shown_lines(value: str | Iterable[str]) -> Markup:
    """The ``lines`` filter, for a multi-line block: a text (split at its newlines, as a
    text area sends them) or lines, each line :func:`shown` and escaped, joined by newlines."""
    lines = _NEWLINE.split(value) if isinstance(value, str) else value
    return Markup("\n").join(visible_text(line) for line in lines)


def make_templates() -> Jinja2Templates:
    """The page templates; autoescaping on for every template, every printed text
    :func:`shown`, undefined names are errors."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=shown,
    )
    env.filters["lines"] = shown_lines
    return Jinja2Templates(env=env)


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any],
    *,
    errors: list[FieldError] | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A page; with ``errors`` it is the form again, status 422 and ``#form-error``."""
    errors = errors or []
    values: dict[str, Any] = {
        "errors": errors,
        "invalid": {e.element_id: e.message_id for e in errors},
        **context,
    }
    templates = web_context(request).templates
    response = templates.TemplateResponse(
        request, name, values, status_code=422 if errors else status,
        headers=dict(headers) if headers else None,
    )
    assert isinstance(response, HTMLResponse)
    return response


def form_lines(text: str | None) -> list[str]:
    """A text area, one entry a line; blank lines dropped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]
