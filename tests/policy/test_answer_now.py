"""``PolicyService.answer_now``: the warm request answered without waiting, exactly as the
path that waits answers it (same replies, same log lines, same transactions)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from spfkit.lookup import MemoryResolver
from spfkit.policy.config import parse_config
from spfkit.policy.protocol import PolicyReader, PolicyRequest
from spfkit.policy.service import PolicyService

ZONE: dict[str, Any] = {
    "example.net": {"TXT": "v=spf1 mx ip6:2001:db8:1::/48 -all", "MX": (10, "mail.example.net")},
    "mail.example.net": {"A": "192.0.2.10", "TXT": "v=spf1 a -all"},
    "soft.example": {"TXT": "v=spf1 ip4:192.0.2.0/28 ~all"},
    "why.example": {"TXT": "v=spf1 ip4:192.0.2.0/28 -all exp=exp.why.example"},
    "exp.why.example": {"TXT": "%{i} is not one of %{d}'s senders"},
    "rbl.example": {"TXT": "v=spf1 exists:%{ir}.bl.example ~all"},
    "broken.example": {"TXT": "v=spf1 ip4:192.0.2.300 -all"},
}
CLIENTS = ("192.0.2.10", "192.0.2.11", "198.51.100.1", "2001:db8:1::5", "2001:db8:2::5",
           "::ffff:192.0.2.10")
SENDERS = ("a@example.net", "b@soft.example", "c@why.example", "d@rbl.example",
           "e@broken.example", "", "f@nothing.example")
HELOS = ("mail.example.net", "unknown.example", "[192.0.2.1]")


def _requests(tag: str, state: str = "RCPT") -> list[PolicyRequest]:
    out = []
    for n, (client, sender, helo) in enumerate(
            (c, s, h) for c in CLIENTS for s in SENDERS for h in HELOS):
        out.append(PolicyRequest.build({
            "request": "smtpd_access_policy", "protocol_state": state, "client_address": client,
            "helo_name": helo, "sender": sender, "recipient": "r@example.org",
            "instance": f"{tag}.{n}", "queue_id": f"Q{n}"}))
    return out


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _service(name: str, level: int) -> tuple[PolicyService, _Lines]:
    log = logging.getLogger(f"spfkit.test.answer_now.{name}")
    log.setLevel(level)
    log.propagate = False
    log.handlers[:] = [lines := _Lines()]
    config = parse_config({"Receiver": "mx.example.org", "Header_Type": "both"})
    return PolicyService(config, MemoryResolver(ZONE), logger=log), lines


def test_warm_requests_are_answered_now_and_as_the_evaluator_answers() -> None:
    """Three passes over every (client, sender, HELO): the third is answered by
    ``answer_now`` (compiled maps) and equals, reply by reply and log line by log line, what
    a service at debug level (the evaluator, for its trace) answers."""
    fast, fast_lines = _service("fast", logging.INFO)
    slow, slow_lines = _service("slow", logging.DEBUG)

    async def run() -> tuple[list[str], list[str], int]:
        for tag in ("cold", "second"):
            for request in _requests(tag):
                await fast.handle(request)
        fast_lines.lines.clear()
        now, replies = 0, []
        for request in _requests("warm"):
            reply = fast.answer_now(request)
            now += reply is not None
            replies.append((reply or await fast.answer_later(request)).action)
        expected = [(await slow.handle(request)).action for request in _requests("warm")]
        return replies, expected, now

    replies, expected, now = asyncio.run(run())
    assert replies == expected
    total = len(replies)
    # every check but the fail explained by exp= (its explanation is looked up) and the
    # clients that reach exists:%{ir} for the first time is answered now
    assert now >= total * 3 // 4, (now, total)
    decisions = [line for line in slow_lines.lines if line.startswith("SPF ")]
    assert fast_lines.lines == decisions


def test_later_requests_of_a_transaction_are_answered_now() -> None:
    """The second recipient and the DATA stage of a decided transaction need no waiting,
    even when its decision took DNS: the header goes to each stage's first request only."""
    svc, _ = _service("txn", logging.INFO)
    first = _requests("t")[0]
    attrs = dict(first.attributes)

    async def decide() -> str:
        return (await svc.handle(first)).action

    assert svc.answer_now(first) is None  # cold: DNS needed
    assert asyncio.run(decide()).startswith("PREPEND Received-SPF: pass")
    again = svc.answer_now(PolicyRequest.build(attrs))
    data = svc.answer_now(PolicyRequest.build({**attrs, "protocol_state": "DATA"}))
    assert again is not None and again.action == "DUNNO"
    assert data is not None and data.action.startswith("PREPEND Authentication-Results:")


@pytest.mark.parametrize("raw", [b"request=smtpd_access_policy\nprotocol_state=CONNECT\n\n",
                                 b"request=junk\n\n"])
def test_unchecked_and_malformed_requests_are_answered_now(raw: bytes) -> None:
    svc, _ = _service("other", logging.INFO)
    (item,) = PolicyReader().feed(raw)
    reply = svc.answer_now(item)
    assert reply is not None and reply.action == "DUNNO"
