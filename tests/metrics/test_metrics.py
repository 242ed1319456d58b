"""The metrics API: the silent default, reply words, the counting resolver, the collector."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from spfkit import logsink
from spfkit.lookup import CachingResolver, MemoryResolver, RRType
from spfkit.metrics import NO_METRICS, reply_kind
from spfkit.metrics.prometheus import PrometheusMetrics


def samples(metrics: PrometheusMetrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = generate_latest(metrics.registry).decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.mark.parametrize(("action", "kind"), [
    ("DUNNO", "dunno"), ("PREPEND Received-SPF: pass (x)", "prepend"), ("OK", "ok"),
    ("550 5.7.23 SPF fail", "reject"), ("REJECT no", "reject"), ("451 4.7.24 later", "defer"),
    ("DEFER_IF_PERMIT try again", "defer"), ("FILTER smtp:x", "other"), ("", "other"),
])
def test_reply_kind_is_a_bounded_word(action: str, kind: str) -> None:
    assert reply_kind(action) == kind


def test_the_default_does_nothing_and_keeps_the_resolver() -> None:
    resolver = MemoryResolver({})
    assert NO_METRICS.resolver(resolver) is resolver
    NO_METRICS.request_finished(NO_METRICS.request_started(), "dunno")
    NO_METRICS.decided("accept", [("mailfrom", "pass")])


def test_lookups_counted_by_status_and_a_reloaded_cache_keeps_counting() -> None:
    metrics = PrometheusMetrics("test")
    zone = {"a.example": {"TXT": "v=spf1 -all"}}

    async def ask(resolver: object, *names: str) -> None:
        for name in names:
            await resolver.lookup(RRType.TXT, name)  # type: ignore[attr-defined]

    first = metrics.resolver(CachingResolver(MemoryResolver(zone)))
    asyncio.run(ask(first, "a.example", "a.example", "none.example"))
    second = metrics.resolver(CachingResolver(MemoryResolver(zone)))  # SIGHUP: a new cache
    asyncio.run(ask(second, "a.example"))
    got = samples(metrics)
    assert got[("spfkit_dns_lookups_total", frozenset({("service", "test"), ("rrtype", "TXT"),
                                                       ("status", "NOERROR")}))] == 3
    assert got[("spfkit_dns_lookups_total", frozenset({("service", "test"), ("rrtype", "TXT"),
                                                       ("status", "NXDOMAIN")}))] == 1
    dns = frozenset({("service", "test"), ("cache", "dns")})
    assert got[("spfkit_cache_hits_total", dns)] == 1
    assert got[("spfkit_cache_misses_total", dns)] == 3


def test_dropped_log_records_are_exported() -> None:
    """A sink that blocks: the queue (size 2) fills, the rest is dropped and counted."""
    release = threading.Event()

    class Stalled(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            release.wait(30)

    log = logging.getLogger("tests.metrics.stalled")
    log.propagate = False
    log.addHandler(Stalled())
    queued = logsink.start(log, maxsize=2)
    metrics = PrometheusMetrics("test")
    metrics.watch_log(queued)
    try:
        for number in range(20):
            log.warning("record %d", number)
        dropped = samples(metrics)[("spfkit_log_records_dropped_total",
                                    frozenset({("service", "test")}))]
        # one record is being written, two wait in the queue: the other 17 are dropped
        assert dropped == queued.dropped and 17 <= dropped <= 18
    finally:
        release.set()
        assert queued.stop()


def test_watched_events_are_read_at_each_scrape_and_summed() -> None:
    counts = {"connections": 0, "reloads": 0}
    other = {"reloads": 2}
    metrics = PrometheusMetrics("test")
    NO_METRICS.watch_events(lambda: counts)  # the default ignores it
    assert not [key for key in samples(metrics) if key[0] == "spfkit_events_total"]
    metrics.watch_events(lambda: counts)
    metrics.watch_events(lambda: other)
    counts["connections"] = 3
    counts["reloads"] = 1

    def event(name: str) -> float:
        return samples(metrics)[("spfkit_events_total",
                                 frozenset({("service", "test"), ("event", name)}))]

    assert event("connections") == 3 and event("reloads") == 3
    counts["connections"] += 1
    assert event("connections") == 4  # read again, never copied
