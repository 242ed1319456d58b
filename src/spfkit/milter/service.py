"""The milter's checks, on one asyncio loop with one shared DNS cache, each with a deadline.

:class:`MilterService` runs what a :class:`~spfkit.milter.session.Session` asks for: the SPF
checks of one transaction (``policy.service.run_checks``: HELO §2.3 and MAIL FROM §2.4, the
trusted-relay tests) and the Sender ID check of its PRA (RFC 4406 §4,
``senderid.check_pra``). Every check of every message goes through the same resolver, so the
HELO, MAIL FROM and PRA lookups of one message — and of all messages — share one TTL cache.
A check not done within ``deadline`` seconds gives the configured ``timeout_action``: it never
holds the MTA longer. Counters are kept in :class:`~spfkit.milter.counters.Counters`, each
message once, when it ends (:meth:`MilterService.finished`); its ``metrics`` also count the
DNS lookups (a layer around the resolver) and read the DNS cache.
"""

from __future__ import annotations

import asyncio
import logging
import socket

from spfkit.evaluate import CheckOptions
from spfkit.identity import IPAddress
from spfkit.lookup.protocol import Resolver
from spfkit.milter.config import MilterConfig
from spfkit.milter.counters import Counters
from spfkit.milter.senderid import Reply
from spfkit.milter.session import Session
from spfkit.policy.decide import Transaction
from spfkit.policy.decision import Decision, fallback
from spfkit.policy.service import run_checks
from spfkit.results import CheckResult, Result
from spfkit.senderid import PRAResult, check_pra, no_pra_result

__all__ = ["LOGGER", "MilterService"]

LOGGER = "spfkit.milter"


class MilterService:
    """Checks for every connection of one process (see the module doc)."""

    def __init__(self, config: MilterConfig, resolver: Resolver, *,
                 counters: Counters | None = None, logger: logging.Logger | None = None) -> None:
        self.log = logger or logging.getLogger(LOGGER)
        self.counters = counters or Counters()
        self.counters.dns = self._dns_counts
        self.metrics = self.counters.metrics
        self.metrics.watch_events(self.counters.events)
        self.config = config
        self._cache: Resolver = resolver
        self._dns_before = (0, 0)  # of the caches a reload replaced: counts go on
        self.resolver = self.metrics.resolver(resolver)
        self.reconfigure(config)

    def reconfigure(self, config: MilterConfig, resolver: Resolver | None = None) -> None:
        """Use ``config`` (and ``resolver``) for every message from now on."""
        self.config = config
        if resolver is not None:
            self._dns_before = self._dns_counts()
            self._cache = resolver
            self.resolver = self.metrics.resolver(resolver)
        policy = config.policy
        self.receiver = policy.receiver or socket.gethostname() or "localhost"
        self.options = CheckOptions(default_explanation=policy.default_explanation,
                                    max_void_lookups=policy.void_limit,
                                    time_budget=policy.lookup_time)

    def _dns_counts(self) -> tuple[int, int]:
        """(queries sent, cache hits) of the DNS cache, since start (reloads included)."""
        queries, hits = self._dns_before
        stats = getattr(self._cache, "stats", None)
        if stats is None:
            return (queries, hits)
        now = stats()
        return (queries + now.misses, hits + now.hits)

    def started(self) -> float:
        """MAIL FROM: a message begins; the token for :meth:`finished`."""
        return self.counters.message_started()

    def finished(self, token: float, session: Session, ended: str,
                 refused: Reply | None = None) -> None:
        """The message of ``session`` begun at ``token`` ended (``accept``, ``reject``,
        ``defer``, ``aborted``; ``refused`` the reply it got): counted, its results too."""
        self.counters.message_finished(token, ended, session.outcome(refused).value,
                                       session.results())

    async def spf(self, txn: Transaction) -> Decision:
        """HELO and MAIL FROM of one transaction under the policy; never raises but cancelled."""
        policy = self.config.policy
        try:
            async with asyncio.timeout(policy.deadline):
                await run_checks(txn, self.resolver, self.options,
                                 trace=self.log.isEnabledFor(logging.DEBUG))
            decision = txn.decide()
        except TimeoutError:
            self.counters.event("timeouts")
            return fallback(txn.envelope, policy, f"no SPF verdict within the deadline of "
                            f"{policy.deadline:g} s", timeout=True)
        except Exception as exc:
            self.log.exception("internal error while checking client=%s", txn.envelope.client_ip)
            self.counters.event("errors")
            return fallback(txn.envelope, policy, f"internal error ({type(exc).__name__})",
                            timeout=False)
        return decision

    async def pra(self, client_ip: IPAddress, pra: PRAResult, helo: str) -> CheckResult:
        """RFC 4406 §4: the ``pra``-scope check of ``pra`` (no PRA: permerror, no DNS).

        Past the deadline the result is ``temperror`` with the reason as its problem.
        """
        deadline = self.config.policy.deadline
        try:
            if pra.address is None:
                result = no_pra_result(pra)
            else:
                async with asyncio.timeout(deadline):
                    result = await check_pra(client_ip, pra, helo, resolver=self.resolver,
                                             receiver=self.receiver, options=self.options)
        except TimeoutError:
            self.counters.event("timeouts")
            result = CheckResult(Result.TEMPERROR, domain=pra.domain or "",
                                 problem=f"no Sender ID verdict within the deadline of {deadline:g} s")
        return result
