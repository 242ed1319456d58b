"""spfkit policyd inside a real Postfix (Debian's), resolving through a real BIND on loopback.

Every test runs twice: against ``spfkit policyd --listen`` (Postfix ``inet:``) and against
``spfkit policyd`` under Postfix's spawn(8), as ``nobody`` (see conftest.py). swaks connects
from a different 127.0.0.x address per case (Linux routes all of 127/8 to lo); ``e2e.zone``
says which address each sender domain authorises. Each test asserts what an operator would
see: the SMTP reply, the header in the delivered message, Postfix's log line and the
policy's log line. Messages are told apart by a unique Subject and envelope sender, so the
tests share one Postfix per mode and one Maildir.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest

from tests.e2e.conftest import RECEIVER, Mta
from tests.e2e.harness import unfold, wait_for

HELO = "client.e2e.example"  # authorises all of 127.0.0.0/24: the HELO check passes
RCPT = "rcpt@example.org"


@dataclass(frozen=True)
class Case:
    name: str
    client: str
    helo: str
    domain: str  # of MAIL FROM; "" = the null reverse-path
    result: str  # the SPF result the header and the log report
    identity: str  # which identity the header reports
    mechanism: str | None = None  # the deciding term, when one matched

    def sender(self, mta: Mta, nonce: str) -> str:
        return f"{self.name}-{mta.mode}-{nonce}@{self.domain}" if self.domain else ""


ACCEPTED = [
    # pass.example: "v=spf1 mx a:relay.pass.example -all", its MX mail.pass.example is 127.0.0.2
    Case("pass", "127.0.0.2", HELO, "pass.example", "pass", "mailfrom", "mx"),
    # soft.example: "v=spf1 ip4:127.0.0.2 ~all"
    Case("softfail", "127.0.0.4", HELO, "soft.example", "softfail", "mailfrom", "~all"),
    # none.example has only a TXT that is not SPF; the HELO name has no record either
    Case("none", "127.0.0.5", "norecord.e2e.example", "none.example", "none", "mailfrom"),
    # broken.example: "v=spf1 ip4:127.0.0.300 -all"
    Case("permerror", "127.0.0.6", HELO, "broken.example", "permerror", "mailfrom"),
    # the sender's domain has no record but the HELO name passes: the header tells the HELO
    # result, which says more (as policyd-spf does)
    Case("none-helo-pass", "127.0.0.11", HELO, "none.example", "pass", "helo", "ip4:127.0.0.0/24"),
    # null reverse-path: the MAIL FROM identity is postmaster@<HELO> (RFC 7208 §2.4), so the
    # HELO name's record decides; null.e2e.example is "v=spf1 a -all" with A 127.0.0.7
    Case("null-sender", "127.0.0.7", "null.e2e.example", "", "pass", "mailfrom", "a"),
]

REJECTED = [
    # fail.example: "v=spf1 ip4:127.0.0.2 -all", and 127.0.0.3 is not 127.0.0.2
    Case("fail", "127.0.0.3", HELO, "fail.example", "fail", "mailfrom", "-all"),
    # the HELO name says -all for 127.0.0.8: HELO is checked first and decides (HELO_reject = Fail)
    Case("helo-fail", "127.0.0.8", "badhelo.e2e.example", "pass.example", "fail", "helo", "-all"),
    # the same HELO with the null reverse-path
    Case("null-sender-helo-fail", "127.0.0.10", "badhelo.e2e.example", "", "fail", "helo", "-all"),
]


def _nonce() -> str:
    return uuid.uuid4().hex[:10]


def parse_received_spf(value: str) -> tuple[str, str, dict[str, str]]:
    """``result (comment) key=value; ...`` → result, comment, {key: unquoted value}."""
    text = unfold(value).strip()
    m = re.match(r"([A-Za-z]+)\s*(?:\(((?:[^()\\]|\\.)*)\))?\s*(.*)$", text, re.DOTALL)
    assert m, f"not a Received-SPF value: {text!r}"
    pairs = {}
    for key, raw in re.findall(r'([A-Za-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)\s*;?', m.group(3)):
        pairs[key.lower()] = re.sub(r"\\(.)", r"\1", raw[1:-1]) if raw.startswith('"') else raw
    return m.group(1), m.group(2) or "", pairs


def policy_line(mta: Mta, case: Case, sender: str) -> str:
    """The one log line of this transaction's decision (waits for it; there must be one)."""
    needle = f"envelope-from={sender or '<>'}"

    def probe() -> list[str]:
        return [line for line in mta.policy_lines(f"SPF {case.result}:", f"client={case.client} ")
                if needle in line.replace('"', "")]

    try:
        lines = wait_for(f"the policy's log line for {sender or '<>'}", probe, timeout=5)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- {mta.policy_log}:\n{mta.policy_log_text()[-3000:]}") from None
    assert len(lines) == 1, lines
    return lines[0]


