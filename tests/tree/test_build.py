"""``build_tree()``: the tree is made from the evaluator's traces, so its counts ARE check's counts.

Zones are written once, in the openspf zone-data format, and served two ways: by
``MemoryResolver`` (fast) and by a real DNS server on loopback (``ZoneDataServer``) through
``DnsResolver``. For every zone and both client families, the tree's counts equal
``check_host()``'s with another address that matches nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv6Address, ip_network
from typing import Any

import pytest

from spfkit.evaluate import check_host
from spfkit.lookup import DnsResolver, MemoryResolver, Resolver
from spfkit.results import Result
from spfkit.tree import (
    SAMPLE_IPV4,
    SAMPLE_IPV6,
    ErrorKind,
    Family,
    NodeKind,
    RecordTree,
    TreeNode,
    build_tree,
)
from tests.fixtures.dnsserver import ZoneDataServer

#: clients that match nothing in the zones below (other than "all")
OTHER_V4 = "203.0.113.254"
OTHER_V6 = "2001:db8:ffff::fe"


def incs(prefix: str, n: int, body: str = "v=spf1 a -all") -> dict[str, list[Any]]:
    """n include targets ``{prefix}{k}.example`` whose record is ``body``, each with an A and AAAA."""
    return {f"{prefix}{k}.example": [{"TXT": body}, {"A": f"192.0.2.{k + 1}"},
                                     {"AAAA": f"2001:db8::{k + 1}"}] for k in range(n)}


def chain(n: int, top: str, extra: str = "-all") -> dict[str, list[Any]]:
    """``top`` includes n targets that each cost 1 (an "a" with addresses): n + n lookups."""
    body = " ".join(f"include:c{k}.example" for k in range(n))
    return {top: [{"TXT": f"v=spf1 {body} {extra}"}], **incs("c", n)}


#: name → (domain, zone data); each scenario of the issue: chains, mx without AAAA,
#: near-limit, over-limit, voids, loops, missing targets, redirect, macros, DNS errors
ZONES: dict[str, tuple[str, dict[str, list[Any]]]] = {
    "include-chain": ("example.com", {
        "example.com": [{"TXT": "v=spf1 include:_spf.example.net mx ~all"},
                        {"MX": [10, "mail.example.com"]}],
        "mail.example.com": [{"A": "192.0.2.25"}, {"AAAA": "2001:db8::25"}],
        "_spf.example.net": [{"TXT": "v=spf1 ip4:198.51.100.0/24 include:_spf2.example.net ~all"}],
        "_spf2.example.net": [{"TXT": "v=spf1 ip6:2001:db8:200::/48 a:out.example.net/28 ~all"}],
        "out.example.net": [{"A": "198.51.100.200"}, {"AAAA": "2001:db8:300::1"}],
    }),
    "mx-without-aaaa": ("mx.example", {
        "mx.example": [{"TXT": "v=spf1 mx a:v4only.mx.example -all"},
                       {"MX": [10, "m1.mx.example"]}, {"MX": [20, "m2.mx.example"]}],
        "m1.mx.example": [{"A": "192.0.2.11"}],
        "m2.mx.example": [{"A": "192.0.2.12"}, {"AAAA": "2001:db8::12"}],
        "v4only.mx.example": [{"A": "192.0.2.13"}],
    }),
    "near-limit": ("near.example", chain(4, "near.example")),  # 8 lookups
    "at-limit": ("ten.example", chain(5, "ten.example")),  # 10 lookups
    "over-limit": ("over.example", chain(6, "over.example", "mx -all") | {
        "over.example": [{"TXT": "v=spf1 " + " ".join(f"include:c{k}.example" for k in range(6))
                          + " mx -all"}, {"MX": [10, "c0.example"]}]}),  # 13 lookups
    "voids": ("void.example", {
        "void.example": [{"TXT": "v=spf1 a:gone1.void.example mx:gone2.void.example "
                          "exists:gone3.void.example ip4:192.0.2.0/24 -all"}],
    }),
    "v6-voids": ("v6.example", {
        "v6.example": [{"TXT": "v=spf1 a:h1.v6.example a:h2.v6.example a:h3.v6.example -all"}],
        "h1.v6.example": [{"A": "192.0.2.1"}], "h2.v6.example": [{"A": "192.0.2.2"}],
        "h3.v6.example": [{"A": "192.0.2.3"}],
    }),
    "loop": ("loop.example", {
        "loop.example": [{"TXT": "v=spf1 include:a.loop.example -all"}],
        "a.loop.example": [{"TXT": "v=spf1 include:b.loop.example ?all"}],
        "b.loop.example": [{"TXT": "v=spf1 include:loop.example ?all"}],
    }),
    "include-missing": ("miss.example", {
        "miss.example": [{"TXT": "v=spf1 include:nothere.example include:ok.miss.example -all"}],
        "ok.miss.example": [{"TXT": "v=spf1 ip4:192.0.2.0/24 include:deeper.miss.example -all"}],
        "deeper.miss.example": [{"TXT": "v=spf1 ip6:2001:db8::/32 -all"}],
    }),
    "include-broken": ("broken.example", {
        "broken.example": [{"TXT": "v=spf1 include:bad.broken.example include:ok.broken.example ~all"}],
        "bad.broken.example": [{"TXT": "v=spf1 ip4:192.0.2.300 -all"}],
        "ok.broken.example": [{"TXT": "v=spf1 ip4:198.51.100.0/24 -all"}],
    }),
    "redirect": ("r.example", {
        "r.example": [{"TXT": "v=spf1 ip4:192.0.2.0/28 redirect=_spf.r.example"},
                      {"MX": [10, "mail.r.example"]}],
        "_spf.r.example": [{"TXT": "v=spf1 mx:r.example -all"}],
    }),
    "redirect-missing": ("rm.example", {
        "rm.example": [{"TXT": "v=spf1 redirect=gone.rm.example"}],
    }),
    "too-many-mx": ("many.example", {
        "many.example": [{"TXT": "v=spf1 mx -all"}]
        + [{"MX": [k, f"m{k}.many.example"]} for k in range(11)],
    }),
    "macros": ("mac.example", {
        "mac.example": [{"TXT": "v=spf1 include:%{v}._spf.mac.example exists:%{l}.u.mac.example -all"}],
        "in-addr._spf.mac.example": [{"TXT": "v=spf1 ip4:192.0.2.0/24 -all"}],
        "ip6._spf.mac.example": [{"TXT": "v=spf1 a:x.mac.example a:y.mac.example -all"}],
        "x.mac.example": [{"AAAA": "2001:db8::7"}], "y.mac.example": [{"AAAA": "2001:db8::8"}],
        "postmaster.u.mac.example": [{"A": "127.0.0.2"}],
    }),
    "timeout": ("t.example", {
        "t.example": [{"TXT": "v=spf1 include:slow.t.example ip4:192.0.2.1 -all"}],
        "slow.t.example": ["TIMEOUT"],
    }),
}


def memory(zonedata: dict[str, list[Any]]) -> MemoryResolver:
    """The same zone data for ``MemoryResolver``: types gathered, MX pairs as tuples."""
    zone: dict[str, Any] = {}
    for name, entries in zonedata.items():
        if entries == ["TIMEOUT"]:
            zone[name] = "TIMEOUT"
            continue
        spec = zone.setdefault(name, {})
        for entry in entries:
            for rrtype, value in entry.items():
                spec.setdefault(rrtype, []).append(tuple(value) if rrtype == "MX" else value)
    return MemoryResolver(zone)


@pytest.fixture(scope="module")
def server() -> Iterator[ZoneDataServer]:
    with ZoneDataServer({}) as srv:
        yield srv


@pytest.fixture(params=["memory", "dns"])
def resolve(request: pytest.FixtureRequest) -> Any:
    """A function zone data → Resolver: in memory, or a real DNS server on loopback."""
    if request.param == "memory":
        return memory
    srv: ZoneDataServer = request.getfixturevalue("server")

    def over_dns(zonedata: dict[str, list[Any]]) -> Resolver:
        srv.load(zonedata)
        return DnsResolver(["127.0.0.1"], port=srv.port, timeout=0.5)

    return over_dns


def tree_of(name: str, resolver: Resolver | None = None, **kw: Any) -> RecordTree:
    domain, zonedata = ZONES[name]
    return asyncio.run(build_tree(domain, resolver or memory(zonedata), **kw))


def node(tree: RecordTree, domain: str) -> TreeNode:
    return next(n for n in tree.nodes() if n.domain == domain)


# -- the counts are check's counts ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ZONES))
def test_counts_equal_check_host(name: str, resolve: Any) -> None:
    """The issue's rule: the tree and ``spfkit check`` never disagree on a count."""
    domain, zonedata = ZONES[name]
    tree = asyncio.run(build_tree(domain, resolve(zonedata)))
    for family, ip in ((Family.IPV4, OTHER_V4), (Family.IPV6, OTHER_V6)):
        checked = asyncio.run(check_host(ip, domain, f"postmaster@{domain}",
                                         resolver=resolve(zonedata), helo=domain))
        run = tree.run(family)
        assert (run.result.lookups, run.result.void_lookups) == (checked.lookups, checked.void_lookups), family
        assert run.result.result is checked.result
    assert (tree.lookups_v4, tree.void_v4) == (tree.result_v4.lookups, tree.result_v4.void_lookups)
    assert (tree.lookups_v6, tree.void_v6) == (tree.result_v6.lookups, tree.result_v6.void_lookups)
    for family in Family:
        run = tree.run(family)
        if run.result.result not in (Result.PERMERROR, Result.TEMPERROR):
            # within the limits the root's running total is the evaluator's total
            assert tree.root is not None
            cost = tree.root.costs[family]
            assert (cost.total_lookups, cost.total_void) == (run.result.lookups, run.result.void_lookups)
            assert run.needed_lookups == run.result.lookups and run.complete


