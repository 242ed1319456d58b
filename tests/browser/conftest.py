"""Browser tests of ``spfkit web``: the server started as users start it, Debian's Chromium
driven by Playwright.

Shared fixtures (one set per pytest-xdist worker):

- ``web_server``: ``python -m spfkit web --listen 127.0.0.1:0 --zone examples/example.zone
  --zone tests/fixtures/issue15.zone --rate-limit 0`` (the second zone: counts past the limit,
  the three verdicts, DMARC records) (the tests make more than 60 requests a minute from one client); its address is
  read from the ``spfkit web: listening on http://…/`` line on stderr; SIGTERM at the end.
- ``browser`` (per test module, see its docstring): Chromium from Debian's ``chromium`` package
  (``/usr/bin/chromium``), launched by Playwright's sync API with ``executable_path`` — Playwright's
  own browser download does not work here — headless, with the flags that keep it off the closed
  network. Playwright gives every launch a fresh, empty profile directory of its own (it refuses
  ``--user-data-dir`` in ``args``).

Per test: ``page`` (desktop, 1280×900, clipboard permissions), ``phone_page`` (375×740, mobile
emulation, so a page without ``<meta name="viewport">`` is laid out 980 px wide as on a real
phone), ``no_js_page`` (JavaScript disabled) and ``shot``, which writes
``artifacts/screenshots/<test>[-state].png`` under the repository root. A page that throws a
JavaScript error, gets a server error or fails to load one of its stylesheets, scripts or images
fails its test at teardown; a failed test leaves ``<test>-<page>-FAILED.png`` behind.

Chromium or Playwright missing is a failure with the command that installs it, never a skip:
``scripts/test-all.sh`` installs both (CI runs it).
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # without these Chromium keeps calling home; the closed network refuses every connection
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 375, "height": 740}
#: how long a page, a locator or an ``expect`` may wait (the live update is debounced)
TIMEOUT_MS = 10_000
_LISTENING = re.compile(r"spfkit web: listening on (http://127\.0\.0\.1:\d+)/")
_STARTUP_SECONDS = 30.0


@dataclass
class WebServer:
    """A running ``spfkit web``; ``url`` has no trailing slash (``http://127.0.0.1:PORT``)."""

    url: str
    process: subprocess.Popen[str]
    stderr: list[str] = field(default_factory=list)

    def stop(self, timeout: float = 10.0) -> int | None:
        """Send SIGTERM and wait; the exit status, or ``None`` when it had to be killed."""
        if self.process.poll() is not None:
            return self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None


def start_web_server(*extra: str, zones: bool = True) -> WebServer:
    """Start ``spfkit web`` on a free loopback port with the example zone and
    ``tests/fixtures/issue15.zone`` (``zones=False``: only ``extra``, e.g. ``--nameserver``);
    fail with its stderr."""
    command = [sys.executable, "-m", "spfkit", "web", "--listen", "127.0.0.1:0",
               *(("--zone", "examples/example.zone", "--zone", "tests/fixtures/issue15.zone")
                 if zones else ()), *extra]
    process = subprocess.Popen(
        command, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: queue.Queue[str | None] = queue.Queue()
    server = WebServer(url="", process=process)

    def drain() -> None:
        # keeps reading for the server's whole life: a full pipe would block its access log
        assert process.stderr is not None
        for line in process.stderr:
            server.stderr.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=drain, daemon=True).start()
    try:
        while True:
            line = lines.get(timeout=_STARTUP_SECONDS)
            if line is None:
                process.wait()
                pytest.fail(f"{' '.join(command)} exited with status {process.returncode} "
                            f"before listening; stderr:\n{''.join(server.stderr)}", pytrace=False)
            if match := _LISTENING.search(line):
                server.url = match.group(1)
                return server
    except queue.Empty:
        server.stop()
        pytest.fail(f"{' '.join(command)} printed no 'spfkit web: listening on http://…/' line "
                    f"in {_STARTUP_SECONDS:.0f} s; stderr:\n{''.join(server.stderr)}",
                    pytrace=False)


@pytest.fixture(scope="session")
def web_server() -> Iterator[WebServer]:
    # one browser makes every request of the session: more than the default 60 a minute
    server = start_web_server("--rate-limit", "0")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium, for one test module at a time.

    Not for the session: while Playwright's sync API is running, the thread's asyncio event loop
    counts as running (its dispatcher greenlet sits inside ``run_until_complete``), so every
    ``asyncio.run()`` of another test in the same pytest-xdist worker would fail with "cannot be
    called from a running event loop". pytest tears a module's fixtures down before it runs a
    test of another module.
    """
    try:
        from playwright.sync_api import Error, sync_playwright
    except ModuleNotFoundError:
        installed = False
    else:
        installed = True
    if not installed:
        pytest.fail("the browser tests need Playwright: pip install -e '.[test]' (or pip install "
                    "playwright; no browser download needed, they drive Debian's chromium)",
                    pytrace=False)
    if not CHROMIUM.exists():
        pytest.fail(f"the browser tests need Debian's Chromium at {CHROMIUM}: apt-get install "
                    "chromium (scripts/test-all.sh installs it; Playwright's own browser download "
                    "does not work here)", pytrace=False)
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        except Error as exc:
            pytest.fail(f"Playwright could not start {CHROMIUM}: {exc}", pytrace=False)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item, so that page fixtures know whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _screenshot_name(node_name: str, state: str = "") -> str:
    name = f"{node_name}-{state}" if state else node_name
    return re.sub(r"[^A-Za-z0-9_.]+", "-", name).strip("-")


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[..., Path]:
    """``shot(page, "state")``: the whole page to ``artifacts/screenshots/<test>-<state>.png``."""

    def take(page: Page, state: str = "") -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{_screenshot_name(request.node.name, state)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def _broken(status: int, resource_type: str) -> bool:
    """A server error, or a missing stylesheet, script, image or font (a page answered 422 for
    bad input, or a live preview refusing half-typed input, is the UI working)."""
    return status >= 500 or (status >= 400 and resource_type not in ("document", "fetch", "xhr"))


def _open_page(request: pytest.FixtureRequest, context: BrowserContext,
               label: str) -> Iterator[Page]:
    """A page of ``context`` that records JavaScript errors and failed loads of its resources."""
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    failed_shot = SCREENSHOTS / f"{_screenshot_name(request.node.name, f'{label}-FAILED')}.png"
    failed_shot.unlink(missing_ok=True)  # left by an earlier run
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"JavaScript error: {exc}"))
    page.on("response", lambda response: problems.append(
        f"{response.status} for {response.request.resource_type} {response.url}")
        if _broken(response.status, response.request.resource_type) else None)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(failed_shot), full_page=True)
    context.close()
    if report is not None and report.passed:
        assert not problems, "the page had problems:\n" + "\n".join(problems)


@pytest.fixture
def page(request: pytest.FixtureRequest, browser: Browser, web_server: WebServer) -> Iterator[Page]:
    """A desktop-sized page (1280×900) that may read and write the clipboard."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    context = browser.new_context(viewport=DESKTOP, base_url=web_server.url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=web_server.url)
    yield from _open_page(request, context, "desktop")


@pytest.fixture
def phone_page(request: pytest.FixtureRequest, browser: Browser,
               web_server: WebServer) -> Iterator[Page]:
    """A phone-sized page (375×740, mobile and touch emulation)."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    context = browser.new_context(viewport=PHONE, base_url=web_server.url, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    yield from _open_page(request, context, "phone")


@pytest.fixture
def no_js_page(request: pytest.FixtureRequest, browser: Browser,
               web_server: WebServer) -> Iterator[Page]:
    """A desktop page with JavaScript disabled: forms must still work (JS only for extras)."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    context = browser.new_context(viewport=DESKTOP, base_url=web_server.url,
                                  java_script_enabled=False)
    yield from _open_page(request, context, "nojs")
