"""The JSON API over the bundled example zone: same answers as the library and the CLI, clear 422s."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from ipaddress import ip_address
from typing import Any

import pytest

from spfkit.evaluate import check, subject_for
from spfkit.identity import Identity
from spfkit.lint import lint_domain, lint_text
from spfkit.lookup import MemoryResolver, RRType, ZoneResolver
from spfkit.tree import build_tree
from spfkit.view import CheckReport
from spfkit.wizard import (
    AllPolicy,
    WizardAnswers,
    bind_lines,
    build_record,
    tinydns_lines,
)
from spfkit.wizard.draft import parse_ip4, parse_ip6
from spfkit.wizard.zones import split_strings
from tests.web.conftest import EXAMPLE_ZONE, RECEIVER, ROOT, TestClient, make_client

# -- GET /api/test ----------------------------------------------------------------------------

TESTS = [
    # (ip, sender, helo, result, mechanism, domain whose record decided)
    ("192.0.2.25", "alice@example.com", "mail.example.com", "pass", "mx", "example.com"),
    ("192.0.2.99", "x@parked.example.com", "", "fail", "-all", "parked.example.com"),
    ("192.0.2.99", "x@example.com", "", "softfail", "~all", "example.com"),
    ("192.0.2.99", "x@shop.example.com", "", "none", None, "shop.example.com"),
    ("192.0.2.99", "x@legacy.example.com", "", "permerror", "ip4:192.0.2.300", "legacy.example.com"),
    ("198.51.100.20", "bounce@news.example.com", "", "pass", "include:_spf.mailprovider.example",
     "news.example.com"),
    ("2001:db8:200::1", "bounce@news.example.com", "", "pass",
     "include:_spf.mailprovider.example", "news.example.com"),
    ("::ffff:192.0.2.25", "example.com", "", "pass", "mx", "example.com"),
    # the null sender: postmaster@HELO is checked (RFC 7208 §2.4)
    ("192.0.2.25", "", "mail.example.com", "pass", "a", "mail.example.com"),
    ("192.0.2.26", "<>", "mail.example.com", "fail", "-all", "mail.example.com"),
]


@pytest.mark.parametrize(("ip", "sender", "helo", "result", "mechanism", "domain"), TESTS,
                         ids=[f"{t[3]}-{t[1] or 'null'}-{t[0]}" for t in TESTS])
def test_results_over_the_example_zone(
    client: TestClient, ip: str, sender: str, helo: str, result: str, mechanism: str | None,
    domain: str,
) -> None:
    response = client.get("/api/test", params={"ip": ip, "sender": sender, "helo": helo})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["result"], body["mechanism"], body["domain"]) == (result, mechanism, domain)
    assert body["received_spf"].startswith(f"Received-SPF: {result} ({RECEIVER}: ")
    # §9.1: an IPv6 address is a quoted-string (":" is not atext)
    address = ip_address(ip)
    # RFC 7208 §5: an IPv4-mapped client is checked and reported as IPv4
    shown = str(getattr(address, "ipv4_mapped", None) or address)
    assert (f'client-ip="{shown}";' if ":" in shown else f"client-ip={shown};") in body["received_spf"]
    assert body["authentication_results"].startswith(f"Authentication-Results: {RECEIVER}; spf={result}")
    assert body["trace"] and body["trace"][0]["kind"] == "check"
    assert 0 < body["dns_queries"] <= 30
    if result == "fail":
        assert body["explanation"] == f"{domain} does not designate {ip} as permitted sender"
    else:
        assert body["explanation"] is None
    if result == "permerror":
        assert "192.0.2.300" in body["problem"]


def test_the_test_answer_is_spfkit_check_json(client: TestClient, zone: ZoneResolver) -> None:
    """The API adapts check() and spfkit.view's CheckReport: its JSON is `spfkit check --json`."""
    ip, sender, helo = "198.51.100.20", "bounce@news.example.com", "out.mailprovider.example"
    body = client.get("/api/test", params={"ip": ip, "sender": sender, "helo": helo}).json()
    result = asyncio.run(check(ip, sender, helo, resolver=zone, receiver=RECEIVER))
    report = CheckReport(ip, sender, helo, Identity.MAILFROM,
                         subject_for(Identity.MAILFROM, sender, helo), RECEIVER, result)
    assert body.pop("dns_queries") > 0
    assert body == json.loads(json.dumps(report.as_dict()))


# -- GET /api/check ---------------------------------------------------------------------------