def assert_log_shape(line: str, case: Case, sender: str, action: str) -> None:
    """``SPF <result>: client=… helo=… envelope-from=… identity=… …: <why>; action=<action>``."""
    q = r'"?'
    pattern = (
        rf"SPF {case.result}: client={re.escape(case.client)} "
        rf"helo={q}{re.escape(case.helo)}{q} envelope-from={q}{re.escape(sender or '<>')}{q}"
        rf" identity={case.identity}(?: [a-z-]+=\S+)*: .+; action={action}"
    )
    assert re.search(pattern, line), f"log line {line!r} does not match {pattern!r}"


@pytest.mark.parametrize("case", ACCEPTED, ids=lambda c: c.name)
def test_accepted_with_one_received_spf_header(mta: Mta, case: Case) -> None:
    nonce = _nonce()
    sender = case.sender(mta, nonce)
    subject = f"{case.name} {mta.mode} {nonce}"
    sent = mta.send(case.client, case.helo, sender, [RCPT], subject)
    assert sent.returncode == 0, sent.transcript
    assert any(r.startswith("250 2.0.0 Ok: queued") for r in sent.replies("<-")), sent.transcript

    (message,) = mta.postfix.delivered(subject)
    headers = message.get_all("Received-SPF") or []
    assert len(headers) == 1, headers
    result, comment, pairs = parse_received_spf(str(headers[0]))
    assert result == case.result
    assert pairs["identity"] == case.identity, headers[0]
    assert pairs["client-ip"] == case.client
    assert pairs["helo"] == case.helo
    assert pairs["envelope-from"] == sender
    assert pairs["receiver"] == RECEIVER
    if case.mechanism:
        assert pairs.get("mechanism") == case.mechanism, pairs
    assert comment.startswith(f"{RECEIVER}: "), comment
    checked = {"mailfrom": sender or f"postmaster@{case.helo}", "helo": f"postmaster@{case.helo}"}
    assert checked[case.identity] in comment, comment
    # PREPENDed by the policy: above Postfix's own Received: line
    names = [name.lower() for name in message]
    assert names.index("received-spf") < names.index("received"), names

    line = policy_line(mta, case, sender)
    assert_log_shape(line, case, sender, "PREPEND Received-SPF")


@pytest.mark.parametrize("case", REJECTED, ids=lambda c: c.name)
def test_fail_is_refused_at_rcpt_with_550_5_7_23(mta: Mta, case: Case) -> None:
    nonce = _nonce()
    sender = case.sender(mta, nonce)
    sent = mta.send(case.client, case.helo, sender, [RCPT], f"{case.name} {mta.mode} {nonce}")
    assert sent.returncode == 24, sent.transcript  # swaks: no recipient accepted
    label = "MAIL FROM" if case.identity == "mailfrom" else "HELO"
    domain = case.domain if case.identity == "mailfrom" else case.helo
    expected = f"550 5.7.23 <{RCPT}>: Recipient address rejected: SPF fail for {label} {domain}: "
    (reply,) = [r for r in sent.replies() if "Recipient address rejected" in r]
    assert reply.startswith(expected), sent.transcript

    noqueue = f"NOQUEUE: reject: RCPT from unknown[{case.client}]: {expected}"
    lines = wait_for("Postfix's reject line", lambda: mta.postfix.log_lines(noqueue), timeout=5)
    assert f"from=<{sender}> to=<{RCPT}> proto=ESMTP helo=<{case.helo}>" in lines[0], lines

    line = policy_line(mta, case, sender)
    assert_log_shape(line, case, sender, re.escape(f"550 5.7.23 SPF fail for {label} {domain}: "))


def test_three_recipients_get_exactly_one_header(mta: Mta) -> None:
    """Postfix asks the policy at every RCPT and keeps every PREPEND of the transaction:
    only the first answer may carry the header, or the message gets three."""
    case = Case("three", "127.0.0.9", HELO, "pass.example", "pass", "mailfrom", "a:relay.pass.example")
    nonce = _nonce()
    sender = case.sender(mta, nonce)
    subject = f"three {mta.mode} {nonce}"
    rcpts = [f"r{i}-{nonce}@example.org" for i in (1, 2, 3)]
    sent = mta.send(case.client, case.helo, sender, rcpts, subject)
    assert sent.returncode == 0, sent.transcript

    # one Maildir takes every recipient: three deliveries of the one queued message
    messages = mta.postfix.delivered(subject, count=3)
    assert len(messages) == 3
    for message in messages:
        headers = message.get_all("Received-SPF") or []
        assert len(headers) == 1, headers
        result, _, pairs = parse_received_spf(str(headers[0]))
        assert (result, pairs["client-ip"], pairs["envelope-from"], pairs.get("mechanism")) == \
            ("pass", case.client, sender, case.mechanism)
    line = policy_line(mta, case, sender)  # one decision for the transaction, logged once
    assert_log_shape(line, case, sender, "PREPEND Received-SPF")
