"""One SMTP transaction's SPF decision, sans I/O: the local policy of RFC 7208 §8.

Transport-neutral: the policy server (SMTPD_POLICY_README) and a milter drive the same
:class:`Transaction` and get the same :class:`~spfkit.policy.decision.Decision`; nothing here
waits, looks up, logs or knows a protocol's attribute lines. Built from the facts (an
:class:`~spfkit.policy.decision.Envelope`, or any ``Facts`` such as a policy request), a
transaction says what to look up; the caller runs those checks and hands back each result;
each verdict is computed once; :meth:`Transaction.decide` gives the decision.

* **Skips:** a client in ``skip_addresses`` (this host) or ``Whitelist`` (trusted relays), or
  one that authenticated with SMTP AUTH, before any DNS; after a lookup, a ``HELO_Whitelist``
  name whose A/AAAA records hold the client, a ``Domain_Whitelist`` domain that passes it, or a
  ``Domain_Whitelist_PTR`` domain holding one of the client's validated PTR names (§5.5).
* **Receiver policy:** for a ``Reject_Not_Pass_Domains`` domain (the HELO name, or the MAIL
  FROM domain) neutral and softfail are rejected like fail (``PolicyConfig.verdict``).
* **Order** (as policyd-spf does it). The HELO identity (§2.3, only when the HELO name is a
  domain) first: if its result is to be rejected or deferred, that decides, whatever MAIL FROM
  says (MAIL FROM need not be awaited). Then MAIL FROM (§2.4; for the null reverse-path it is
  ``postmaster@<HELO>``, the same check as HELO, so it is checked once).

What a decision says (reply codes, headers, log line) is ``decision.py``'s.

Pure: imports no asyncio, socket or dnspython.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from ipaddress import ip_address

from spfkit.headers import quote_value
from spfkit.identity import Identity, is_valid_domain
from spfkit.policy.config import PolicyConfig, RejectPolicy, Verdict
from spfkit.policy.decision import (
    Checks,
    Decision,
    Envelope,
    Facts,
    accepted,
    skipped,
    stopped,
)
from spfkit.results import CheckResult

__all__ = ["Relay", "RelayTest", "Transaction", "decide"]


class RelayTest(StrEnum):
    """policyd-spf's trusted-relay tests, named by their option."""

    HELO_WHITELIST = "HELO_Whitelist"  # the HELO name's A/AAAA records hold the client
    DOMAIN_WHITELIST = "Domain_Whitelist"  # the client passes the domain's SPF record
    DOMAIN_WHITELIST_PTR = "Domain_Whitelist_PTR"  # a validated PTR name is within the domain


@dataclass(frozen=True, slots=True)
class Relay:
    """One trusted-relay test to run: ``name`` is the HELO name or the trusted domain."""

    test: RelayTest
    name: str


