"""The policy service: one :class:`PolicyService` answers every request of every connection.

What it adds to the pure parts (protocol.py, decide.py) is everything that waits:

* **Skips** before any DNS: a client in ``skip_addresses`` (this host) or ``Whitelist``
  (trusted relays), or one that authenticated with SMTP AUTH (``sasl_username``). Then, in
  parallel with the checks: a HELO name in ``HELO_Whitelist`` whose A/AAAA records hold the
  client address, or a ``Domain_Whitelist`` domain whose SPF record passes the client.
* **Checks** through :func:`spfkit.evaluate.check` with one shared resolver (a
  ``CachingResolver``: one TTL cache for all connections). HELO (§2.3, only when the HELO name
  is a domain) and MAIL FROM (§2.4) run at the same time; a HELO result that decides cancels
  MAIL FROM. For the null sender the HELO check is the MAIL FROM check and runs once.
* **Transactions.** Requests with the same ``instance`` (and client, HELO and sender) share one
  decision: the first request decides, later and concurrent ones wait for that decision and
  get :func:`~spfkit.policy.decide.reply_for`'s answer. At most 10,000 transactions are kept,
  each for an hour.
* **The deadline.** A decision not reached within ``deadline`` seconds gives the
  ``timeout_action``; an exception gives the ``error_action``. :meth:`handle` never raises
  (but for cancellation), so a connection always gets its answer.
* **Logging.** One line per decision on the ``spfkit.policyd`` logger (warning for fallbacks
  and malformed requests, info otherwise); at debug level also each check's trace.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any, Final

from spfkit.evaluate import CheckOptions, check, check_host
from spfkit.headers import quote_value
from spfkit.identity import Identity, is_valid_domain, sender_with_local_part
from spfkit.lookup.protocol import Resolver
from spfkit.policy.config import ConfigError, PolicyConfig, Verdict
from spfkit.policy.decide import (
    DUNNO,
    Checks,
    Decision,
    Outcome,
    decide,
    fallback,
    helo_verdict,
    malformed,
    reply_for,
)
from spfkit.policy.protocol import PolicyReply, PolicyRequest, ProtocolError
from spfkit.results import CheckResult, Result

__all__ = ["CHECK_STATES", "Explanation", "PolicyService", "make_resolver"]

#: Protocol states with a sender to check. Others (CONNECT, EHLO, HELO, VRFY, ETRN) get DUNNO.
CHECK_STATES: Final = frozenset({"MAIL", "RCPT", "DATA", "END-OF-MESSAGE"})
MAX_TRANSACTIONS: Final = 10_000
TRANSACTION_TTL: Final = 3600.0
_DUNNO: Final = PolicyReply(DUNNO)

_Key = tuple[str, str, str, str]
IPAddress = IPv4Address | IPv6Address


def make_resolver(config: PolicyConfig) -> Resolver:
    """The resolver ``config`` asks for: zone files, or DNS behind one shared TTL cache.

    Raises :class:`ConfigError` for a zone file that cannot be loaded or a bad nameserver.
    """
    from spfkit.lookup import ZoneFileError
    from spfkit.lookup import make_resolver as build

    try:
        # RFC 9520 §3.2: remembering a failure for a few seconds spares a struggling server.
        return build(zones=config.zones, nameservers=config.nameservers,
                     timeout=config.dns_timeout, cache_size=config.cache_size, error_ttl=5.0)
    except ZoneFileError as exc:
        raise ConfigError(str(exc), "zones", config.source) from None
    except ValueError as exc:
        raise ConfigError(str(exc), "nameservers", config.source) from None


@dataclass(slots=True)
class _Transaction:
    decision: asyncio.Future[Decision]
    expires: float
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
    ) -> None:
        self.log = logger or logging.getLogger("spfkit.policyd")
        self._clock = clock
        self._transactions: OrderedDict[_Key, _Transaction] = OrderedDict()
        self.config = config
        self.resolver = resolver
        self.reconfigure(config, resolver)

    def reconfigure(self, config: PolicyConfig, resolver: Resolver | None = None) -> None:
        """Use ``config`` (and ``resolver``, if given) for every request from now on."""
        self.config = config
        if resolver is not None:
            self.resolver = resolver
        self.receiver = config.receiver or socket.gethostname() or "localhost"
        self._options = CheckOptions(
            default_explanation=config.default_explanation,
            max_void_lookups=config.void_limit,
            time_budget=config.lookup_time,
        )

    # -- requests ----------------------------------------------------------------------------

    async def handle(self, item: PolicyRequest | ProtocolError) -> PolicyReply:
        """The answer to one request or malformed request. Never raises but when cancelled."""
        try:
            if isinstance(item, ProtocolError):
                decision = malformed(item, self.config)
                self.log.warning(decision.log_line)
                return PolicyReply(decision.action)
            if item.protocol_state not in CHECK_STATES:
                self.log.debug("not checked at protocol state %s: client=%s; action=DUNNO",
                               quote_value(item.protocol_state), item.client_address)
                return _DUNNO
            return await self._answer(item)
        except Exception:  # a bug must cost one answer, never the connection
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

    async def _answer(self, request: PolicyRequest) -> PolicyReply:
        key = self._key(request)
        txn = self._find(key) if key else None
        if txn is None:
            txn = _Transaction(asyncio.get_running_loop().create_future(),
                               self._clock() + TRANSACTION_TTL)
            if key:
                self._remember(key, txn)
            try:
                decision, checks = await self._decide(request)
            except BaseException:  # cancelled (connection gone, shutdown): nobody may wait forever
                if key:
                    self._transactions.pop(key, None)
                txn.decision.set_result(fallback(request, self.config, "cancelled", timeout=False))
                raise
            txn.decision.set_result(decision)
            self._log(decision, checks)
        else:
            try:
                async with asyncio.timeout(self.config.deadline):
                    decision = await asyncio.shield(txn.decision)
            except TimeoutError:
                decision = fallback(request, self.config, "waiting for the transaction's "
                                    "decision took too long", timeout=True)
            self.log.debug("instance %s: decided already (%s)", quote_value(request.instance),
                           decision.outcome.value)
        reply, gave_header = reply_for(decision, request.protocol_state, txn.header_states)
        if gave_header:
            txn.header_states.append(request.protocol_state)
        return reply

    async def _decide(self, request: PolicyRequest) -> tuple[Decision, Checks | None]:
        config = self.config
        try:
            async with asyncio.timeout(config.deadline):
                checks = await self._checks(request, config)
            return decide(request, checks, config, receiver=self.receiver), checks
        except TimeoutError:
            reason = f"no verdict within the deadline of {config.deadline:g} s"
            return fallback(request, config, reason, timeout=True), None
        except Exception as exc:
            self.log.exception("internal error while checking client=%s", request.client_address)
            reason = f"internal error ({type(exc).__name__})"
            return fallback(request, config, reason, timeout=False), None

    # -- checks ------------------------------------------------------------------------------

    async def _checks(self, request: PolicyRequest, config: PolicyConfig) -> Checks:
        client = request.client_ip  # normalised when the request was built (§5)
        reason = self._static_skip(request, client, config)
        if reason is not None:
            return Checks(skip=reason)
        helo, sender = request.helo_name, request.sender
        tasks: list[asyncio.Task[Any]] = []

        def start(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
            tasks.append(asyncio.ensure_future(coro))
            return tasks[-1]

        trusted = start(self._trusted(request, client, config)) \
            if config.helo_whitelist or config.domain_whitelist else None
        helo_task = start(self._check(client, sender, helo, Identity.HELO)) \
            if config.check_helo and _is_domain(helo) else None
        mail_task = None
        if config.check_mailfrom and (sender or helo_task is None):
            mail_task = start(self._check(client, sender, helo, Identity.MAILFROM))
        try:
            if trusted is not None and (reason := await trusted) is not None:
                return Checks(skip=reason)
            helo_result = await helo_task if helo_task is not None else None
            if helo_result is not None and \
                    helo_verdict(request, helo_result, config) is not Verdict.ACCEPT:
                return Checks(helo=helo_result)  # §2.3: HELO decides; MAIL FROM is not needed
            if mail_task is not None:
                mail_result = await mail_task
            else:  # §2.4: the null sender's MAIL FROM identity is postmaster@<HELO>
                mail_result = helo_result if config.check_mailfrom else None
            return Checks(helo=helo_result, mailfrom=mail_result)
        finally:
            for task in tasks:
                task.cancel()

    async def _check(self, client: IPAddress, sender: str, helo: str, identity: Identity) -> CheckResult:
        return await check(client, sender, helo, resolver=self.resolver, identity=identity,
                           receiver=self.receiver, options=self._options)

    def _static_skip(self, request: PolicyRequest, client: IPAddress, config: PolicyConfig) -> str | None:
        for network in config.skip_addresses:
            if client in network:
                return f"client {client} is in skip_addresses ({network})"
        if config.skip_sasl and request.sasl_username:
            return f"client authenticated with SMTP AUTH as {quote_value(request.sasl_username)}"
        for network in config.whitelist:
            if client in network:
                return f"client {client} is a trusted relay (Whitelist {network})"
        return None

    async def _trusted(self, request: PolicyRequest, client: IPAddress, config: PolicyConfig) -> str | None:
        """HELO_Whitelist (the name's A/AAAA hold the client) or Domain_Whitelist (SPF pass)."""
        helo = request.helo_name.lower().rstrip(".")
        checks: list[Coroutine[Any, Any, str | None]] = []
        if helo in config.helo_whitelist:
            checks.append(self._helo_resolves_to(helo, client))
        checks.extend(self._domain_passes(domain, client, request.helo_name)
                      for domain in config.domain_whitelist)
        for reason in await asyncio.gather(*checks):
            if reason is not None:
                return reason
        return None

    async def _helo_resolves_to(self, helo: str, client: IPAddress) -> str | None:
        lookup = await (self.resolver.a(helo) if client.version == 4 else self.resolver.aaaa(helo))
        if any(ip_address(record) == client for record in lookup.records):
            return f"HELO name {quote_value(helo)} is a trusted relay resolving to {client} " \
                   "(HELO_Whitelist)"
        return None

    async def _domain_passes(self, domain: str, client: IPAddress, helo: str) -> str | None:
        result = await check_host(client, domain, sender_with_local_part("", domain), resolver=self.resolver,
                                  helo=helo, receiver=self.receiver, options=self._options)
        if result.result is Result.PASS:
            return f"client passes SPF for trusted domain {domain} (Domain_Whitelist)"
        return None

    # -- transactions ------------------------------------------------------------------------

    @staticmethod
    def _key(request: PolicyRequest) -> _Key | None:
        """Postfix's ``instance`` names one mail transaction; client, HELO and sender guard it."""
        if not request.instance:
            return None
        return (request.instance, request.client_address, request.helo_name.lower(),
                request.sender.lower())

    def _find(self, key: _Key) -> _Transaction | None:
        txn = self._transactions.get(key)
        if txn is None:
            return None
        if txn.expires <= self._clock():
            del self._transactions[key]
            return None
        self._transactions.move_to_end(key)
        return txn

    def _remember(self, key: _Key, txn: _Transaction) -> None:
        self._transactions[key] = txn
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
        self.log.log(level, decision.log_line)
        if checks is None or not self.log.isEnabledFor(logging.DEBUG):
            return
        seen: set[int] = set()
        for identity, result in ((Identity.HELO, checks.helo), (Identity.MAILFROM, checks.mailfrom)):
            if result is None or id(result) in seen:
                continue
            seen.add(id(result))
            for line in trace_lines(result):
                self.log.debug("trace %s: %s", identity.value, line)


def trace_lines(result: CheckResult) -> list[str]:
    """One line per evaluation step, indented by include/redirect depth; values sanitised."""
    lines = []
    for event in result.trace:
        text = " ".join(quote_value(part) for part in (event.domain, event.text) if part)
        detail = f" -> {quote_value(event.detail)}" if event.detail else ""
        lines.append(f"{'  ' * event.depth}{event.kind.value} {text}{detail}")
    return lines


def _is_domain(helo: str) -> bool:
    """§2.3: a HELO name that is a domain — not an address literal nor a bare IP address."""
    if not helo or helo.startswith("["):
        return False
    try:
        ip_address(helo)
    except ValueError:
        return is_valid_domain(helo) and not helo.rstrip(".").rsplit(".", 1)[-1].isdigit()
    return False
