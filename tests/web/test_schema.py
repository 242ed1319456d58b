"""Property-based: no input makes the server fail (no 5xx), and every answer fits the served schema.

schemathesis reads ``/openapi.json`` from the app itself and generates requests for every
operation — valid ones and ones that break the schema — then checks each response: not a
server error, a documented status code and content type, a body that matches the response
schema, invalid data rejected. One check is left out: ``positive_data_acceptance`` expects
every schema-valid request to succeed, but the API validates beyond what JSON Schema can say
(a network with host bits set, a label that is not LDH), and answers those with a clear 422.
Hypothesis then throws arbitrary text at the HTML pages, which are not in the schema.
Offline (the example zone) and bounded (a few hundred examples per operation).
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's httpx2 notice, when schemathesis imports it
    import schemathesis

from spfkit.lookup import ZoneResolver
from spfkit.web import create_app
from tests.web.conftest import EXAMPLE_ZONE, TestClient, make_client

APP = create_app(ZoneResolver(EXAMPLE_ZONE), rate_limit=None, receiver="mx.example.org")
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
# the same requests every run (schemathesis otherwise draws a fresh seed each time)
schema.config.generation.update(deterministic=True)
schema.config.seed = 7208

FUZZ = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


@schema.parametrize()
@FUZZ
def test_api_never_fails_and_keeps_to_its_schema(case: Any) -> None:
    case.call_and_validate(excluded_checks=[schemathesis.checks.positive_data_acceptance])


def test_every_operation_is_fuzzed() -> None:
    operations = {f"{op.method.upper()} {op.path}" for op in (r.ok() for r in schema.get_all_operations())}
    assert operations == {"POST /api/wizard", "GET /api/check", "GET /api/test",
                          "GET /api/flatten"}


# -- the pages and the JSON body, with arbitrary text -------------------------------------------

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=80)
NAMES = st.sampled_from(["example.com", "news.example.com", "legacy.example.com",
                         "shop.example.com", "parked.example.com", "mail.example.com",
                         "_spf.mailprovider.example", "nowhere.example"])
IPS = st.one_of(st.ip_addresses().map(str), st.sampled_from(["192.0.2.25", "2001:db8::25"]), TEXT)
LINES = st.lists(st.one_of(TEXT, NAMES, st.ip_addresses().map(str)), max_size=4).map("\n".join)


@pytest.fixture(scope="module")
def pages() -> TestClient:
    return make_client()


@FUZZ
@given(ip=IPS, sender=st.one_of(TEXT, NAMES, NAMES.map(lambda d: f"user@{d}")),
       helo=st.one_of(TEXT, NAMES))
def test_test_page_never_fails(pages: TestClient, ip: str, sender: str, helo: str) -> None:
    response = pages.get("/test", params={"ip": ip, "sender": sender, "helo": helo})
    assert response.status_code in (200, 422)


@FUZZ
@given(domain=st.one_of(TEXT, NAMES))
def test_check_page_never_fails(pages: TestClient, domain: str) -> None:
    assert pages.get("/check", params={"domain": domain}).status_code in (200, 422)


@FUZZ
@given(domain=st.one_of(TEXT, NAMES), keep=st.lists(st.one_of(TEXT, NAMES), max_size=3),
       ttl=st.one_of(TEXT, st.integers(-5, 2**32).map(str)))
def test_flatten_page_never_fails(pages: TestClient, domain: str, keep: list[str],
                                  ttl: str) -> None:
    response = pages.get("/flatten", params={"domain": domain, "keep": keep, "ttl": ttl})
    assert response.status_code in (200, 422)


@FUZZ
@given(form=st.fixed_dictionaries({}, optional={
    "domain": st.one_of(TEXT, NAMES), "mx": st.just("on"), "a": TEXT, "ptr": st.just("on"),
    "ip4": LINES, "ip6": LINES, "a_hosts": LINES, "mx_domains": LINES, "includes": LINES,
    "mail_hosts": LINES, "all": st.one_of(TEXT, st.sampled_from(["fail", "softfail", "neutral"])),
    "ttl": st.one_of(TEXT, st.integers(-5, 2**32).map(str)),
}))
def test_wizard_page_never_fails(pages: TestClient, form: dict[str, str]) -> None:
    assert pages.get("/wizard", params=form).status_code in (200, 422)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


@FUZZ
@given(body=st.one_of(JSON, st.fixed_dictionaries({"domain": NAMES}, optional={
    "mx": JSON, "a": st.booleans(), "ip4": st.lists(st.ip_addresses(v=4).map(str), max_size=3),
    "ip6": st.lists(st.ip_addresses(v=6).map(str), max_size=3), "includes": st.lists(NAMES, max_size=3),
    "a_hosts": st.lists(TEXT, max_size=2), "ttl": JSON, "all": JSON})))
def test_wizard_api_with_any_json(pages: TestClient, body: Any) -> None:
    assert pages.post("/api/wizard", json=body).status_code in (200, 422)
