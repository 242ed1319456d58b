"""The milter's counters: one plain object, read by ``spfkit milter --stats`` (and metrics).

Updated from libmilter's threads and the event loop alike, hence the lock. DNS queries and
cache hits are the shared resolver's own counters (``CachingResolver.stats()``), read when
a snapshot is taken. Pure: imports no asyncio, socket or dnspython.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from spfkit.identity import Identity
from spfkit.results import Result

__all__ = ["EVENTS", "Counters"]

#: What is counted besides results: each a key of :meth:`Counters.snapshot`'s ``events``.
EVENTS: Final = ("connections", "messages", "skipped", "rejects", "defers", "test_only",
                 "timeouts", "errors", "headers_added", "forged_removed", "reloads",
                 "reload_failures")


@dataclass
class Counters:
    """Results per identity (``helo``, ``mailfrom``, ``pra``) and the events of :data:`EVENTS`.

    ``dns`` returns (queries sent, cache hits) of the shared resolver when asked.
    """

    dns: Callable[[], tuple[int, int]] = field(default=lambda: (0, 0))
    _results: Counter[tuple[Identity, Result]] = field(default_factory=Counter)
    _events: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def result(self, identity: Identity, result: Result) -> None:
        with self._lock:
            self._results[identity, result] += 1

    def event(self, name: str, count: int = 1) -> None:
        assert name in EVENTS, name
        with self._lock:
            self._events[name] += count

    def results(self, identity: Identity) -> dict[str, int]:
        with self._lock:
            return {r.value: self._results[identity, r] for r in Result}

    def events(self) -> dict[str, int]:
        with self._lock:
            return {name: self._events[name] for name in EVENTS}

    def snapshot(self) -> dict[str, object]:
        """Everything now, as JSON-ready data."""
        queries, hits = self.dns()
        return {
            "results": {identity.value: self.results(identity) for identity in Identity},
            "events": self.events(),
            "dns": {"queries": queries, "cache_hits": hits},
        }
