"""Issue 13's web part over real DNS on loopback: ``GET /api/flatten``, the ``/flatten`` page and
the checker's offer (RFC 7208 §4.6.4).

The app asks a :class:`~tests.fixtures.dnsserver.ZoneDataServer` serving ``flatten_world``.
Equivalence is judged independently of the code under test: the records the API returns are
served by a second DNS server, as their owner would publish them, and ``check_host()`` over
real DNS gives every boundary address of the world the same result there as over the source
tree (read without the §4.6.4 limits, the policy its owner meant).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from click.testing import CliRunner

from spfkit.cli import cli
from spfkit.evaluate import check_host
from spfkit.evaluate.options import CheckOptions
from spfkit.lookup import make_resolver
from tests.fixtures.dnsserver import ZoneDataServer
from tests.web.conftest import TestClient, make_client
from tests.web.flatten_world import PROVIDERS, boundaries, published, web_world

UNLIMITED = CheckOptions(max_dns_terms=1000, max_void_lookups=1000)
#: clients no network of the world lists (they reach every term, so they spend the most)
UNLISTED = ("203.0.114.1", "2001:db8:ffff::1")
#: one quoted character-string of a BIND line
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


@pytest.fixture(scope="module")
def dns() -> Iterator[ZoneDataServer]:
    with ZoneDataServer(web_world()) as server:
        yield server


def _resolver(port: int) -> Any:
    return make_resolver(nameservers=[f"127.0.0.1:{port}"], timeout=2)


@pytest.fixture(scope="module")
def api(dns: ZoneDataServer) -> Iterator[TestClient]:
    with make_client(_resolver(dns.port)) as client:
        yield client


def flatten(client: TestClient, domain: str, **params: Any) -> dict[str, Any]:
    response = client.get("/api/flatten", params={"domain": domain, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def judge(dns: ZoneDataServer, domain: str, records: list[tuple[str, str]]) -> dict[str, Any]:
    """Every boundary address: (result over the source tree, over the published records), and
    the most lookups ``check_host()`` spent on the published records for any of them."""
    data = web_world()
    addresses = [*boundaries(data), *UNLISTED, "198.51.100.7"]  # 198.51.100.7: the exists matches
    with ZoneDataServer(published(data, domain, records)) as flat_dns:
        source, flat = _resolver(dns.port), _resolver(flat_dns.port)

        async def both(ip: str) -> tuple[str, str, int]:
            a = await check_host(ip, domain, "", resolver=source, options=UNLIMITED)
            b = await check_host(ip, domain, "", resolver=flat)
            return a.result.value, b.result.value, b.lookups

        async def run() -> dict[str, tuple[str, str, int]]:
            return {str(ip): await both(str(ip)) for ip in addresses}

        seen = asyncio.run(run())
    return {"differ": {ip: r[:2] for ip, r in seen.items() if r[0] != r[1]},
            "results": {r[1] for r in seen.values()}, "lookups": max(r[2] for r in seen.values()),
            "count": len(seen)}


def strings_of(bind_line: str) -> list[str]:
    return [s.replace('\\"', '"').replace("\\\\", "\\") for s in _STRING.findall(bind_line)]


# -- the 14-lookup tree of two provider chains -----------------------------------------------


def test_the_14_lookup_tree_is_flattened_and_proven_equivalent(api: TestClient,
                                                                dns: ZoneDataServer) -> None:
    body = flatten(api, "example.com")
    assert (body["outcome"], body["equivalent"], body["reason"]) == ("equivalent", True, None)
    assert body["sentence"].startswith("Equivalent: the flattened records give the same result "
                                       "as example.com's tree for every IPv4 and IPv6 address")
    before, after = body["lookups"]["before"], body["lookups"]["after"]
    assert (before["needed"], before["level"], before["text"]) == (14, "over", "14/10")
    records = [(r["name"], r["text"]) for r in body["records"]]
    assert records[0][0] == "example.com" and body["records"][0]["role"] == "top"
    verdict = judge(dns, "example.com", records)
    assert verdict["differ"] == {}, verdict["differ"]
    assert {"pass", "fail", "softfail"} <= verdict["results"]  # the test has teeth
    assert "permerror" not in verdict["results"]
    # what the page says a receiver spends is what check_host() spent, at most
    assert after["level"] == "ok" and after["needed"] >= verdict["lookups"]
    # the exists macro term is kept as written, with why
    assert body["kept"] == [{"term": "exists:%{i}.wl.example.com",
                             "reason": "exists depends on the client"}]
    assert "exists:%{i}.wl.example.com" in records[0][1].split()
    assert body["includes"] == ["_spf.p1.example", "_spf.p2.example"]
    assert body["query_limit_reached"] is False and body["dns_queries"] > 0


def test_keep_leaves_an_include_as_written_and_counts_its_lookups(api: TestClient,
                                                                  dns: ZoneDataServer) -> None:
    body = flatten(api, "example.com", keep=["_spf.p2.example"])
    assert body["outcome"] == "equivalent" and body["keep"] == ["_spf.p2.example"]
    top = body["records"][0]["text"].split()
    assert "include:_spf.p2.example" in top and "include:_spf.p1.example" not in top
    assert {"term": "include:_spf.p2.example", "reason": "kept (--keep)"} in body["kept"]
    verdict = judge(dns, "example.com", [(r["name"], r["text"]) for r in body["records"]])
    assert verdict["differ"] == {}
    # the kept provider's subtree (5 lookups) plus the exists: a client no network lists
    # spends 6, and the count after says at least that
    assert verdict["lookups"] == 6
    assert body["lookups"]["after"]["needed"] >= 6


# -- chained records ------------------------------------------------------------------------


def test_many_networks_go_into_chained_records_within_the_limits(api: TestClient,
                                                                 dns: ZoneDataServer) -> None:
    body = flatten(api, "big.example", ttl=300)
    assert body["outcome"] == "equivalent"
    assert body["lookups"]["before"]["needed"] == PROVIDERS
    names = [r["name"] for r in body["records"]]
    assert names[0] == "big.example" and len(names) > 2
    assert all(re.fullmatch(r"_spf\d+\.big\.example", n) for n in names[1:]), names
    assert [r["role"] for r in body["records"]] == ["top"] + ["chained"] * (len(names) - 1)
    for record in body["records"]:
        assert len(record["text"].encode()) <= 450, record
        for line in record["bind"]:
            assert line.startswith(f"{record['name']}. 300 IN TXT ")
            parts = strings_of(line)
            assert all(len(p.encode()) <= 255 for p in parts), line
            assert "".join(parts) == record["text"]
    assert body["bind_lines"] == [line for r in body["records"] for line in r["bind"]]
    assert body["text_lines"] == [f"{r['name']} {r['text']}" for r in body["records"]]
    assert len(body["tinydns_lines"]) == len(names)
    verdict = judge(dns, "big.example", [(r["name"], r["text"]) for r in body["records"]])
    assert verdict["differ"] == {} and {"pass", "softfail"} <= verdict["results"]
    # an unlisted client walks the whole chain: one include per chained record
    assert verdict["lookups"] == len(names) - 1 == body["lookups"]["after"]["needed"]
    assert any("Publish the chained records first" in n for n in body["notes"])


# -- refusals ------------------------------------------------------------------------------


def test_a_tree_that_cannot_go_below_the_limit_is_refused_with_the_reason(api: TestClient) -> None:
    body = flatten(api, "stuck.example")
    assert (body["outcome"], body["equivalent"]) == ("refused", False)
    assert body["reason"].startswith("cannot flatten below the limit")
    assert body["sentence"] == f"Not flattened: {body['reason']}."
    assert body["records"] == [] and body["bind_lines"] == [] and body["lookups"]["after"] is None
    assert body["lookups"]["before"]["needed"] == 11
    assert any("still cost their lookups" in n for n in body["notes"])


def test_a_domain_without_a_record_is_refused(api: TestClient) -> None:
    body = flatten(api, "bare.example")
    assert body["outcome"] == "refused" and "no SPF record" in body["reason"]
    assert body["source_record"] is None and body["lookups"] == {"before": None, "after": None}


def test_within_the_limit_it_still_flattens_but_says_it_is_not_needed(api: TestClient) -> None:
    body = flatten(api, "fine.example")
    assert body["outcome"] == "equivalent"
    assert body["lookups"]["before"]["level"] == "ok"
    assert any("does not need flattening" in n for n in body["notes"])


@pytest.mark.parametrize("short", [1, 14])
def test_a_request_whose_dns_budget_runs_out_is_never_called_equivalent(
        dns: ZoneDataServer, short: int) -> None:
    """One question short of what the request needs, or many: never "equivalent", never
    records (with the whole budget it is equivalent: the bound is what makes the difference)."""
    with make_client(_resolver(dns.port)) as client:
        needs = flatten(client, "example.com")["dns_queries"]
    budget = needs - short
    with make_client(_resolver(dns.port), max_queries=needs) as client:
        assert flatten(client, "example.com")["outcome"] == "equivalent"
    with make_client(_resolver(dns.port), max_queries=budget) as client:
        body = flatten(client, "example.com")
    assert (body["outcome"], body["equivalent"], body["query_limit_reached"]) == \
        ("incomplete", False, True)
    assert body["records"] == [] and body["bind_lines"] == [] and body["lookups"]["after"] is None
    assert body["sentence"].startswith(f"Not proven: this server asks at most {budget} DNS "
                                       "questions")
    assert body["dns_queries"] == budget


@pytest.mark.parametrize(("params", "loc", "message"), [
    ({"domain": "not a domain"}, ["query", "domain"], "is not a domain name"),
    ({}, ["query", "domain"], "a value is needed"),
    ({"domain": "example.com", "keep": ["ok.example", "bad name"]}, ["query", "keep", 1],
     "is not a domain name"),
    ({"domain": "example.com", "ttl": "-1"}, ["query", "ttl"], "must be at least 0"),
    ({"domain": "example.com", "ttl": "soon"}, ["query", "ttl"], "must be a whole number"),
    ({"domain": "example.com", "only": "x.example"}, ["query", "only"], "is not a field"),
])
def test_bad_queries_get_a_clear_422(api: TestClient, params: dict[str, Any], loc: list[Any],
                                     message: str) -> None:
    response = api.get("/api/flatten", params=params)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"] == loc and message in detail[0]["msg"], detail


def test_the_rate_limit_counts_flatten_requests(dns: ZoneDataServer) -> None:
    with make_client(_resolver(dns.port), rate_limit=2) as client:
        codes = [client.get("/api/flatten", params={"domain": "fine.example"}).status_code
                 for _ in range(3)]
        page = client.get("/flatten", params={"domain": "fine.example"})
    assert codes == [200, 200, 429]
    assert page.status_code == 429 and int(page.headers["retry-after"]) >= 1


# -- the pages, without JavaScript ----------------------------------------------------------


class _Forms(HTMLParser):
    """The ``form#flatten-form`` of a page: its action and the values it would submit."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: list[tuple[str, str]] = []
        self.checkboxes: list[str] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == "flatten-form":
            self._inside, self.action = True, a.get("action")
        elif tag == "input" and self._inside and a.get("name"):
            if a.get("type") == "checkbox":
                self.checkboxes.append(a["value"])
            else:
                self.fields.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


