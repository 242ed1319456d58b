"""Being a good DNS citizen: a query rate cap, a cap on queries in flight, retries.

A survey sends hundreds of thousands of queries; :class:`PacedResolver` wraps the real
resolver so that at most ``qps`` queries a second leave (a token bucket), at most
``in_flight`` are on the wire at once (each UDP query holds one socket: this keeps file
descriptors well under the process limit, see :func:`fd_budget`), and a TIMEOUT or SERVFAIL
is asked again up to ``retries`` times. The answer is the last attempt's.
"""

from __future__ import annotations

import asyncio
import resource
import time
from typing import Any, Final

from spfkit.lookup.protocol import BaseResolver, Lookup, Resolver, RRType

__all__ = ["PacedResolver", "TokenBucket", "fd_budget"]

#: descriptors left for everything else (files, the loop, logging)
_FD_RESERVE: Final = 64


def fd_budget(fraction: float = 0.5) -> int:
    """How many sockets the survey may hold at once: ``fraction`` of the soft RLIMIT_NOFILE."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 65536
    return max(8, int(soft * fraction) - _FD_RESERVE)


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; :meth:`take` waits for one."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate / 10)
        self._tokens = self.burst
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        async with self._lock:  # first come, first served: waiters queue on the lock
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens < 1:
                await asyncio.sleep((1 - self._tokens) / self.rate)
                self._tokens = 1.0
                self._stamp = time.monotonic()
            self._tokens -= 1


class PacedResolver(BaseResolver):
    """Wraps ``inner``: a rate cap (``qps``, None for none), ``in_flight`` queries at most,
    ``retries`` more attempts after a TIMEOUT or SERVFAIL. ``sent`` counts attempts."""

    def __init__(self, inner: Resolver, *, qps: float | None = None, in_flight: int = 256,
                 retries: int = 1) -> None:
        if retries < 0:
            raise ValueError("retries must be 0 or more")
        self.inner = inner
        self.bucket = TokenBucket(qps) if qps else None
        self.retries = retries
        self.in_flight = max(1, min(in_flight, fd_budget()))
        self._slots = asyncio.Semaphore(self.in_flight)
        self.sent = 0
        self.retried = 0

    async def lookup(self, rrtype: RRType, name: str) -> Lookup[Any]:
        answer: Lookup[Any] | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                self.retried += 1
            if self.bucket is not None:
                await self.bucket.take()
            async with self._slots:
                self.sent += 1
                answer = await self.inner.lookup(rrtype, name)
            if not answer.status.is_error:
                break
        assert answer is not None
        return answer

    def peek(self, rrtype: RRType, name: str) -> Lookup[Any] | None:
        return self.inner.peek(rrtype, name)
