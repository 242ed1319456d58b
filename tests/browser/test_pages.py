"""The web UI in a real browser (issue 6): the wizard, the record check, the address test, bad
input, the keyboard, labels and phone width, against ``spfkit web --zone examples/example.zone``.

Every page state is written to ``artifacts/screenshots/`` (see ``conftest.py``) for people to look
at. The example zone: ``example.com`` is ``v=spf1 mx ~all`` with mail.example.com 192.0.2.25;
``news.example.com`` includes ``_spf.mailprovider.example``, which includes ``_spf2…`` (3 DNS
lookups); ``legacy.example.com`` has ``ip4:192.0.2.300``; ``parked.example.com`` is ``v=spf1 -all``.
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import PHONE, start_web_server

try:
    from playwright.sync_api import expect
except ModuleNotFoundError:  # the ``browser`` fixture fails every test with the install command
    expect = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page, Response

Shot = Callable[..., Path]

#: the wizard's answers in these tests: mx, a network, a provider, -all (addresses first, §4.6.2)
WIZARD_RECORD = "v=spf1 ip4:192.0.2.0/24 mx include:_spf.mailprovider.example -all"
FORM_CONTROLS = ("input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset]),"
                 " select, textarea")


def submit(page: Page, button: str) -> Response:
    """Click a submit button and wait for the page it loads; that page's response."""
    with page.expect_navigation() as navigation:
        page.click(button)
    response = navigation.value
    assert response is not None
    return response


def fill_wizard(page: Page) -> None:
    page.fill("#domain", "example.org")
    page.set_checked("#mx", True)
    page.set_checked("#a", False)
    page.set_checked("#ptr", False)
    page.fill("#ip4", "192.0.2.0/24")
    page.fill("#includes", "_spf.mailprovider.example")
    page.check("#all-fail")


def check_domain(page: Page, domain: str) -> Response:
    page.goto("/check")
    page.fill("#domain", domain)
    return submit(page, "#check-submit")


def try_address(page: Page, ip: str, sender: str, helo: str = "") -> Response:
    page.goto("/test")
    page.fill("#ip", ip)
    page.fill("#sender", sender)
    page.fill("#helo", helo)
    return submit(page, "#test-submit")


def summary_of(page: Page, name: str, *, not_containing: tuple[str, ...] = (),
               nodes: str = "details.node") -> Locator:
    """The one ``summary`` of the tree's ``nodes`` that names ``name``."""
    summaries = page.locator(f"section#tree {nodes} > summary").filter(has_text=name)
    for other in not_containing:
        summaries = summaries.filter(has_not_text=other)
    expect(summaries).to_have_count(1)
    return summaries


# --- (1) the wizard ------------------------------------------------------------------------------


def test_wizard_updates_record_and_zone_lines_live(page: Page, shot: Shot) -> None:
    page.goto("/wizard")
    page.evaluate("window.__spfkitNotReloaded = true")
    fill_wizard(page)

    expect(page.locator("pre#record")).to_have_text(WIZARD_RECORD)
    bind = page.locator("pre#bind-lines")
    expect(bind).to_contain_text(f'example.org. 3600 IN TXT "{WIZARD_RECORD}"')
    expect(page.locator("pre#tinydns-lines")).to_contain_text(  # ":" written \072 (octal)
        r"'example.org:v=spf1 ip4\072192.0.2.0/24 mx include\072_spf.mailprovider.example"
        r" -all:3600")
    page.fill("#ttl", "300")
    expect(bind).to_contain_text(f'example.org. 300 IN TXT "{WIZARD_RECORD}"')
    page.fill("#ttl", "3600")
    expect(bind).to_contain_text(f'example.org. 3600 IN TXT "{WIZARD_RECORD}"')
    # the record followed every keystroke without a form submission or a reload
    assert page.evaluate("window.__spfkitNotReloaded === true"), "the page reloaded"
    assert urlsplit(page.url).path == "/wizard", page.url
    shot(page, "filled")

    page.uncheck("#mx")
    page.check("#all-softfail")
    expect(page.locator("pre#record")).to_have_text(
        "v=spf1 ip4:192.0.2.0/24 include:_spf.mailprovider.example ~all")
    assert page.evaluate("window.__spfkitNotReloaded === true"), "the page reloaded"


