"""Issue 15 items 1 and 7 over the API and the pages, in-process: the real §4.6.4 totals, the
verdict, DMARC, and the slot for the authorised address count.

Over ``tests/fixtures/issue15.zone`` (see its comments) and the bundled example zone.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from spfkit.lookup import ZoneResolver
from spfkit.view.verdict import AddressCount
from spfkit.web.check import check_domain, summary
from spfkit.web.limits import BudgetResolver
from spfkit.web.pages import make_templates
from tests.web.conftest import EXAMPLE_ZONE, make_client
from tests.web.test_pages import Page, get_page

ZONE = Path(__file__).resolve().parents[1] / "fixtures" / "issue15.zone"
OVER = "every receiver returns permerror for all mail"


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    return make_client(ZoneResolver(ZONE, EXAMPLE_ZONE))


def test_api_check_has_the_real_total_the_verdict_and_dmarc(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/check", params={"domain": "over.example"}).json()
    assert body["lookups"] == {"ipv4": 10, "ipv6": 10}  # what receivers count, as before
    gauge = body["budget"]["gauge"]
    assert gauge["lookups"]["text"] == "11/10" and gauge["level"] == "over"
    assert OVER in gauge["meaning"]
    assert body["budget"]["ipv4"]["lookups"]["needed"] == 11
    assert body["verdict"]["verdict"] == "everyone"
    assert body["verdict"]["sentence"].startswith("Broken for everyone: the record needs 11")
    # ip4:192.0.2.0/24, then h1–h5 (a.over.example) and h6–h8 (b.over.example) before the
    # 11th lookup (a:h9) ends the evaluation in permerror for every other client
    assert body["verdict"]["authorised_addresses"] == {"ipv4": 256 + 5 + 3, "ipv6": 5 + 3}
    assert body["dmarc"]["present"] is False and body["dmarc"]["name"] == "_dmarc.over.example"


def test_api_check_dmarc_policy(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/check", params={"domain": "fine.example"}).json()
    assert body["verdict"]["verdict"] == "fine"
    assert body["dmarc"] == {
        "name": "_dmarc.fine.example", "present": True, "policy": "reject",
        "record": "v=DMARC1; p=reject; rua=mailto:dmarc@fine.example",
        "text": "p=reject: receivers are asked to reject mail that fails DMARC", "level": "ok"}


def test_api_test_has_the_real_total(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/test", params={"ip": "203.0.113.7",
                                           "sender": "a@over.example"}).json()
    assert body["result"] == "permerror" and body["lookups"] == 10
    assert body["budget"]["lookups"]["text"] == "11/10" and OVER in body["budget"]["meaning"]


def test_check_page_verdict_gauge_and_dmarc(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/check", params={"domain": "v6broken.example"}).text
    page = Page(html)
    verdict = page.by_id("verdict")
    assert "verdict-some" in verdict.attrs["class"] and verdict.attrs["role"] == "status"
    assert page.by_id("verdict-headline").all_text() == "Will break for some receivers:"
    assert "all mail from IPv6 clients" in page.by_id("verdict-sentence").all_text()
    assert page.by_id("void-count").all_text() == "3/2 void lookups"
    assert "level-over" in page.by_id("void-count").attrs["class"]
    assert page.by_id("dmarc-policy").all_text().startswith("no DMARC record")
    assert "sample IPv6 client ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe (no record lists it)" in (
        page.by_id("sample-results").all_text())
    assert page.by_id("results").attrs["tabindex"] == "-1"
    assert "hidden" in page.by_id("expand-all").attrs  # JavaScript shows it


def test_address_count_renders_when_given() -> None:
    """The slot the compiled address map fills: shown only with a count."""
    zone = ZoneResolver(ZONE)

    async def run():  # type: ignore[no-untyped-def]
        return await check_domain("fine.example", BudgetResolver(zone, max_queries=100,
                                                                 deadline=10))

    found = asyncio.run(run())
    template = make_templates().env.get_template("check.html")

    def render(result) -> Page:  # type: ignore[no-untyped-def]
        view = result.view
        return Page(template.render(page="check", domain="fine.example", result=result,
                                    summary=summary(view), root=view.root, verdict=result.verdict,
                                    dmarc=result.dmarc, errors=[], invalid={}))

    # fine.example: ip4:192.0.2.0/24 ip6:2001:db8:5::/48 -all
    assert found.addresses == AddressCount(ipv4=256, ipv6=1 << 80)
    unknown = replace(found, addresses=None)
    assert "address-count" not in {e.attrs.get("id") for e in render(unknown).elements}
    counted = replace(found, addresses=AddressCount(ipv4=256, ipv6=1 << 80))
    assert counted.verdict.as_dict()["authorised_addresses"] == {"ipv4": 256, "ipv6": 1 << 80}
    assert render(counted).by_id("address-count").all_text() == (
        "fine.example's record authorises 256 IPv4 addresses and 2^80 IPv6 addresses.")


def test_wizard_invalid_submit_is_marked_stale(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/wizard", params={"domain": "example.org", "ip4": "192.0.2.300",
                                         "all": "fail", "ttl": "3600"}).text
    page = Page(html)
    assert "stale" in page.by_id("output").attrs["class"]
    assert "hidden" not in page.by_id("stale-notice").attrs
    assert all("disabled" in b.attrs for b in page.select("button", "copy"))
    fine = Page(client.get("/wizard", params={"domain": "example.org", "all": "fail"}).text)
    assert "hidden" in fine.by_id("stale-notice").attrs
    assert not any("disabled" in b.attrs for b in fine.select("button", "copy"))


def test_wizard_says_what_a_draft_over_the_limit_really_needs(client) -> None:  # type: ignore[no-untyped-def]
    page = get_page(client, "/wizard", domain="new.example", ip4="192.0.2.1", all="fail",
                    includes="a.over.example\r\nb.over.example")
    gauge = page.by_id("wizard-lookups")
    # 2 includes + 5 + 4 "a" terms: receivers stop counting at 10, the draft needs 11
    assert "needs 11/10 DNS lookups for IPv4 clients" in gauge.all_text()
    assert OVER in gauge.all_text() and "over" in gauge.attrs.get("class", "")
    body = client.post("/api/wizard", json={"domain": "new.example", "mx": False, "a": False,
                                            "ip4": ["192.0.2.1"], "ip6": [], "a_hosts": [],
                                            "mx_domains": [], "all": "fail",
                                            "includes": ["a.over.example", "b.over.example"]})
    assert body.status_code == 200, body.text
    assert body.json()["lookups"]["ipv4"] == 11
