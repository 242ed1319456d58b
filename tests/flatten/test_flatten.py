"""The flattening core in memory (RFC 7208 §4.6.4, §5.2, §6.1): plan, split, proof."""

from __future__ import annotations

import asyncio
from ipaddress import IPv4Address

import pytest

from spfkit.evaluate import check_host
from spfkit.evaluate.options import CheckOptions
from spfkit.flatten import FlattenError, flatten
from spfkit.flatten.pack import pack
from spfkit.flatten.plan import Kept, Networks, plan_flattening
from spfkit.flatten.proof import prove
from spfkit.lookup.overlay import OverlayResolver
from spfkit.record.parse import parse_record
from spfkit.wizard.zones import split_strings
from tests.fixtures.zone_resolver import ZoneDataResolver
from tests.flatten.worlds import big_provider, world

UNLIMITED = CheckOptions(max_dns_terms=100, max_void_lookups=100)


def _run(domain: str, data: dict, **kw: object):  # type: ignore[no-untyped-def]
    return asyncio.run(flatten(domain, ZoneDataResolver(data), **kw))  # type: ignore[arg-type]


def test_the_14_lookup_tree_flattens_within_the_limit_and_keeps_exists_in_place() -> None:
    data = world()
    source = ZoneDataResolver(data)
    assert asyncio.run(check_host("2001:db8:2::1", "example.com", "", resolver=source)
                       ).result.value == "permerror"  # over the limit as published
    result = _run("example.com", data)
    # 13 lookups for the clients the compiler decides, the kept exists is the 14th
    assert result.proof.equal and result.proof.source_lookups == 13
    assert result.lookups == 1  # only the exists is left
    top = dict(result.records)["example.com"]
    terms = top.split()
    # exists kept as written, after the networks, before ~ip4 and -all: the order holds
    assert terms.index("exists:%{i}.wl.example.com") < terms.index("~ip4:10.0.0.0/8") \
        < terms.index("-all")
    kept = [i for i in result.plan.items if isinstance(i, Kept)]
    assert [k.text for k in kept] == ["exists:%{i}.wl.example.com"]
    # 192.0.2.0/24 is "-" inside a.p1 (no match there) but x.p2 passes its lower half
    overlay = OverlayResolver(source, dict(result.records))
    for ip, want in (("192.0.2.5", "pass"), ("192.0.2.130", "fail"), ("192.0.2.200", "pass"),
                     ("198.51.100.7", "pass"), ("100.64.0.9", "pass"), ("10.1.2.3", "softfail"),
                     ("2001:db8:b1:ffff::1", "pass"), ("2001:db8:3::1", "fail")):
        flat = asyncio.run(check_host(ip, "example.com", "", resolver=overlay))
        orig = asyncio.run(check_host(ip, "example.com", "", resolver=source, options=UNLIMITED))
        assert (flat.result.value, orig.result.value) == (want, want), ip


def test_redirect_is_flattened_as_redirect_with_its_targets_all() -> None:
    data = {"example.net": [{"TXT": "v=spf1 ip4:192.0.2.1 redirect=r.example"}],
            "r.example": [{"TXT": "v=spf1 ip4:198.51.100.0/24 ~all"}]}
    result = _run("example.net", data)
    assert result.records == (("example.net", "v=spf1 ip4:192.0.2.1 ip4:198.51.100.0/24 ~all"),)
    # an "all" before the redirect makes it unreachable (§6.1): nothing of it is taken
    data["example.net"] = [{"TXT": "v=spf1 ip4:192.0.2.1 -all redirect=r.example"}]
    assert _run("example.net", data).records == (("example.net", "v=spf1 ip4:192.0.2.1 -all"),)


def test_ptr_macros_and_keep_are_kept_as_written() -> None:
    data = {"example.net": [{"TXT": "v=spf1 ptr:example.net include:p.example "
                                    "include:%{d}.m.example ?include:k.example -all"}],
            "p.example": [{"TXT": "v=spf1 ip4:192.0.2.0/24 -all"}],
            "k.example": [{"TXT": "v=spf1 ip4:198.51.100.0/24 -all"}]}
    result = _run("example.net", data, keep=frozenset({"k.example"}))
    assert result.records[0][1] == ("v=spf1 ptr:example.net ip4:192.0.2.0/24 include:%{d}.m.example "
                                    "?include:k.example -all")
    assert result.proof.equal


