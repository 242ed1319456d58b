"""The report (pure): Received:/Return-Path: parsing, sections, text and JSON."""

from __future__ import annotations

import ast
import asyncio
import json
from pathlib import Path

import pytest

from spfkit.lint.findings import Finding, Severity
from spfkit.lookup import MemoryResolver
from spfkit.responder.received import (
    Origin,
    ReceivedFrom,
    Source,
    envelope_from_fields,
    parse_received,
    parse_return_path,
)
from spfkit.responder.report import Report, as_json, render_text
from spfkit.responder.verify import verify_message
from spfkit.senderid import header_fields

SRC = Path(__file__).resolve().parents[2] / "src" / "spfkit"

ZONE = {
    "example.com": {"TXT": "v=spf1 ip4:192.0.2.25 -all"},
    "mail.example.com": {"TXT": "v=spf1 a -all", "A": "192.0.2.25"},
    "news.example.com": {"TXT": "v=spf1 include:_spf.provider.example ~all"},
    "_spf.provider.example": {"TXT": "v=spf1 ip4:198.51.100.0/24 -all"},
    "broken.example": {"TXT": "v=spf1 ip4:192.0.2.300 -all"},
    "nothing.example": {"A": "192.0.2.99"},
    "scoped.example": {"TXT": ["v=spf1 -all", "spf2.0/mfrom,pra ip4:192.0.2.25 -all"]},
}

MESSAGE = (
    b"Return-Path: <alice@example.com>\r\n"
    b"Received: from mail.example.com (mail.example.com [192.0.2.25])\r\n"
    b"\tby mx.example.org (Postfix) with ESMTPS id 4QxYz1abc\r\n"
    b"\tfor <bob@example.org>; Tue, 24 Nov 2026 10:15:02 +0100\r\n"
    b"From: Alice <alice@example.com>\r\n"
    b"Subject: hello\r\n\r\nbody\r\n"
)


# -- Received: and Return-Path: -------------------------------------------------------------


@pytest.mark.parametrize(("value", "helo", "ip"), [
    ("from helo.example (rdns.example [192.0.2.1]) by mx.example (Postfix) with ESMTP id A; d",
     "helo.example", "192.0.2.1"),
    ("from helo.example (unknown [IPv6:2001:db8::1])\r\n\tby mx.example with ESMTPS; d",
     "helo.example", "2001:db8::1"),
    ("from rdns.example ([192.0.2.1] helo=helo.example) by mx with esmtp (Exim 4.96)",
     "helo.example", "192.0.2.1"),
    ("from rdns.example ([192.0.2.1]:34567 helo=helo.example) by mx with esmtp",
     "helo.example", "192.0.2.1"),
    ("from unknown (HELO helo.example) (192.0.2.1) by mx.example with SMTP; d",
     "helo.example", "192.0.2.1"),
    ("from EUR01.prod.outlook.com (40.107.13.94) by X.outlook.com (10.0.0.1) with Microsoft SMTP",
     "EUR01.prod.outlook.com", "40.107.13.94"),
    ("from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41]) by mx.google.com",
     "mail-sor-f41.google.com", "209.85.220.41"),
    ("from [192.0.2.7] (unknown [192.0.2.7]) by mx.example", "[192.0.2.7]", "192.0.2.7"),
    ("from helo.example (by-name.example [192.0.2.1]) by mx; d", "helo.example", "192.0.2.1"),
    ("from helo.example by mx.example; d", "helo.example", None),
])
def test_parse_received(value: str, helo: str, ip: str | None) -> None:
    assert parse_received(value) == ReceivedFrom(helo=helo, ip=ip)


def test_received_without_from_clause() -> None:
    assert parse_received("by mail.example.com (Postfix, from userid 1000) id 1; date") is None


@pytest.mark.parametrize(("value", "address"), [
    ("<alice@example.com>", "alice@example.com"), ("<>", ""), (" <> (bounce)", ""),
    ("alice@example.com", "alice@example.com"),
])
def test_parse_return_path(value: str, address: str) -> None:
    assert parse_return_path(value) == address


