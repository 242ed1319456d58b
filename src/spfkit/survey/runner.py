"""The asyncio survey loop: many domains in flight, each probed once, results handed on as they come.

:func:`survey` pulls domains from any iterator (so the input streams: at most
``concurrency`` names are held), runs :func:`probe_domain` on ``concurrency`` worker tasks
over one shared resolver, and gives every result to ``sink`` the moment it is known. When
the run is cancelled (Ctrl-C), the domains in flight are dropped, never half-written: they
are simply not in the output, and ``--resume`` surveys them again.

:class:`ResolverConfig` builds the resolver stack every process uses (the single-machine
run and each Dask worker): ``CachingResolver(PacedResolver(PooledDnsResolver))`` — one TTL cache
(providers' records are fetched once, not once per customer), a rate and in-flight cap
toward the nameservers, and retries.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from spfkit.lookup.cache import CachingResolver
from spfkit.lookup.nameserver import Nameserver
from spfkit.lookup.protocol import LookupStatus, Resolver
from spfkit.survey.pacing import PacedResolver
from spfkit.survey.probe import probe_domain
from spfkit.survey.result import DomainResult, SpfStatus
from spfkit.survey.transport import PooledDnsResolver

__all__ = ["LagGovernor", "ResolverConfig", "RunStats", "run_survey", "survey", "survey_list"]


@dataclass(frozen=True, slots=True)
class ResolverConfig:
    """How to reach DNS; picklable, so a Dask worker can build its own resolver from it."""

    nameservers: tuple[str, ...] = ()  # "host[:port]"; empty: the system's (/etc/resolv.conf)
    timeout: float = 2.0  # seconds per query attempt
    retries: int = 1
    qps: float | None = None  # queries a second toward the nameservers, None: no cap
    concurrency: int = 200  # domains in flight
    deep: bool = False  # the whole tree and every lint rule (probe_domain's ``deep``)

    def build(self) -> tuple[Resolver, PacedResolver]:
        """The resolver stack (must be called inside the loop that will use it)."""
        servers = [Nameserver.parse(ns) for ns in self.nameservers] if self.nameservers else None
        stub = PooledDnsResolver(servers, timeout=self.timeout,
                                 ports=max(4, min(64, self.concurrency // 8)))
        paced = PacedResolver(stub, qps=self.qps, in_flight=self.concurrency * 2,
                              retries=self.retries)
        return CachingResolver(paced), paced


@dataclass(slots=True)
class RunStats:
    """Counts of one run, updated as results come (the progress bar reads them)."""

    done: int = 0
    spf: int = 0  # domains with one valid record
    dns_errors: int = 0  # TXT lookup of the domain failed (timeouts included)
    timeouts: int = 0
    failures: int = 0  # the probe itself failed (a bug, or the resolver died): result marked
    queries: int = 0
    retried: int = 0
    throttled: int = 0  # times a worker waited for the loop to catch up (LagGovernor)
    started: float = field(default_factory=time.monotonic)
    cpu_started: float = field(default_factory=time.process_time)
    interrupted: bool = False

    def count(self, result: DomainResult) -> None:
        self.done += 1
        self.spf += result.spf == SpfStatus.RECORD
        if result.spf == SpfStatus.DNS_ERROR:
            self.dns_errors += 1
            self.timeouts += result.dns == LookupStatus.TIMEOUT
        self.failures += (result.spf_error or "").startswith("probe failed")

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        return {"done": self.done, "dns_errors": self.dns_errors, "timeouts": self.timeouts,
                "probe_failures": self.failures, "queries": self.queries, "retried": self.retried,
                "throttled": self.throttled,
                "seconds": round(time.monotonic() - self.started, 3),
                "cpu_seconds": round(time.process_time() - self.cpu_started, 3),
                "interrupted": self.interrupted}


async def _safe_probe(domain: str, resolver: Resolver, deep: bool) -> DomainResult:
    try:
        return await probe_domain(domain, resolver, deep=deep)
    except (asyncio.CancelledError, KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - one domain's trouble must not end the survey
        return DomainResult(domain=domain, dns=LookupStatus.SERVFAIL.value,
                            spf=SpfStatus.DNS_ERROR.value,
                            spf_error=f"probe failed: {type(exc).__name__}: {exc}"[:300])


class LagGovernor:
    """Admission by event-loop lag: a new domain starts only while the loop keeps up.

    A survey is CPU-bound (evaluation) as much as it is DNS-bound. With too many domains in
    flight, one turn of the loop runs every domain whose answer came in, a reply waits behind
    all that work before it is read, and a query answered in time is counted as a TIMEOUT —
    the classic survey error of timeouts read as absent records. So while the loop's lag
    (how late a ``period`` sleep wakes up) exceeds ``max_lag`` seconds, workers beyond
    ``floor`` in flight wait (on an event, not by polling) until it drops.
    """

    def __init__(self, max_lag: float = 0.02, period: float = 0.01, floor: int = 4) -> None:
        self.max_lag = max_lag
        self.period = period
        self.floor = floor
        self.lag = 0.0
        self.in_flight = 0
        self.waits = 0
        self._open = asyncio.Event()
        self._open.set()

    async def watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(self.period)
            self.lag = max(0.0, loop.time() - start - self.period)
            if self.lag > self.max_lag:
                self._open.clear()
            else:
                self._open.set()

    async def admit(self) -> None:
        while self.in_flight >= self.floor and not self._open.is_set():
            self.waits += 1
            await self._open.wait()


async def survey(domains: Iterable[str], resolver: Resolver, sink: Callable[[DomainResult], None],
                 *, concurrency: int = 200, deep: bool = False, stats: RunStats | None = None) -> RunStats:
    """Probe every domain of ``domains`` through ``resolver``; ``sink`` gets each result once."""
    stats = stats if stats is not None else RunStats()
    source: Iterator[str] = iter(domains)

    governor = LagGovernor()

    async def worker() -> None:
        while True:
            await governor.admit()
            domain = next(source, None)  # one shared iterator: each name is taken by one worker
            if domain is None:
                return
            governor.in_flight += 1
            try:
                result = await _safe_probe(domain, resolver, deep)
            finally:
                governor.in_flight -= 1
            stats.count(result)
            sink(result)

    watcher = asyncio.create_task(governor.watch())
    tasks = [asyncio.create_task(worker()) for _ in range(max(1, concurrency))]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        stats.interrupted = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    finally:
        watcher.cancel()
        stats.throttled = governor.waits
    return stats


async def run_survey(domains: Iterable[str], config: ResolverConfig,
                     sink: Callable[[DomainResult], None], stats: RunStats | None = None) -> RunStats:
    """:func:`survey` over a resolver built from ``config`` in the running loop."""
    resolver, paced = config.build()
    stats = stats if stats is not None else RunStats()
    try:
        return await survey(domains, resolver, sink, concurrency=config.concurrency, deep=config.deep,
                            stats=stats)
    finally:
        stats.queries, stats.retried = paced.sent, paced.retried


def survey_list(domains: list[str], config: ResolverConfig) -> list[dict[str, object]]:
    """Survey ``domains`` in a new event loop; the rows (what a Dask task returns)."""
    rows: list[dict[str, object]] = []
    asyncio.run(run_survey(domains, config, lambda r: rows.append(r.row())))
    return rows
