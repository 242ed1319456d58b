"""The verifier's aiosmtpd handler behind a real SMTP server, with a sink as its relay.

A ``Controller`` on 127.0.0.1 runs :class:`VerifierHandler` (DNS from memory, a fake clock);
smtplib is the client; :class:`MailSink` is the relay and keeps the reports.
"""

from __future__ import annotations

import json
import smtplib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller

from spfkit.lookup import MemoryResolver
from spfkit.responder.handler import (
    RateLimit,
    RateLimiter,
    VerifierConfig,
    VerifierHandler,
    header_excerpt,
    report_target,
)
from tests.fixtures.ports import free_port

from .sink import MailSink

HOST = "verifier.example"
ZONE = {
    "pass.example": {"TXT": "v=spf1 ip4:127.0.0.1 -all"},
    "fail.example": {"TXT": "v=spf1 -all"},
    "other.example": {"TXT": "v=spf1 ip4:127.0.0.1 -all"},
    "*.flood.example": {"TXT": "v=spf1 ip4:127.0.0.1 -all"},
    "client.pass.example": {"TXT": "v=spf1 a -all", "A": "127.0.0.1"},
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Verifier:
    port: int
    sink: MailSink
    clock: Clock
    handler: VerifierHandler

    def client(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP("127.0.0.1", self.port, local_hostname="client.pass.example",
                            timeout=20)
        smtp.ehlo()
        return smtp

    def send(self, mail_from: str, rcpt: str = f"check-auth@{HOST}", headers: str = "",
             body: str = "") -> dict[str, tuple[int, bytes]]:
        data = (f"From: Alice <alice@pass.example>\r\nTo: {rcpt}\r\nSubject: test\r\n"
                f"Message-ID: <m1@pass.example>\r\n{headers}\r\n{body}")
        with self.client() as smtp:
            return smtp.sendmail(mail_from, [rcpt], data)


@pytest.fixture
def verifier() -> Iterator[Verifier]:
    with MailSink() as sink:
        clock = Clock()
        config = VerifierConfig(hostname=HOST, relay=("127.0.0.1", sink.port),
                                rate=RateLimit(2, 3600.0), global_rate=RateLimit(20, 3600.0),
                                max_size=20_000)
        handler = VerifierHandler(config, resolver=MemoryResolver(ZONE), clock=clock,
                                  linter=None)
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, server_hostname=HOST,
                                data_size_limit=config.max_size, enable_SMTPUTF8=False)
        controller.start()
        try:
            yield Verifier(port, sink, clock, handler)
        finally:
            controller.stop()


def test_report_comes_back_as_a_proper_mime_message(verifier: Verifier) -> None:
    verifier.send("alice@pass.example", headers="References: <r0@x.example>\r\n")
    [delivered] = verifier.sink.wait_for("alice@pass.example")
    assert delivered.mail_from == "<>"  # RFC 3834 §3: replies come from the null path
    msg = delivered.message
    assert msg["From"] == f"spfkit verifier <check-auth@{HOST}>"
    assert msg["To"] == "alice@pass.example"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["In-Reply-To"] == "<m1@pass.example>"
    assert msg["References"] == "<r0@x.example> <m1@pass.example>"
    assert msg["Subject"] == "Authentication report: mfrom=pass, helo=pass, pra=pass"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/rfc822-headers",
                                                     "application/json"]
    text = parts[0].get_content()
    assert "client IP  127.0.0.1" in text and "from the SMTP session" in text
    assert "HELO name  client.pass.example" in text
    header = parts[1].get_content()
    assert "Message-ID: <m1@pass.example>" in header and "From: Alice <alice@pass.example>" in header
    assert "Subject" not in header  # an excerpt: nothing a sender could carry a message in
    data = json.loads(parts[2].get_content())
    assert {k: data[k]["result"] for k in ("mfrom", "helo", "pra")} == {
        "mfrom": "pass", "helo": "pass", "pra": "pass"}
    assert data["ip"] == {"value": "127.0.0.1", "source": "session"}


def test_report_to_check_auth_user_equals_domain(verifier: Verifier) -> None:
    verifier.send("alice@pass.example", rcpt=f"check-auth-postmaster=pass.example@{HOST}")
    [delivered] = verifier.sink.wait_for("postmaster@pass.example")
    data = json.loads(list(delivered.message.iter_parts())[2].get_content())
    assert data["mfrom"]["result"] == "pass" and data["mfrom"]["identity"] == "alice@pass.example"
    assert verifier.sink.box("alice@pass.example") == []


