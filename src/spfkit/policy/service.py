"""The policy service: one :class:`PolicyService` answers every request of every connection.

It speaks for decide.py's transport-neutral :class:`~spfkit.policy.decide.Transaction` in
Postfix's policy protocol (SMTPD_POLICY_README), and adds everything that waits:

* **Checks** (:func:`run_checks`, in checks.py; a milter drives it too): what the transaction asks for,
  through :func:`spfkit.evaluate.check` with one shared resolver (a ``CachingResolver``: one TTL
  cache for all connections). The trusted-relay tests, HELO (§2.3) and MAIL FROM (§2.4) run at
  the same time; a trusted relay, or a HELO result that decides, cancels the rest. A warm
  request (compiled policies, a decided transaction) is answered in place by :meth:`answer_now`,
  without a task or a timer; the others go on to :meth:`answer_later`, which waits.
* **Transactions.** Requests with the same ``instance`` (and client, HELO and sender) share one
  decision: the first request decides, later and concurrent ones wait for that decision. At
  most 10,000 transactions are kept, each for an hour.
* **Headers** (:func:`reply_for`). Postfix's ``PREPEND`` action does not accept anything: Postfix
  notes the header and goes on with its next restriction, as for ``DUNNO`` (smtpd_check.c
  returns SMTPD_CHECK_DUNNO). Postfix adds every PREPEND of a transaction to the message and
  forgets them only at the next MAIL FROM — even those of a recipient that a later restriction
  rejects. So for each transaction **only the first request of a protocol stage gets a
  header**, later ones ``DUNNO``: a mail to three recipients gets one header, not three. One
  reply holds one action, so one header: with both header types, the first request (normally
  at RCPT) carries ``Received-SPF`` and the second stage's first request
  (``check_policy_service`` also listed in ``smtpd_data_restrictions``) carries
  ``Authentication-Results``. Rejects and defers are the same for every request of the
  transaction, at any stage.
* **The deadline.** A decision not reached within ``deadline`` seconds gives the
  ``timeout_action``; an exception gives the ``error_action``, and so does a malformed request.
  :meth:`handle` never raises (but for cancellation), so a connection always gets its answer.
* **Logging.** One line per decision on the ``spfkit.policyd`` logger (warning for fallbacks
  and malformed requests, info otherwise); at debug level also each check's trace.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from _blake2 import blake2b  # hashlib's BLAKE2 without OpenSSL: spawned start-ups
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from typing import Final

from spfkit.evaluate import CheckOptions
from spfkit.evaluate.budget import LARGE_RECORD
from spfkit.headers import quote_value
from spfkit.identity import Identity
from spfkit.lookup.protocol import Resolver
from spfkit.metrics import NO_METRICS, ServiceMetrics, reply_kind
from spfkit.policy.checks import run_checks, run_checks_now
from spfkit.policy.config import ConfigError, Fallback, PolicyConfig
from spfkit.policy.decide import Transaction
from spfkit.policy.decision import DUNNO, Checks, Decision, Outcome, fallback
from spfkit.policy.protocol import PolicyReply, PolicyRequest, ProtocolError
from spfkit.record.parse import RECORD_CACHE, estimated_size
from spfkit.results import CheckResult

__all__ = [
    "CHECK_STATES",
    "PREPEND_STATES",
    "Explanation",
    "PolicyService",
    "make_resolver",
    "malformed",
    "reply_for",
    "run_checks",
    "trace_lines",
]

#: Protocol states with a sender to check. Others (CONNECT, EHLO, HELO, VRFY, ETRN) get DUNNO.
CHECK_STATES: Final = frozenset({"MAIL", "RCPT", "DATA", "END-OF-MESSAGE"})
#: access(5): PREPEND works from MAIL FROM until DATA; never at CONNECT/HELO, nor after the data.
PREPEND_STATES: Final = frozenset({"MAIL", "RCPT", "DATA"})
MAX_TRANSACTIONS: Final = 10_000
TRANSACTION_TTL: Final = 3600.0
_DUNNO: Final = PolicyReply(DUNNO)

_Key = bytes


def make_resolver(config: PolicyConfig) -> Resolver:
    """The resolver ``config`` asks for: zone files, or DNS behind one shared TTL cache.

    Raises :class:`ConfigError` for a zone file that cannot be loaded or a bad nameserver.
    """
    from spfkit.errors import SpfkitError
    from spfkit.lookup import make_resolver as build

    try:
        # RFC 9520 §3.2: remembering a failure for a few seconds spares a struggling server.
        return build(zones=config.zones, nameservers=config.nameservers,
                     timeout=config.dns_timeout, cache_size=config.cache_size,
                     cache_bytes=config.cache_bytes, error_ttl=5.0)
    except ValueError as exc:
        raise ConfigError(str(exc), "nameservers", config.source) from None
    except SpfkitError as exc:  # lookup.zonefile.ZoneFileError (not imported without zones)
        raise ConfigError(str(exc), "zones", config.source) from None


def reply_for(decision: Decision, state: str, header_states: Collection[str]) -> tuple[PolicyReply, bool]:
    """The reply to one request of a decided transaction, and whether it carries a header.

    ``header_states`` are the protocol states whose requests already got one, in order; the
    next header goes to the first request of a new PREPEND-capable state (module doc).
    """
    if decision.action != DUNNO:
        return PolicyReply(decision.action), False
    given = len(header_states)
    if given < len(decision.headers) and state in PREPEND_STATES and state not in header_states:
        return PolicyReply(f"PREPEND {decision.headers[given]}"), True
    return _DUNNO, False


def malformed(error: ProtocolError, config: PolicyConfig) -> Decision:
    """A request that could not be used (protocol.py): the error action, logged."""
    action = DUNNO if config.error_action is Fallback.DUNNO else \
        "451 4.3.0 malformed SPF policy request; try again later"
    client = quote_value(error.attributes.get("client_address", ""))
    instance = quote_value(error.attributes.get("instance", ""))
    line = (f"malformed policy request: {quote_value(error.reason)}; client={client} "
            f"instance={instance}; action={action}")
    return Decision(Outcome.FALLBACK, action, why=error.reason, log_line=line)


@dataclass(slots=True)
class _Pending:
    """One remembered transaction: its decision once reached (``reached`` is set for the
    requests that arrive while a check waits) and the headers handed out."""

    expires: float
    decided: Decision | None = None
    reached: asyncio.Future[Decision] | None = None
    header_states: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Explanation:
    """What ``spfkit policyd --explain`` shows: the request, what was found, the answer."""

    item: PolicyRequest | ProtocolError
    decision: Decision
    reply: PolicyReply
    checks: Checks | None = None
    note: str = ""


class PolicyService:
    """Decides every request; shared by all connections of one process (see the module doc).

    ``receiver`` defaults to the configured ``Receiver`` or this host's name; ``clock`` is
    injectable for tests of expiry.
    """

    def __init__(
        self,
        config: PolicyConfig,
        resolver: Resolver,
        *,
        logger: logging.Logger | None = None,
        clock: Callable[[], float] = time.monotonic,
        metrics: ServiceMetrics = NO_METRICS,
    ) -> None:
        self.log = logger or logging.getLogger("spfkit.policyd")
        self.metrics = metrics  # docs/metrics.md
        self._clock = clock
        self._transactions: OrderedDict[_Key, _Pending] = OrderedDict()
        self.config = config
        self.resolver = resolver
        self.reconfigure(config, resolver)

    def reconfigure(self, config: PolicyConfig, resolver: Resolver | None = None) -> None:
        """Use ``config`` (and ``resolver``, if given) for every request from now on."""
        self.config = config
        if resolver is not None:
            self.resolver = self.metrics.resolver(resolver)
        self.receiver = config.receiver or socket.gethostname() or "localhost"
        self._options = CheckOptions(
            default_explanation=config.default_explanation,
            max_void_lookups=config.void_limit,
            time_budget=config.lookup_time,
            fetch_order=config.fetch_order,
        )
        # the parser's cache is the process's: this server decides its bound
        RECORD_CACHE.resize(config.record_cache_bytes,
                            max_entry_bytes=estimated_size(LARGE_RECORD))

    # -- requests ----------------------------------------------------------------------------

    async def handle(self, item: PolicyRequest | ProtocolError) -> PolicyReply:
        """The answer to one request or malformed request. Never raises but when cancelled."""
        return self.answer_now(item) or await self.answer_later(item)

    def answer_now(self, item: PolicyRequest | ProtocolError) -> PolicyReply | None:
        """:meth:`handle`'s answer when it needs no waiting (a malformed or unchecked request, a
        decided transaction, compiled answers), else None: ``await answer_later(item)``."""
        started = self.metrics.request_started()
        reply = self._now(item)
        if reply is None:
            self.metrics.request_handed_on(started)
        else:
            self.metrics.request_finished(started, reply_kind(reply.action))
        return reply

    async def answer_later(self, item: PolicyRequest | ProtocolError) -> PolicyReply:
        """:meth:`handle`'s answer on the path that waits (DNS, the evaluator, a transaction
        being decided). Never raises but when cancelled."""
        started, outcome = self.metrics.request_started(), "cancelled"
        try:
            reply = await self._handle(item)
            outcome = reply_kind(reply.action)
            return reply
        finally:
            self.metrics.request_finished(started, outcome)

    def _now(self, item: PolicyRequest | ProtocolError) -> PolicyReply | None:
        try:
            if isinstance(item, ProtocolError) or item.protocol_state not in CHECK_STATES:
                return self._unchecked(item)
            if self.log.isEnabledFor(logging.DEBUG):
                return None  # the trace is logged: the evaluator answers (answer_later)
            key = self._key(item)
            pending = self._find(key) if key else None
            if pending is None:
                txn = Transaction(item, self.config, receiver=self.receiver)
                if not run_checks_now(txn, self.resolver, self._options):
                    return None
                decision = txn.decide()
                self._log(decision, txn.checks)
                pending = _Pending(self._clock() + TRANSACTION_TTL, _for_later(decision))
                if key:
                    self._remember(key, pending)
            elif (decided := pending.decided) is None:
                return None  # being decided by a request that waits
            else:
                decision = decided
                self._decided_already(item, decision)
            return self._reply(decision, item.protocol_state, pending)
        except Exception:  # a bug must cost one answer, never the connection
            return self._internal_error(item)

    async def _handle(self, item: PolicyRequest | ProtocolError) -> PolicyReply:
        try:
            if isinstance(item, ProtocolError) or item.protocol_state not in CHECK_STATES:
                return self._unchecked(item)
            return await self._answer(item, item.protocol_state)
        except Exception:  # a bug must cost one answer, never the connection
            return self._internal_error(item)

    def _unchecked(self, item: PolicyRequest | ProtocolError) -> PolicyReply:
        """A malformed request (the error action), or one at a state that is not checked."""
        if isinstance(item, ProtocolError):
            decision = malformed(item, self.config)
            self.log.warning(decision.log_line)
            self.metrics.decided(decision.outcome.value)  # "fallback" (docs/metrics.md)
            return PolicyReply(decision.action)
        self.log.debug("not checked at protocol state %s: client=%s; action=DUNNO",
                       quote_value(item.protocol_state), item.client_address)
        return _DUNNO

    def _internal_error(self, item: PolicyRequest | ProtocolError) -> PolicyReply:
        self.log.exception("internal error while answering a policy request")
        if isinstance(item, PolicyRequest):
            return PolicyReply(fallback(item, self.config, "internal error", timeout=False).action)
        return _DUNNO

    async def explain(self, item: PolicyRequest | ProtocolError) -> Explanation:
        """Decide ``item`` as :meth:`handle` would, without remembering its transaction."""
        if isinstance(item, ProtocolError):
            decision = malformed(item, self.config)
            return Explanation(item, decision, PolicyReply(decision.action))
        if item.protocol_state not in CHECK_STATES:
            note = f"protocol state {quote_value(item.protocol_state)} is not checked"
            return Explanation(item, Decision(Outcome.SKIP, why=note), _DUNNO, note=note)
        decision, checks = await self._decide(item)
        reply, _ = reply_for(decision, item.protocol_state, ())
        return Explanation(item, decision, reply, checks)

    async def _answer(self, request: PolicyRequest, state: str) -> PolicyReply:
        key = self._key(request)
        pending = self._find(key) if key else None
        if pending is None:
            reached = asyncio.get_running_loop().create_future()
            pending = _Pending(self._clock() + TRANSACTION_TTL, reached=reached)
            if key:
                self._remember(key, pending)
            try:
                decision, checks = await self._decide(request)
            except BaseException:  # cancelled (connection gone, shutdown): nobody may wait forever
                if key:
                    self._transactions.pop(key, None)
                reached.set_result(fallback(request, self.config, "cancelled", timeout=False))
                raise
            self._log(decision, checks)
            # remembered for the transaction's later requests without what was only for the
            # log (the evaluation trace: thousands of events for a hostile record; the log
            # line), times 10,000 transactions
            pending.decided = _for_later(decision)
            reached.set_result(pending.decided)
        elif (decided := pending.decided) is not None:
            decision = decided
            self._decided_already(request, decision)
        else:
            assert pending.reached is not None
            try:
                async with asyncio.timeout(self.config.deadline):
                    decision = await asyncio.shield(pending.reached)
            except TimeoutError:
                decision = fallback(request, self.config, "waiting for the transaction's "
                                    "decision took too long", timeout=True)
            self._decided_already(request, decision)
        return self._reply(decision, state, pending)

    def _decided_already(self, request: PolicyRequest, decision: Decision) -> None:
        if self.log.isEnabledFor(logging.DEBUG):
            self.log.debug("instance %s: decided already (%s)", quote_value(request.instance),
                           decision.outcome.value)

    @staticmethod
    def _reply(decision: Decision, state: str, pending: _Pending) -> PolicyReply:
        reply, gave_header = reply_for(decision, state, pending.header_states)
        if gave_header:
            pending.header_states.append(state)
        return reply

    async def _decide(self, request: PolicyRequest) -> tuple[Decision, Checks | None]:
        config = self.config
        txn = Transaction(request, config, receiver=self.receiver)
        try:
            async with asyncio.timeout(config.deadline):
                await run_checks(txn, self.resolver, self._options,
                                 trace=self.log.isEnabledFor(logging.DEBUG))
            return txn.decide(), txn.checks
        except TimeoutError:
            reason = f"no verdict within the deadline of {config.deadline:g} s"
            return fallback(request, config, reason, timeout=True), None
        except Exception as exc:
            self.log.exception("internal error while checking client=%s", request.client_address)
            reason = f"internal error ({type(exc).__name__})"
            return fallback(request, config, reason, timeout=False), None

    # -- transactions ------------------------------------------------------------------------

    @staticmethod
    def _key(request: PolicyRequest) -> _Key | None:
        """Postfix's ``instance`` names one mail transaction; client, HELO and sender guard it."""
        instance = request.instance
        if not instance:
            return None
        # a digest, not the values: a client chooses HELO names and senders of kilobytes, and
        # 10,000 transactions are remembered
        text = "\0".join((instance, request.get("client_address"), request.helo_name.lower(),
                           request.sender.lower()))
        return blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).digest()

    def _find(self, key: _Key) -> _Pending | None:
        pending = self._transactions.get(key)
        if pending is None:
            return None
        if pending.expires <= self._clock():
            del self._transactions[key]
            return None
        self._transactions.move_to_end(key)
        return pending

    def _remember(self, key: _Key, pending: _Pending) -> None:
        self._transactions[key] = pending
        now = self._clock()
        while self._transactions:
            oldest_key, oldest = next(iter(self._transactions.items()))
            if len(self._transactions) <= MAX_TRANSACTIONS and oldest.expires > now:
                break
            del self._transactions[oldest_key]

    @property
    def transactions(self) -> int:
        """How many transactions are remembered now (for tests and statistics)."""
        return len(self._transactions)

    # -- logging -----------------------------------------------------------------------------

    def _log(self, decision: Decision, checks: Checks | None) -> None:
        level = logging.WARNING if decision.outcome is Outcome.FALLBACK else logging.INFO
        log = self.log
        if log.isEnabledFor(level):  # the record made here: Logger.log would also look up the
            # caller's frame, which no sink shows (one line per decision: the hot path)
            log.handle(log.makeRecord(log.name, level, "", 0, decision.log_line, (), None))
        self.metrics.decided(decision.outcome.value, () if checks is None else (
            (identity.value, result.result.value) for identity, result in
            ((Identity.HELO, checks.helo), (Identity.MAILFROM, checks.mailfrom)) if result))
        if checks is None or not self.log.isEnabledFor(logging.DEBUG):
            return
        seen: set[int] = set()
        for identity, result in ((Identity.HELO, checks.helo), (Identity.MAILFROM, checks.mailfrom)):
            if result is None or id(result) in seen:
                continue
            seen.add(id(result))
            for line in trace_lines(result):
                self.log.debug("trace %s: %s", identity.value, line)


def _for_later(decision: Decision) -> Decision:
    result = decision.result
    if result is not None and result.trace:
        result = replace(result, trace=())
    d = decision  # built field by field: dataclasses.replace() looks the fields up each time
    return Decision(d.outcome, d.action, d.headers, d.identity, result, d.why, "", d.would)


def trace_lines(result: CheckResult) -> list[str]:
    """One line per evaluation step, indented by include/redirect depth; values sanitised."""
    # debug logging only: the renderers stay off the spawn path
    from spfkit.view.trace import trace_nodes, walk

    lines = []
    for step in walk(trace_nodes(result.trace)):
        text = " ".join(quote_value(part) for part in (step.domain, step.text) if part)
        detail = f" -> {quote_value(step.detail)}" if step.detail else ""
        lines.append(f"{'  ' * step.depth}{step.kind.value} {text}{detail}")
    return lines
