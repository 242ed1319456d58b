"""What keeps ``spfkit web`` from being a DNS query amplifier (RFC 7208 §4.6.4, §11.1).

Anyone who can reach the server makes it send DNS queries: one request to ``/check`` walks a
whole include tree. Four bounds, each small and separately tested:

* :class:`RateLimiter` — a token bucket per client (an IPv6 client by its /64), refilled at
  ``rate`` requests a minute; bounded memory (the least recently seen clients are forgotten)
  and an injectable clock;
* :class:`EvaluationGate` — at most ``limit`` evaluations at once; a request that cannot get
  a turn within ``wait`` seconds is told to come back (503 with ``Retry-After``);
* :class:`BudgetResolver` — one per request, over the server's shared resolver: the §4.6.4
  limits bound one ``check_host()``, this bounds the whole request (``show``-style trees run
  the evaluator several times, once with the limits lifted) to ``max_queries`` distinct
  questions and a deadline; past either it answers TIMEOUT without asking, so evaluations end
  in ``temperror`` rather than in more traffic. Repeated questions are answered from the
  request's own memory, so the tree and the linter of one request cost the queries once;
* :class:`BodyLimit` — an ASGI middleware refusing request bodies over a size (413).

Only Starlette's ASGI types are imported; the app (``spfkit.web.app``) turns the exceptions
into responses.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from ipaddress import IPv6Address, IPv6Network
from typing import Any, Final, TypeVar

from starlette.types import ASGIApp, Receive, Scope, Send

from spfkit.identity import normalize_ip
from spfkit.lookup.protocol import Lookup, LookupStatus, Resolver, RRType
from spfkit.lookup.snapshot import SnapshotResolver

__all__ = [
    "BodyLimit",
    "BudgetResolver",
    "Busy",
    "EvaluationGate",
    "RateLimited",
    "RateLimiter",
    "client_key",
]

_T = TypeVar("_T")
Clock = Callable[[], float]

#: the default per-request bounds (documented in docs/web.md)
MAX_QUERIES: Final = 250
REQUEST_DEADLINE: Final = 30.0
_TIMEOUT: Final[Lookup[Any]] = Lookup(LookupStatus.TIMEOUT)


class RateLimited(Exception):
    """Too many requests from one client; ``retry_after`` seconds until the next is allowed."""

    def __init__(self, retry_after: int, rate: int) -> None:
        super().__init__(f"too many requests: at most {rate} a minute from one client")
        self.retry_after = retry_after
        self.rate = rate


class Busy(Exception):
    """Every evaluation slot stayed taken; ``retry_after`` seconds is a fair time to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("the server is busy with other checks")
        self.retry_after = retry_after


def client_key(host: str | None) -> str:
    """Whom a request is counted against: the IPv4 address, an IPv6 address's /64.

    One IPv6 subscriber usually holds a whole /64, so counting single addresses would let
    one client take 2**64 buckets.
    """
    if not host:
        return "unknown"
    try:
        address = normalize_ip(host)  # an IPv4-mapped client counts as its IPv4 address
    except ValueError:
        return host
    if isinstance(address, IPv6Address):
        return str(IPv6Network((address, 64), strict=False))
    return str(address)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """A token bucket per client: ``rate`` requests a minute, bursts up to ``rate``.

    At most ``max_clients`` buckets are kept; the least recently seen is dropped first (it
    has usually refilled by then anyway). ``clock`` returns seconds (tests pass a fake).
    """

    def __init__(
        self, rate: int, *, max_clients: int = 10_000, clock: Clock = time.monotonic
    ) -> None:
        if rate < 1:
            raise ValueError("rate must be at least 1 request a minute")
        if max_clients < 1:
            raise ValueError("max_clients must be at least 1")
        self.rate = rate
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, client: str) -> float:
        """Spend one token of ``client``'s bucket: 0.0 if allowed, else seconds to wait."""
        now = self._clock()
        per_second = self.rate / 60.0
        bucket = self._buckets.pop(client, None)
        if bucket is None:
            bucket = _Bucket(float(self.rate), now)
        else:
            elapsed = max(0.0, now - bucket.stamp)
            bucket.tokens = min(float(self.rate), bucket.tokens + elapsed * per_second)
            bucket.stamp = now
        self._buckets[client] = bucket
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / per_second

    def check(self, client: str) -> None:
        """:meth:`take`, raising :class:`RateLimited` (whole seconds, at least 1) when refused."""
        wait = self.take(client)
        if wait > 0:
            raise RateLimited(max(1, math.ceil(wait)), self.rate)


class EvaluationGate:
    """At most ``limit`` evaluations at once; the others wait up to ``wait`` seconds."""

    def __init__(self, limit: int, *, wait: float = 10.0) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.wait = wait
        self._semaphore: asyncio.Semaphore | None = None

    async def run(self, work: Callable[[], Awaitable[_T]]) -> _T:
        """Run ``work()`` in a slot; :class:`Busy` when none frees up in time."""
        # created on first use, inside the server's event loop
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.limit)
        semaphore = self._semaphore
        try:
            await asyncio.wait_for(semaphore.acquire(), self.wait)
        except TimeoutError:
            raise Busy(max(1, math.ceil(self.wait))) from None
        try:
            return await work()
        finally:
            semaphore.release()


class BudgetResolver(SnapshotResolver):
    """A per-request :class:`~spfkit.lookup.protocol.Resolver`: memory, a query cap, a deadline.

    Every distinct question (type, name without case or trailing dot) is asked of ``inner`` at
    most once (a :class:`~spfkit.lookup.snapshot.SnapshotResolver`); the first
    ``max_queries`` are asked, later ones — and any asked after ``deadline`` seconds — get a
    TIMEOUT without a packet being sent.
    """

    def __init__(
        self,
        inner: Resolver,
        *,
        max_queries: int = MAX_QUERIES,
        deadline: float = REQUEST_DEADLINE,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__(inner)
        self.max_queries = max_queries
        self._clock = clock
        self._end = clock() + deadline
        self.queries = 0  # questions passed to ``inner``
        self.refused = 0  # questions answered TIMEOUT because a bound was reached

    @property
    def exhausted(self) -> bool:
        """Was any question refused (the evaluation then saw TIMEOUT, i.e. temperror)?"""
        return self.refused > 0

    def refusal(self, rrtype: RRType, name: str) -> Lookup[Any] | None:
        """TIMEOUT once ``max_queries`` were asked or the deadline passed; else count the query."""
        if self.queries >= self.max_queries or self._clock() >= self._end:
            self.refused += 1
            return _TIMEOUT
        self.queries += 1
        return None


# -- request bodies ---------------------------------------------------------------------------


class BodyLimit:
    """ASGI middleware: a body over ``max_bytes`` gets 413, a chunked one 411, unread.

    Browsers and HTTP clients send ``Content-Length`` with the small JSON bodies of the API;
    a body without it (``Transfer-Encoding: chunked``) could be endless, so it is refused.
    The server (uvicorn) stops reading at ``Content-Length``.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = 64 * 1024) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope.get("headers", ()):
                if name == b"content-length" and (
                    not value.isdigit() or int(value) > self.max_bytes
                ):
                    await _refuse(send, 413, "the request body is too large "
                                  f"(at most {self.max_bytes} bytes)")
                    return
                if name == b"transfer-encoding":
                    await _refuse(send, 411, "send the request body with a Content-Length")
                    return
        await self.app(scope, receive, send)


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
