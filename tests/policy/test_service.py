"""PolicyService over an in-memory resolver: skips, transactions, the deadline, errors, logs."""

from __future__ import annotations

import asyncio
import logging
from ipaddress import IPv4Address, IPv6Address
from typing import Any

import pytest

from spfkit.lookup import MemoryResolver
from spfkit.lookup.protocol import Lookup, LookupStatus, MXHost, RRType
from spfkit.policy.config import Fallback, PolicyConfig, parse_config
from spfkit.policy.decide import Transaction
from spfkit.policy.protocol import PolicyRequest, ProtocolError
from spfkit.policy.service import CHECK_STATES, PolicyService, run_checks

ZONE: dict[str, Any] = {
    "example.net": {"TXT": "v=spf1 mx -all", "MX": (10, "mail.example.net")},
    "mail.example.net": {"A": "192.0.2.10", "AAAA": "2001:db8::10", "TXT": "v=spf1 a -all"},
    "soft.example": {"TXT": "v=spf1 ~all"},
    "broken.example": {"TXT": "v=spf1 ip4:192.0.2.300 -all"},
    "slow.example": "TIMEOUT",
    "forwarder.example": {"TXT": "v=spf1 ip4:198.51.100.0/24 -all"},
    "relay.example": {"A": "203.0.113.5"},
}


def req(**attrs: str) -> PolicyRequest:
    base = {"request": "smtpd_access_policy", "protocol_state": "RCPT", "client_address": "192.0.2.10",
            "helo_name": "mail.example.net", "sender": "alice@example.net",
            "recipient": "bob@example.org", "instance": "i1"}
    base.update(attrs)
    return PolicyRequest.build(base)


def service(config: dict[str, Any] | None = None, resolver: Any = None) -> PolicyService:
    cfg = parse_config({"Receiver": "mx.example.org", **(config or {})})
    return PolicyService(cfg, resolver if resolver is not None else MemoryResolver(ZONE))


def answer(svc: PolicyService, **attrs: str) -> str:
    return asyncio.run(svc.handle(req(**attrs))).action


class SlowResolver(MemoryResolver):
    """Every answer waits ``delay`` seconds (a slow DNS server), then answers from the table."""

    def __init__(self, zone: dict[str, Any], delay: float) -> None:
        super().__init__(zone)
        self.delay = delay

    async def lookup(self, rrtype: RRType, name: str) -> Lookup[Any]:
        if rrtype is RRType.TXT:
            await asyncio.sleep(self.delay)
        return await super().lookup(rrtype, name)


class ExplodingResolver(MemoryResolver):
    async def lookup(self, rrtype: RRType, name: str) -> Lookup[Any]:
        if rrtype is RRType.TXT:
            raise RuntimeError("bug in a resolver")
        return await super().lookup(rrtype, name)


# --------------------------------------------------------------------------- verdicts


def test_pass_prepends_received_spf() -> None:
    action = answer(service())
    assert action.startswith("PREPEND Received-SPF: pass ")
    assert "receiver=mx.example.org;" in action


def test_fail_rejects_with_the_rfc7372_code() -> None:
    action = answer(service(), client_address="192.0.2.99", helo_name="unknown.example")
    assert action.startswith("550 5.7.23 SPF fail for MAIL FROM example.net: ")


def test_helo_fail_rejects_before_mail_from() -> None:
    action = answer(service(), client_address="192.0.2.99", sender="x@soft.example")
    assert action.startswith("550 5.7.23 SPF fail for HELO mail.example.net")


def test_temperror_defers_and_permerror_accepts() -> None:
    assert answer(service(), sender="a@slow.example").startswith("451 4.7.24 SPF temperror")
    assert answer(service(), sender="a@broken.example").startswith("PREPEND Received-SPF: permerror")


def test_null_sender_uses_the_helo_check_once() -> None:
    resolver = MemoryResolver(ZONE)
    action = answer(service(resolver=resolver), sender="<>")
    assert "identity=mailfrom;" in action and 'envelope-from="";' in action
    assert sum(1 for q in resolver.queries if q[1] == "mail.example.net" and q[0].value == "TXT") == 1


