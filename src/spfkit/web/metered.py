"""ASGI middleware that reports each HTTP request to the service's metrics (docs/metrics.md).

The outcome of a request is its HTTP status code (a bounded set); a request whose client went
away before any answer counts as ``cancelled``. No label carries the path: any client can ask
for any path, and a label per path would let it grow the metrics without bound.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spfkit.metrics import ServiceMetrics

__all__ = ["Metered"]


class Metered:
    """Calls ``metrics.request_started()`` / ``request_finished()`` around every request."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, outcome = self.metrics.request_started(), "cancelled"

        async def noting_status(message: Message) -> None:
            nonlocal outcome
            if message["type"] == "http.response.start":
                outcome = str(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            self.metrics.request_finished(started, outcome)