def test_check_auth_user_at_another_domain_is_refused(verifier: Verifier) -> None:
    with verifier.client() as smtp:
        smtp.mail("alice@pass.example")
        code, reply = smtp.rcpt(f"check-auth-victim=other.example@{HOST}")
    assert (code, reply[:5]) == (550, b"5.7.1")
    assert b"own domain" in reply
    assert verifier.sink.all() == []


def test_a_sender_failing_spf_gets_no_report(verifier: Verifier) -> None:
    with verifier.client() as smtp:
        smtp.mail("mallory@fail.example")
        smtp.rcpt(f"check-auth@{HOST}")
        code, reply = smtp.data(b"From: m@fail.example\r\n\r\nhi\r\n")
    assert (code, reply[:5]) == (250, b"2.0.0")
    assert b"no report sent" in reply and b"does not pass SPF (fail)" in reply
    assert verifier.sink.all() == []


def test_a_flood_from_many_domains_sends_at_most_the_global_limit(verifier: Verifier) -> None:
    for n in range(1000):
        mail_from = f"u@d{n}.flood.example"
        with verifier.client() as smtp:
            smtp.mail(mail_from)
            code, _ = smtp.rcpt(f"check-auth@{HOST}")
            if code == 250:
                smtp.data(b"From: u@x.flood.example\r\n\r\nhi\r\n")
    assert len(verifier.sink.all()) == 20  # the global limit of the fixture
    # the flood pushed no domain's history out: pass.example still has its own two tokens only
    verifier.clock.now += 3600  # the global bucket refills; the flood's domains too
    verifier.send("a@pass.example")
    verifier.send("b@pass.example")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        verifier.send("c@pass.example")


def test_other_addresses_are_refused_at_rcpt(verifier: Verifier) -> None:
    with verifier.client() as smtp:
        smtp.mail("alice@pass.example")
        code, reply = smtp.rcpt(f"postmaster@{HOST}")
        assert (code, reply[:5]) == (550, b"5.1.1")
        assert smtp.rcpt("check-auth@elsewhere.example")[0] == 550
        assert smtp.rcpt(f"check-auth-nouser@{HOST}")[0] == 550
        assert smtp.rcpt(f"check-authx@{HOST}")[0] == 550
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        verifier.send("alice@pass.example", rcpt=f"someone@{HOST}")
    assert verifier.sink.all() == []


def test_one_recipient_per_message(verifier: Verifier) -> None:
    with verifier.client() as smtp:
        smtp.mail("alice@pass.example")
        assert smtp.rcpt(f"check-auth@{HOST}")[0] == 250
        code, reply = smtp.rcpt(f"check-auth-bob=pass.example@{HOST}")
        assert (code, reply[:5]) == (452, b"4.5.3")


def test_size_is_advertised_and_enforced(verifier: Verifier) -> None:
    with verifier.client() as smtp:
        assert smtp.esmtp_features["size"] == "20000"
    with pytest.raises(smtplib.SMTPSenderRefused) as err:  # smtplib sends SIZE=... itself
        verifier.send("alice@pass.example", body="x" * 30_000)
    assert err.value.smtp_code == 552
    with verifier.client() as smtp:  # without SIZE=, the data itself is too much
        smtp.mail("alice@pass.example")
        smtp.rcpt(f"check-auth@{HOST}")
        code, _ = smtp.data(b"Subject: big\r\n\r\n" + (b"y" * 70 + b"\r\n") * 500)
        assert code == 552
    assert verifier.sink.all() == []


@pytest.mark.parametrize(("mail_from", "headers", "why"), [
    ("", "", b"null reverse-path"),
    ("alice@pass.example", "Auto-Submitted: auto-generated\r\n", b"automatic"),
    ("alice@pass.example", "Auto-Submitted: auto-replied; owner-email=x@y\r\n", b"automatic"),
    ("alice@pass.example", "List-Id: <list.pass.example>\r\n", b"mailing list"),
    ("alice@pass.example", "List-Unsubscribe: <mailto:u@pass.example>\r\n", b"mailing list"),
    ("alice@pass.example", "Precedence: bulk\r\n", b"bulk"),
    ("alice@pass.example", "Precedence: junk\r\n", b"bulk"),
    (f"check-auth@{HOST}", "", b"itself"),
])
def test_no_report_but_the_mail_is_accepted(verifier: Verifier, mail_from: str, headers: str,
                                            why: bytes) -> None:
    with verifier.client() as smtp:
        smtp.mail(mail_from)
        assert smtp.rcpt(f"check-auth@{HOST}")[0] == 250
        code, reply = smtp.data(f"From: a@pass.example\r\n{headers}\r\nhi\r\n".encode())
    assert code == 250 and b"no report" in reply and why in reply
    assert verifier.sink.all() == []