def test_only_flattens_just_the_named_includes() -> None:
    data = {"example.net": [{"TXT": "v=spf1 mx include:p.example include:q.example "
                                    "redirect=r.example"}],
            "p.example": [{"TXT": "v=spf1 ip4:192.0.2.0/24 -all"}],
            "q.example": [{"TXT": "v=spf1 ip4:198.51.100.0/24 -all"}],
            "r.example": [{"TXT": "v=spf1 ip4:203.0.113.0/24 -all"}]}
    data["example.net"].append({"MX": [10, "mx.example.net"]})
    data["mx.example.net"] = [{"A": "192.0.2.25"}]
    result = _run("example.net", data, only=frozenset({"q.example"}))
    # mx, include:p.example and the redirect stay as written; only q.example becomes networks
    assert result.records[0][1] == ("v=spf1 mx include:p.example ip4:198.51.100.0/24 "
                                    "redirect=r.example")
    assert result.proof.equal


def test_adjacent_networks_of_one_result_merge_and_never_widen() -> None:
    data = {"example.net": [{"TXT": "v=spf1 ip4:192.0.2.0/25 include:p.example "
                                    "-ip4:192.0.2.0/23 ip4:198.51.100.0/25 -all"}],
            "p.example": [{"TXT": "v=spf1 ip4:192.0.2.128/25 ip4:192.0.3.0/25 -all"}]}
    plan = asyncio.run(plan_flattening("example.net", ZoneDataResolver(data)))
    first = plan.items[0]
    assert isinstance(first, Networks)
    assert [str(n) for n in first.networks] == ["192.0.2.0/24", "192.0.3.0/25"]
    assert _run("example.net", data).proof.equal


def test_a_big_provider_is_chained_and_every_string_and_record_fits() -> None:
    data = big_provider(120)
    result = _run("example.org", data, max_bytes=300)
    names = [n for n, _ in result.records]
    assert names[0] == "example.org" and names[1:4] == [
        "_spf1.example.org", "_spf2.example.org", "_spf3.example.org"]
    for _name, text in result.records:
        assert len(text.encode()) <= 300
        assert all(len(s) <= 255 for s in split_strings(text))
        parse_record(text)
    assert result.proof.equal and result.lookups == len(names) - 1
    with pytest.raises(FlattenError, match="lookups"):
        _run("example.org", big_provider(400), max_bytes=300, target_lookups=3)


def test_a_wrong_flattening_is_caught_with_the_first_differing_address() -> None:
    data = {"example.net": [{"TXT": "v=spf1 ip4:192.0.2.1 redirect=r.example"}],
            "r.example": [{"TXT": "v=spf1 ip4:198.51.100.0/24 ~all"}]}
    resolver = ZoneDataResolver(data)
    records = dict(pack(asyncio.run(plan_flattening("example.net", resolver))))
    records["example.net"] = records["example.net"].replace("/24", "/23")
    proof = asyncio.run(prove("example.net", records, resolver))
    assert proof.difference is not None
    assert proof.difference.address == IPv4Address("198.51.101.0")
    assert (proof.difference.source, proof.difference.flattened) == ("softfail", "pass")
    # the world's exists term: an address the source leaves to it is no "pass" either
    data = world()
    resolver = ZoneDataResolver(data)
    records = dict(pack(asyncio.run(plan_flattening("example.com", resolver))))
    records["example.com"] = records["example.com"].replace("ip4:100.64.0.0/24", "ip4:100.64.0.0/23")
    proof = asyncio.run(prove("example.com", records, resolver))
    assert proof.difference is not None and proof.difference.address == IPv4Address("100.64.1.0")
    assert (proof.difference.source, proof.difference.flattened) == (None, "pass")


@pytest.mark.parametrize("data, message", [
    ({"example.net": []}, "no SPF record"),
    ({"example.net": ["TIMEOUT"]}, "DNS error"),
    ({"example.net": [{"TXT": "v=spf1 ip4:300.1.1.1 -all"}]}, "ip4"),
])
def test_bad_trees_are_refused_with_a_reason(data: dict, message: str) -> None:
    with pytest.raises(FlattenError, match=message):
        _run("example.net", data)


def test_a_loop_or_an_outage_is_refused_with_the_reason_never_flattened_to_nothing() -> None:
    data = {"example.net": [{"TXT": "v=spf1 include:l.example ip4:192.0.2.1 -all"}],
            "l.example": [{"TXT": "v=spf1 include:l.example -all"}]}
    with pytest.raises(FlattenError, match="broken at l.example: .*permerror.*fix it first"):
        _run("example.net", data)
    plan = asyncio.run(plan_flattening("example.net", ZoneDataResolver(data)))
    assert plan.sources[0].error is not None and not plan.sources[0].temporary
    data["l.example"] = ["TIMEOUT"]
    with pytest.raises(FlattenError, match="broken at l.example: .*temperror.*try again later"):
        _run("example.net", data)
    plan = asyncio.run(plan_flattening("example.net", ZoneDataResolver(data)))
    assert plan.sources[0].error is not None and plan.sources[0].networks == ()
    assert plan.sources[0].temporary
    # a provider that depends on the client is no error: kept as written
    data["l.example"] = [{"TXT": "v=spf1 exists:%{i}.l.example -all"}]
    assert _run("example.net", data).records[0][1].startswith("v=spf1 include:l.example ")