def test_wizard_findings_follow_the_answers_live(page: Page) -> None:
    page.goto("/wizard")
    fill_wizard(page)
    expect(page.locator("pre#record")).to_have_text(WIZARD_RECORD)
    findings = page.locator("section#findings li.finding")
    expect(findings.filter(has_text="SPF-W306")).to_have_count(0)
    page.check("#ptr")  # §5.5: ptr SHOULD NOT be published
    expect(page.locator("pre#record")).to_contain_text(" ptr ")
    warning = findings.filter(has_text="SPF-W306")
    expect(warning).to_have_count(1)
    expect(warning).to_have_class(re.compile(r"(^|\s)severity-warning(\s|$)"))
    page.uncheck("#ptr")
    expect(warning).to_have_count(0)


def test_wizard_copy_buttons_copy_their_output(page: Page, shot: Shot) -> None:
    page.goto("/wizard")
    fill_wizard(page)
    expect(page.locator("pre#record")).to_have_text(WIZARD_RECORD)
    targets = page.eval_on_selector_all(
        "button.copy", "buttons => buttons.map(b => b.dataset.copyTarget)")
    ids = sorted(str(t).lstrip("#") for t in targets)
    assert ids == ["bind-lines", "record", "tinydns-lines"], targets
    for target in targets:
        button = page.locator(f'button.copy[data-copy-target="{target}"]')
        button.click()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.strip() == page.inner_text(f"pre#{str(target).lstrip('#')}").strip()
    assert page.evaluate("navigator.clipboard.readText()").strip().startswith("'example.org:")
    live = page.locator("[aria-live], [role=status]").filter(has_text=re.compile("copied", re.I))
    expect(live.first).to_be_attached()
    shot(page, "copied")


def test_wizard_submit_works_without_javascript(no_js_page: Page, shot: Shot) -> None:
    page = no_js_page
    page.goto("/wizard")
    fill_wizard(page)
    response = submit(page, "#wizard-submit")
    assert response.status == 200
    expect(page.locator("pre#record")).to_have_text(WIZARD_RECORD)
    expect(page.locator("pre#bind-lines")).to_contain_text(
        f'example.org. 3600 IN TXT "{WIZARD_RECORD}"')
    # the answers stay in the form, to be changed and submitted again
    expect(page.locator("#domain")).to_have_value("example.org")
    expect(page.locator("#ip4")).to_have_value("192.0.2.0/24")
    expect(page.locator("#all-fail")).to_be_checked()
    shot(page, "submitted")


# --- (2) the record check ------------------------------------------------------------------------


def test_check_news_shows_include_tree_and_lookup_count(page: Page, shot: Shot) -> None:
    response = check_domain(page, "news.example.com")
    assert response.status == 200
    tree = page.locator("section#tree")
    expect(tree.locator("details.node").first).to_be_visible()
    root = summary_of(page, "news.example.com", nodes="details")  # the root may be details.root
    expect(root).to_contain_text("v=spf1 mx include:_spf.mailprovider.example -all")
    provider = summary_of(page, "_spf.mailprovider.example", not_containing=("news.example.com",))
    second = summary_of(page, "_spf2.mailprovider.example",
                        not_containing=("news.example.com", "_spf.mailprovider.example"))

    # open both include nodes with the keyboard: focus the summary, press Enter
    for summary in (provider, second):
        node = summary.locator("xpath=..")
        if node.evaluate("d => d.open"):  # open already: Enter closes it, and opens it again
            summary.focus()
            page.keyboard.press("Enter")
            expect(node).not_to_have_attribute("open", "")
        summary.focus()
        page.keyboard.press("Enter")
        expect(node).to_have_attribute("open", "")
    expect(tree.get_by_text("ip4:203.0.113.128/25").first).to_be_visible()
    expect(tree.get_by_text("ip6:2001:db8:200::/48").first).to_be_visible()

    gauge = page.locator("meter#lookup-gauge")
    assert gauge.evaluate("m => [m.value, m.min, m.max]") == [3, 0, 10]
    expect(page.locator("#lookup-count")).to_contain_text("3/10 DNS lookups")
    expect(page.locator("section#findings")).to_be_attached()
    shot(page, "expanded")


