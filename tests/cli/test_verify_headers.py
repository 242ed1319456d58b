"""``spfkit verify`` on awkward headers: octets that are not UTF-8, obsolete syntax.

JSON text is UTF-8 (RFC 8259 §8.1): the real process's output must decode strictly, with
each such octet escaped as the text report shows it.  RFC 5322 §4.5 fields (``Sender :``)
are fields, as MTAs give them to the milter.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import spfkit, spfkit_process

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ZONE = str(ROOT / "examples" / "example.zone")

BINARY = (b"Return-Path: <a\xff@news.example.com>\r\n"
          b"Received: from h\xfe.example (h.example [198.51.100.20])\r\n"
          b"\tby mx\xfd.example.org (Postfix) with ESMTP id 1; Tue, 24 Nov 2026 09:30:02 +0000\r\n"
          b"From: J\xf6rg <news@example.com>\r\n"
          b"Message-ID: <m\xe9@news.example.com>\r\n\r\nbody\r\n")


def _strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def test_json_of_a_message_with_octets_that_are_not_utf8_is_valid_utf8(tmp_path: Path) -> None:
    message = tmp_path / "bin.eml"
    message.write_bytes(BINARY)
    proc = spfkit_process("verify", str(message), "--zone", EXAMPLE_ZONE, "--json",
                          "--receiver", "mx.example.org")  # decodes stdout strictly
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for s in _strings(out) for c in s)
    assert out["ip"]["header"]["by"] == "mx\\udcfd.example.org"
    assert out["ip"]["header"]["from"].startswith("h\\udcfe.example (")
    assert out["helo_name"]["value"] == "h\\udcfe.example"
    assert out["mail_from"]["value"] == "a\\udcff@news.example.com"
    assert out["mfrom"]["identity"] == "a\\udcff@news.example.com"
    assert out["helo"]["identity"] == out["helo"]["domain"] == "h\\udcfe.example"
    assert "h\\udcfe.example" in out["lint"]
    # the same escapes as the text report, lint findings included (stdout decoded strictly)
    text = spfkit_process("verify", str(message), "--zone", EXAMPLE_ZONE, "--receiver",
                          "mx.example.org").stdout
    assert "HELO name  h\\udcfe.example" in text and "<a\\udcff@news.example.com>" in text
    assert "error SPF-E101: h\\udcfe.example does not exist" in text


@pytest.mark.parametrize(("header", "pra", "field"), [
    (b"Received: x\r\nSender : boss@example.com\r\nFrom: a@news.example.com\r\n",
     "boss@example.com", "Sender"),
    (b"From : news@example.com\r\n", "news@example.com", "From"),
])
def test_a_field_with_white_space_before_the_colon_is_read(header: bytes, pra: str,
                                                          field: str) -> None:
    out = _verify(header)
    assert (out["pra"]["identity"], out["pra"]["header"]) == (pra, field)


def test_two_from_fields_one_obsolete_leave_no_pra() -> None:
    out = _verify(b"From: news@example.com\r\nFrom : other@example.com\r\n")
    assert out["pra"]["identity"] is None and out["pra"]["step"] == 6
    assert "2 From: headers" in out["pra"]["reason"]


def test_fields_after_an_obsolete_one_are_read() -> None:
    out = _verify(b"Sender : news@example.com\r\n", received_last=True)
    assert out["ip"]["value"] == "198.51.100.20" and out["pra"]["header"] == "Sender"


def _verify(header: bytes, received_last: bool = False) -> dict:
    received = (b"Received: from out1.mailprovider.example (out1.mailprovider.example "
                b"[198.51.100.20]) by mx.example.org; Tue, 24 Nov 2026 09:30:02 +0000\r\n")
    top = b"Return-Path: <bounce@news.example.com>\r\n"
    data = top + (header + received if received_last else received + header) + b"\r\nbody\r\n"
    proc = spfkit("verify", "-", "--zone", EXAMPLE_ZONE, "--json", "--no-lint", stdin=data)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)