def test_node_costs_add_up() -> None:
    """own lookups + children's costs = the node's cost; running totals increase in order."""
    tree = tree_of("include-chain")
    for n in tree.nodes():
        for family, cost in n.costs.items():
            inner = sum(c.costs[family].lookups - 1 for c in n.children if family in c.costs)
            via = 1 if n.kind is not NodeKind.TOP else 0
            assert cost.lookups == via + cost.own_lookups + inner, (n.domain, family)
    root = tree.root
    assert root is not None
    assert root.costs[Family.IPV4].lookups == 4 == tree.lookups_v4
    spf = node(tree, "_spf.example.net")
    assert spf.kind is NodeKind.INCLUDE and spf.via == "include:_spf.example.net"
    assert spf.costs[Family.IPV4].lookups == 3  # include + include + a
    assert spf.costs[Family.IPV4].total_lookups == 3
    assert node(tree, "_spf2.example.net").costs[Family.IPV4].total_lookups == 3
    mx = next(v for v in root.terms if v.text == "mx")
    assert mx.outcomes[Family.IPV4].total_lookups == 4 and mx.outcomes[Family.IPV4].lookups == 1


def test_networks_of_both_families() -> None:
    """ip4/ip6 as written; a/mx resolved with their CIDR lengths, A from the IPv4 run, AAAA from the IPv6 run."""
    tree = tree_of("include-chain")
    nets = {str(n.network): n.host for n in node(tree, "_spf2.example.net").networks}
    assert nets == {"2001:db8:200::/48": None, "198.51.100.192/28": "out.example.net",
                    "2001:db8:300::1/128": "out.example.net"}
    root = tree.root
    assert root is not None
    assert {str(n.network) for n in root.networks} == {"192.0.2.25/32", "2001:db8::25/128"}
    assert [str(n.network) for n in node(tree, "_spf.example.net").networks] == ["198.51.100.0/24"]


