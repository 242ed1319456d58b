"""The milter's counters: one plain object, read by ``spfkit milter --stats`` and ``--metrics``.

Updated from libmilter's threads and the event loop alike, hence the lock. DNS queries and
cache hits are the shared resolver's own counters (``CachingResolver.stats()``), read when
a snapshot is taken. It is the one source of truth for both views: each message is counted
here once, when it ends (:meth:`Counters.message_finished`), and handed on to the
:class:`~spfkit.metrics.ServiceMetrics` (Prometheus's ``spfkit_requests``, ``spfkit_decisions``,
``spfkit_checks``), which also reads :meth:`Counters.events` at each scrape
(``spfkit_events``). Pure: imports no asyncio, socket, dnspython or prometheus_client.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

from spfkit.identity import Identity
from spfkit.metrics import NO_METRICS, ServiceMetrics
from spfkit.results import Result

__all__ = ["EVENTS", "Counters"]

#: What is counted besides results: each a key of :meth:`Counters.snapshot`'s ``events``.
EVENTS: Final = ("connections", "messages", "skipped", "rejects", "defers", "test_only",
                 "timeouts", "errors", "headers_added", "forged_removed", "reloads",
                 "reload_failures")


@dataclass
class Counters:
    """Results per identity (``helo``, ``mailfrom``, ``pra``) and the events of :data:`EVENTS`.

    ``dns`` returns (queries sent, cache hits) of the shared resolver when asked; ``metrics``
    gets every message too (``NO_METRICS``: nobody).
    """

    dns: Callable[[], tuple[int, int]] = field(default=lambda: (0, 0))
    metrics: ServiceMetrics = NO_METRICS
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

    def message_started(self) -> float:
        """MAIL FROM: one more message; the token for :meth:`message_finished`."""
        self.event("messages")
        return self.metrics.request_started()

    def message_finished(self, token: float, ended: str, outcome: str,
                         results: Iterable[tuple[Identity, Result]]) -> None:
        """The message begun at ``token`` ended: ``ended`` is how (``accept`` at end of
        message, ``reject``, ``defer``, ``aborted``), ``outcome`` the decision (``accept``,
        ``reject``, ``defer``, ``skip``, ``fallback``), ``results`` each identity's result."""
        checked = tuple(results)
        with self._lock:
            for pair in checked:
                self._results[pair] += 1
        self.metrics.decided(outcome, [(i.value, r.value) for i, r in checked])
        self.metrics.request_finished(token, ended)

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
