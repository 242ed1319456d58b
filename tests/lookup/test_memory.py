"""MemoryResolver: the dict format, and authoritative-server answers (shared with zonefile)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from ipaddress import IPv4Address, IPv6Address
from typing import TypeVar

import pytest

from spfkit.lookup import Lookup, LookupStatus, MemoryResolver, MXHost, RRType

T = TypeVar("T")


def run(awaitable: Awaitable[T]) -> T:
    async def main() -> T:
        return await awaitable

    return asyncio.run(main())


ZONE = {
    "example.com": {
        "TXT": ["v=spf1 mx -all", ("google-", "site")],
        "MX": [(10, "mail.example.com."), (20, "mx2.example.com")],
        "A": "192.0.2.1",
    },
    "mail.example.com": {"A": ["192.0.2.10", "192.0.2.11"], "AAAA": "2001:db8::10"},
    "www.example.com": {"CNAME": "mail.example.com"},
    "loop.example.com": {"CNAME": "loop2.example.com"},
    "loop2.example.com": {"CNAME": "loop.example.com"},
    "deep.ent.example.com": {"TXT": "below"},
    "slow.example": "TIMEOUT",
    "x.example": {"TXT": "SERVFAIL", "A": "192.0.2.9"},
    "empty.example": {},
    "spf-only.example": {"SPF": "v=spf1 -all"},
    "*.wild.example": {"TXT": "wildcard"},
    "10.2.0.192.in-addr.arpa": {"PTR": ["mail.example.com", "alias.example.com."]},
    "Bücher.Example": {"TXT": b"\xff raw"},
}


@pytest.fixture
def resolver() -> MemoryResolver:
    return MemoryResolver(ZONE, ttl=60)


def test_answers(resolver):
    assert run(resolver.txt("example.com")) == Lookup(
        LookupStatus.ANSWER, ((b"v=spf1 mx -all",), (b"google-", b"site")), 60.0
    )
    assert run(resolver.mx("example.com")).records == (
        MXHost(10, "mail.example.com"),
        MXHost(20, "mx2.example.com"),
    )
    assert run(resolver.a("mail.example.com")).records == (
        IPv4Address("192.0.2.10"),
        IPv4Address("192.0.2.11"),
    )
    assert run(resolver.aaaa("mail.example.com")).records == (IPv6Address("2001:db8::10"),)
    assert run(resolver.ptr("10.2.0.192.in-addr.arpa")).records == (
        "mail.example.com",
        "alias.example.com",
    )


@pytest.mark.parametrize(
    ("value", "records"),
    [
        ("v=spf1 -all", ((b"v=spf1 -all",),)),
        (b"\x00\xff", ((b"\x00\xff",),)),
        (("v=spf1 ", "-all"), ((b"v=spf1 ", b"-all"),)),
        (["one", "two"], ((b"one",), (b"two",))),
        ([["v=spf1 ", "-all"], "other"], ((b"v=spf1 ", b"-all"), (b"other",))),
        ([("a", b"b")], ((b"a", b"b"),)),
        (["TIMEOUT"], ((b"TIMEOUT",),)),  # inside a list a status name is text
        ("café", (("café".encode(),),)),
    ],
)
def test_txt_value_rule(value, records):
    assert run(MemoryResolver({"t.example": {"TXT": value}}).txt("t.example")).records == records


def test_mx_forms():
    r = MemoryResolver(
        {
            "a.example": {"MX": (10, "mx.example")},
            "b.example": {"MX": [10, "mx.example"]},
            "c.example": {"MX": "10 mx.example."},
            "d.example": {"mx": [MXHost(5, "x.example."), "7 y.example"]},
        }
    )
    for name in ("a.example", "b.example", "c.example"):
        assert run(r.mx(name)).records == (MXHost(10, "mx.example"),)
    assert run(r.mx("d.example")).records == (MXHost(5, "x.example"), MXHost(7, "y.example"))


def test_nxdomain_nodata_and_empty_non_terminal(resolver):
    assert run(resolver.a("nope.example.com")) == Lookup(LookupStatus.NXDOMAIN, (), 60.0)
    assert run(resolver.txt("mail.example.com")) == Lookup(LookupStatus.NODATA, (), 60.0)
    assert run(resolver.txt("empty.example")).status is LookupStatus.NODATA
    assert run(resolver.txt("spf-only.example")).status is LookupStatus.NODATA
    assert run(resolver.txt("ent.example.com")).status is LookupStatus.NODATA  # RFC 8020
    assert run(resolver.txt("example")).status is LookupStatus.NODATA  # parent of names
    assert run(resolver.txt("com")).status is LookupStatus.NODATA


def test_forced_statuses(resolver):
    for query in (resolver.txt, resolver.a, resolver.mx, resolver.ptr, resolver.aaaa):
        assert run(query("slow.example")).status is LookupStatus.TIMEOUT
    assert run(resolver.txt("x.example")).status is LookupStatus.SERVFAIL
    assert run(resolver.a("x.example")).records == (IPv4Address("192.0.2.9"),)
    forced = MemoryResolver({"n.example": {"TXT": LookupStatus.NXDOMAIN}, "m.example": "SERVFAIL"})
    assert run(forced.txt("n.example")).status is LookupStatus.NXDOMAIN
    assert run(forced.a("m.example")).status is LookupStatus.SERVFAIL


def test_cname(resolver):
    assert run(resolver.a("www.example.com")).records == (
        IPv4Address("192.0.2.10"),
        IPv4Address("192.0.2.11"),
    )
    assert run(resolver.txt("www.example.com")).status is LookupStatus.NODATA
    assert run(resolver.a("loop.example.com")).status is LookupStatus.SERVFAIL
    dangling = MemoryResolver({"a.example": {"CNAME": "gone.example"}})
    assert run(dangling.a("a.example")).status is LookupStatus.NXDOMAIN


def test_wildcard(resolver):
    assert run(resolver.txt("anything.wild.example")).records == ((b"wildcard",),)
    assert run(resolver.txt("a.b.wild.example")).records == ((b"wildcard",),)
    assert run(resolver.a("anything.wild.example")).status is LookupStatus.NODATA
    assert run(resolver.txt("wild.example")).status is LookupStatus.NODATA


def test_names_case_and_dots(resolver):
    assert run(resolver.a("MAIL.example.COM.")).status is LookupStatus.ANSWER
    assert run(resolver.txt("bücher.example")).records == ((b"\xff raw",),)
    assert run(resolver.txt("BÜCHER.example")).status is LookupStatus.NXDOMAIN  # ASCII case only


@pytest.mark.parametrize(
    "name", ["", "a..b", "x" * 64 + ".example", ("a" * 62 + ".") * 5, "\ud800.example"]
)
def test_odd_names_never_raise(resolver, name):
    assert run(resolver.txt(name)).status is LookupStatus.NXDOMAIN


def test_queries_are_recorded(resolver):
    run(resolver.txt("example.com"))
    run(resolver.txt("Example.com."))
    run(resolver.a("mail.example.com"))
    assert resolver.queries == [
        (RRType.TXT, "example.com"),
        (RRType.TXT, "Example.com."),
        (RRType.A, "mail.example.com"),
    ]
    assert resolver.count(RRType.TXT, "example.com") == 2
    assert resolver.count("a") == 1
    assert resolver.count() == 3


@pytest.mark.parametrize(
    ("zone", "error"),
    [
        ({"a..b": {}}, ValueError),
        ({"a.example": {"A": "not-an-ip"}}, ValueError),
        ({"a.example": {"MX": "mail"}}, ValueError),
        ({"a.example": {"MX": [("ten", "mail")]}}, TypeError),
        ({"a.example": {"TXT": 5}}, TypeError),
        ({"a.example": {"CNAME": ["x", "y"]}}, TypeError),
        ({"a.example": ["A"]}, TypeError),
    ],
)
def test_bad_data_is_refused(zone, error):
    with pytest.raises(error):
        MemoryResolver(zone)


def test_add_merges_records():
    r = MemoryResolver({"a.example": {"A": "192.0.2.1"}})
    r.add("A.example.", {"A": ["192.0.2.2", "192.0.2.1"]})
    assert run(r.a("a.example")).records == (IPv4Address("192.0.2.1"), IPv4Address("192.0.2.2"))


def test_the_documented_example():
    r = MemoryResolver(
        {
            "example.com": {
                "TXT": ["v=spf1 -all"],
                "A": ["192.0.2.1"],
                "MX": [(10, "mail.example.com")],
            },
            "slow.example": "TIMEOUT",
            "x.example": {"TXT": "TIMEOUT"},
        }
    )
    assert run(r.txt("example.com")).records == ((b"v=spf1 -all",),)
    assert run(r.a("example.com")).records == (IPv4Address("192.0.2.1"),)
    assert run(r.mx("example.com")).records == (MXHost(10, "mail.example.com"),)
    assert run(r.a("slow.example")).status is LookupStatus.TIMEOUT
    assert run(r.txt("x.example")).status is LookupStatus.TIMEOUT
    assert run(r.a("x.example")).status is LookupStatus.NODATA