class Transaction:
    """One transaction's decision in the making (see the module doc); the caller does the I/O.

    After construction: :attr:`skip` (a static skip: nothing to look up), :attr:`relays` (the
    trusted-relay tests), :attr:`check_helo` and :attr:`check_mailfrom` (the checks to run;
    ``check_mailfrom`` is False for the null sender whose MAIL FROM is the HELO check).
    """

    __slots__ = ("_helo", "_helo_verdict", "_mailfrom", "_mailfrom_is_helo", "check_helo",
                 "check_mailfrom", "config", "envelope", "receiver", "relays", "skip")

    def __init__(self, facts: Facts, config: PolicyConfig, *, receiver: str) -> None:
        envelope = self.envelope = Envelope.of(facts)
        self.config = config
        self.receiver = receiver
        self.skip: str | None = _static_skip(envelope, config)
        checking = self.skip is None
        helo = envelope.helo_name.lower().rstrip(".")
        relays = [Relay(RelayTest.HELO_WHITELIST, helo)] if helo in config.helo_whitelist else []
        relays += (Relay(RelayTest.DOMAIN_WHITELIST, domain) for domain in config.domain_whitelist)
        relays += (Relay(RelayTest.DOMAIN_WHITELIST_PTR, domain)
                   for domain in config.domain_whitelist_ptr)
        self.relays: tuple[Relay, ...] = tuple(relays) if checking else ()
        self.check_helo = checking and config.check_helo and _is_domain(envelope.helo_name)
        wants_mailfrom = checking and config.check_mailfrom
        self.check_mailfrom = wants_mailfrom and (bool(envelope.sender) or not self.check_helo)
        self._mailfrom_is_helo = wants_mailfrom and not self.check_mailfrom  # §2.4
        self._helo: CheckResult | None = None
        self._helo_verdict = Verdict.ACCEPT
        self._mailfrom: CheckResult | None = None

    def trust(self, relay: Relay) -> None:
        """``relay``'s test held: the client is a trusted relay and is not checked."""
        client = self.envelope.client_ip
        if relay.test is RelayTest.HELO_WHITELIST:
            self.skip = f"HELO name {quote_value(relay.name)} is a trusted relay resolving to " \
                        f"{client} (HELO_Whitelist)"
        elif relay.test is RelayTest.DOMAIN_WHITELIST_PTR:
            self.skip = f"client {client} has a validated PTR name in trusted domain " \
                        f"{relay.name} (Domain_Whitelist_PTR)"
        else:
            self.skip = f"client passes SPF for trusted domain {relay.name} (Domain_Whitelist)"

    def add_helo(self, result: CheckResult) -> bool:
        """§2.3: the HELO result; True when it decides (MAIL FROM need not be awaited)."""
        self._helo = result
        if self.config.helo_reject is RejectPolicy.NULL and self.envelope.sender:
            self._helo_verdict = Verdict.ACCEPT  # "Null": a HELO result counts only for <>
        else:
            self._helo_verdict = self.config.verdict(Identity.HELO, result.result,
                                                     self.envelope.helo_name)
        decides = self._helo_verdict is not Verdict.ACCEPT
        if self._mailfrom_is_helo and not decides:
            self._mailfrom = result  # §2.4: the null sender's MAIL FROM is postmaster@<HELO>
        return decides

    def add_mailfrom(self, result: CheckResult) -> None:
        """§2.4: the MAIL FROM result."""
        self._mailfrom = result

    @property
    def checks(self) -> Checks:
        """What was found out so far (for logs and ``--explain``)."""
        if self.skip is not None:
            return Checks(skip=self.skip)
        return Checks(helo=self._helo, mailfrom=self._mailfrom)

    def decide(self) -> Decision:
        """RFC 7208 §8 under the configured policy: HELO first, then MAIL FROM (module doc)."""
        envelope, config, receiver = self.envelope, self.config, self.receiver
        if self.skip is not None:
            return skipped(envelope, self.skip)
        helo, mailfrom = self._helo, self._mailfrom
        if helo is not None and self._helo_verdict is not Verdict.ACCEPT:
            return stopped(envelope, config, receiver, Identity.HELO, helo, self._helo_verdict)
        if mailfrom is not None:
            verdict = config.verdict(Identity.MAILFROM, mailfrom.result,
                                     envelope.domain_of(Identity.MAILFROM))
            if verdict is not Verdict.ACCEPT:
                return stopped(envelope, config, receiver, Identity.MAILFROM, mailfrom, verdict)
        return accepted(envelope, config, receiver, helo, mailfrom)


def decide(facts: Facts, checks: Checks, config: PolicyConfig, *, receiver: str) -> Decision:
    """The decision for ``checks`` found elsewhere, as a :class:`Transaction` reaches it."""
    txn = Transaction(facts, config, receiver=receiver)
    txn.skip = checks.skip
    if checks.helo is not None:
        txn.add_helo(checks.helo)
    txn._mailfrom = checks.mailfrom  # as given (for the null sender too)
    return txn.decide()


def _static_skip(envelope: Envelope, config: PolicyConfig) -> str | None:
    """Who is not checked, known before any DNS: this host, SMTP AUTH, trusted relays."""
    client = envelope.client_ip
    for network in config.skip_addresses:
        if client in network:
            return f"client {client} is in skip_addresses ({network})"
    if config.skip_sasl and envelope.sasl_username:
        return f"client authenticated with SMTP AUTH as {quote_value(envelope.sasl_username)}"
    for network in config.whitelist:
        if client in network:
            return f"client {client} is a trusted relay (Whitelist {network})"
    return None


def _is_domain(helo: str) -> bool:
    """§2.3: a HELO name that is a domain — not an address literal nor a bare IP address."""
    if not helo or helo.startswith("["):
        return False
    if ":" not in helo and not helo[-1].isdigit() and helo[-1] != ".":
        return is_valid_domain(helo)  # neither an IPv6 nor an IPv4 address: spare the parse
    try:
        ip_address(helo)
    except ValueError:
        return is_valid_domain(helo) and not helo.rstrip(".").rsplit(".", 1)[-1].isdigit()
    return False
