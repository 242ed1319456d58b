"""Issue 15 items 1 and 7 in a real browser, at desktop (1280×900) and phone (375×740) size.

Against ``spfkit web`` serving ``examples/example.zone`` and ``tests/fixtures/issue15.zone``
(``over.example`` needs 11 lookups, ``full.example`` 10, ``v6broken.example`` breaks for IPv6
clients only, ``fine.example`` has ``-all`` and DMARC ``p=reject``, ``nodmarc.example`` no DMARC,
``long.example`` a 300-character record). Every state is written to
``artifacts/screenshots/<test>[<viewport>]-<state>.png`` (``conftest.shot``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

try:
    from playwright.sync_api import expect
except ModuleNotFoundError:  # the ``browser`` fixture fails every test with the install command
    expect = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from playwright.sync_api import Page

Shot = Callable[..., Path]
VIEWPORTS = ("desktop", "phone")
OVER = "every receiver returns permerror for all mail"
#: the stylesheet's colours (app.css): red for "over"/"everyone", amber, green
RED, AMBER, GREEN = "rgb(176, 0, 32)", "rgb(161, 92, 0)", "rgb(11, 107, 31)"


@pytest.fixture(params=VIEWPORTS)
def any_page(request: pytest.FixtureRequest) -> Page:
    """The same test at desktop and at phone size (the ``page``/``phone_page`` fixtures)."""
    return request.getfixturevalue("page" if request.param == "desktop" else "phone_page")


def style(page: Page, selector: str, prop: str) -> str:
    return page.eval_on_selector(selector, f"e => getComputedStyle(e)[{prop!r}]")


def submit_check(page: Page, domain: str) -> None:
    page.goto("/check")
    page.fill("#domain", domain)
    with page.expect_navigation():
        page.click("#check-submit")


def fits_width(page: Page, selector: str) -> None:
    """Nothing of ``selector`` is clipped: no inner scrolling, and inside the viewport."""
    boxes = page.eval_on_selector_all(selector, """els => els.map(e => ({
        id: e.id || e.getAttribute('for') || e.tagName, scroll: e.scrollWidth, client: e.clientWidth,
        right: e.getBoundingClientRect().right, width: window.innerWidth}))""")
    assert boxes, f"nothing matches {selector}"
    for box in boxes:
        assert box["scroll"] <= box["client"] + 1, f"{box['id']} is clipped: {box}"
        assert box["right"] <= box["width"] + 1, f"{box['id']} runs off the screen: {box}"


# --- item 1: the real total, red, with what it means ----------------------------------------


def test_check_gauge_shows_11_of_10_in_red(any_page: Page, shot: Shot) -> None:
    page = any_page
    submit_check(page, "over.example")
    expect(page.locator("#lookup-count")).to_have_text("11/10 DNS lookups")
    assert style(page, "#lookup-count", "color") == RED
    expect(page.locator("#budget-meaning")).to_contain_text(OVER)
    assert style(page, "#budget-meaning", "color") == RED
    meter = page.locator("#lookup-gauge")
    assert meter.get_attribute("value") == "11"  # full: past its limit of 10
    assert float(meter.evaluate("m => m.value")) >= float(meter.evaluate("m => m.high"))
    expect(page.locator("#sample-results")).to_contain_text(
        "sample IPv4 client 255.255.255.254 (no record lists it): 11/10 DNS lookups")
    expect(page.locator("#verdict")).to_contain_text(OVER)
    shot(page, "over")


def test_check_gauge_at_the_limit_is_amber(page: Page, shot: Shot) -> None:
    submit_check(page, "full.example")
    expect(page.locator("#lookup-count")).to_have_text("10/10 DNS lookups")
    assert style(page, "#lookup-count", "color") == "rgb(122, 74, 0)"  # amber text
    expect(page.locator("#budget-meaning")).to_contain_text("at or near the limit")
    shot(page, "full")


def test_test_page_shows_the_real_total(any_page: Page, shot: Shot) -> None:
    page = any_page
    page.goto("/test?ip=203.0.113.77&sender=alice%40over.example")
    lookups = page.locator("#test-lookups")
    expect(lookups).to_contain_text("11/10 DNS lookups, 0/2 void lookups")
    expect(lookups).to_contain_text(OVER)
    assert style(page, "#test-lookups", "color") == RED
    shot(page, "over")


# --- item 7: the verdict card, DMARC, the address count slot, expand all ---------------------


@pytest.mark.parametrize(("domain", "verdict", "headline", "border"), [
    ("fine.example", "fine", "Fine", GREEN),
    ("v6broken.example", "some", "Will break for some receivers", AMBER),
    ("over.example", "everyone", "Broken for everyone", RED),
])
def test_verdict_card_at_the_top(any_page: Page, shot: Shot, domain: str, verdict: str,
                                 headline: str, border: str) -> None:
    page = any_page
    submit_check(page, domain)
    card = page.locator("#verdict")
    expect(card).to_have_class(re.compile(rf"\bverdict-{verdict}\b"))
    expect(page.locator("#verdict-headline")).to_have_text(headline + ":")
    sentence = page.locator("#verdict-sentence").inner_text()
    assert sentence.startswith(headline + ": ") and sentence.endswith(".")
    assert sentence.count(". ") == 0, "one sentence"
    assert style(page, "#verdict", "borderLeftColor") == border
    # it comes first: above the record, the gauge, the tree and the findings
    tops = page.evaluate("""ids => ids.map(id => document.getElementById(id)
                             .getBoundingClientRect().top)""",
                         ["verdict", "summary", "tree", "findings"])
    assert tops == sorted(tops)
    # in view right after the submit, at any size
    box = card.bounding_box()
    assert box is not None and -2 <= box["y"] < page.viewport_size["height"] - 40  # type: ignore[index]
    if verdict == "some":
        expect(card).to_contain_text("IPv6 clients")
    shot(page, verdict)


def test_dmarc_beside_spf(any_page: Page, shot: Shot) -> None:
    page = any_page
    submit_check(page, "fine.example")
    expect(page.locator("#dmarc-record")).to_have_text(
        "v=DMARC1; p=reject; rua=mailto:dmarc@fine.example")
    expect(page.locator("#dmarc-policy")).to_contain_text("p=reject: receivers are asked to reject")
    spf, dmarc = (page.locator(s).bounding_box() for s in ("#spf-summary", "#dmarc"))
    assert spf is not None and dmarc is not None
    if page.viewport_size["width"] >= 640:  # type: ignore[index]
        assert abs(spf["y"] - dmarc["y"]) < 2 and dmarc["x"] > spf["x"] + spf["width"] - 1
    else:  # stacked on a phone, both inside the screen
        assert dmarc["y"] >= spf["y"] + spf["height"] - 1
    fits_width(page, "#summary .auth-card")
    shot(page, "reject")
    submit_check(page, "nodmarc.example")
    expect(page.locator("#dmarc-policy")).to_contain_text("no DMARC record at _dmarc.nodmarc.example")
    expect(page.locator("#dmarc")).to_have_class(re.compile(r"\blevel-near\b"))
    shot(page, "none")


def test_the_verdict_card_shows_the_authorised_address_count(page: Page) -> None:
    """fine.example: ``ip4:192.0.2.0/24 ip6:2001:db8:5::/48 -all`` (from its compiled policy)."""
    submit_check(page, "fine.example")
    expect(page.locator("#address-count")).to_have_text(
        "fine.example's record authorises 256 IPv4 addresses and 2^80 IPv6 addresses.")


def test_no_address_count_without_a_record(page: Page) -> None:
    submit_check(page, "nosuchdomain.example")
    expect(page.locator("#address-count")).to_have_count(0)


def test_expand_all_opens_every_record_of_the_tree(any_page: Page, shot: Shot) -> None:
    page = any_page
    submit_check(page, "news.example.com")
    details = page.locator("#tree details")
    assert details.count() == 3  # news, _spf.mailprovider.example, _spf2…
    assert details.evaluate_all("ds => ds.filter(d => d.open).length") == 1  # the top only
    button = page.locator("#expand-all")
    expect(button).to_have_text("Expand all")
    expect(button).to_have_attribute("aria-expanded", "false")
    button.click()
    assert details.evaluate_all("ds => ds.every(d => d.open)")
    expect(button).to_have_text("Collapse all")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#tree")).to_contain_text("ip4:203.0.113.128/25")
    expect(page.locator("#live-status")).to_have_text("Every record of the tree expanded")
    shot(page, "expanded")
    button.click()
    assert details.evaluate_all("ds => ds.filter(d => d.open).length") == 1
    expect(button).to_have_text("Expand all")


def test_expand_all_needs_javascript_and_hides_without(no_js_page: Page) -> None:
    no_js_page.goto("/check?domain=news.example.com")
    expect(no_js_page.locator("#expand-all")).to_be_hidden()


# --- item 7: focus and screen readers -------------------------------------------------------


def test_check_moves_focus_to_the_result_and_announces_it(any_page: Page, shot: Shot) -> None:
    page = any_page
    submit_check(page, "over.example")
    assert page.evaluate("document.activeElement.id") == "results"
    expect(page.locator("#verdict")).to_have_attribute("role", "status")
    sentence = page.locator("#verdict-sentence").inner_text()
    assert sentence.startswith("Broken for everyone:")
    expect(page.locator("#live-status")).to_have_text(sentence)  # the verdict, said once
    top = page.locator("#results").bounding_box()
    assert top is not None and -2 <= top["y"] < 200  # scrolled to it, on a phone too
    shot(page, "focused")


def test_test_moves_focus_to_the_result_and_announces_it(any_page: Page, shot: Shot) -> None:
    page = any_page
    page.goto("/test")
    page.fill("#ip", "203.0.113.1")
    page.fill("#sender", "alice@parked.example.com")
    with page.expect_navigation():
        page.click("#test-submit")
    assert page.evaluate("document.activeElement.id") == "results"
    expect(page.locator("#outcome")).to_have_attribute("role", "status")
    expect(page.locator("#live-status")).to_have_text(
        re.compile(r"^Result: fail\. The domain owner states that the client is NOT authorised"))
    shot(page, "focused")


def test_bad_input_keeps_the_focus_in_the_form(page: Page) -> None:
    page.goto("/check?domain=not..valid")
    expect(page.locator("#form-error")).to_be_visible()
    assert page.evaluate("document.activeElement.id") != "results"


# --- item 7: /test colours a match by the result it gives ------------------------------------


def test_a_dash_all_match_is_red_not_green(any_page: Page, shot: Shot) -> None:
    page = any_page
    page.goto("/test?ip=203.0.113.1&sender=alice%40parked.example.com")
    expect(page.locator("#result")).to_have_text("fail")
    match = page.locator("#trace .match")
    expect(match).to_have_text("match → fail")
    assert style(page, "#trace .match", "color") == RED
    shot(page, "fail")
    page.goto("/test?ip=192.0.2.25&sender=alice%40example.com")
    expect(page.locator("#trace .match")).to_have_text("match → pass")
    assert style(page, "#trace .match", "color") == GREEN


# --- item 7: the wizard -----------------------------------------------------------------------


def fill_wizard(page: Page) -> None:
    page.fill("#domain", "example.org")
    page.fill("#ip4", "192.0.2.0/24")
    page.check("#all-fail")
    expect(page.locator("pre#record")).to_have_text("v=spf1 ip4:192.0.2.0/24 mx -all")


def test_wizard_marks_the_record_stale_after_an_invalid_entry(any_page: Page, shot: Shot) -> None:
    page = any_page
    page.goto("/wizard")
    fill_wizard(page)
    output = page.locator("#output")
    copies = page.locator("#output button.copy")
    expect(output).not_to_have_class(re.compile(r"\bstale\b"))
    expect(page.locator("#stale-notice")).to_be_hidden()
    page.fill("#ip4", "192.0.2.300")
    expect(page.locator("#form-error")).to_contain_text("192.0.2.300")
    expect(output).to_have_class(re.compile(r"\bstale\b"))
    expect(page.locator("#stale-notice")).to_be_visible()
    expect(page.locator("#stale-notice")).to_contain_text("Out of date")
    for i in range(copies.count()):
        expect(copies.nth(i)).to_be_disabled()
    expect(page.locator("#live-status")).to_contain_text("out of date")
    shot(page, "stale")
    page.fill("#ip4", "192.0.2.128/25")
    expect(page.locator("pre#record")).to_have_text("v=spf1 ip4:192.0.2.128/25 mx -all")
    expect(output).not_to_have_class(re.compile(r"\bstale\b"))
    expect(page.locator("#stale-notice")).to_be_hidden()
    for i in range(copies.count()):
        expect(copies.nth(i)).to_be_enabled()
    expect(page.locator("#live-status")).to_have_text("Your record: v=spf1 ip4:192.0.2.128/25 mx -all")


def test_wizard_submitted_invalid_without_javascript_is_marked_stale(no_js_page: Page,
                                                                     shot: Shot) -> None:
    no_js_page.goto("/wizard?domain=example.org&mx=on&ip4=192.0.2.300&all=fail&ttl=3600")
    expect(no_js_page.locator("#output")).to_have_class(re.compile(r"\bstale\b"))
    expect(no_js_page.locator("#stale-notice")).to_be_visible()
    shot(no_js_page, "stale")


def test_wizard_record_beside_the_form_on_a_wide_screen(page: Page, shot: Shot) -> None:
    page.goto("/wizard")
    fill_wizard(page)
    form, output = page.locator("#wizard-form").bounding_box(), page.locator("#output").bounding_box()
    assert form is not None and output is not None
    assert output["x"] >= form["x"] + form["width"] - 1, "the record is beside the form"
    assert output["y"] < 400, "the record is at the top of the screen, not below the form"
    expect(page.locator("#jump-to-output")).to_be_hidden()
    # it stays in view while the form scrolls
    page.locator("#ttl").scroll_into_view_if_needed()
    page.mouse.wheel(0, 2000)
    box = page.locator("pre#record").bounding_box()
    assert box is not None and 0 <= box["y"] < 900
    shot(page, "beside")


def test_wizard_jumps_to_the_record_on_a_phone(phone_page: Page, shot: Shot) -> None:
    page = phone_page
    page.goto("/wizard")
    fill_wizard(page)
    jump = page.locator("#jump-to-output")
    expect(jump).to_be_visible()
    box = jump.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 740 + 1  # on screen, at the bottom
    shot(page, "jump-bar")
    jump.click()
    expect(page).to_have_url(re.compile(r"#output$"))
    record = page.locator("pre#record").bounding_box()
    assert record is not None and 0 <= record["y"] < 740
    shot(page, "jumped")


def test_wizard_submit_on_a_phone_lands_on_the_record(phone_page: Page) -> None:
    page = phone_page
    page.goto("/wizard")
    fill_wizard(page)
    with page.expect_navigation():
        page.click("#wizard-submit")
    assert page.evaluate("document.activeElement.id") == "output"
    box = page.locator("#output").bounding_box()
    assert box is not None and 0 <= box["y"] < 740


def test_wizard_all_choices_are_whole(any_page: Page, shot: Shot) -> None:
    """The three ``all`` answers are radio buttons whose labels wrap: no text cut off."""
    page = any_page
    page.goto("/wizard")
    fits_width(page, "#all label")
    for value, start in (("fail", "-all (fail)"), ("softfail", "~all (softfail)"),
                         ("neutral", "?all (neutral)")):
        label = page.locator(f"label[for=all-{value}]")
        expect(label).to_contain_text(start)
        assert label.evaluate("l => getComputedStyle(l).textOverflow") != "ellipsis"
    expect(page.locator("label[for=all-softfail]")).to_contain_text("(recommended)")
    expect(page.locator("label[for=all-fail]")).to_contain_text("RFC 7208 §8.4")  # its end
    shot(page, "choices")


def test_long_lines_wrap_and_are_never_clipped(any_page: Page, shot: Shot) -> None:
    page = any_page
    page.goto("/wizard")
    page.fill("#domain", "example.org")
    page.fill("#includes", "\n".join(f"_spf{k}.mailprovider-with-a-long-name.example"
                                     for k in range(5)))
    expect(page.locator("pre#record")).to_contain_text("_spf4.mailprovider-with-a-long-name")
    fits_width(page, "pre#record, pre#bind-lines, pre#tinydns-lines")
    shot(page, "wizard")
    submit_check(page, "long.example")
    fits_width(page, "#record, #sample-results li")
    shot(page, "check")
    page.goto("/test?ip=192.0.2.1&sender=someone-with-a-long-name%40long.example")
    fits_width(page, "pre#received-spf, pre#authentication-results")
    shot(page, "test")