def test_helo_that_is_not_a_domain_is_not_checked() -> None:
    resolver = MemoryResolver(ZONE)
    for helo in ("[192.0.2.10]", "192.0.2.10", "localhost", ""):
        resolver.queries.clear()
        answer(service(resolver=resolver), helo_name=helo, instance="")
        assert all(name == "example.net" or name.endswith("example.net") for _, name in resolver.queries)


@pytest.mark.parametrize("state", ["CONNECT", "EHLO", "HELO", "VRFY", "ETRN", "BOGUS", ""])
def test_states_without_a_sender_are_dunno(state: str) -> None:
    assert state not in CHECK_STATES
    assert answer(service(), protocol_state=state, client_address="192.0.2.99") == "DUNNO"


def test_malformed_requests_get_the_error_action() -> None:
    svc = service()
    assert asyncio.run(svc.handle(ProtocolError("bad"))).action == "DUNNO"
    svc = service({"error_action": "defer"})
    assert asyncio.run(svc.handle(ProtocolError("bad"))).action.startswith("451 4.3.0")


def test_run_checks_drives_a_transaction_without_the_policy_protocol() -> None:
    """What a milter would do: a Transaction, its checks run, its decision."""
    svc = service()
    txn = Transaction(req(client_address="192.0.2.99", sender="x@soft.example"), svc.config,
                      receiver="mx.example.org")
    asyncio.run(run_checks(txn, MemoryResolver(ZONE), svc._options))
    checks = txn.checks
    assert checks.helo is not None and checks.helo.result.value == "fail"
    assert checks.mailfrom is None  # §2.3: the HELO fail decided; MAIL FROM was not awaited
    assert txn.decide().action.startswith("550 5.7.23 SPF fail for HELO mail.example.net")


class CountingResolver(MemoryResolver):
    """TXT lookups wait a little; ``most`` is how many were ever waiting at the same time."""

    def __init__(self, zone: dict[str, Any]) -> None:
        super().__init__(zone)
        self.waiting = self.most = 0

    async def lookup(self, rrtype: RRType, name: str) -> Lookup[Any]:
        if rrtype is RRType.TXT:
            self.waiting += 1
            self.most = max(self.most, self.waiting)
            try:
                await asyncio.sleep(0.05)
            finally:
                self.waiting -= 1
        return await super().lookup(rrtype, name)


def test_helo_and_mail_from_are_looked_up_at_the_same_time_when_dns_must_be_asked() -> None:
    """A cold check waits on DNS: MAIL FROM's lookups start beside HELO's, not after them
    (the warm path answers in place, without a task per check)."""
    resolver = CountingResolver(ZONE)
    svc = service({}, resolver)
    reply = answer(svc, client_address="192.0.2.10", helo_name="mail.example.net",
                   sender="x@soft.example")
    assert reply.startswith("PREPEND Received-SPF: softfail")
    assert resolver.most == 2  # mail.example.net and soft.example, both in flight


# --------------------------------------------------------------------------- skips


@pytest.mark.parametrize(("config", "attrs", "why"), [
    ({}, {"client_address": "127.0.0.1"}, "skip_addresses"),
    ({}, {"client_address": "::1"}, "skip_addresses"),
    ({}, {"client_address": "::ffff:127.0.0.2"}, "skip_addresses"),
    ({}, {"client_address": "192.0.2.99", "sasl_username": "alice"}, "SMTP AUTH as alice"),
    ({"Whitelist": ["192.0.2.0/24"]}, {"client_address": "192.0.2.99"}, "Whitelist"),
    ({"HELO_Whitelist": ["relay.example"]},
     {"client_address": "203.0.113.5", "helo_name": "relay.example"}, "HELO_Whitelist"),
    ({"Domain_Whitelist": ["forwarder.example"]}, {"client_address": "198.51.100.7"},
     "Domain_Whitelist"),
])
def test_skips_answer_dunno_and_log_why(config: dict[str, Any], attrs: dict[str, str], why: str,
                                        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="spfkit.policyd"):
        assert answer(service(config), **attrs) == "DUNNO"
    assert any(r.message.startswith("SPF skipped: ") and why in r.message for r in caplog.records)