def test_envelope_takes_the_topmost_fields_and_options_win() -> None:
    fields = header_fields(b"Return-Path: <new@example.com>\r\nReceived: from top.example "
                           b"(x [192.0.2.1]) by a; d\r\nReceived: from old.example (y [192.0.2.2])"
                           b" by b; d\r\nReturn-Path: <old@example.com>\r\n\r\n")
    env = envelope_from_fields(fields)
    assert (env.ip.value, env.ip.source) == ("192.0.2.1", Source.RECEIVED)  # type: ignore[union-attr]
    assert (env.helo.value, env.helo.source) == ("top.example", Source.RECEIVED)  # type: ignore[union-attr]
    assert env.ip.header is env.client and env.client.hop.index == 1  # type: ignore[union-attr]
    assert env.ip.description == "the topmost Received: header"  # type: ignore[union-attr]
    assert env.mail_from == Origin("new@example.com", Source.RETURN_PATH)
    env = envelope_from_fields(fields, ip="198.51.100.1", mail_from="")
    assert env.ip == Origin("198.51.100.1", Source.OPTION)
    assert env.mail_from == Origin("", Source.OPTION)
    assert envelope_from_fields([("Subject", "x")]).ip is None


# -- the report -----------------------------------------------------------------------------


def run(message: bytes, *, ip: str | None = None, helo: str | None = None,
        mail_from: str | None = None, linter=None) -> Report:
    fields = header_fields(message)
    env = envelope_from_fields(fields, ip=ip, helo=helo, mail_from=mail_from)
    assert env.ip and env.helo and env.mail_from
    return asyncio.run(verify_message(fields, ip=env.ip, helo=env.helo, mail_from=env.mail_from,
                                      resolver=MemoryResolver(ZONE), receiver="verifier.example",
                                      linter=linter))


def test_all_pass() -> None:
    report = run(MESSAGE)
    assert [(c.name, c.result.result.value, c.identity) for c in report.checks] == [
        ("mfrom", "pass", "alice@example.com"),
        ("helo", "pass", "mail.example.com"),
        ("pra", "pass", "alice@example.com"),
    ]
    mfrom = report.check("mfrom")
    assert [h.name for h in mfrom.headers] == ["Received-SPF", "Authentication-Results"]
    assert str(mfrom.headers[0]).startswith("Received-SPF: pass (verifier.example: ")
    assert "identity=mailfrom;" in str(mfrom.headers[0])
    assert str(report.check("helo").headers[1]).endswith("spf=pass smtp.helo=mail.example.com")
    assert str(report.check("pra").headers[0]) == (
        "Authentication-Results: verifier.example; sender-id=pass header.from=alice@example.com")
    assert [(r.domain, r.text) for r in mfrom.records] == [
        ("example.com", "v=spf1 ip4:192.0.2.25 -all")]
    assert report.ip.source is Source.RECEIVED and report.mail_from.source is Source.RETURN_PATH


def test_fail_none_and_records_of_includes() -> None:
    report = run(MESSAGE.replace(b"From: Alice <alice@example.com>", b"From: n@news.example.com"),
                 mail_from="x@nothing.example", helo="mail.example.com", ip="203.0.113.9")
    assert report.check("mfrom").result.result.value == "none"
    assert [(r.domain, r.text) for r in report.check("mfrom").records] == [
        ("nothing.example", None)]
    assert report.check("helo").result.result.value == "fail"
    pra = report.check("pra")
    assert pra.result.result.value == "softfail"
    assert [(r.domain, r.depth) for r in pra.records] == [("news.example.com", 0),
                                                          ("_spf.provider.example", 1)]
    text = render_text(report)
    assert "(no SPF record)" in text and '_spf.provider.example: "v=spf1' in text
    assert "from the command line" in text