def test_check_legacy_shows_error_finding_with_its_fix(page: Page, shot: Shot) -> None:
    response = check_domain(page, "legacy.example.com")
    assert response.status == 200
    errors = page.locator("section#findings li.finding.severity-error")
    finding = errors.filter(has_text="SPF-E211")
    expect(finding).to_have_count(1)
    expect(finding).to_be_visible()
    expect(finding).to_contain_text("192.0.2.300")
    expect(finding).to_contain_text(re.compile(r"\bfix\b", re.I))
    expect(finding).to_contain_text("remove the 'ip4:192.0.2.300' term")
    expect(finding).to_contain_text("7208")
    shot(page)


# --- (3) the address test ------------------------------------------------------------------------


def test_address_of_the_mx_host_passes(page: Page, shot: Shot) -> None:
    response = try_address(page, "192.0.2.25", "alice@example.com", "mail.example.com")
    assert response.status == 200
    result = page.locator("#result")
    expect(result).to_have_text("pass")
    expect(result).to_have_class(re.compile(r"(^|\s)result-pass(\s|$)"))
    expect(page.locator("#meaning")).to_contain_text(re.compile(r"\w+ \w+"))
    expect(page.locator("#mechanism")).to_contain_text("mx")
    header = page.locator("pre#received-spf")
    expect(header).to_contain_text("Received-SPF: pass")
    expect(header).to_contain_text("client-ip=192.0.2.25;")
    expect(header).to_contain_text("helo=mail.example.com;")
    expect(page.locator("section#trace")).to_contain_text("example.com")
    shot(page)


def test_address_of_a_stranger_fails_for_a_parked_domain(page: Page, shot: Shot) -> None:
    response = try_address(page, "192.0.2.99", "x@parked.example.com")
    assert response.status == 200
    result = page.locator("#result")
    expect(result).to_have_text("fail")
    expect(result).to_have_class(re.compile(r"(^|\s)result-fail(\s|$)"))
    expect(page.locator("#meaning")).to_contain_text(re.compile(r"\w+ \w+"))
    expect(page.locator("#mechanism")).to_contain_text("-all")
    expect(page.locator("#explanation")).to_be_visible()
    expect(page.locator("#explanation")).to_contain_text(
        "parked.example.com does not designate 192.0.2.99 as permitted sender")
    header = page.locator("pre#received-spf")
    expect(header).to_contain_text("Received-SPF: fail")
    expect(header).to_contain_text("client-ip=192.0.2.99;")
    expect(header).to_contain_text('envelope-from="x@parked.example.com";')
    expect(page.locator("section#trace")).to_contain_text("parked.example.com")
    shot(page)


# --- (4) bad input -------------------------------------------------------------------------------