def test_mx_hosts_without_aaaa_cost_the_same() -> None:
    """§4.6.4: MX host address lookups are not void lookups; the "a" without AAAA is, for IPv6."""
    tree = tree_of("mx-without-aaaa")
    assert (tree.lookups_v4, tree.lookups_v6) == (2, 2)
    assert (tree.void_v4, tree.void_v6) == (0, 1)
    root = tree.root
    assert root is not None
    a = next(v for v in root.terms if v.text == "a:v4only.mx.example")
    assert a.outcomes[Family.IPV6].voids == ("AAAA v4only.mx.example: NODATA",)
    assert a.outcomes[Family.IPV4].voids == ()


def test_over_limit_keeps_the_receivers_counts_and_shows_the_rest() -> None:
    tree = tree_of("over-limit")
    assert tree.lookups_v4 == tree.lookups_v6 == 10
    assert tree.result_v4.result is Result.PERMERROR
    assert tree.v4.needed_lookups == tree.v6.needed_lookups == 13 and tree.v4.complete
    root = tree.root
    assert root is not None
    assert root.costs[Family.IPV4].total_lookups == 13
    # c4.example ends at 10: the 11th lookup is include:c5.example itself, in the top record
    errors = [e for e in root.errors if e.kind is ErrorKind.LOOKUP_LIMIT]
    assert {e.family for e in errors} == {Family.IPV4, Family.IPV6}
    assert errors[0].term == "include:c5.example" and not errors[0].beyond_limit
    c5 = node(tree, "c5.example")
    assert c5.costs[Family.IPV4].beyond_limit and c5.costs[Family.IPV4].total_lookups == 12
    include = next(v for v in root.terms if v.text == "include:c5.example")
    assert include.outcomes[Family.IPV4].beyond_limit
    c4 = node(tree, "c4.example")
    assert c4.costs[Family.IPV4].total_lookups == 10 and not c4.costs[Family.IPV4].beyond_limit
    assert not any(v.outcomes[Family.IPV4].beyond_limit for v in c4.terms)
    mx = next(v for v in root.terms if v.text == "mx")
    assert mx.outcomes[Family.IPV4].beyond_limit and mx.outcomes[Family.IPV4].total_lookups == 13


