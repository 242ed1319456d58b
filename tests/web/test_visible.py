"""What the pages show of text from DNS and from the user: every control, format or bidi
character as its escape (``\\x1b``, ``\\u202e``), as ``spfkit show`` and ``lint`` print it, while
the JSON API keeps the exact text; multi-line blocks keep their newlines.

Over ``tests/web/visible.zone`` (see its comments): ``utf.t.test`` has U+202E (RIGHT-TO-LEFT
OVERRIDE) before ``evil``, ``esc.t.test`` has ESC and BEL.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from spfkit.lookup import ZoneResolver
from spfkit.visible import HIDDEN
from tests.web.conftest import TestClient, make_client
from tests.web.test_pages import Page, get_page

ZONE = Path(__file__).resolve().parent / "visible.zone"
RECORDS = {
    "utf.t.test": ("v=spf1 ip4:192.0.2.9 -all \u202eevil", "v=spf1 ip4:192.0.2.9 -all \\u202eevil"),
    "esc.t.test": ("v=spf1 ip4:192.0.2.1\x1b[31mRED\x1b[0m \x07 -all",
                   "v=spf1 ip4:192.0.2.1\\x1b[31mRED\\x1b[0m \\x07 -all"),
}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return make_client(ZoneResolver(ZONE))


def hidden_in(text: str) -> set[str]:
    """The characters of ``text`` that a page must not show raw (``\\n`` is layout)."""
    return {c for c in text if unicodedata.category(c) in HIDDEN and c not in "\n"}


@pytest.mark.parametrize("domain", sorted(RECORDS))
def test_the_check_page_shows_the_record_escaped_everywhere(client: TestClient,
                                                            domain: str) -> None:
    raw, shown = RECORDS[domain]
    response = client.get("/check", params={"domain": domain})
    assert response.status_code == 200
    assert not hidden_in(response.text)
    page = Page(response.text)
    assert page.by_id("record").all_text() == shown
    assert [c.all_text() for c in page.select("code", "record")] == [f'"{shown}"']
    findings = page.select("li", "finding")
    assert findings
    for finding in findings:
        for part in ("message", "term"):
            for element in finding.walk():
                if part in element.classes:
                    assert not hidden_in(element.all_text())
    terms = " ".join(e.all_text() for f in findings for e in f.walk() if "term" in e.classes)
    assert "\\x1b" in terms or "\\u202e" in terms
    # the JSON keeps the record exactly as DNS has it
    assert client.get("/api/check", params={"domain": domain}).json()["record"] == raw


def test_the_test_page_shows_the_deciding_term_and_the_trace_escaped(client: TestClient) -> None:
    response = client.get("/test", params={"ip": "192.0.2.1", "sender": "alice@esc.t.test"})
    assert response.status_code == 200
    assert not hidden_in(response.text)
    page = Page(response.text)
    assert page.by_id("mechanism").all_text().startswith("ip4:192.0.2.1\\x1b[31mRED\\x1b[0m")
    trace = page.by_id("trace").all_text()
    assert '"v=spf1 ip4:192.0.2.1\\x1b[31mRED\\x1b[0m \\x07 -all"' in trace
    body = client.get("/api/test", params={"ip": "192.0.2.1", "sender": "alice@esc.t.test"}).json()
    assert body["mechanism"] == "ip4:192.0.2.1\x1b[31mRED\x1b[0m"


def test_the_flatten_page_shows_the_source_record_escaped(client: TestClient) -> None:
    response = client.get("/flatten", params={"domain": "utf.t.test"})
    assert response.status_code == 200
    assert not hidden_in(response.text)
    page = Page(response.text)
    assert page.by_id("source-record").all_text() == RECORDS["utf.t.test"][1]
    assert "\\u202e" in page.by_id("flatten-sentence").all_text()
    api = client.get("/api/flatten", params={"domain": "utf.t.test"}).json()
    assert api["source_record"] == RECORDS["utf.t.test"][0]


def test_a_nul_from_the_form_is_echoed_escaped(client: TestClient) -> None:
    response = client.get("/check", params={"domain": "exa\x00mple.com"})
    assert response.status_code == 422 and "\x00" not in response.text
    assert Page(response.text).by_id("domain").attrs["value"] == "exa\\x00mple.com"


def test_text_areas_and_zone_lines_keep_their_newlines() -> None:
    with make_client() as wizard:
        page = get_page(wizard, "/wizard", domain="example.com", mx="on",
                        ip4="192.0.2.1\r\n192.0.2.2", mail_hosts="mx1.example.com")
    assert page.by_id("ip4").all_text() == "192.0.2.1\n192.0.2.2"
    bind = page.by_id("bind-lines").all_text().split("\n")
    assert bind[0] == 'example.com. 3600 IN TXT "v=spf1 ip4:192.0.2.1 ip4:192.0.2.2 mx ~all"'
    assert bind[-1] == 'mx1.example.com. 3600 IN TXT "v=spf1 a -all"'
    assert len(page.by_id("tinydns-lines").all_text().split("\n")) == len(bind)
