"""The checks of one transaction, transport-neutral: what :class:`~spfkit.policy.decide.Transaction`
asks for, looked up (RFC 7208 §2.3 HELO, §2.4 MAIL FROM, and the trusted-relay tests).

Each identity goes through :func:`spfkit.evaluate.check`, the one entry point of a check
(a compiled answer when one applies). The policy server and the milter both drive
:func:`run_checks`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from ipaddress import ip_address
from typing import Any

from spfkit.evaluate import CheckOptions, check, check_host, check_now
from spfkit.identity import Identity, sender_with_local_part
from spfkit.lookup.overlay import OverlayResolver
from spfkit.lookup.protocol import Resolver
from spfkit.policy.decide import Relay, RelayTest, Transaction
from spfkit.policy.inline import awaited
from spfkit.results import CheckResult, Result

__all__ = ["run_checks", "run_checks_now"]


async def run_checks(txn: Transaction, resolver: Resolver, options: CheckOptions, *,
                     trace: bool = False) -> None:
    """Look up what ``txn`` asks for and hand it the results (decide.py's order, §2.3, §2.4).

    ``trace``: run the evaluator for its trace (debug logging) instead of a compiled answer.

    The trusted-relay tests, HELO and MAIL FROM run at the same time; a trusted relay, or a
    HELO result that decides, cancels the rest. Transport-neutral: any front end may drive it.
    """
    if txn.skip is not None:
        return
    envelope, receiver = txn.envelope, txn.receiver

    def identity(which: Identity) -> Coroutine[Any, Any, CheckResult]:
        return check(envelope.client_ip, envelope.sender, envelope.helo_name, resolver=resolver,
                     identity=which, receiver=receiver, options=options, trace=trace)

    if txn.relays:
        await _with_relays(txn, identity, resolver, options)
        return
    # The usual case: HELO is checked in place, and MAIL FROM starts beside it only if HELO has
    # to wait (DNS); a warm check never waits, so neither needs a task of its own (inline.py).
    mailfrom: asyncio.Task[CheckResult] | None = None

    def start_mailfrom() -> None:
        nonlocal mailfrom
        if txn.check_mailfrom and mailfrom is None:
            mailfrom = asyncio.ensure_future(identity(Identity.MAILFROM))

    try:
        if txn.check_helo and txn.add_helo(await awaited(identity(Identity.HELO), start_mailfrom)):
            return  # §2.3: HELO decides; MAIL FROM is not needed
        if txn.check_mailfrom:
            txn.add_mailfrom(await (identity(Identity.MAILFROM) if mailfrom is None else mailfrom))
    finally:
        if mailfrom is not None:
            mailfrom.cancel()


def run_checks_now(txn: Transaction, resolver: Resolver, options: CheckOptions) -> bool:
    """:func:`run_checks` when every check ``txn`` asks for is answered without waiting
    (compiled policies: ``evaluate.check_now``): True, and ``txn`` has its results. False
    when one would wait (DNS, the evaluator): ``txn`` may hold some results then, so run
    :func:`run_checks` on a new transaction. The same order and stops as ``run_checks``."""
    if txn.skip is not None:
        return True
    if txn.relays:
        return False  # the trusted-relay tests look up DNS
    envelope, receiver = txn.envelope, txn.receiver

    def now(which: Identity) -> CheckResult | None:
        return check_now(envelope.client_ip, envelope.sender, envelope.helo_name,
                         resolver=resolver, identity=which, receiver=receiver, options=options)

    if txn.check_helo:
        if (helo := now(Identity.HELO)) is None:
            return False
        if txn.add_helo(helo):
            return True  # §2.3: HELO decides; MAIL FROM is not needed
    if txn.check_mailfrom:
        if (mailfrom := now(Identity.MAILFROM)) is None:
            return False
        txn.add_mailfrom(mailfrom)
    return True


async def _with_relays(txn: Transaction, identity: Callable[[Identity], Coroutine[Any, Any, CheckResult]],
                       resolver: Resolver, options: CheckOptions) -> None:
    """:func:`run_checks` with trusted-relay tests: those, HELO and MAIL FROM all at once."""
    tasks: list[asyncio.Task[Any]] = []

    def start(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        tasks.append(asyncio.ensure_future(coro))
        return tasks[-1]

    relays = start(_trusted_relay(txn, resolver, options))
    helo = start(identity(Identity.HELO)) if txn.check_helo else None
    mailfrom = start(identity(Identity.MAILFROM)) if txn.check_mailfrom else None
    try:
        if (relay := await relays) is not None:
            txn.trust(relay)
            return
        if helo is not None and txn.add_helo(await helo):
            return  # §2.3: HELO decides; MAIL FROM is not needed
        if mailfrom is not None:
            txn.add_mailfrom(await mailfrom)
    finally:
        for task in tasks:
            task.cancel()


async def _trusted_relay(txn: Transaction, resolver: Resolver, options: CheckOptions) -> Relay | None:
    """The first of ``txn.relays`` whose test holds (all run at once), else None."""
    held = await asyncio.gather(*(_vouches(relay, txn, resolver, options) for relay in txn.relays))
    return next((relay for relay, ok in zip(txn.relays, held, strict=True) if ok), None)


async def _vouches(relay: Relay, txn: Transaction, resolver: Resolver, options: CheckOptions) -> bool:
    client = txn.envelope.client_ip
    if relay.test is RelayTest.HELO_WHITELIST:  # the name's A/AAAA records hold the client
        lookup = await (resolver.a(relay.name) if client.version == 4 else resolver.aaaa(relay.name))
        return any(ip_address(record) == client for record in lookup.records)
    if relay.test is RelayTest.DOMAIN_WHITELIST_PTR:
        # "Matching is done using the same rules as the SPF PTR mechanism" (policyd-spf's
        # documentation): §5.5's validated names, by evaluating "ptr" at the trusted domain.
        resolver = OverlayResolver(resolver, {relay.name: "v=spf1 ptr -all"})
    result = await check_host(client, relay.name, sender_with_local_part("", relay.name),
                              resolver=resolver, helo=txn.envelope.helo_name,
                              receiver=txn.receiver, options=options)
    return result.result is Result.PASS  # Domain_Whitelist, Domain_Whitelist_PTR
