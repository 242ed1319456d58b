"""What a long-running spfkit service reports about itself: the API it calls (docs/metrics.md).

A service (``policyd --listen``, ``web``, the milter) holds one :class:`ServiceMetrics` and calls
it at a few points: a request started and finished (its outcome: a bounded word such as
``dunno`` or ``reject``, or an HTTP status), a transaction decided (its outcome and the
result of each identity checked, RFC 7208 §2.6, §8), and once for its resolver
(:meth:`~ServiceMetrics.resolver` puts a counting layer around it: DNS lookups by status,
timeouts among them) and for the caches, the log queue and counters of its own
(:meth:`~ServiceMetrics.watch_events`) to read at each scrape.

The base class does nothing, so a service without ``--metrics`` pays one method call per
event and needs no extra installed; :class:`spfkit.metrics.prometheus.PrometheusMetrics`
(``spfkit[metrics]``) is the one that counts, exported with :mod:`prometheus_client` by
:func:`spfkit.metrics.prometheus.serve`. This module imports neither, nor any socket.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from spfkit.lookup.protocol import Resolver

__all__ = ["CacheCounters", "DroppedCounter", "NO_METRICS", "ServiceMetrics", "reply_kind"]


class CacheCounters(Protocol):
    """What a cache's ``stats()`` tells (``lookup.cache.CacheStats``, ``bounded.LRUStats``)."""

    @property
    def hits(self) -> int: ...

    @property
    def misses(self) -> int: ...

    @property
    def entries(self) -> int: ...

    @property
    def bytes(self) -> int: ...


class DroppedCounter(Protocol):
    """A log queue that counts the records it dropped (``logsink.QueueLogging``)."""

    @property
    def dropped(self) -> int: ...


class ServiceMetrics:
    """The calls a service makes; this base class ignores them (no ``--metrics``)."""

    service: str = ""

    def request_started(self) -> float:
        """A request arrived; returns the token to pass to :meth:`request_finished` (here
        nothing: no clock is read when nothing is counted)."""
        return 0.0

    def request_finished(self, started: float, outcome: str) -> None:
        """The request begun at ``started`` was answered with ``outcome`` (a bounded word)."""

    def request_handed_on(self, started: float) -> None:
        """The request begun at ``started`` was not answered at once: it starts again on the
        path that waits (policy ``answer_now`` → ``answer_later``), counted there."""

    def decided(self, outcome: str, results: Iterable[tuple[str, str]] = ()) -> None:
        """A transaction was decided (``accept``, ``reject`` ...): ``results`` are
        (identity, result) pairs, ``("helo", "pass")``, one per identity checked."""

    def resolver(self, resolver: Resolver) -> Resolver:
        """The resolver to use in place of ``resolver`` (the same one here)."""
        return resolver

    def watch_cache(self, name: str, stats: Callable[[], CacheCounters]) -> None:
        """Read ``stats()`` at each scrape as the cache called ``name``."""

    def watch_log(self, queue: DroppedCounter) -> None:
        """Also read ``queue.dropped`` at each scrape (records a stalled log sink lost)."""

    def watch_events(self, events: Callable[[], Mapping[str, int]]) -> None:
        """Read ``events()`` at each scrape: counts the service keeps itself, by event name
        (a bounded set of words, such as the milter's ``connections`` or ``reloads``)."""


NO_METRICS = ServiceMetrics()


def reply_kind(action: str) -> str:
    """An access(5) action or SMTP reply → one word for a metric label (a bounded set):
    ``dunno``, ``prepend``, ``ok``, ``reject`` (5xx, REJECT), ``defer`` (4xx, DEFER...), or
    ``other``."""
    word = action.split(None, 1)[0].upper() if action.strip() else ""
    if word[:1] == "5" or word in ("REJECT", "DISCARD"):
        return "reject"
    if word[:1] == "4" or word.startswith("DEFER"):
        return "defer"
    if word in ("DUNNO", "PREPEND", "OK"):
        return word.lower()
    return "other"