def offer(html: str) -> _Forms:
    forms = _Forms()
    forms.feed(html)
    return forms


def test_the_checker_offers_flattening_only_past_the_limit(api: TestClient) -> None:
    page = api.get("/check", params={"domain": "big.example"})
    assert page.status_code == 200 and 'id="flatten-offer"' in page.text
    assert "big.example's tree needs <strong>11 DNS lookups</strong>" in page.text
    form = offer(page.text)
    assert form.action == "/flatten" and form.fields == [("domain", "big.example")]
    assert form.checkboxes == [f"p{k}.big.example" for k in range(1, PROVIDERS + 1)]
    for within in ("fine.example", "bare.example"):
        assert 'id="flatten-offer"' not in api.get("/check", params={"domain": within}).text


def test_the_offer_submitted_as_a_plain_form_shows_records_counts_and_verdict(
        api: TestClient) -> None:
    form = offer(api.get("/check", params={"domain": "example.com"}).text)
    assert form.action is not None
    # what a browser without JavaScript sends: the hidden domain and one ticked box
    page = api.get(form.action, params=[*form.fields, ("keep", form.checkboxes[1])])
    assert page.status_code == 200
    text = page.text
    assert 'class="flatten-verdict outcome-equivalent"' in text
    assert "Equivalent: the flattened records give the same result as example.com&#39;s tree " \
           "for every IPv4 and IPv6 address" in text
    assert '<p id="lookups-before" class="count level-over">14/10 DNS lookups</p>' in text
    assert re.search(r'<p id="lookups-after" class="count level-ok">\d/10 DNS lookups</p>', text)
    assert re.search(r'<pre id="flat-bind"[^>]*>example\.com\. 3600 IN TXT &#34;v=spf1 ', text)
    assert re.search(r'<pre id="flat-text"[^>]*>example\.com v=spf1 ', text)
    assert "<li><code>include:_spf.p2.example</code>: kept (--keep)</li>" in text
    # the form again, the ticked include still ticked
    assert re.search(r'value="_spf.p2.example" checked', text)
    assert 'data-copy-target="#flat-bind"' in text


