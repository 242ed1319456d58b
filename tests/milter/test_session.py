"""The milter's stages without a milter: Session + MilterService over an in-memory resolver.

The checks are real (``spfkit.evaluate`` through ``MemoryResolver``); only the transport is
left out, so each stage's answer, the PRA found and the header edits are asserted directly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import pytest

from spfkit.lookup import MemoryResolver
from spfkit.metrics import ServiceMetrics
from spfkit.milter.config import MilterConfig, parse_milter_config
from spfkit.milter.counters import Counters
from spfkit.milter.service import MilterService
from spfkit.milter.session import Session, Stage, client_address
from spfkit.policy.decision import Outcome

ZONE: dict[str, Any] = {
    "helo.example": {"TXT": "v=spf1 ip4:192.0.2.0/24 -all"},
    "mfrom.example": {"TXT": "v=spf1 ip4:192.0.2.0/24 -all"},
    "mfail.example": {"TXT": "v=spf1 -all"},
    "pass.example": {"TXT": "v=spf1 ip4:192.0.2.10 -all"},
    "fail.example": {"TXT": "v=spf1 -all"},
    "sid.example": {"TXT": ["v=spf1 -all", "spf2.0/pra ip4:192.0.2.10 -all"]},
    "slow.example": "TIMEOUT",
}
CLIENT = "192.0.2.10"


def make(config: dict[str, Any] | None = None, resolver: Any = None) -> tuple[Session, MilterService]:
    data = {"Receiver": "mx.example.org", "Header_Type": "both", "skip_addresses": [],
            **(config or {})}
    data.setdefault("milter", {})
    cfg: MilterConfig = parse_milter_config(data)
    service = MilterService(cfg, resolver if resolver is not None else MemoryResolver(ZONE),
                            counters=Counters())
    return Session(cfg, receiver=service.receiver), service


def run_message(session: Session, service: MilterService, sender: str, headers: list[tuple[str, str]],
                *, rcpts: int = 1, sasl: str = "") -> dict[str, Any]:
    """Drive every stage as libmilter would; what each stage answered."""
    out: dict[str, Any] = {}
    session.connect(CLIENT, "client")
    session.helo("helo.example")
    txn = session.mail(f"<{sender}>", sasl_username=sasl, queue_id="Q1")
    token = service.started()
    if txn is not None:
        out["mail"] = session.spf(asyncio.run(service.spf(txn)))
    out["rcpt"] = [session.rcpt() for _ in range(rcpts)]
    for name, value in headers:
        session.header(name, value)
    pra = session.eoh()
    out["pra"] = pra
    if pra is not None:
        assert session.client_ip is not None
        out["eoh"] = session.pra(pra, asyncio.run(service.pra(session.client_ip, pra, session.helo_name)))
    out["edits"] = session.eom()
    out["log"] = session.log_line("accept")
    service.finished(token, session, "accept")
    return out


def test_pass_everything_adds_four_headers() -> None:
    session, service = make()
    out = run_message(session, service, "a@mfrom.example", [("From", "Ann <ann@pass.example>")])
    assert out["mail"] is None and out["rcpt"] == [None] and out.get("eoh") is None
    names = [(f.name, f.value.split(";")[0] if f.name == "Authentication-Results" else
              f.value.split(" ")[0]) for f in out["edits"].add]
    assert names == [("Received-SPF", "pass"), ("Authentication-Results", "mx.example.org"),
                     ("Received-SPF", "pass"), ("Authentication-Results", "mx.example.org")]
    assert "sender-id=pass header.from=ann@pass.example" in str(out["edits"].add[3])
    assert session.stage is Stage.EOM
    assert out["log"].endswith('helo=pass mailfrom=pass sender-id=pass pra="ann@pass.example" '
                               "(header From) recipients=1; action=accept")
    counted = service.counters.snapshot()["results"]
    assert counted["helo"]["pass"] == counted["mailfrom"]["pass"] == counted["pra"]["pass"] == 1


def test_mail_from_fail_refused_at_every_rcpt_or_at_mail() -> None:
    session, service = make({"milter": {"pra_reject": "Fail"}})
    out = run_message(session, service, "x@mfail.example", [], rcpts=3)
    assert out["mail"] is None
    assert [str(r)[:10] for r in out["rcpt"]] == ["550 5.7.23"] * 3
    session, service = make({"milter": {"reject_stage": "mail"}})
    out = run_message(session, service, "x@mfail.example", [])
    assert str(out["mail"]).startswith("550 5.7.23 SPF fail for MAIL FROM mfail.example")


@pytest.mark.parametrize(("headers", "header", "address", "refused"), [
    ([("From", "boss@fail.example"), ("Sender", "sec@pass.example")], "Sender", "sec@pass.example", False),
    ([("Resent-From", "fw@fail.example"), ("Received", "x"), ("Resent-From", "old@pass.example"),
      ("From", "a@pass.example")], "Resent-From", "fw@fail.example", True),
    ([("From", "x@sid.example")], "From", "x@sid.example", False),  # spf2.0/pra wins over v=spf1
])
def test_pra_choice_and_policy(headers, header: str, address: str, refused: bool) -> None:
    session, service = make({"milter": {"pra_reject": "Fail"}})
    out = run_message(session, service, "a@mfrom.example", headers)
    assert out["pra"].header == header and out["pra"].address == address
    assert (out["eoh"] is not None) is refused
    if refused:
        assert str(out["eoh"]).startswith("550 5.7.1 Sender ID fail for PRA")


def test_no_pra_marked_or_refused() -> None:
    headers = [("From", "a@pass.example"), ("From", "b@pass.example")]
    session, service = make()
    out = run_message(session, service, "a@mfrom.example", headers)
    assert out["pra"].address is None and out["eoh"] is None
    assert any("sender-id=permerror" in str(f) for f in out["edits"].add)
    session, service = make({"milter": {"no_pra": "reject"}})
    out = run_message(session, service, "a@mfrom.example", headers)
    assert str(out["eoh"]).startswith("550 5.7.1 Sender ID: no Purported Responsible Address")


def test_test_only_marks_what_it_would_refuse() -> None:
    session, service = make({"test_only": True, "milter": {"pra_reject": "Fail"}})
    out = run_message(session, service, "a@mfrom.example", [("From", "z@fail.example")])
    assert out["eoh"] is None
    assert session.message.pra is not None and str(session.message.pra.would).startswith("550 5.7.1")
    assert any("sender-id=fail" in str(f) for f in out["edits"].add)


def test_sasl_and_local_submissions_are_skipped() -> None:
    session, service = make()
    out = run_message(session, service, "a@mfail.example", [("From", "z@fail.example")], sasl="alice")
    assert out["rcpt"] == [None] and out["pra"] is None and out["edits"].add == ()
    assert "skipped (client authenticated with SMTP AUTH as alice)" in out["log"]
    session.connect(None)
    assert session.mail("<a@mfail.example>") is None
    assert session.eoh() is None


def test_forged_removed_and_header_bounded() -> None:
    session, service = make({"milter": {"max_header_bytes": 65536}})
    session.connect(CLIENT)
    session.helo("helo.example")
    txn = session.mail("<a@mfrom.example>")
    assert txn is not None
    session.spf(asyncio.run(service.spf(txn)))
    session.header("Authentication-Results", "mx.example.org; spf=pass")
    session.header("Authentication-Results", "other.example; spf=pass")
    session.header("X-Big", "a" * 70_000)  # not kept: not a field the milter reads
    session.header("From", "a@pass.example")
    assert session.eoh() is not None
    for _ in range(2000):
        session.header("Received", "")
    session.header("Authentication-Results", "mx.example.org; " + "x" * 70_000)
    pra = session.eoh()
    assert pra is not None and pra.address is None and "larger than 65536 bytes" in (pra.reason or "")
    edits = session.eom()
    # the oversized field's position still counts, but its authserv-id is unknown: kept
    assert edits.remove == (("Authentication-Results", 1),)


def test_deadline_gives_the_timeout_action() -> None:
    session, service = make({"deadline": 0.3, "Lookup_Time": 0.2, "timeout_action": "defer"})
    session.connect(CLIENT)
    session.helo("slow.example")
    txn = session.mail("<a@slow.example>")
    assert txn is not None
    decision = asyncio.run(service.spf(txn))
    # the checks end as temperror (Lookup_Time) or, later, as the deadline's fallback
    assert decision.outcome in (Outcome.DEFER, Outcome.FALLBACK)
    assert decision.action.startswith("451 4.7.24")


@pytest.mark.parametrize(("text", "expected"), [
    ("192.0.2.1", "192.0.2.1"), ("[192.0.2.1]", "192.0.2.1"), ("IPv6:2001:db8::1", "2001:db8::1"),
    ("fe80::1%eth0", "fe80::1"), ("", None), (None, None), ("localhost", None),
])
def test_client_address(text, expected) -> None:
    found = client_address(text)
    assert (str(found) if found else None) == expected


class Recorded(ServiceMetrics):
    """What the counters hand on: each message's ending, decision and results."""

    def __init__(self) -> None:
        self.finished: list[str] = []
        self.decisions: list[tuple[str, list[tuple[str, str]]]] = []

    def request_finished(self, started: float, outcome: str) -> None:
        self.finished.append(outcome)

    def decided(self, outcome: str, results: Iterable[tuple[str, str]] = ()) -> None:
        self.decisions.append((outcome, list(results)))