def test_void_limit_for_ipv6_only() -> None:
    tree = tree_of("v6-voids")
    assert (tree.void_v4, tree.void_v6) == (0, 3)
    assert tree.result_v4.result is Result.FAIL and tree.result_v6.result is Result.PERMERROR
    assert tree.v6.needed_void == 3
    root = tree.root
    assert root is not None
    [error] = root.errors
    assert (error.kind, error.family, error.term) == (ErrorKind.VOID_LIMIT, Family.IPV6, "a:h3.v6.example")


def test_voids_are_listed_where_they_happen() -> None:
    tree = tree_of("voids")
    assert tree.void_v4 == tree.void_v6 == 3 and tree.v4.needed_void == 3
    root = tree.root
    assert root is not None
    voids = [v for view in root.terms for v in view.outcomes[Family.IPV4].voids] if all(
        view.outcomes for view in root.terms[:3]) else []
    assert voids[:3] == ["A gone1.void.example: NXDOMAIN", "MX gone2.void.example: NXDOMAIN",
                         "A gone3.void.example: NXDOMAIN"]


def test_loop_sits_at_the_repeated_domain() -> None:
    tree = tree_of("loop")
    again = [n for n in tree.nodes() if n.domain == "loop.example" and n.kind is NodeKind.INCLUDE]
    assert len(again) == 1
    assert {e.kind for e in again[0].errors} == {ErrorKind.LOOP}
    assert again[0].record is None and again[0].via == "include:loop.example"


def test_missing_include_and_the_records_after_it() -> None:
    """The evaluation stops at the first include; the second is looked up, not counted."""
    tree = tree_of("include-missing")
    root = tree.root
    assert root is not None
    [error] = {(e.kind, e.term) for e in root.errors}
    assert error == (ErrorKind.NO_RECORD, "include:nothere.example")
    missing = node(tree, "nothere.example")
    assert missing.evaluated and missing.costs[Family.IPV4].voids == ("TXT nothere.example: NXDOMAIN",)
    later = node(tree, "ok.miss.example")
    assert not later.counted and not later.evaluated
    assert later.record_text == "v=spf1 ip4:192.0.2.0/24 include:deeper.miss.example -all"
    deeper = node(tree, "deeper.miss.example")
    assert not deeper.counted and [str(n.network) for n in deeper.networks] == ["2001:db8::/32"]
    assert not next(v for v in root.terms if v.text == "-all").evaluated


def test_broken_include_is_marked_where_it_sits() -> None:
    tree = tree_of("include-broken")
    bad = node(tree, "bad.broken.example")
    assert {e.kind for e in bad.errors} == {ErrorKind.BAD_RECORD}
    assert bad.record_text == "v=spf1 ip4:192.0.2.300 -all" and bad.record is None
    root = tree.root
    assert root is not None and not root.errors
    assert root.terms[0].outcomes[Family.IPV4].detail == "error"
    assert not node(tree, "ok.broken.example").counted