def test_check_is_show_and_lint(client: TestClient, zone: ZoneResolver) -> None:
    response = client.get("/api/check", params={"domain": "news.example.com."})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["domain"] == "news.example.com"
    assert body["record"] == "v=spf1 mx include:_spf.mailprovider.example -all"
    assert body["lookups"] == {"ipv4": 3, "ipv6": 3}
    assert body["void_lookups"] == {"ipv4": 0, "ipv6": 0}
    assert body["limits"] == {"lookups": 10, "void_lookups": 2}
    tree = asyncio.run(build_tree("news.example.com", zone))
    report = asyncio.run(lint_domain("news.example.com", zone))
    assert body["tree"] == json.loads(json.dumps(tree.as_dict()))
    assert body["lint"] == json.loads(json.dumps(report.as_dict()))
    assert body["query_limit_reached"] is False
    root = body["tree"]["root"]
    assert [c["domain"] for t in root["terms"] for c in t["children"]] == ["_spf.mailprovider.example"]


def test_check_of_a_broken_record_has_the_finding_and_its_fix(client: TestClient) -> None:
    body = client.get("/api/check", params={"domain": "legacy.example.com"}).json()
    (finding,) = [f for f in body["lint"]["findings"] if f["code"] == "SPF-E211"]
    assert finding["severity"] == "error" and finding["term"] == "ip4:192.0.2.300"
    assert "remove the 'ip4:192.0.2.300' term" in finding["fix"]
    assert body["tree"]["ipv4"]["result"] == "permerror"


def test_check_of_a_domain_without_record(client: TestClient) -> None:
    body = client.get("/api/check", params={"domain": "shop.example.com"}).json()
    assert body["record"] is None and body["tree"]["root"] is None
    assert [f["code"] for f in body["lint"]["findings"]] == ["SPF-E101"]
    assert body["lookups"] == {"ipv4": 0, "ipv6": 0}


# -- POST /api/wizard -------------------------------------------------------------------------

WIZARD = {"domain": "example.org", "mx": True, "a": False, "ip4": ["192.0.2.0/24"],
          "ip6": ["2001:db8::/48"], "a_hosts": ["out.example.net"], "mx_domains": [],
          "includes": ["_spf.mailprovider.example"], "ptr": False, "all": "fail", "ttl": 300,
          "mail_hosts": ["mail.example.org"]}


def test_wizard_output_is_the_wizard_functions_output(client: TestClient) -> None:
    response = client.post("/api/wizard", json=WIZARD)
    assert response.status_code == 200, response.text
    body = response.json()
    answers = WizardAnswers(True, False, (parse_ip4("192.0.2.0/24"),), (parse_ip6("2001:db8::/48"),),
                            ("out.example.net",), (), ("_spf.mailprovider.example",), False,
                            AllPolicy.FAIL)
    record = build_record(answers).canonical()
    assert body["record"] == record
    assert record == ("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/48 mx a:out.example.net "
                      "include:_spf.mailprovider.example -all")
    assert body["bind_lines"] == (bind_lines("example.org", record, 300)
                                  + bind_lines("mail.example.org", "v=spf1 a -all", 300))
    assert body["tinydns_lines"] == (tinydns_lines("example.org", record, 300)
                                     + tinydns_lines("mail.example.org", "v=spf1 a -all", 300))
    assert body["mail_host_records"] == [{"name": "mail.example.org", "record": "v=spf1 a -all"}]
    static = [f.as_dict() for f in lint_text(record, domain="example.org",
                                             strings=split_strings(record))]
    assert all(f in body["findings"] for f in static)
    assert body["dns_terms"] == answers.dns_terms == 3
    assert body["all_explanation"].startswith("-all (fail)")