def test_the_page_shows_why_a_tree_cannot_be_flattened(api: TestClient) -> None:
    text = api.get("/flatten", params={"domain": "stuck.example"}).text
    assert 'class="flatten-verdict outcome-refused"' in text
    assert "Not flattened: cannot flatten below the limit" in text
    assert 'id="flatten-records"' not in text and 'id="flat-bind"' not in text


@pytest.mark.parametrize("domain", ["example.com", "fine.example", "stuck.example"])
def test_a_keep_the_tree_does_not_reach_is_refused_as_the_command_refuses_it(
        api: TestClient, dns: ZoneDataServer, domain: str) -> None:
    response = api.get("/api/flatten", params={"domain": domain, "keep": ["nothere.example"]})
    assert response.status_code == 422
    [detail] = response.json()["detail"]
    assert detail["loc"] == ["query", "keep"] and detail["type"] == "value_error"
    command = CliRunner().invoke(cli, ["flatten", domain, "--nameserver", f"127.0.0.1:{dns.port}",
                                       "--keep", "nothere.example"])
    assert command.exit_code == 2
    assert f"Error: --keep {detail['msg']}\n" in command.output  # the same words
    assert detail["msg"].startswith("nothere.example: not an include or redirect target in "
                                    f"{domain}'s tree (")


