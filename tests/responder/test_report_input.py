"""The report (pure) of a header with octets that are not UTF-8: JSON text is UTF-8."""

from __future__ import annotations

import json

from spfkit.responder.report import as_json, json_text, render_text
from tests.responder.test_report import MESSAGE, run


def test_json_escapes_octets_that_are_not_utf8_as_the_text_does() -> None:
    message = (MESSAGE.replace(b"by mx.example.org", b"by mx\xfd.example.org")
               .replace(b"From: Alice <alice@example.com>", b"From: J\xf6rg <alice@example.com>"))
    report = run(message, mail_from=b"a\xff@example.com".decode("utf-8", "surrogateescape"))
    text = json_text(report)
    text.encode("utf-8")  # no lone surrogate left: RFC 8259 §8.1
    out = json.loads(text)
    assert out == as_json(report)
    assert out["ip"]["header"]["by"] == "mx\\udcfd.example.org"
    assert out["mfrom"]["identity"] == "a\\udcff@example.com"
    assert out["mail_from"]["value"] == "a\\udcff@example.com"
    assert "<a\\udcff@example.com>" in render_text(report)  # the same escape