def _nested(provider: str) -> dict:
    return {"example.net": [{"TXT": "v=spf1 a:relay.example.net include:_spf.prov.example -all"}],
            "relay.example.net": [{"A": "192.0.2.99"}],
            "_spf.prov.example": [{"TXT": provider}],
            "mid.prov.example": [{"TXT": "v=spf1 ip6:2001:db8:7::/48 include:kept.example ~all"}],
            "other.prov.example": [{"TXT": "v=spf1 ip4:203.0.113.0/24 -all"}],
            "tail.prov.example": [{"TXT": "v=spf1 ip4:100.64.0.0/24 ~all"}],
            "kept.example": [{"TXT": "v=spf1 ip4:198.51.100.0/24 -all"}]}


def _agree_everywhere(domain: str, data: dict, records: tuple[tuple[str, str], ...],
                      ips: list[str]) -> None:
    source = ZoneDataResolver(data)
    overlay = OverlayResolver(source, dict(records))
    for ip in ips:
        flat = asyncio.run(check_host(ip, domain, "", resolver=overlay))
        orig = asyncio.run(check_host(ip, domain, "", resolver=source, options=UNLIMITED))
        assert (flat.result, flat.mechanism is None) == (orig.result, orig.mechanism is None), ip


def test_keep_names_an_include_nested_inside_a_provider_and_the_rest_is_flattened() -> None:
    data = _nested("v=spf1 ip4:192.0.2.0/25 include:mid.prov.example "
                   "include:other.prov.example redirect=tail.prov.example")
    result = _run("example.net", data, keep=frozenset({"kept.example"}))
    top = result.records[0][1]
    # the provider and its includes are networks (neighbours merged: 192.0.2.99 is in the
    # /25); the nested kept include stays, in its place
    assert top == ("v=spf1 ip4:192.0.2.0/25 ip6:2001:db8:7::/48 include:kept.example "
                   "ip4:100.64.0.0/24 ip4:203.0.113.0/24 -all")
    assert result.proof.equal and result.lookups == 1
    kept = [i for i in result.plan.items if isinstance(i, Kept)]
    assert [(k.text, k.reason) for k in kept] == [("include:kept.example", "kept (--keep)")]
    _agree_everywhere("example.net", data, result.records,
                      ["192.0.2.99", "192.0.2.1", "192.0.2.200", "198.51.100.1", "203.0.113.9",
                       "100.64.0.1", "2001:db8:7::1", "2001:db8:8::1", "10.0.0.1"])
    # the kept include changes later: the flattened records follow it, as written
    data["kept.example"] = [{"TXT": "v=spf1 ip4:198.51.101.0/24 -all"}]
    _agree_everywhere("example.net", data, result.records, ["198.51.100.1", "198.51.101.1"])


def test_a_kept_include_after_a_non_pass_term_of_its_provider_cannot_be_kept_in_place() -> None:
    # -ip4 inside the provider stops 198.51.100.0/25 before the kept include is reached;
    # written in the top record the kept include would pass them
    data = _nested("v=spf1 -ip4:198.51.100.0/25 include:kept.example ~all")
    result = _run("example.net", data, keep=frozenset({"kept.example"}))
    assert result.records[0][1] == "v=spf1 ip4:192.0.2.99 include:_spf.prov.example -all"
    [kept] = [i for i in result.plan.items if isinstance(i, Kept)]
    assert "cannot be flattened around the kept include" in kept.reason
    assert "198.51.100.0/25" in kept.reason and result.proof.equal
    # after the kept include a non-pass term only narrows what later terms add
    data = _nested("v=spf1 include:kept.example ~ip4:203.0.113.0/25 "
                   "include:other.prov.example -all")
    result = _run("example.net", data, keep=frozenset({"kept.example"}))
    assert result.records[0][1] == ("v=spf1 ip4:192.0.2.99 include:kept.example "
                                    "ip4:203.0.113.128/25 -all")
    assert result.proof.equal
    _agree_everywhere("example.net", data, result.records,
                      ["203.0.113.1", "203.0.113.200", "198.51.100.7"])
    # a qualified kept include, or one behind a client-dependent term, keeps the provider
    for provider in ("v=spf1 ~include:kept.example -all",
                     "v=spf1 exists:%{i}.x.example include:kept.example -all"):
        result = _run("example.net", _nested(provider), keep=frozenset({"kept.example"}))
        assert "include:_spf.prov.example" in result.records[0][1].split(), provider
        assert result.proof.equal