def test_redirect() -> None:
    tree = tree_of("redirect")
    target = node(tree, "_spf.r.example")
    assert target.kind is NodeKind.REDIRECT and target.via == "redirect=_spf.r.example"
    assert target.costs[Family.IPV4].lookups == 2  # redirect= itself + mx
    assert target.costs[Family.IPV4].result is Result.FAIL
    root = tree.root
    assert root is not None and root.costs[Family.IPV4].result is Result.FAIL
    assert tree.lookups_v4 == 2


def test_redirect_without_record() -> None:
    tree = tree_of("redirect-missing")
    root = tree.root
    assert root is not None
    assert {(e.kind, e.term) for e in root.errors} == {(ErrorKind.NO_RECORD, "redirect=gone.rm.example")}


def test_more_than_ten_mx_names() -> None:
    tree = tree_of("too-many-mx")
    root = tree.root
    assert root is not None
    assert root.terms[0].mx_names == 11
    assert {e.kind for e in root.errors} == {ErrorKind.MX_LIMIT}


def test_macros_make_the_tree_sender_dependent() -> None:
    tree = tree_of("macros", sender="alice@elsewhere.example")
    assert tree.sender_dependent and tree.sample_sender == "alice@elsewhere.example"
    assert [(m.term, m.letters) for m in tree.macro_uses] == [("exists:%{l}.u.mac.example", "l")]
    root = tree.root
    assert root is not None
    # %{v} leads the two families to different records: two children, one per family
    kids = root.terms[0].children
    assert [(k.domain, set(k.costs)) for k in kids] == [
        ("in-addr._spf.mac.example", {Family.IPV4}), ("ip6._spf.mac.example", {Family.IPV6})]
    assert (tree.lookups_v4, tree.lookups_v6) == (2, 4)
    # with the default sample sender, postmaster.u.mac.example exists: the sample matched
    default = tree_of("macros")
    assert default.result_v4.result is Result.PASS
    assert any("matched 'exists:%{l}.u.mac.example'" in note for note in default.notes)


def test_temperror_is_marked_and_the_rest_shown() -> None:
    tree = tree_of("timeout")
    slow = node(tree, "slow.t.example")
    assert {(e.kind, e.result) for e in slow.errors} == {(ErrorKind.DNS, Result.TEMPERROR)}
    root = tree.root
    assert root is not None
    assert not root.terms[1].evaluated and [str(n.network) for n in root.terms[1].networks] == ["192.0.2.1/32"]


def test_exp_is_looked_up_without_counting() -> None:
    zone = {"e.example": [{"TXT": "v=spf1 -all exp=why.e.example"}],
            "why.e.example": [{"TXT": "one"}, {"TXT": "two"}]}
    resolver = memory(zone)
    tree = asyncio.run(build_tree("e.example", resolver))
    root = tree.root
    assert root is not None and root.exp is not None
    assert root.exp.problem == "2 TXT records (exactly one is needed)"
    assert tree.lookups_v4 == 0


def test_no_record_gives_no_root() -> None:
    tree = asyncio.run(build_tree("none.example", MemoryResolver({"none.example": {"A": "192.0.2.1"}})))
    assert tree.root is None and tree.result_v4.result is Result.NONE


def test_every_question_is_asked_once() -> None:
    """Four evaluations (and the looks ahead) share one snapshot of DNS."""
    domain, zonedata = ZONES["over-limit"]
    resolver = memory(zonedata)
    asyncio.run(build_tree(domain, resolver))
    assert len(resolver.queries) == len(set(resolver.queries))


def test_sample_clients_cannot_be_in_a_real_record() -> None:
    assert SAMPLE_IPV4.is_reserved and SAMPLE_IPV4 in ip_network("240.0.0.0/4")
    assert SAMPLE_IPV6.is_multicast
    assert isinstance(SAMPLE_IPV4, IPv4Address) and isinstance(SAMPLE_IPV6, IPv6Address)


def test_as_dict_is_json() -> None:
    for name in ZONES:
        data = json.loads(json.dumps(tree_of(name).as_dict()))
        assert {"domain", "sample", "ipv4", "ipv6", "root", "sender_dependent"} <= set(data)


def test_all_matches_the_public_names() -> None:
    import spfkit.tree as pkg

    public = {n for n, v in vars(pkg).items() if not n.startswith("_") and type(v).__name__ != "module"}
    assert set(pkg.__all__) == public
