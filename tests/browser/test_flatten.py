"""Issue 13's web part in a real browser: the checker's offer to flatten a tree over the limit,
the records, the lookup counts and the equivalence verdict (RFC 7208 §4.6.4).

``spfkit web --nameserver 127.0.0.1:PORT`` is started as users start it, against a real DNS
server on loopback (:class:`~tests.fixtures.dnsserver.ZoneDataServer`) serving
``tests/web/flatten_world.py``: ``big.example`` (11 includes of 12 networks, so chained
records), ``example.com`` (14 lookups through two provider chains, an ``exists`` kept),
``stuck.example`` (11 ``exists`` terms: cannot go below the limit), ``fine.example`` (1
lookup). This module's ``web_server`` replaces the session's, which serves zone files.
Screenshots go to ``artifacts/screenshots/<test>-<state>.png``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import WebServer, start_web_server
from tests.fixtures.dnsserver import ZoneDataServer
from tests.web.flatten_world import PROVIDERS, web_world

try:
    from playwright.sync_api import expect
except ModuleNotFoundError:  # the ``browser`` fixture fails every test with the install command
    expect = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from playwright.sync_api import Page

Shot = Callable[..., Path]
EQUIVALENT = ("the flattened records give the same result as {}'s tree for every IPv4 and "
              "IPv6 address")


@pytest.fixture(scope="module")
def dns() -> Iterator[ZoneDataServer]:
    with ZoneDataServer(web_world()) as server:
        yield server


@pytest.fixture(scope="module")
def web_server(dns: ZoneDataServer) -> Iterator[WebServer]:
    server = start_web_server("--nameserver", f"127.0.0.1:{dns.port}", "--timeout", "2",
                              "--rate-limit", "0", zones=False)
    yield server
    server.stop()


def check(page: Page, domain: str) -> None:
    page.goto("/check")
    page.fill("#domain", domain)
    with page.expect_navigation():
        page.click("#check-submit")


def use_offer(page: Page) -> None:
    with page.expect_navigation():
        page.click("#flatten-offer #flatten-submit")


def test_the_offer_flattens_an_over_limit_tree_into_chained_records(
        page: Page, shot: Shot, dns: ZoneDataServer) -> None:
    check(page, "big.example")
    expect(page.locator("#lookup-count")).to_have_text(f"{PROVIDERS}/10 DNS lookups")
    offer = page.locator("section#flatten-offer")
    expect(offer).to_be_visible()
    expect(offer.locator("h2")).to_have_text("Fix: flatten the tree")
    expect(offer.locator("#flatten-submit")).to_have_text("Flatten big.example")
    shot(page, "offer")
    use_offer(page)
    assert re.search(r"/flatten\?domain=big\.example$", page.url), page.url
    verdict = page.locator("#flatten-verdict")
    expect(verdict).to_have_class(re.compile(r"\boutcome-equivalent\b"))
    expect(verdict).to_contain_text("Equivalent: " + EQUIVALENT.format("big.example"))
    expect(page.locator("#lookups-before")).to_have_text(f"{PROVIDERS}/10 DNS lookups")
    after = page.locator("#lookups-after").inner_text()
    lookups = int(re.fullmatch(r"(\d+)/10 DNS lookups", after).group(1))  # type: ignore[union-attr]
    # the top record and one chained record per lookup: the chain is the only cost left
    names = page.locator("#record-list .record-name").all_inner_texts()
    assert names[0] == "big.example" and len(names) == lookups + 1, names
    assert all(re.fullmatch(r"_spf\d+\.big\.example", n) for n in names[1:]), names
    bind = page.locator("pre#flat-bind").inner_text().splitlines()
    assert [line.split()[0] for line in bind] == [f"{n}." for n in names]
    assert all(" 3600 IN TXT \"v=spf1 " in line for line in bind)
    text = page.locator("pre#flat-text").inner_text().splitlines()
    assert [line.split()[0] for line in text] == names
    expect(page.locator("#flatten-notes")).to_contain_text("Publish the chained records first")
    # the focus is on the result after the submit, as on the other pages
    assert page.evaluate("document.activeElement && document.activeElement.id") == "results"
    shot(page, "flattened")
    # the copy buttons copy what is shown
    for target in ("#flat-bind", "#flat-text", "#flat-tinydns"):
        page.click(f'button.copy[data-copy-target="{target}"]')
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.strip() == page.locator(f"pre{target}").inner_text().strip()


def test_keeping_an_include_shows_it_among_the_terms_kept_as_written(
        page: Page, shot: Shot) -> None:
    check(page, "example.com")
    expect(page.locator("#lookup-count")).to_have_text("14/10 DNS lookups")
    page.check("#flatten-offer input[value='_spf.p2.example']")
    use_offer(page)
    expect(page.locator("#flatten-verdict")).to_contain_text(EQUIVALENT.format("example.com"))
    expect(page.locator("#lookups-before")).to_have_text("14/10 DNS lookups")
    kept = page.locator("section#kept li")
    expect(kept).to_have_count(2)
    expect(kept.nth(0)).to_contain_text("include:_spf.p2.example")
    expect(kept.nth(1)).to_contain_text("exists:%{i}.wl.example.com")
    expect(kept.nth(1)).to_contain_text("exists depends on the client")
    top = page.locator("#record-list .record-text").first.inner_text().split()
    assert "include:_spf.p2.example" in top and "include:_spf.p1.example" not in top
    # the form again, with the choice still ticked: untick it and flatten again
    box = page.locator("#flatten-form input[value='_spf.p2.example']")
    expect(box).to_be_checked()
    shot(page, "kept")
    box.uncheck()
    with page.expect_navigation():
        page.click("#flatten-form #flatten-submit")
    expect(page.locator("section#kept li")).to_have_count(1)
    expect(page.locator("#lookups-after")).to_have_text("1/10 DNS lookups")


def test_a_tree_that_cannot_be_flattened_shows_the_reason(page: Page, shot: Shot) -> None:
    check(page, "stuck.example")
    expect(page.locator("#lookup-count")).to_have_text("11/10 DNS lookups")
    use_offer(page)
    verdict = page.locator("#flatten-verdict")
    expect(verdict).to_have_class(re.compile(r"\boutcome-refused\b"))
    expect(verdict).to_contain_text("Not flattened: cannot flatten below the limit")
    expect(page.locator("#lookups-after")).to_have_text("Not flattened.")
    expect(page.locator("#flatten-records")).to_have_count(0)
    assert "Equivalent" not in page.locator("#results").inner_text()
    shot(page, "refused")


def test_a_tree_within_the_limit_is_not_offered_flattening(page: Page) -> None:
    check(page, "fine.example")
    expect(page.locator("#lookup-count")).to_have_text("1/10 DNS lookups")
    expect(page.locator("#verdict")).to_be_visible()
    expect(page.locator("#flatten-offer")).to_have_count(0)


def test_the_offer_works_without_javascript(no_js_page: Page, shot: Shot) -> None:
    page = no_js_page
    check(page, "big.example")
    use_offer(page)
    expect(page.locator("#flatten-verdict")).to_contain_text(EQUIVALENT.format("big.example"))
    expect(page.locator("pre#flat-bind")).to_contain_text("_spf1.big.example. 3600 IN TXT")
    expect(page.locator("button.copy").first).to_be_hidden()  # nothing to copy with
    shot(page, "nojs")


def test_the_flatten_page_fits_a_phone_and_labels_its_controls(phone_page: Page,
                                                               shot: Shot) -> None:
    page = phone_page
    check(page, "big.example")
    use_offer(page)
    expect(page.locator("#flatten-verdict")).to_contain_text("Equivalent")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= page.evaluate("window.innerWidth"), f"{scroll} px wide on a phone"
    for pre in page.locator("#flatten-records pre").all():
        assert pre.evaluate("p => p.scrollWidth <= p.clientWidth + 1"), pre.get_attribute("id")
    controls = page.eval_on_selector_all(
        "#flatten-form input:not([type=hidden]), #flatten-form button",
        "els => els.map(el => [el.id, el.labels && el.labels.length"
        " ? [...el.labels].map(l => l.innerText).join('') : el.innerText])")
    assert controls and all(label.strip() for _id, label in controls), controls
    shot(page, "phone")