def test_each_message_is_counted_once_when_it_ends_and_handed_to_the_metrics() -> None:
    data = {"Receiver": "mx.example.org", "skip_addresses": [], "milter": {"pra_reject": "Fail"}}
    recorded = Recorded()
    service = MilterService(parse_milter_config(data), MemoryResolver(ZONE),
                            counters=Counters(metrics=recorded))
    session = Session(service.config, receiver=service.receiver)
    session.connect(CLIENT, "client")
    session.helo("helo.example")

    def mail(sender: str, **kwargs: str) -> float:
        token = service.started()
        txn = session.mail(sender, **kwargs)
        if txn is not None:
            session.spf(asyncio.run(service.spf(txn)))
        return token

    # MAIL FROM fails: refused at RCPT TO
    token = mail("<x@mfail.example>")
    reply = session.rcpt()
    assert reply is not None
    service.finished(token, session, "reject", reply)
    # HELO and MAIL FROM pass, then RSET before the header
    token = mail("<a@mfrom.example>")
    assert session.rcpt() is None
    service.finished(token, session, "aborted")
    # the PRA fails: refused at the end of the header
    token = mail("<a@mfrom.example>")
    session.header("From", "boss@fail.example")
    pra = session.eoh()
    assert pra is not None
    reply = session.pra(pra, asyncio.run(service.pra(client_address(CLIENT), pra, "helo.example")))
    assert reply is not None and reply.code == "550"
    service.finished(token, session, "reject", reply)
    # SMTP AUTH: not checked
    token = mail("<x@mfail.example>", sasl_username="alice")
    service.finished(token, session, "accept")

    assert recorded.finished == ["reject", "aborted", "reject", "accept"]
    assert recorded.decisions == [
        ("reject", [("helo", "pass"), ("mailfrom", "fail")]),
        ("accept", [("helo", "pass"), ("mailfrom", "pass")]),
        ("reject", [("helo", "pass"), ("mailfrom", "pass"), ("pra", "fail")]),
        ("skip", []),
    ]
    snapshot = service.counters.snapshot()
    assert snapshot["results"]["helo"]["pass"] == 3 and snapshot["results"]["mailfrom"]["pass"] == 2
    assert snapshot["results"]["mailfrom"]["fail"] == 1 and snapshot["results"]["pra"]["fail"] == 1
    assert snapshot["events"]["messages"] == 4