def test_helo_whitelist_needs_the_name_to_resolve_to_the_client() -> None:
    action = answer(service({"HELO_Whitelist": ["relay.example"]}), client_address="192.0.2.99",
                    helo_name="relay.example")
    assert action.startswith("550 5.7.23 SPF fail for MAIL FROM")


def test_sasl_skip_can_be_turned_off() -> None:
    action = answer(service({"skip_sasl": False}), client_address="192.0.2.99",
                    sasl_username="alice", helo_name="x.example")
    assert action.startswith("550 ")


# --------------------------------------------------------------------------- transactions


def test_one_evaluation_and_one_header_per_instance() -> None:
    resolver = MemoryResolver(ZONE)
    svc = service(resolver=resolver)

    async def three() -> list[str]:
        return [(await svc.handle(req(recipient=f"r{n}@example.org"))).action for n in range(3)]

    actions = asyncio.run(three())
    assert actions[0].startswith("PREPEND Received-SPF: pass") and actions[1:] == ["DUNNO", "DUNNO"]
    asked = len(resolver.queries)
    asyncio.run(svc.handle(req(protocol_state="DATA")))
    assert len(resolver.queries) == asked  # DATA reuses the decision too
    assert svc.transactions == 1


def test_concurrent_requests_of_one_instance_share_one_decision() -> None:
    svc = service(resolver=SlowResolver(ZONE, 0.05))

    async def together() -> list[str]:
        return [r.action for r in await asyncio.gather(*(svc.handle(req()) for _ in range(5)))]

    actions = asyncio.run(together())
    assert sum(a.startswith("PREPEND") for a in actions) == 1 and actions.count("DUNNO") == 4


def test_every_recipient_of_a_rejected_transaction_is_rejected() -> None:
    svc = service()

    async def run() -> list[str]:
        return [(await svc.handle(req(client_address="192.0.2.99", helo_name="x.example",
                                      recipient=f"r{n}@example.org"))).action for n in range(3)]

    assert all(a.startswith("550 5.7.23") for a in asyncio.run(run()))


def test_a_new_sender_under_the_same_instance_is_a_new_transaction() -> None:
    svc = service()

    async def run() -> tuple[str, str]:
        first = await svc.handle(req())
        second = await svc.handle(req(client_address="192.0.2.10", sender="x@soft.example"))
        return first.action, second.action

    first, second = asyncio.run(run())
    assert first.startswith("PREPEND") and second.startswith("PREPEND Received-SPF: softfail")


def test_both_headers_go_to_rcpt_and_data() -> None:
    svc = service({"Header_Type": "both"})

    async def run() -> list[str]:
        out = []
        for state in ("RCPT", "RCPT", "DATA"):
            out.append((await svc.handle(req(protocol_state=state))).action.split(":")[0])
        return out

    assert asyncio.run(run()) == ["PREPEND Received-SPF", "DUNNO", "PREPEND Authentication-Results"]


def test_without_instance_each_request_stands_alone() -> None:
    svc = service()

    async def run() -> list[str]:
        return [(await svc.handle(req(instance=""))).action for _ in range(2)]

    assert all(a.startswith("PREPEND") for a in asyncio.run(run()))
    assert svc.transactions == 0


def test_transactions_expire() -> None:
    now = [0.0]
    svc = PolicyService(PolicyConfig(), MemoryResolver(ZONE), clock=lambda: now[0])

    async def run() -> list[str]:
        first = (await svc.handle(req())).action
        now[0] += 4000
        return [first, (await svc.handle(req())).action]

    first, later = asyncio.run(run())
    assert first.startswith("PREPEND") and later.startswith("PREPEND")


# --------------------------------------------------------------------------- deadline and errors


