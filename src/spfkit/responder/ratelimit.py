"""Token buckets for the verifier's reports: per sender domain and in all.

A report costs one token from the sender domain's bucket and one from the global bucket
(:meth:`RateLimiter.take` takes from every bucket or from none); buckets refill continuously
on an injectable clock.  Pure: no I/O, no asyncio.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

__all__ = ["RateLimit", "RateLimiter"]

_PERIODS: Final = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``count`` reports per ``period`` seconds (refilled continuously)."""

    count: int
    period: float

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """``N/PERIOD``: ``5/1h``, ``10/30m``, ``100/1d``, ``3/60`` (seconds)."""
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text, re.I)
        if not match or int(match.group(1)) < 1 or float(match.group(2)) <= 0:
            raise ValueError(f"{text!r} is not N/PERIOD (e.g. 5/1h, 10/30m, 20/3600)")
        unit = _PERIODS.get(match.group(3).lower() or "s", 1.0)
        return cls(int(match.group(1)), float(match.group(2)) * unit)


class RateLimiter:
    """A token bucket per key: ``count`` tokens, refilled at ``count / period`` per second.

    Memory is bounded by time, not by eviction: a bucket is forgotten only once it has
    refilled (forgetting it then changes nothing). With ``max_keys`` buckets still refilling,
    a new key gets no token until one has: many keys cannot push a key's history out and
    reset its limit. Beside a global limit of G per period, at most about G keys are ever
    refilling at once.
    """

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 10000) -> None:
        self.limit = limit
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, at)

    def _tokens(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (float(self.limit.count), now))
        refill = (now - at) * self.limit.count / self.limit.period
        return min(float(self.limit.count), tokens + max(refill, 0.0))

    def available(self, *keys: str) -> bool:
        now = self._clock()
        return self._room(keys, now) and all(self._tokens(k, now) >= 1.0 for k in keys)

    def take(self, *keys: str) -> bool:
        """Take one token from every bucket of ``keys``, or from none; True when taken."""
        now = self._clock()
        tokens = {k: self._tokens(k, now) for k in keys}
        if not self._room(keys, now) or any(t < 1.0 for t in tokens.values()):
            return False
        for key, t in tokens.items():
            self._buckets[key] = (t - 1.0, now)
        return True

    def _room(self, keys: tuple[str, ...], now: float) -> bool:
        """Is there a bucket for each of ``keys``? Refilled buckets are forgotten first."""
        new = sum(1 for k in set(keys) if k not in self._buckets)
        if len(self._buckets) + new > self._max_keys:
            for key in [k for k in self._buckets if self._tokens(k, now) >= self.limit.count]:
                del self._buckets[key]
        return len(self._buckets) + new <= self._max_keys
