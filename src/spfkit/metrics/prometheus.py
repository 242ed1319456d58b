"""The counting :class:`~spfkit.metrics.ServiceMetrics`, exported with ``prometheus_client``.

Needs the ``metrics`` extra (``pip install 'spfkit[metrics]'``). Each instance has its own
registry, so several services (or tests) in one process never share a counter. Every name is
``spfkit_…`` with a ``service`` label; docs/metrics.md lists them and the PromQL for rates.
Counters read from caches and the log queue are collected at scrape time (a custom collector),
so the hot path never touches them. :func:`serve` starts the HTTP endpoint (``/metrics``) on a
daemon thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    start_http_server,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from spfkit import __version__
from spfkit.lookup.protocol import LookupStatus, RRType
from spfkit.metrics import CacheCounters, DroppedCounter, ServiceMetrics
from spfkit.metrics.resolver import CountingResolver

if TYPE_CHECKING:
    from spfkit.lookup.protocol import Resolver

__all__ = ["LATENCY_BUCKETS", "MetricsServer", "PrometheusMetrics", "serve"]

#: seconds: a cached verdict takes well under a millisecond, a cold tree tens of milliseconds,
#: a dead nameserver the whole deadline (20 s by default)
LATENCY_BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                          1.0, 2.5, 5.0, 10.0, 20.0, 30.0)


class PrometheusMetrics(ServiceMetrics):
    """Counts what ``service`` reports into :attr:`registry` (see the module doc)."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self._in_flight = Gauge("spfkit_requests_in_flight", "Requests being answered now.",
                                ["service"], registry=registry).labels(service)
        self._latency = Histogram("spfkit_request_duration_seconds",
                                  "Time from a request's arrival to its answer.", ["service"],
                                  buckets=LATENCY_BUCKETS, registry=registry).labels(service)
        self._requests = Counter("spfkit_requests", "Requests answered, by outcome.",
                                 ["service", "outcome"], registry=registry)
        self._decisions = Counter("spfkit_decisions", "Transactions decided, by outcome.",
                                  ["service", "outcome"], registry=registry)
        self._checks = Counter("spfkit_checks", "SPF results (RFC 7208 §2.6), by identity.",
                               ["service", "identity", "result"], registry=registry)
        self._lookups = Counter("spfkit_dns_lookups", "DNS lookups the checks made "
                                "(cache hits included), by record type and status.",
                                ["service", "rrtype", "status"], registry=registry)
        self._timeouts = Counter("spfkit_dns_timeouts", "DNS lookups that timed out.",
                                 ["service"], registry=registry).labels(service)
        Gauge("spfkit_build_info", "The spfkit version serving.", ["service", "version"],
              registry=registry).labels(service, __version__).set(1)
        self._watched = _Watched(service)
        self.registry.register(self._watched)

    # -- ServiceMetrics ----------------------------------------------------------------------

    def request_started(self) -> float:
        self._in_flight.inc()
        return time.monotonic()

    def request_handed_on(self, started: float) -> None:
        self._in_flight.dec()

    def request_finished(self, started: float, outcome: str) -> None:
        self._in_flight.dec()
        self._latency.observe(max(time.monotonic() - started, 0.0))
        self._requests.labels(self.service, outcome).inc()

    def decided(self, outcome: str, results: Iterable[tuple[str, str]] = ()) -> None:
        self._decisions.labels(self.service, outcome).inc()
        for identity, result in results:
            self._checks.labels(self.service, identity, result).inc()

    def resolver(self, resolver: Resolver) -> Resolver:
        stats = getattr(resolver, "stats", None)
        if callable(stats):  # a DNS cache (lookup.cache.CachingResolver): watched as "dns"
            self.watch_cache("dns", stats)
        return CountingResolver(resolver, self._seen)

    def watch_cache(self, name: str, stats: Callable[[], CacheCounters]) -> None:
        self._watched.watch_cache(name, stats)

    def watch_log(self, queue: DroppedCounter) -> None:
        self._watched.watch_log(queue)

    def watch_events(self, events: Callable[[], Mapping[str, int]]) -> None:
        self._watched.watch_events(events)

    def _seen(self, rrtype: RRType, status: LookupStatus) -> None:
        self._lookups.labels(self.service, rrtype.value, status.value).inc()
        if status is LookupStatus.TIMEOUT:
            self._timeouts.inc()


