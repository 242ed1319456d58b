"""The verifier on awkward input, over a real SMTP session (the fixture of test_handler.py).

Headers that are not UTF-8, obsolete header syntax (RFC 5322 §4.5), report addresses the
stdlib cannot parse, RFC 3834 §5 comments, and a handler that fails: the client always
gets a proper reply, never aiosmtpd's ``500 Error: (...)`` with internal text.
"""

from __future__ import annotations

import json
import logging

import pytest

from tests.responder.test_handler import HOST, Verifier


def _data(verifier: Verifier, mail_from: str, data: bytes,
          rcpt: str = f"check-auth@{HOST}") -> tuple[int, bytes]:
    with verifier.client() as smtp:
        smtp.mail(mail_from)
        code, reply = smtp.rcpt(rcpt)
        assert code == 250, reply
        return smtp.data(data)


def _parts(verifier: Verifier, box: str) -> tuple[str, str, dict]:
    [delivered] = verifier.sink.wait_for(box)
    text, header, data = (p.get_content() for p in delivered.message.iter_parts())
    return text, header, json.loads(data)


@pytest.mark.parametrize("header", [
    b"From: J\xf6rg <alice@pass.example>\r\n",
    b"Return-Path: <a\xff@pass.example>\r\nFrom: alice@pass.example\r\n",
    b"Received: from h\xfe.example (h [192.0.2.1]) by mx\xfd.example.org; d\r\n"
    b"From: alice@pass.example\r\n",
    b"From: alice@pass.example\r\nMessage-ID: <m\xe9@pass.example>\r\n",
])
def test_octets_that_are_not_utf8_are_reported_escaped(verifier: Verifier,
                                                       header: bytes) -> None:
    code, reply = _data(verifier, "alice@pass.example", header + b"Subject: x\r\n\r\nhi\r\n")
    assert (code, reply) == (250, b"2.0.0 report sent to <alice@pass.example>")
    text, excerpt, data = _parts(verifier, "alice@pass.example")
    octet = next(b for b in header if b >= 0x80)
    assert f"\\udc{octet:02x}" in excerpt  # the excerpt shows the octet escaped
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in excerpt + text)
    assert data["mfrom"]["result"] == "pass"


def test_a_latin1_display_name_is_escaped_in_the_report_text(verifier: Verifier) -> None:
    _data(verifier, "alice@pass.example", b"From: J\xf6rg <alice@pass.example>\r\n\r\nhi\r\n")
    _, excerpt, data = _parts(verifier, "alice@pass.example")
    assert "From: J\\udcf6rg <alice@pass.example>" in excerpt
    assert data["pra"]["identity"] == "alice@pass.example"


def test_a_field_with_space_before_the_colon_is_read(verifier: Verifier) -> None:
    # RFC 5322 §4.5.2 obs-sender: "Sender" *WSP ":"; the PRA is the Sender (RFC 4407 §2 step 3)
    _data(verifier, "alice@pass.example",
          b"Received: x\r\nSender : s@fail.example\r\nFrom: alice@pass.example\r\n\r\nhi\r\n")
    _, excerpt, data = _parts(verifier, "alice@pass.example")
    assert (data["pra"]["identity"], data["pra"]["header"]) == ("s@fail.example", "Sender")
    assert data["pra"]["result"] == "fail"
    assert "Sender: s@fail.example" in excerpt and "From: alice@pass.example" in excerpt


def test_a_second_from_written_obsolete_leaves_no_pra(verifier: Verifier) -> None:
    _data(verifier, "alice@pass.example",
          b"From: alice@pass.example\r\nFrom : b@fail.example\r\n\r\nhi\r\n")
    _, _, data = _parts(verifier, "alice@pass.example")
    assert data["pra"]["result"] == "permerror" and data["pra"]["step"] == 6
    assert "2 From: headers" in data["pra"]["reason"]


@pytest.mark.parametrize("later", [b"Auto-Submitted : auto-generated\r\n",
                                   b"List-Id : <l.pass.example>\r\n"])
def test_automatic_mail_is_seen_after_an_obsolete_field(verifier: Verifier, later: bytes) -> None:
    code, reply = _data(verifier, "alice@pass.example",
                        b"Sender : alice@pass.example\r\nFrom: alice@pass.example\r\n" + later
                        + b"\r\nhi\r\n")
    assert code == 250 and b"no report sent" in reply
    assert verifier.sink.all() == []


@pytest.mark.parametrize("value", ["NO (human)", "(sent by a person) no", "No ; x=y",
                                   "no (a (nested) comment)"])
def test_auto_submitted_no_with_comments_is_not_automatic(verifier: Verifier,
                                                          value: str) -> None:
    code, reply = _data(verifier, "alice@pass.example",
                        f"From: alice@pass.example\r\nAuto-Submitted: {value}\r\n\r\nhi\r\n"
                        .encode())
    assert (code, reply) == (250, b"2.0.0 report sent to <alice@pass.example>")


@pytest.mark.parametrize("value", ["auto-generated (no)", "no (unclosed", "Auto-Replied"])
def test_auto_submitted_other_than_no_is_automatic(verifier: Verifier, value: str) -> None:
    code, reply = _data(verifier, "alice@pass.example",
                        f"From: alice@pass.example\r\nAuto-Submitted: {value}\r\n\r\nhi\r\n"
                        .encode())
    assert code == 250 and b"automatic" in reply
    assert verifier.sink.all() == []


@pytest.mark.parametrize("user", ["a=pass.example.", "a.=pass.example", "a..b=pass.example",
                                  ".a=pass.example"])
def test_an_unusable_report_address_is_refused_at_rcpt(verifier: Verifier, user: str) -> None:
    with verifier.client() as smtp:
        smtp.mail("alice@pass.example")
        code, reply = smtp.rcpt(f"check-auth-{user}@{HOST}")
    assert (code, reply[:5]) == (550, b"5.1.3")
    assert b"not an address a report can go to" in reply
    assert verifier.sink.all() == []


def test_an_exception_in_data_is_a_temporary_error_with_a_logged_traceback(
        verifier: Verifier, caplog: pytest.LogCaptureFixture) -> None:
    verifier.handler.send = _exploding  # the relay seam raises something unexpected
    with caplog.at_level(logging.ERROR, logger="spfkit.verifier"):
        code, reply = _data(verifier, "alice@pass.example",
                            b"From: alice@pass.example\r\n\r\nhi\r\n")
    assert (code, reply[:5]) == (451, b"4.3.0")
    assert b"secret" not in reply and b"Error" not in reply
    [record] = [r for r in caplog.records if r.exc_info]
    assert "secret internal detail" in str(record.exc_info[1])


async def _exploding(msg: object, rcpt: str) -> None:
    raise RuntimeError("secret internal detail")