def test_no_pra() -> None:
    report = run(MESSAGE.replace(b"From: Alice <alice@example.com>",
                                 b"From: a@example.com, b@example.com"))
    pra = report.check("pra")
    assert pra.identity is None and pra.result.result.value == "permerror"
    assert pra.reason is not None and "2 mailboxes" in pra.reason
    assert str(pra.headers[0]).startswith("Authentication-Results: verifier.example; "
                                          "sender-id=permerror reason=")
    out = as_json(report)
    assert out["pra"]["identity"] is None and "2 mailboxes" in out["pra"]["reason"]
    assert out["pra"]["step"] == 6
    text = render_text(report)
    assert "(no PRA)" in text and "2 mailboxes" in text


def test_null_sender_checks_postmaster_at_helo() -> None:
    report = run(MESSAGE, mail_from="")
    mfrom = report.check("mfrom")
    assert mfrom.identity == "postmaster@mail.example.com" and mfrom.domain == "mail.example.com"
    assert "null reverse-path" in mfrom.source
    assert "envelope-from=\"\";" in str(mfrom.headers[0])


def test_permerror_problem_and_meaning() -> None:
    report = run(MESSAGE, mail_from="a@broken.example")
    mfrom = report.check("mfrom")
    assert mfrom.result.result.value == "permerror" and mfrom.result.problem
    assert "§8.7" in mfrom.meaning and "broken.example" in mfrom.meaning
    assert "problem:" in render_text(report)


def test_spf_is_rfc7208_and_sender_id_mfrom_is_shown_beside_it() -> None:
    # scoped.example: "v=spf1 -all" and "spf2.0/mfrom,pra ip4:192.0.2.25 -all"
    report = run(MESSAGE, mail_from="a@scoped.example")
    mfrom = report.check("mfrom")
    assert mfrom.result.result.value == "fail"  # RFC 7208: v=spf1 only, what DMARC uses
    assert mfrom.senderid is not None and mfrom.senderid.result.value == "pass"  # RFC 4406
    assert str(mfrom.headers[0]).startswith("Received-SPF: fail")
    assert "spf=fail" in str(mfrom.headers[1])
    assert [(r.domain, r.text) for r in mfrom.records] == [("scoped.example", "v=spf1 -all")]
    assert "RFC 7208 §8.4" in mfrom.meaning and "DMARC" not in mfrom.meaning
    out = as_json(report)["mfrom"]
    assert out["result"] == "fail" and out["rfc7208"]["result"] == "fail"
    assert out["records"] == [{"domain": "scoped.example", "record": "v=spf1 -all", "depth": 0}]
    assert out["senderid"]["result"] == "pass" and out["senderid"]["same"] is False
    assert out["senderid"]["records"] == [{"domain": "scoped.example", "depth": 0,
                                           "record": "spf2.0/mfrom,pra ip4:192.0.2.25 -all"}]
    text = render_text(report)
    assert "\nmfrom: fail\n" in text and "  mfrom  fail       a@scoped.example\n" in text
    assert "pass       (Sender ID mfrom scope, RFC 4406 §4; SPF is the line above)" in text
    assert "Sender ID:  pass for receivers that apply Sender ID's mfrom scope" in text
    assert 'records fetched:\n    scoped.example: "v=spf1 -all"\n' in text
    assert ('records fetched by Sender ID (mfrom scope):\n'
            '    scoped.example: "spf2.0/mfrom,pra ip4:192.0.2.25 -all"\n') in text
    assert "DMARC can use" not in text.partition("\nmfrom: fail\n")[2].partition("\nhelo:")[0]
    # the same records: nothing extra is shown
    plain = run(MESSAGE)
    assert plain.check("mfrom").senderid is None
    assert as_json(plain)["mfrom"]["senderid"]["same"] is True
    assert "Sender ID:  " not in render_text(plain)
    assert "DMARC can use it" in plain.check("mfrom").meaning


