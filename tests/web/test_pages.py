"""The HTML pages without a browser: the contract's elements, labels, escaping, no-JS forms, 422s."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from spfkit.lookup import MemoryResolver
from tests.web.conftest import TestClient, make_client


class Element:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Element | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.content: list[str | Element] = []  # text and child elements, in document order

    @property
    def id(self) -> str | None:
        return self.attrs.get("id")

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    @property
    def children(self) -> list[Element]:
        return [c for c in self.content if isinstance(c, Element)]

    def all_text(self) -> str:
        return "".join(c if isinstance(c, str) else c.all_text() for c in self.content)

    def walk(self) -> list[Element]:
        out = [self]
        for child in self.children:
            out += child.walk()
        return out


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}


class Page(HTMLParser):
    """A tiny DOM: enough to find elements by id, tag and class, and read their text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {}, None)
        self.current = self.root
        self.feed(html)
        self.elements = self.root.walk()[1:]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs), self.current)
        self.current.content.append(element)
        if tag not in _VOID:
            self.current = element

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.content.append(data)

    def by_id(self, id_: str) -> Element:
        found = [e for e in self.elements if e.id == id_]
        assert len(found) == 1, f"#{id_}: {len(found)} elements"
        return found[0]

    def select(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        return [e for e in self.elements
                if (tag is None or e.tag == tag) and (cls is None or cls in e.classes)]


def get_page(client: TestClient, url: str, status: int = 200, **params: Any) -> Page:
    response = client.get(url, params=params)
    assert response.status_code == status, response.text[:2000]
    assert response.headers["content-type"].startswith("text/html")
    return Page(response.text)


def assert_labelled(page: Page) -> None:
    """Every input, select and text area has an id and a ``<label for=…>`` with text."""
    labels = {e.attrs.get("for"): e.all_text().strip() for e in page.select("label")}
    controls = [e for e in page.elements if e.tag in ("input", "select", "textarea", "meter")
                and e.attrs.get("type") not in ("hidden", "submit", "button")]
    assert controls
    for control in controls:
        assert control.id and labels.get(control.id), f"<{control.tag} id={control.id}> has no label"


# -- the contract's elements ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/wizard", "/check", "/test"])
def test_every_page_has_the_nav_and_reads_on_a_phone(client: TestClient, path: str) -> None:
    response = client.get(path)
    page = Page(response.text)
    for tool in ("wizard", "check", "test"):
        assert page.by_id(f"nav-{tool}").attrs["href"] == f"/{tool}"
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in response.text
    assert '<html lang="en">' in response.text
    assert page.select("link")[0].attrs["href"] == "/static/app.css"
    if path != "/":
        assert page.by_id(f"nav-{path[1:]}").attrs.get("aria-current") == "page"
        assert_labelled(page)


def test_wizard_page_elements(client: TestClient) -> None:
    page = get_page(client, "/wizard")
    assert page.by_id("wizard-form").tag == "form"
    kinds = {"domain": ("input", "text"), "mx": ("input", "checkbox"), "a": ("input", "checkbox"),
             "ptr": ("input", "checkbox"), "ttl": ("input", "number")}
    for id_, (tag, type_) in kinds.items():
        element = page.by_id(id_)
        assert (element.tag, element.attrs.get("type")) == (tag, type_)
    for id_ in ("ip4", "ip6", "a-hosts", "mx-domains", "includes", "mail-hosts"):
        assert page.by_id(id_).tag == "textarea"
    # issue 15 item 7: radio buttons whose labels wrap, not a <select> that truncates its text
    assert page.by_id("all").tag == "fieldset"
    radios = [page.by_id(f"all-{v}") for v in ("fail", "softfail", "neutral")]
    assert [(r.attrs["type"], r.attrs["name"], r.attrs["value"]) for r in radios] == [
        ("radio", "all", "fail"), ("radio", "all", "softfail"), ("radio", "all", "neutral")]
    labels = {e.attrs.get("for"): e.all_text() for e in page.select("label")}
    assert labels["all-fail"].startswith("-all (fail): mail from any other host")
    assert "checked" in radios[1].attrs  # the recommendation is the default
    assert "Recommended: ~all" in page.by_id("all-help").all_text()
    assert "SHOULD NOT be published" in page.by_id("ptr-help").all_text()
    assert page.by_id("wizard-submit").attrs["type"] == "submit"
    for target in ("record", "bind-lines", "tinydns-lines"):
        assert page.by_id(target).tag == "pre"
        (button,) = [b for b in page.select("button", "copy")
                     if b.attrs["data-copy-target"] == f"#{target}"]
        assert button.all_text().startswith("Copy")
    assert page.by_id("record").all_text() == "v=spf1 mx ~all"  # the defaults, before any answer
    assert page.by_id("findings").tag == "section"
    assert page.by_id("live-status").attrs["aria-live"] == "polite"


def test_check_page_elements(client: TestClient) -> None:
    page = get_page(client, "/check", domain="news.example.com")
    assert page.by_id("check-form").tag == "form" and page.by_id("check-submit").tag == "button"
    assert page.by_id("domain").attrs["value"] == "news.example.com"
    gauge = page.by_id("lookup-gauge")
    assert gauge.tag == "meter"
    assert {k: gauge.attrs[k] for k in ("min", "max", "value", "low", "high", "optimum")} == {
        "min": "0", "max": "10", "value": "3", "low": "8", "high": "10", "optimum": "0"}
    assert page.by_id("lookup-count").all_text() == "3/10 DNS lookups"
    assert page.by_id("void-count").all_text() == "0/2 void lookups"
    tree = page.by_id("tree")
    nodes = [e for e in tree.walk() if e.tag == "details" and "node" in e.classes and "root" not in e.classes]
    summaries = [" ".join(n.children[0].all_text().split()) for n in nodes]
    assert summaries == [
        'include:_spf.mailprovider.example "v=spf1 ip4:198.51.100.0/24 ip6:2001:db8:100::/48 '
        'include:_spf2.mailprovider.example ~all" lookups 2 (total 3/10), void 0',
        'include:_spf2.mailprovider.example "v=spf1 ip4:203.0.113.128/25 ip6:2001:db8:200::/48 '
        '~all" lookups 1 (total 3/10), void 0',
    ]
    assert all(n.children[0].tag == "summary" for n in nodes)
    (root,) = [e for e in tree.walk() if e.tag == "details" and "root" in e.classes]
    assert "open" in root.attrs and "news.example.com" in root.children[0].all_text()
    assert "mail.example.com: 192.0.2.25/32, 2001:db8::25/128" in tree.all_text()
    assert page.by_id("findings").tag == "section"


def test_check_page_shows_findings_with_fixes(client: TestClient) -> None:
    page = get_page(client, "/check", domain="legacy.example.com")
    findings = [e for e in page.by_id("findings").walk() if "finding" in e.classes]
    (error,) = [f for f in findings if "severity-error" in f.classes]
    text = " ".join(error.all_text().split())
    assert "SPF-E211" in text and "192.0.2.300" in text and "(RFC 7208 §5.6)" in text
    assert "Fix: there is no safe automatic fix: write the address you meant, or remove the " \
           "'ip4:192.0.2.300' term" in text
    assert "✗ permerror: syntax error in the record of legacy.example.com" in \
           page.by_id("tree").all_text()


def test_check_page_of_a_domain_without_record(client: TestClient) -> None:
    page = get_page(client, "/check", domain="shop.example.com")
    assert "publishes no SPF record" in page.by_id("record").all_text()
    (finding,) = [e for e in page.by_id("findings").walk() if "finding" in e.classes]
    assert "SPF-E101" in finding.all_text() and "severity-error" in finding.classes


def test_check_page_of_a_domain_that_does_not_exist(client: TestClient) -> None:
    page = get_page(client, "/check", domain="nosuch.example.com")
    text = page.by_id("record").all_text()
    assert "does not exist (NXDOMAIN)" in text and "publishes no SPF record" not in text


def test_test_page_elements_for_a_fail(client: TestClient) -> None:
    page = get_page(client, "/test", ip="192.0.2.99", sender="x@parked.example.com",
                    helo="mail.example.com")
    for id_ in ("test-form", "ip", "sender", "helo", "test-submit"):
        page.by_id(id_)
    result = page.by_id("result")
    assert result.all_text() == "fail" and "result-fail" in result.classes
    assert page.by_id("meaning").all_text().startswith("The domain owner states that the client is NOT")
    assert page.by_id("mechanism").all_text() == "-all in the record of parked.example.com"
    assert page.by_id("explanation").all_text() == \
        "parked.example.com does not designate 192.0.2.99 as permitted sender"
    header = page.by_id("received-spf")
    assert header.tag == "pre"
    assert header.all_text() == (
        "Received-SPF: fail (mx.example.org: domain of x@parked.example.com does not designate "
        "192.0.2.99 as permitted sender) receiver=mx.example.org; identity=mailfrom; "
        'client-ip=192.0.2.99; envelope-from="x@parked.example.com"; helo=mail.example.com; '
        "mechanism=-all;")
    trace = page.by_id("trace")
    checks = [e for e in trace.walk() if "trace-check" in e.classes]
    assert " ".join(checks[0].all_text().split()).startswith(
        "check_host(192.0.2.99, parked.example.com)")
    assert [e for e in trace.walk() if "trace-term" in e.classes]


def test_test_page_for_a_pass_through_an_include(client: TestClient) -> None:
    page = get_page(client, "/test", ip="203.0.113.200", sender="bounce@news.example.com")
    assert page.by_id("result").all_text() == "pass"
    assert page.by_id("mechanism").all_text() == \
        "include:_spf.mailprovider.example in the record of news.example.com"
    assert not [e for e in page.elements if e.id == "explanation"]
    trace = page.by_id("trace")
    # nested lists: the include's check_host() sits inside the top one
    nested = [e for e in trace.walk() if "trace-check" in e.classes]
    assert len(nested) == 3
    assert nested[1] in nested[0].walk() and nested[2] in nested[1].walk()


@pytest.mark.parametrize(("sender", "text"), [
    ("x@shop.example.com", "no term decided: no SPF record for shop.example.com"),
    ("x@legacy.example.com", "ip4:192.0.2.300 in the record of legacy.example.com"),
    ("x@example.com", "~all in the record of example.com"),
])
def test_mechanism_texts(client: TestClient, sender: str, text: str) -> None:
    page = get_page(client, "/test", ip="192.0.2.99", sender=sender)
    assert page.by_id("mechanism").all_text() == text


# -- no JavaScript needed ------------------------------------------------------------------------


def test_wizard_form_works_as_a_get(client: TestClient) -> None:
    page = get_page(client, "/wizard", domain="example.org", mx="on", ip4="192.0.2.0/24\r\n\r\n",
                    includes="_spf.mailprovider.example", all="fail", ttl="300",
                    mail_hosts="mail.example.org")
    record = "v=spf1 ip4:192.0.2.0/24 mx include:_spf.mailprovider.example -all"
    assert page.by_id("record").all_text() == record
    assert page.by_id("bind-lines").all_text() == (
        f'example.org. 300 IN TXT "{record}"\nmail.example.org. 300 IN TXT "v=spf1 a -all"')
    assert page.by_id("tinydns-lines").all_text().startswith("'example.org:v=spf1 ip4\\072192")
    # the answers stay in the form
    assert page.by_id("domain").attrs["value"] == "example.org"
    assert "checked" in page.by_id("mx").attrs and "checked" not in page.by_id("a").attrs
    assert page.by_id("ip4").all_text().replace("\r\n", "\n") == "192.0.2.0/24\n\n"
    assert "checked" in page.by_id("all-fail").attrs
    assert "checked" not in page.by_id("all-softfail").attrs
    assert "needs 3/10 DNS lookups for IPv4 clients" in page.by_id("wizard-lookups").all_text()


def test_an_unticked_box_is_absent_from_the_query(client: TestClient) -> None:
    page = get_page(client, "/wizard", domain="example.org", ip4="192.0.2.1", all="softfail")
    assert page.by_id("record").all_text() == "v=spf1 ip4:192.0.2.1 ~all"
    assert "checked" not in page.by_id("mx").attrs


def test_wizard_findings_are_listed(client: TestClient) -> None:
    page = get_page(client, "/wizard", domain="example.org", mx="on", ptr="on")
    (finding,) = [e for e in page.by_id("findings").walk() if "finding" in e.classes]
    assert "severity-warning" in finding.classes and "SPF-W306" in finding.all_text()
    assert "Fix:" in finding.all_text()


# -- bad input: the form again, 422, an alert naming the field ----------------------------------

BAD_FORMS = [
    ("/test", {"ip": "300.1.1.1", "sender": "alice@example.com"}, {
        "ip": "IP address: '300.1.1.1' is not an IPv4 or IPv6 address"}),
    ("/test", {"ip": "192.0.2.1", "sender": ""}, {
        "helo": "HELO name: an empty MAIL FROM (the null sender) needs a HELO name: then "
                "postmaster@HELO is checked (RFC 7208 §2.4)"}),
    ("/check", {"domain": "not a domain!"}, {
        "domain": "Domain: 'not a domain!' is not a domain name (like example.com)"}),
    ("/check", {"domain": ""}, {"domain": "Domain: a domain name is needed, like example.com"}),
    ("/wizard", {"domain": "example.org", "ip4": "192.0.2.1\n192.0.2.300", "ttl": "soon"}, {
        "ip4": "IPv4 addresses or networks, line 2: '192.0.2.300' is not an IPv4 address or "
               "network (like 192.0.2.25 or 192.0.2.0/24)",
        "ttl": "TTL: must be a whole number"}),
    ("/wizard", {"domain": "example.org", "ttl": "-1"}, {"ttl": "TTL: must be at least 0"}),
    ("/wizard", {"domain": "", "a_hosts": "a b"}, {
        "domain": "Domain: a domain name is needed, like example.net",
        "a-hosts": "Other domains' servers (a:), line 1: 'a b' is not a domain name (like example.net)"}),
]


@pytest.mark.parametrize(("path", "form", "expected"), BAD_FORMS,
                         ids=[f"{b[0]}-{'-'.join(b[2])}" for b in BAD_FORMS])
def test_bad_input_re_renders_the_form_with_an_alert(
    client: TestClient, path: str, form: dict[str, str], expected: dict[str, str]
) -> None:
    page = get_page(client, path, status=422, **form)
    alert = page.by_id("form-error")
    assert alert.tag == "div" and alert.attrs["role"] == "alert"
    for field, message in expected.items():
        control = page.by_id(field)
        assert control.attrs.get("aria-invalid") == "true"
        described = control.attrs["aria-describedby"]
        assert described == f"{field}-error"
        assert page.by_id(described).all_text() == message
        assert page.by_id(described) in alert.walk()
    invalid = {e.id for e in page.elements if e.attrs.get("aria-invalid") == "true"}
    assert invalid == set(expected)
    for field, value in form.items():  # what was typed is kept
        control = page.by_id(field.replace("_", "-"))
        kept = control.all_text() if control.tag == "textarea" else control.attrs.get("value")
        assert (kept or "").strip() == value.strip()


@pytest.mark.parametrize("ttl", ["-1", "soon", "1.5", "2147483648"])
def test_the_wizard_page_and_the_api_tell_a_bad_ttl_alike(client: TestClient, ttl: str) -> None:
    page = get_page(client, "/wizard", status=422, domain="example.org", ttl=ttl)
    body = int(ttl) if ttl.lstrip("-").isdigit() else ttl
    api = client.post("/api/wizard", json={"domain": "example.org", "ttl": body})
    assert api.status_code == 422
    [detail] = api.json()["detail"]
    assert page.by_id("ttl-error").all_text() == f"TTL: {detail['msg']}"


# -- escaping -----------------------------------------------------------------------------------

HOSTILE = MemoryResolver({
    "hostile.example": {"TXT": 'v=spf1 include:evil.example -all exp=why.hostile.example'},
    "evil.example": {"TXT": 'v=spf1 a:"><script>alert(1)</script>.example <img src=x onerror=alert(2)> -all'},
    "why.hostile.example": {"TXT": '<script>alert("exp")</script>'},
    "ok.example": {"TXT": 'v=spf1 -all exp=why.hostile.example'},
})


@pytest.mark.parametrize(("url", "params"), [
    ("/check", {"domain": "hostile.example"}),
    ("/check", {"domain": "evil.example"}),
    ("/test", {"ip": "192.0.2.1", "sender": "x@ok.example"}),
    ("/test", {"ip": "192.0.2.1", "sender": "x@hostile.example"}),
    ("/wizard", {"domain": '"><script>alert(3)</script>', "includes": "<b>x</b>"}),
    ("/test", {"ip": '"><script>alert(4)</script>', "sender": "<i>"}),
])
def test_record_and_user_text_is_escaped(url: str, params: dict[str, str]) -> None:
    with make_client(HOSTILE) as client:
        response = client.get(url, params=params)
    assert response.status_code in (200, 422)
    html = response.text
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>x</b>" not in html
    assert re.findall(r"<script\b[^>]*>", html) == ['<script src="/static/app.js" defer>']
    assert "&lt;script&gt;alert" in html or "&lt;b&gt;x&lt;/b&gt;" in html


def test_hostile_explanation_is_shown_as_text() -> None:
    with make_client(HOSTILE) as client:
        page = get_page(client, "/test", ip="192.0.2.1", sender="x@ok.example")
    assert page.by_id("result").all_text() == "fail"
    assert page.by_id("explanation").all_text() == '<script>alert("exp")</script>'


# -- the rest of the server --------------------------------------------------------------------


def test_security_headers_forbid_inline_script(client: TestClient) -> None:
    for path in ("/", "/wizard", "/api/check?domain=example.com", "/static/app.js"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"


def test_templates_have_no_inline_script_or_style() -> None:
    folder = resources.files("spfkit.web") / "templates"
    for template in folder.iterdir():
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=", text), template.name


def test_static_files_are_package_data() -> None:
    package = resources.files("spfkit.web")
    for name in ("static/app.css", "static/app.js", "templates/base.html", "templates/wizard.html"):
        assert (package / name).is_file(), name
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert '"web/templates/*.html"' in pyproject and '"web/static/*.css"' in pyproject


def test_unknown_pages_are_a_404_page_and_json_under_api(client: TestClient) -> None:
    page = client.get("/nowhere")
    assert page.status_code == 404 and "There is no such page." in page.text
    api = client.get("/api/nowhere")
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}