def test_wizard_matches_spfkit_wizard_json() -> None:
    """Same answers, same zone: the API and ``spfkit wizard --format json`` agree."""
    proc = subprocess.run(
        [sys.executable, "-m", "spfkit", "wizard", "example.org", "--no-interactive",
         "--zone", str(EXAMPLE_ZONE), "--ip4", "192.0.2.0/24", "--ip6", "2001:db8::/48",
         "--a-host", "out.example.net", "--include", "_spf.mailprovider.example",
         "--all", "fail", "--ttl", "300", "--mail-host", "mail.example.org", "--format", "json"],
        capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    cli = json.loads(proc.stdout)
    with make_client() as client:
        body = client.post("/api/wizard", json=WIZARD).json()
    assert body["record"] == cli["record"]
    assert [{k: r[k] for k in ("name", "purpose", "text", "bind", "tinydns")}
            for r in cli["records"]] == body["records"]
    assert body["findings"] == cli["findings"]
    assert body["mx_hosts"] == cli["mx_hosts"]
    assert body["lookups"] == cli["lookups"] and body["lookups"]["limit"] == 10
    assert body["lookups_not_counted"] == cli["lookups_not_counted"]


def test_wizard_drafts_helo_records_for_the_mx_hosts_inside_the_domain(client: TestClient) -> None:
    body = client.post("/api/wizard", json={"domain": "example.com"}).json()
    assert body["record"] == "v=spf1 mx ~all"
    assert body["mx_hosts"] == ["mail.example.com"]
    assert body["mail_host_records"] == [{"name": "mail.example.com", "record": "v=spf1 a -all"}]
    assert body["lookups"] == {"ipv4": 1, "ipv6": 1, "void_ipv4": 0, "void_ipv6": 0,
                               "limit": 10, "void_limit": 2}


def test_wizard_counts_too_many_lookups() -> None:
    many = {"domain": "example.org", "mx": False,
            "includes": [f"p{i}.example.net" for i in range(12)]}
    with make_client(MemoryResolver({})) as client:
        body = client.post("/api/wizard", json=many).json()
    assert body["dns_terms"] == 12
    assert any("§4.6.4 allows 10" in n for n in body["notes"])


def test_wizard_without_dns_still_drafts(client: TestClient) -> None:
    class Down(MemoryResolver):
        async def lookup(self, rrtype: RRType, name: str) -> Any:
            from spfkit.lookup import Lookup, LookupStatus
            if rrtype is RRType.MX:
                return Lookup(LookupStatus.SERVFAIL)
            return await super().lookup(rrtype, name)

    with make_client(Down({})) as down:
        body = down.post("/api/wizard", json={"domain": "example.org"}).json()
    assert body["record"] == "v=spf1 mx ~all"
    assert body["lookups"] is None
    assert body["lookups_not_counted"] == "DNS did not answer (SERVFAIL for example.org MX)"


# -- validation: 422 with clear messages --------------------------------------------------------

BAD = [
    ("get", "/api/test", {"ip": "300.1.1.1", "sender": "a@example.com"}, ["query", "ip"],
     "'300.1.1.1' is not an IPv4 or IPv6 address"),
    ("get", "/api/test", {"ip": "fe80::1%eth0", "sender": "a@example.com"}, ["query", "ip"],
     "'fe80::1%eth0' has a zone index ('eth0'), which names an interface of this host: give "
     "the address alone"),
    ("get", "/api/test", {"ip": "192.0.2.1", "sender": "a b@example.com"}, ["query", "sender"],
     "'a b@example.com' is not an address like user@example.com, a domain, or empty for the "
     "null sender"),
    ("get", "/api/test", {"ip": "192.0.2.1", "sender": ""}, ["query"],
     "an empty MAIL FROM (the null sender) needs a HELO name: then postmaster@HELO is checked "
     "(RFC 7208 §2.4)"),
    ("get", "/api/test", {"sender": "a@example.com"}, ["query", "ip"], "a value is needed"),
    ("get", "/api/test", {"ip": "192.0.2.1", "sender": "a@example.com", "helo": "two words"},
     ["query", "helo"], "'two words' is not one name: a HELO name has no spaces"),
    ("get", "/api/check", {"domain": "not a domain!"}, ["query", "domain"],
     "'not a domain!' is not a domain name (like example.com)"),
    ("get", "/api/check", {"domain": "x" * 300}, ["query", "domain"],
     "is longer than 254 characters"),
    ("get", "/api/check", {}, ["query", "domain"], "a value is needed"),
    ("post", "/api/wizard", {"domain": "example.org", "ip4": ["192.0.2.0/24", "192.0.2.1/24"]},
     ["body", "ip4", 1],
     "'192.0.2.1/24' has host bits set: write 192.0.2.0/24 for the whole network or 192.0.2.1 "
     "for the one address"),
    ("post", "/api/wizard", {"domain": "example.org", "ip6": ["192.0.2.1"]}, ["body", "ip6", 0],
     "'192.0.2.1' is not an IPv6 address or network; give it as ip4"),
    ("post", "/api/wizard", {"domain": "exa"}, ["body", "domain"],
     "'exa' is not a domain name (like example.net)"),
    ("post", "/api/wizard", {"domain": "example.org", "all": "always"}, ["body", "all"],
     "must be one of 'fail', 'softfail' or 'neutral'"),
    ("post", "/api/wizard", {"domain": "example.org", "ttl": -1}, ["body", "ttl"],
     "must be at least 0"),
    ("post", "/api/wizard", {"domain": "example.org", "ttl": "3600"}, ["body", "ttl"],
     "must be a whole number"),
    ("post", "/api/wizard", {"domain": "example.org", "mx": "yes"}, ["body", "mx"],
     "must be true or false"),
    ("post", "/api/wizard", {"domain": "example.org", "includes": ["bad name!"]},
     ["body", "includes", 0], "'bad name!' is not a domain name (like example.net)"),
    ("post", "/api/wizard", {"domain": "example.org", "colour": "red"}, ["body", "colour"],
     "is not a field of this request"),
    ("post", "/api/wizard", {"domain": "example.org", "ip4": ["192.0.2.1"] * 65}, ["body", "ip4"],
     "has more than 64 entries"),
]


@pytest.mark.parametrize(("method", "path", "data", "loc", "message"), BAD,
                         ids=[f"{b[1]}-{'-'.join(map(str, b[3][1:]))}-{i}" for i, b in enumerate(BAD)])
def test_validation_errors_are_clear(
    client: TestClient, method: str, path: str, data: dict[str, Any], loc: list[object],
    message: str,
) -> None:
    if method == "get":
        response = client.get(path, params=data)
    else:
        response = client.post(path, json=data)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert {"loc": loc, "msg": message} in [{"loc": d["loc"], "msg": d["msg"]} for d in detail]
    assert all(set(d) == {"loc", "msg", "type"} for d in detail)


@pytest.mark.parametrize(("body", "message"), [
    (b"{not json", "the request body is not valid JSON"),
    (b"[1, 2]", "the request body must be a JSON object"),
])
def test_unreadable_bodies(client: TestClient, body: bytes, message: str) -> None:
    response = client.post("/api/wizard", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == message


def test_large_and_chunked_bodies_are_refused_unread(client: TestClient) -> None:
    big = client.post("/api/wizard", content=b" " * 70_000, headers={"content-type": "application/json"})
    assert big.status_code == 413
    assert big.json() == {"detail": "the request body is too large (at most 65536 bytes)"}

    def chunks() -> Any:
        yield b'{"domain": "example.org"}'

    chunked = client.post("/api/wizard", content=chunks(), headers={"content-type": "application/json"})
    assert chunked.status_code == 411


# -- the schema -----------------------------------------------------------------------------------


def test_openapi_schema_describes_the_api(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert set(schema["paths"]) == {"/api/wizard", "/api/check", "/api/test", "/api/flatten"}
    assert set(schema["paths"]["/api/wizard"]) == {"post"}
    components = schema["components"]["schemas"]
    assert components["WizardRequest"]["properties"]["domain"]["maxLength"] == 254
    assert components["WizardRequest"]["properties"]["all"]["enum"] == ["fail", "softfail", "neutral"]
    assert components["WizardRequest"]["additionalProperties"] is False
    params = {p["name"]: p for p in schema["paths"]["/api/test"]["get"]["parameters"]}
    assert set(params) == {"ip", "sender", "helo"} and params["ip"]["required"] is True
    for path in schema["paths"].values():
        for operation in path.values():
            assert {"200", "422", "429", "503"} <= set(operation["responses"])
            assert "Retry-After" in operation["responses"]["429"]["headers"]
    assert components["TestResponse"]["properties"]["result"]["enum"] == [
        "pass", "fail", "softfail", "neutral", "none", "temperror", "permerror"]


@pytest.mark.parametrize("given", ["alice@news.example.com", "<bounce@news.example.com>"])
def test_check_takes_the_domain_of_an_address(client: TestClient, given: str) -> None:
    """The form's hint says "the part after the @ of an address": an address is accepted."""
    by_address = client.get("/api/check", params={"domain": given})
    assert by_address.status_code == 200, by_address.text
    by_domain = client.get("/api/check", params={"domain": "news.example.com"}).json()
    body = by_address.json()
    assert body["domain"] == "news.example.com"
    assert body["record"] == by_domain["record"] and body["tree"] == by_domain["tree"]


@pytest.mark.parametrize("given", ["<news.example.com", "<x>y</x>.example.com", "news.example.com>"])
def test_a_lone_angle_bracket_is_part_of_the_name_checked(client: TestClient, given: str) -> None:
    """Only a pair <...> is an address's brackets: a lone "<" is not dropped, so the web
    answers about the name the CLI would look up, not another one."""
    body = client.get("/api/check", params={"domain": given}).json()
    assert body["domain"] == given