def test_json_shape() -> None:
    out = as_json(run(MESSAGE))
    json.dumps(out)  # serialisable
    for key in ("mfrom", "helo", "pra"):
        assert {"result", "identity", "headers", "records", "meaning", "source"} <= set(out[key])
    assert out["pra"]["reason"] is None and out["pra"]["header"] == "From"
    assert out["ip"] == {"value": "192.0.2.25", "source": "received", "header": {
        "index": 1, "count": 1, "by": "mx.example.org",
        "from": "mail.example.com (mail.example.com [192.0.2.25])", "passed": []}}
    assert out["mail_from"] == {"value": "alice@example.com", "source": "return-path"}
    assert out["lint"] == {} and out["lint_errors"] == {}


def test_lint_findings_per_domain_and_errors() -> None:
    finding = Finding("SPF-W999", Severity.WARNING, "something odd", "7208 §4.6", "do better",
                      domain="example.com", term="ip4:192.0.2.25")
    calls: list[str] = []

    async def linter(domain: str, resolver: object) -> list[Finding]:
        calls.append(domain)
        if domain == "mail.example.com":
            raise RuntimeError("boom")
        return [finding]

    report = run(MESSAGE, linter=linter)
    assert calls == ["example.com", "mail.example.com"]  # once per domain, in order
    assert report.findings == (("example.com", (finding,)),)
    assert report.lint_errors == (("mail.example.com", "RuntimeError: boom"),)
    text = render_text(report)
    assert "warning SPF-W999 (ip4:192.0.2.25): something odd [RFC 7208 §4.6]" in text
    assert "fix: do better" in text and "mail.example.com: not linted" in text
    assert as_json(report)["lint"]["example.com"][0]["code"] == "SPF-W999"


def test_hostile_values_are_shown_escaped() -> None:
    report = run(MESSAGE.replace(b"From: Alice <alice@example.com>",
                                 b'From: "\x1b[2J"@example.com'))
    text = render_text(report)
    assert "\x1b" not in text and "\\x1b" in text


def test_text_layout() -> None:
    text = render_text(run(MESSAGE))
    assert text.startswith("Authentication report from verifier.example\n")
    for part in ("client IP", "from the topmost Received: header", "from the Return-Path: header",
                 "from the From: header (RFC 4407 §2)", "Summary:", "\nmfrom: pass\n",
                 "\nhelo: pass\n", "\npra: pass\n", "records fetched:",
                 "header a receiver would add:", "what it means:",
                 "Lint findings for the records involved"):
        assert part in text, part
    assert all(len(line) <= 100 for line in text.splitlines())


@pytest.mark.parametrize("module", ["responder/report.py", "responder/received.py",
                                    "responder/relays.py", "responder/ratelimit.py",
                                    "senderid/fields.py",
                                    "responder/advice.py", "senderid/pra.py",
                                    "senderid/mailbox.py"])
def test_pure_modules_touch_no_world(module: str) -> None:
    tree = ast.parse((SRC / module).read_text(encoding="utf-8"))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not {n for n in names if n.split(".")[0] in ("asyncio", "socket", "dns", "smtplib",
                                                        "aiosmtpd", "selectors", "ssl")}


def test_dmarc_is_named_only_where_it_applies() -> None:
    """RFC 7489 §4.1: DMARC uses the SPF result of MAIL FROM (of HELO for an empty MAIL
    FROM) and never Sender ID's: a pass says so per check."""
    from spfkit.responder.advice import meaning
    from spfkit.results import Result

    assert "DMARC can use it" in meaning("mfrom", Result.PASS, "a@example.com", "example.com")
    assert "only for mail with an empty MAIL FROM" in meaning("helo", Result.PASS, "h.example", "h.example")
    assert "does not use Sender ID" in meaning("pra", Result.PASS, "a@example.com", "example.com")
    assert "DMARC" not in meaning("mfrom", Result.FAIL, "a@example.com", "example.com")