def test_auto_submitted_no_still_gets_a_report(verifier: Verifier) -> None:
    verifier.send("alice@pass.example", headers="Auto-Submitted: no\r\n")
    verifier.sink.wait_for("alice@pass.example")


def test_rate_limit_per_sender_domain(verifier: Verifier) -> None:
    verifier.send("a@pass.example")
    verifier.send("b@pass.example")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as err:
        verifier.send("c@pass.example")
    [(code, reply)] = err.value.recipients.values()
    assert (code, reply[:5]) == (450, b"4.7.1")
    verifier.send("d@other.example")  # another domain has its own bucket
    verifier.clock.now += 1800  # half the period: one token back
    verifier.send("e@pass.example")
    assert sorted(d.rcpt for d in verifier.sink.all()) == [
        "a@pass.example", "b@pass.example", "d@other.example", "e@pass.example"]


def test_relay_failure_is_a_temporary_error(verifier: Verifier) -> None:
    verifier.handler.send = _broken
    with verifier.client() as smtp:
        smtp.mail("alice@pass.example")
        smtp.rcpt(f"check-auth@{HOST}")
        code, reply = smtp.data(b"From: a@pass.example\r\n\r\nhi\r\n")
    assert (code, reply[:5]) == (451, b"4.3.0")


async def _broken(msg: object, rcpt: str) -> None:
    raise ConnectionRefusedError("relay down")


# -- pure parts ---------------------------------------------------------------------------------


def test_report_target() -> None:
    config = VerifierConfig(hostname=HOST)
    assert report_target(config, f"check-auth@{HOST}") == ""
    assert report_target(config, "Check-Auth@VERIFIER.example") == ""
    assert report_target(config, f"check-auth-jsmith=example.com@{HOST}") == "jsmith@example.com"
    assert report_target(config, f"check-auth-a=b=example.com@{HOST}") == "a=b@example.com"
    for bad in (f"check-auth-=example.com@{HOST}", f"check-auth-x=nodot@{HOST}",
                f"check-auth-x@{HOST}", "check-auth@other.example", "check-auth", f"x@{HOST}"):
        assert report_target(config, bad) is None, bad


@pytest.mark.parametrize(("text", "count", "period"), [
    ("5/1h", 5, 3600.0), ("10/30m", 10, 1800.0), ("3/60", 3, 60.0), ("1/1d", 1, 86400.0),
    (" 2 / 1.5h ", 2, 5400.0),
])
def test_rate_parse(text: str, count: int, period: float) -> None:
    assert RateLimit.parse(text) == RateLimit(count, period)


@pytest.mark.parametrize("text", ["", "5", "0/1h", "5/0", "x/1h", "5/1w", "-1/1h"])
def test_rate_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        RateLimit.parse(text)


def test_token_bucket() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimit(2, 100.0), clock, max_keys=3)
    assert limiter.take("a") and limiter.take("a") and not limiter.take("a")
    assert not limiter.available("a") and limiter.available("b")
    assert not limiter.take("b", "a") and limiter.available("b")  # all or nothing
    clock.now += 50  # one token back
    assert limiter.take("a") and not limiter.take("a")
    for key in "bcdef":
        limiter.take(key)
    assert len(limiter._buckets) <= 3


def test_many_keys_cannot_push_a_key_out_of_the_limiter() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimit(1, 100.0), clock, max_keys=10)
    assert limiter.take("victim.example") and not limiter.take("victim.example")
    for n in range(1000):  # 1,000 other domains, one report each
        limiter.take(f"d{n}.example")
    assert len(limiter._buckets) <= 10
    assert not limiter.take("victim.example")  # its spent token is still remembered
    clock.now += 100  # refilled: forgetting it now changes nothing
    assert limiter.take("victim.example")


def test_header_excerpt_is_short_and_carries_no_message() -> None:
    fields = [("Received", "from a (a [192.0.2.1]) by b"), ("Received", "from older hop"),
              ("Subject", "BUY NOW"), ("From", "x" * 5000 + "@pass.example"),
              *[("Resent-From", f"r{n}@pass.example") for n in range(500)],
              ("X-Spam", "payload")]
    text = header_excerpt(fields)
    assert len(text.encode()) <= 1024
    assert "from a (a [192.0.2.1]) by b" in text and "older hop" not in text
    assert "BUY NOW" not in text and "payload" not in text
    assert all(len(line) <= 230 for line in text.splitlines())
