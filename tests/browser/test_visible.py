"""Text from DNS in a real browser reads as what it is: a bidi override or a terminal escape in
a record is shown as its escape (``\\u202e``, ``\\x1b``), on ``/check``, ``/test`` and
``/flatten``, not applied to the text around it.

This module's ``web_server`` serves ``tests/web/visible.zone`` (see its comments):
``utf.t.test`` has U+202E before ``evil`` (shown raw, the record would read ``… -all live``),
``esc.t.test`` has ESC and BEL. Screenshots go to ``artifacts/screenshots/<test>.png``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import WebServer, start_web_server

if TYPE_CHECKING:
    from playwright.sync_api import Page

Shot = Callable[..., Path]
ZONE = "tests/web/visible.zone"
RAW = ("\u202e", "\x1b", "\x07")


@pytest.fixture(scope="module")
def web_server() -> Iterator[WebServer]:
    server = start_web_server("--zone", ZONE, "--rate-limit", "0", zones=False)
    yield server
    server.stop()


def texts(page: Page, selector: str) -> list[str]:
    found: list[str] = page.eval_on_selector_all(selector, "els => els.map(e => e.innerText)")
    assert found, f"nothing matches {selector}"
    return found


def assert_escaped(page: Page, selector: str) -> str:
    """The text on screen of ``selector``: no raw control or bidi character, only escapes."""
    shown = texts(page, selector)
    for text in shown:
        assert not any(c in text for c in RAW), f"{selector}: {text!r}"
    return " ".join(shown)


def test_a_bidi_override_in_a_record_is_shown_as_its_escape(page: Page, shot: Shot) -> None:
    page.goto("/check?domain=utf.t.test")
    assert assert_escaped(page, "#record") == "v=spf1 ip4:192.0.2.9 -all \\u202eevil"
    assert "live" not in texts(page, "#record")[0]
    assert assert_escaped(page, "code.record") == '"v=spf1 ip4:192.0.2.9 -all \\u202eevil"'
    assert "\\u202eevil" in assert_escaped(page, "#findings .term")
    assert_escaped(page, "#findings .message")
    assert_escaped(page, "body")
    shot(page)


def test_terminal_escapes_are_shown_on_every_page(page: Page, shot: Shot) -> None:
    page.goto("/check?domain=esc.t.test")
    record = "v=spf1 ip4:192.0.2.1\\x1b[31mRED\\x1b[0m \\x07 -all"
    assert assert_escaped(page, "#record") == record
    assert_escaped(page, "body")
    shot(page, "check")
    page.goto("/test?ip=192.0.2.1&sender=alice%40esc.t.test")
    assert assert_escaped(page, "#mechanism").startswith("ip4:192.0.2.1\\x1b[31mRED\\x1b[0m")
    assert f'"{record}"' in assert_escaped(page, "#trace")
    shot(page, "test")
    page.goto("/flatten?domain=esc.t.test")
    assert assert_escaped(page, "#source-record") == record
    assert_escaped(page, "body")
    shot(page, "flatten")


def test_a_nul_typed_into_the_form_comes_back_escaped(page: Page) -> None:
    page.goto("/check?domain=exa%00mple.com")
    assert page.input_value("#domain") == "exa\\x00mple.com"
    assert page.get_attribute("#domain", "aria-invalid") == "true"