BAD_INPUT = {
    # id: (path, {field: value}, submit button, the bad field, a word naming it in the message)
    "test-ip": ("/test", {"ip": "300.1.1.1", "sender": "alice@example.com"}, "#test-submit",
                "ip", re.compile(r"\bIP\b", re.I)),
    "check-domain": ("/check", {"domain": "not a domain!"}, "#check-submit",
                     "domain", re.compile(r"\bdomain\b", re.I)),
    "wizard-domain": ("/wizard", {"domain": "not a domain!"}, "#wizard-submit",
                      "domain", re.compile(r"\bdomain\b", re.I)),
    "wizard-ip4": ("/wizard", {"domain": "example.org", "ip4": "192.0.2.300"}, "#wizard-submit",
                   "ip4", re.compile(r"\bIPv4\b|\bip4\b", re.I)),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_named_in_an_alert(page: Page, shot: Shot, case: str) -> None:
    path, values, button, bad, naming = BAD_INPUT[case]
    page.goto(path)
    for name, value in values.items():
        page.fill(f"#{name}", value)
    response = submit(page, button)
    assert response.status == 422
    error = page.locator("div#form-error")
    expect(error).to_be_visible()
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_contain_text(naming)
    expect(page.locator(f"#{bad}")).to_have_attribute("aria-invalid", "true")
    for name, value in values.items():
        expect(page.locator(f"#{name}")).to_have_value(value)  # what was typed is kept
        if name != bad:
            expect(page.locator(f"#{name}")).not_to_have_attribute("aria-invalid", "true")
    shot(page)


# --- (5) keyboard and labels ---------------------------------------------------------------------

_FOCUS_STYLE = """el => {
    const s = getComputedStyle(el);
    return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow, s.borderColor,
            s.backgroundColor, s.textDecorationLine].join('|');
}"""


def assert_focus_visible(page: Page) -> None:
    """The focused element matches :focus-visible and looks different from its unfocused self."""
    focused = page.locator(":focus")
    expect(focused).to_have_count(1)
    what = focused.evaluate("el => el.outerHTML.slice(0, 80)")
    assert focused.evaluate("el => el.matches(':focus-visible')"), f"no :focus-visible on {what}"
    style = focused.evaluate(_FOCUS_STYLE)
    outline, width, _color, shadow = style.split("|")[:4]
    if (outline != "none" and width != "0px") or shadow != "none":
        return
    focused.evaluate("el => { window.__spfkitFocused = el; el.blur(); }")
    unfocused = page.evaluate(f"({_FOCUS_STYLE})(window.__spfkitFocused)")
    page.evaluate("window.__spfkitFocused.focus()")
    assert style != unfocused, f"focus on {what} is invisible (no outline, shadow or colour change)"


def tab_to(page: Page, selector: str, limit: int = 60) -> None:
    """Press Tab until ``selector`` has the focus; its focus must be visible."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            assert_focus_visible(page)
            return
    pytest.fail(f"{selector} is not reached by {limit} presses of Tab")


def test_wizard_by_keyboard_alone(page: Page, shot: Shot) -> None:
    page.goto("/wizard")
    tab_to(page, "#domain")
    page.keyboard.type("example.org")
    tab_to(page, "#mx")
    if not page.is_checked("#mx"):
        page.keyboard.press("Space")
    assert page.is_checked("#mx")
    tab_to(page, "#ip4")
    page.keyboard.type("192.0.2.0/24")
    tab_to(page, "#includes")
    page.keyboard.type("_spf.mailprovider.example")
    tab_to(page, "#all-softfail")  # Tab reaches the checked radio button of the group
    page.keyboard.press("ArrowUp")  # the arrow keys move the choice within the group
    assert page.is_checked("#all-fail")
    tab_to(page, "#wizard-submit")
    shot(page, "focused-submit")
    page.keyboard.press("Enter")
    expect(page.locator("pre#record")).to_have_text(WIZARD_RECORD)
    tab_to(page, "button.copy")
    shot(page)


def test_check_by_keyboard_alone(page: Page, shot: Shot) -> None:
    page.goto("/check")
    tab_to(page, "#domain")
    page.keyboard.type("news.example.com")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#lookup-count")).to_contain_text("3/10 DNS lookups")
    tab_to(page, "section#tree details.node > summary")  # the first include, closed
    node = page.locator("section#tree details.node").filter(has=page.locator(":focus")).last
    was_open = node.evaluate("d => d.open")
    page.keyboard.press("Enter")
    expect(node).to_have_js_property("open", not was_open)
    shot(page)


def test_address_test_by_keyboard_alone(page: Page, shot: Shot) -> None:
    page.goto("/test")
    tab_to(page, "#ip")
    page.keyboard.type("192.0.2.25")
    tab_to(page, "#sender")
    page.keyboard.type("alice@example.com")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#result")).to_have_text("pass")
    shot(page)


@pytest.mark.parametrize("path", ["/wizard", "/check", "/test"])
def test_nav_links_by_keyboard(page: Page, path: str) -> None:
    for target in ("wizard", "check", "test"):
        page.goto(path)
        for link in ("wizard", "check", "test"):
            expect(page.locator(f"a#nav-{link}")).to_have_attribute(
                "href", re.compile(rf"(^|/){link}/?$"))
        tab_to(page, f"a#nav-{target}")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert re.search(rf"/{target}/?$", page.url), page.url


@pytest.mark.parametrize("path", ["/wizard", "/check", "/test", "/flatten",
                                  "/flatten?domain=over.example"])
def test_every_control_has_a_label(page: Page, path: str) -> None:
    page.goto(path)
    assert page.evaluate("document.documentElement.lang"), "<html> has no lang"
    assert page.title().strip(), "the page has no <title>"
    controls = page.eval_on_selector_all(FORM_CONTROLS, """els => els.map(el => ({
        id: el.id,
        label: [...(el.labels ?? [])].map(l => l.innerText.trim()).join(' ').trim(),
    }))""")
    assert controls
    for control in controls:
        assert control["id"], f"a control without id on {path}"
        assert control["label"], f"#{control['id']} on {path} has no <label>"
        # the label finds the control the way assistive technology does
        labelled = page.get_by_label(control["label"], exact=True)
        ids = labelled.evaluate_all("els => els.map(el => el.id)")
        assert control["id"] in ids, (control, ids)
    for button in page.locator("button").all():
        name = button.get_attribute("aria-label") or button.inner_text()
        html = button.evaluate("b => b.outerHTML")
        assert name.strip(), f"a button without a name on {path}: {html}"


# --- JavaScript only for the extras --------------------------------------------------------------


def test_check_and_test_work_without_javascript(no_js_page: Page, shot: Shot) -> None:
    page = no_js_page
    assert check_domain(page, "news.example.com").status == 200
    expect(page.locator("#lookup-count")).to_contain_text("3/10 DNS lookups")
    page.locator("section#tree details.node > summary").first.click()
    expect(page.locator("section#tree details.node").first).to_be_visible()
    shot(page, "check")
    assert try_address(page, "192.0.2.99", "x@parked.example.com").status == 200
    expect(page.locator("#result")).to_have_text("fail")
    shot(page, "test")


# --- (6) phone width -----------------------------------------------------------------------------

def reach_phone_state(page: Page, state: str) -> None:
    if state == "wizard":
        page.goto("/wizard")
        fill_wizard(page)
        expect(page.locator("pre#record")).to_have_text(WIZARD_RECORD)
    elif state == "check-news":
        check_domain(page, "news.example.com")
        # every node open: the deepest record lines are the widest
        page.locator("section#tree details.node").evaluate_all(
            "nodes => nodes.forEach(node => { node.open = true; })")
    elif state == "check-legacy":
        check_domain(page, "legacy.example.com")
    elif state == "flatten-over":
        check_domain(page, "over.example")  # 11 lookups: the offer to flatten, used
        with page.expect_navigation():
            page.click("#flatten-offer #flatten-submit")
        expect(page.locator("#flatten-verdict")).to_contain_text("Equivalent")
    elif state == "test-pass":
        try_address(page, "192.0.2.25", "alice@example.com", "mail.example.com")
    elif state == "test-fail":
        try_address(page, "192.0.2.99", "x@parked.example.com")
    else:
        assert state == "error"
        try_address(page, "300.1.1.1", "alice@example.com")


PHONE_STATES = ["wizard", "check-news", "check-legacy", "flatten-over", "test-pass", "test-fail",
                "error"]

#: elements sticking out to the right, but for those inside a box that scrolls or clips (a wide
#: <pre> that scrolls on its own is fine: the page itself does not)
_TOO_WIDE = """() => {
    const clipped = el => {
        for (let p = el.parentElement; p && p !== document.body; p = p.parentElement)
            if (getComputedStyle(p).overflowX !== 'visible') return true;
        return false;
    };
    return [...document.querySelectorAll('body *')]
        .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1 && !clipped(el))
        .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
             + ' right=' + Math.round(el.getBoundingClientRect().right))
        .slice(0, 10);
}"""


@pytest.mark.parametrize("state", PHONE_STATES)
def test_phone_width_has_no_horizontal_scroll(phone_page: Page, shot: Shot, state: str) -> None:
    page = phone_page
    reach_phone_state(page, state)
    inner = page.evaluate("window.innerWidth")
    assert inner == PHONE["width"], (
        f"laid out {inner} px wide on a {PHONE['width']} px phone: "
        "<meta name=viewport content='width=device-width'> missing?")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    shot(page)
    assert scroll <= inner, f"{scroll} px wide at {inner} px; too wide: {page.evaluate(_TOO_WIDE)}"
    font = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert font >= 14, f"body text is {font} px on a phone"


# --- the server ----------------------------------------------------------------------------------


def test_server_serves_the_printed_address_and_stops_on_sigterm() -> None:
    server = start_web_server()  # the command of the contract, default rate limit
    with urllib.request.urlopen(f"{server.url}/wizard", timeout=10) as response:
        assert response.status == 200
        assert 'id="wizard-form"' in response.read().decode()
    status = server.stop(timeout=10)
    assert status is not None, "spfkit web did not stop within 10 s of SIGTERM"
    assert status == 0, f"exit status {status}; stderr:\n{''.join(server.stderr)}"