def test_a_keep_nested_in_a_provider_is_accepted(api: TestClient) -> None:
    body = flatten(api, "example.com", keep=["d.p1.example"])
    assert body["keep"] == ["d.p1.example"] and body["outcome"] == "equivalent"


def test_the_page_shows_the_unknown_keep_by_its_field(api: TestClient) -> None:
    page = api.get("/flatten", params={"domain": "fine.example", "keep": "nothere.example"})
    assert page.status_code == 422
    assert ('<li id="keep-error">Keep as written: nothere.example: not an include or redirect '
            "target in fine.example&#39;s tree (what can be kept: p1.big.example)</li>") in page.text
    assert ('<fieldset id="keep" class="choices" aria-invalid="true" '
            'aria-describedby="keep-error">') in page.text
    assert 'id="results"' not in page.text


def test_the_page_names_a_bad_field(api: TestClient) -> None:
    page = api.get("/flatten", params={"domain": "example.com", "ttl": "soon"})
    assert page.status_code == 422
    assert '<li id="ttl-error">TTL: must be a whole number</li>' in page.text
    assert 'aria-invalid="true" aria-describedby="ttl-error"' in page.text
    assert api.get("/flatten").status_code == 200  # the empty form does no work


def test_the_schema_documents_the_flatten_operation(api: TestClient) -> None:
    schema = api.get("/openapi.json").json()
    operation = schema["paths"]["/api/flatten"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert set(params) == {"domain", "keep", "ttl"} and params["domain"]["required"] is True
    assert params["keep"]["schema"]["type"] == "array"
    assert {"200", "422", "429", "503"} <= set(operation["responses"])
    response = schema["components"]["schemas"]["FlattenResponse"]
    assert response["properties"]["outcome"]["enum"] == ["equivalent", "refused", "incomplete"]