def test_the_deadline_answers_with_the_timeout_action(caplog: pytest.LogCaptureFixture) -> None:
    # Built directly, past the file checks (which keep Lookup_Time below the deadline), so
    # that the deadline and not the check's own time limit is what ends the wait.
    svc = PolicyService(PolicyConfig(deadline=0.3, lookup_time=10), SlowResolver(ZONE, 5))
    with caplog.at_level(logging.WARNING, logger="spfkit.policyd"):
        action, took = asyncio.run(_timed(svc))
    assert action == "DUNNO" and took < 2
    assert any("no verdict within the deadline of 0.3 s" in r.message for r in caplog.records)
    config = PolicyConfig(deadline=0.3, lookup_time=10, timeout_action=Fallback.DEFER)
    svc = PolicyService(config, SlowResolver(ZONE, 5))
    assert asyncio.run(_timed(svc))[0].startswith("451 4.7.24")


async def _timed(svc: PolicyService) -> tuple[str, float]:
    loop = asyncio.get_running_loop()
    start = loop.time()
    reply = await svc.handle(req(instance=""))
    return reply.action, loop.time() - start


def test_lookup_time_gives_temperror_before_the_deadline() -> None:
    svc = service({"deadline": 2, "Lookup_Time": 0.2}, SlowResolver(ZONE, 5))
    assert answer(svc, instance="").startswith("451 4.7.24 SPF temperror")


def test_an_internal_error_is_caught_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="spfkit.policyd"):
        assert answer(service(resolver=ExplodingResolver(ZONE))) == "DUNNO"
        assert answer(service({"error_action": "defer"}, ExplodingResolver(ZONE)),
                      instance="i2").startswith("451 4.3.0")
    assert any("internal error" in r.message for r in caplog.records)


# --------------------------------------------------------------------------- logging and explain


def test_one_info_line_per_decision_and_a_trace_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    svc = service()
    with caplog.at_level(logging.DEBUG, logger="spfkit.policyd"):
        asyncio.run(_three(svc))
    decisions = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(decisions) == 1 and decisions[0].message.startswith("SPF pass: client=")
    assert " identity=mailfrom " in decisions[0].message
    traces = [r.message for r in caplog.records if r.message.startswith("trace ")]
    assert any("query" in t and "TXT example.net" in t for t in traces)


async def _three(svc: PolicyService) -> None:
    for n in range(3):
        await svc.handle(req(recipient=f"r{n}@example.org"))


def test_explain_does_not_remember_the_transaction() -> None:
    svc = service()
    explanation = asyncio.run(svc.explain(req(client_address="192.0.2.99", helo_name="x.example")))
    assert explanation.reply.action.startswith("550 5.7.23")
    assert explanation.checks is not None and explanation.checks.mailfrom is not None
    assert svc.transactions == 0


def test_reconfigure_takes_effect_for_new_transactions() -> None:
    svc = service()
    svc.reconfigure(parse_config({"test_only": True}))
    action = answer(svc, client_address="192.0.2.99", helo_name="x.example")
    assert action.startswith("PREPEND Received-SPF: fail")


def test_ipv6_client() -> None:
    assert answer(service(), client_address="2001:db8::10").startswith("PREPEND Received-SPF: pass")
    assert isinstance(req(client_address="2001:db8::10").client_ip, IPv6Address)
    assert isinstance(req().client_ip, IPv4Address)
    assert MXHost  # imported for the resolver protocol's types
    assert LookupStatus.TIMEOUT


@pytest.mark.parametrize("config", [{}, {"PermError_reject": "True"}])
def test_text_from_a_senders_records_reaches_headers_and_replies_as_ascii(
        config: dict[str, Any]) -> None:
    """RFC 5321 §4.2 (reply text) and RFC 5322 (header fields) are US-ASCII: a record's own
    non-ASCII (a U+00FC in a mechanism, spfkit's loop arrow) is escaped, never sent raw."""
    zone = {**ZONE, "utf.example": {"TXT": "v=spf1 a:b\u00fccher.example -all"},
            "loop.example": {"TXT": "v=spf1 include:loop.example -all"}}
    svc = service(config, MemoryResolver(zone))
    for sender in ("a@utf.example", "a@loop.example"):
        action = asyncio.run(svc.handle(req(sender=sender, instance=sender))).action
        assert "permerror" in action and action.isascii(), action
        assert ("\\xfc" in action) if sender.startswith("a@utf") else ("->" in action), action