@dataclass(slots=True)
class _Cache:
    stats: Callable[[], CacheCounters]
    #: hits and misses of the caches this name had before (a reload replaced the resolver):
    #: the counters keep counting instead of starting again
    hits_before: int = 0
    misses_before: int = 0


class _Watched(Collector):
    """Counters kept by others (caches, the log queue), read when Prometheus scrapes."""

    def __init__(self, service: str) -> None:
        self.service = service
        self._lock = threading.Lock()
        self._caches: dict[str, _Cache] = {}
        self._logs: list[DroppedCounter] = []
        self._events: list[Callable[[], Mapping[str, int]]] = []

    def watch_cache(self, name: str, stats: Callable[[], CacheCounters]) -> None:
        with self._lock:
            old = self._caches.get(name)
            cache = self._caches[name] = _Cache(stats)
            if old is not None:
                last = old.stats()
                cache.hits_before = old.hits_before + last.hits
                cache.misses_before = old.misses_before + last.misses

    def watch_log(self, queue: DroppedCounter) -> None:
        with self._lock:
            self._logs.append(queue)

    def watch_events(self, events: Callable[[], Mapping[str, int]]) -> None:
        with self._lock:
            self._events.append(events)

    def describe(self) -> Iterable[Metric]:
        return list(self._families({}, 0, {}))

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            seen = {name: (cache, cache.stats()) for name, cache in self._caches.items()}
            dropped = sum(log.dropped for log in self._logs)
            counts: dict[str, int] = {}
            for events in self._events:
                for name, count in events().items():
                    counts[name] = counts.get(name, 0) + count
        return list(self._families(seen, dropped, counts))

    def _families(self, seen: dict[str, tuple[_Cache, CacheCounters]],
                  dropped: int, counts: dict[str, int]) -> Iterator[Metric]:
        labels = ["service", "cache"]
        hits = CounterMetricFamily("spfkit_cache_hits", "Answers a cache gave.", labels=labels)
        misses = CounterMetricFamily("spfkit_cache_misses", "Questions a cache passed on "
                                     "(for the DNS cache: queries sent to nameservers).",
                                     labels=labels)
        entries = GaugeMetricFamily("spfkit_cache_entries", "Entries a cache holds now.",
                                    labels=labels)
        size = GaugeMetricFamily("spfkit_cache_bytes", "Estimated bytes a cache holds now.",
                                 labels=labels)
        for name, (cache, stats) in sorted(seen.items()):
            key = [self.service, name]
            hits.add_metric(key, cache.hits_before + stats.hits)
            misses.add_metric(key, cache.misses_before + stats.misses)
            entries.add_metric(key, stats.entries)
            size.add_metric(key, stats.bytes)
        lost = CounterMetricFamily("spfkit_log_records_dropped", "Log records dropped because "
                                   "the log sink did not keep up.", labels=["service"])
        lost.add_metric([self.service], dropped)
        yield from (hits, misses, entries, size, lost)
        if counts:
            events = CounterMetricFamily("spfkit_events", "What the service counts itself, by "
                                         "event (the milter's connections, reloads ...).",
                                         labels=["service", "event"])
            for name, count in sorted(counts.items()):
                events.add_metric([self.service, name], count)
            yield events


@dataclass(frozen=True, slots=True)
class MetricsServer:
    """The running endpoint: ``host`` and the ``port`` it got (port 0 picks one)."""

    host: str
    port: int
    _server: WSGIServer

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def serve(metrics: PrometheusMetrics, host: str, port: int) -> MetricsServer:
    """Serve ``metrics`` at ``http://host:port/metrics`` from a daemon thread (raises
    ``OSError`` when the address cannot be bound)."""
    server, _thread = start_http_server(port, addr=host, registry=metrics.registry)
    return MetricsServer(host, int(server.server_port), server)
