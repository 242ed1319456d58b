"""DnsResolver against a real BIND on loopback, and against scripted misbehaving servers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from ipaddress import IPv4Address, IPv6Address
from typing import TypeVar

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from spfkit.lookup import DnsResolver, Lookup, LookupStatus, MXHost, Nameserver
from tests.fixtures.ports import free_port
from tests.lookup.conftest import BIG_TXT

T = TypeVar("T")


def run(awaitable: Awaitable[T]) -> T:
    async def main() -> T:
        return await awaitable

    return asyncio.run(main())


def timed(awaitable: Awaitable[T]) -> tuple[T, float]:
    start = time.monotonic()
    result = run(awaitable)
    return result, time.monotonic() - start


# -- answers from BIND ---------------------------------------------------------------------


def test_a_aaaa(named):
    r = DnsResolver.from_spec(named.spec)
    a = run(r.a("mail.example.net"))
    assert a.status is LookupStatus.ANSWER
    assert sorted(a.records) == [IPv4Address("127.0.0.2"), IPv4Address("127.0.0.3")]
    assert a.ttl == 300.0
    aaaa = run(r.aaaa("mail.example.net"))
    assert aaaa.records == (IPv6Address("2001:db8::25"),)


def test_mx_and_ptr(named):
    r = DnsResolver.from_spec(named.spec)
    mx = run(r.mx("example.net"))
    assert sorted(mx.records, key=lambda h: h.preference) == [
        MXHost(10, "mail.example.net"),
        MXHost(20, "mx2.example.net"),
    ]
    assert mx.ttl == 600.0
    ptr = run(r.ptr("2.0.0.127.in-addr.arpa"))
    assert sorted(ptr.records) == ["mail.example.net", "other.example.net"]


def test_txt_records_and_strings(named):
    r = DnsResolver.from_spec(named.spec)
    txt = run(r.txt("example.net"))
    assert sorted(txt.records) == [(b"google-site-verification=abc",), (b"v=spf1 mx ~all",)]
    multi = run(r.txt("multi.example.net"))
    assert multi.records == ((b"v=spf1 ip4:192.0.2.0/24 ", b"-all"),)
    raw = run(r.txt("raw.example.net"))
    assert raw.records == ((b"caf\xc3\xa9 \x00\xff",),)  # octets as published, not decoded


def test_nxdomain_nodata_and_negative_ttl(named):
    r = DnsResolver.from_spec(named.spec)
    nx = run(r.a("nope.example.net"))
    assert nx == Lookup(LookupStatus.NXDOMAIN, (), 120.0)  # RFC 2308 §5: min(SOA TTL, MINIMUM)
    nodata = run(r.txt("mail.example.net"))
    assert nodata == Lookup(LookupStatus.NODATA, (), 120.0)
    ent = run(r.txt("ent.example.net"))  # RFC 8020: names below it exist
    assert ent.status is LookupStatus.NODATA
    assert nx.is_void and nodata.is_void


def test_case_insensitive_and_trailing_dot(named):
    r = DnsResolver.from_spec(named.spec)
    got = run(r.a("MAIL.Example.NET."))
    assert sorted(got.records) == [IPv4Address("127.0.0.2"), IPv4Address("127.0.0.3")]


def test_cname_chains(named):
    r = DnsResolver.from_spec(named.spec)
    one = run(r.a("alias.example.net"))
    assert sorted(one.records) == [IPv4Address("127.0.0.2"), IPv4Address("127.0.0.3")]
    assert one.ttl == 60.0  # the minimum over the chain
    two = run(r.a("alias2.example.net"))
    assert two.status is LookupStatus.ANSWER and two.ttl == 30.0
    assert run(r.txt("alias.example.net")).status is LookupStatus.NODATA
    assert run(r.a("dangling.example.net")).status is LookupStatus.NXDOMAIN
    assert run(r.a("loop1.example.net")).status is LookupStatus.SERVFAIL


def test_wildcard(named):
    r = DnsResolver.from_spec(named.spec)
    assert run(r.a("anything.wild.example.net")).records == (IPv4Address("192.0.2.99"),)


def test_non_ascii_names_are_utf8_octets(named):
    r = DnsResolver.from_spec(named.spec)
    assert run(r.txt("bücher.example.net")).records == ((b"v=spf1 -all",),)
    assert run(r.txt("BÜCHER.example.net")).status is LookupStatus.NXDOMAIN  # only ASCII case folds
    assert run(r.txt("ünknown.example.net")).status is LookupStatus.NXDOMAIN


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "a..example.net",
        ".example.net",
        "x" * 64 + ".example.net",
        ("a" * 60 + ".") * 5 + "net",
        "é" * 32 + ".net",
    ],
)
def test_impossible_names_are_nxdomain_without_a_query(named, name):
    r = DnsResolver.from_spec(named.spec)
    assert run(r.txt(name)) == Lookup(LookupStatus.NXDOMAIN)
    assert r.queries_sent == 0


def test_lone_surrogates_do_not_raise(named):
    r = DnsResolver.from_spec(named.spec)
    assert run(r.txt("\ud800\udcff.example.net")).status is LookupStatus.NXDOMAIN


def test_longest_possible_name_is_asked(named):
    r = DnsResolver.from_spec(named.spec)
    name = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])  # 253 octets
    assert run(r.txt(name)).status is LookupStatus.NXDOMAIN
    assert r.queries_sent == 1


def test_truncated_answer_is_repeated_over_tcp(named):
    r = DnsResolver.from_spec(named.spec)
    big = run(r.txt("big.example.net"))
    assert big.status is LookupStatus.ANSWER
    assert sorted(big.records) == sorted((text.encode(),) for text in BIG_TXT)
    assert r.queries_sent == 2  # UDP (TC=1), then TCP


def test_many_concurrent_queries(named):
    r = DnsResolver.from_spec(named.spec)

    async def many() -> list[Lookup[MXHost]]:
        return await asyncio.gather(*(r.mx("example.net") for _ in range(200)))

    results = run(many())
    assert all(len(x.records) == 2 for x in results)
    assert r.queries_sent == 200


# -- time limits and failing servers ------------------------------------------------------


def test_silent_server_times_out_within_the_timeout(silent_port):
    r = DnsResolver([f"127.0.0.1:{silent_port}"], timeout=0.3)
    got, elapsed = timed(r.txt("example.net"))
    assert got.status is LookupStatus.TIMEOUT
    assert 0.25 <= elapsed < 1.0


def test_next_nameserver_after_a_silent_one(silent_port, named):
    r = DnsResolver([f"127.0.0.1:{silent_port}", named.spec], timeout=2.0)
    got, elapsed = timed(r.a("mail.example.net"))
    assert got.status is LookupStatus.ANSWER
    assert 0.9 <= elapsed < 1.9  # the silent server had its half of the time


def test_all_silent_stays_within_the_timeout(silent_port):
    r = DnsResolver([f"127.0.0.1:{silent_port}"] * 3, timeout=0.4)
    got, elapsed = timed(r.a("example.net"))
    assert got.status is LookupStatus.TIMEOUT
    assert elapsed < 0.8
    assert r.queries_sent == 3


def reply_to(
    query: dns.message.Message, rcode: int = dns.rcode.NOERROR, *rrsets: str
) -> dns.message.Message:
    reply = dns.message.make_response(query)
    reply.set_rcode(rcode)
    for text in rrsets:
        name, ttl, rdtype, *data = text.split(" ", 3)
        reply.answer.append(dns.rrset.from_text(name, int(ttl), "IN", rdtype, *data))
    return reply


def test_servfail_and_refused_pass_on_to_the_next_server(responder, named):
    refusing = responder(lambda q, w: reply_to(q, dns.rcode.REFUSED))
    failing = responder(lambda q, w: reply_to(q, dns.rcode.SERVFAIL))
    r = DnsResolver([refusing.spec, failing.spec, named.spec], timeout=3.0)
    got, elapsed = timed(r.a("mail.example.net"))
    assert got.status is LookupStatus.ANSWER
    assert elapsed < 0.9  # no waiting: the failures were answers
    assert (refusing.received, failing.received) == (1, 1)
    alone = DnsResolver([failing.spec], timeout=3.0)
    assert run(alone.a("mail.example.net")).status is LookupStatus.SERVFAIL


def test_closed_port_is_a_fast_failure():
    r = DnsResolver([f"127.0.0.1:{free_port()}"], timeout=3.0)
    got, elapsed = timed(r.txt("example.net"))
    assert got.status is LookupStatus.SERVFAIL  # ICMP port unreachable
    assert elapsed < 1.0


def test_datagrams_for_other_queries_are_ignored(responder):
    def handler(query, wire):
        good = reply_to(query, dns.rcode.NOERROR, "example.org. 60 TXT ok")
        wrong_id = bytes([wire[0] ^ 0xFF]) + good.to_wire()[1:]
        other = dns.message.make_query("evil.example.org", "TXT")
        other.id = query.id
        other_reply = reply_to(other, dns.rcode.NOERROR, "evil.example.org. 60 TXT evil")
        return [wrong_id, other_reply.to_wire(), wire, good.to_wire()]  # `wire` is not a response

    server = responder(handler)
    got = run(DnsResolver([server.spec], timeout=2.0).txt("example.org"))
    assert got == Lookup(LookupStatus.ANSWER, ((b"ok",),), 60.0)


def test_garbage_answer_is_servfail(responder):
    def handler(query, wire):
        header = bytearray(reply_to(query).to_wire()[:12])
        header[6:8] = b"\x00\x01"  # ANCOUNT 1, but the record stops after one octet
        header[10:12] = b"\x00\x00"
        return bytes(header) + wire[12:-11] + b"\xc0"

    server = responder(handler)
    r = DnsResolver([server.spec], timeout=1.0)
    assert run(r.txt("example.org")).status is LookupStatus.SERVFAIL


def test_server_without_edns_is_asked_again_plainly(responder):
    def handler(query, wire):
        if query.edns >= 0:
            return reply_to(query, dns.rcode.FORMERR)
        return reply_to(query, dns.rcode.NOERROR, "old.example. 60 A 192.0.2.1")

    server = responder(handler)
    got = run(DnsResolver([server.spec], timeout=2.0).a("old.example"))
    assert got.records == (IPv4Address("192.0.2.1"),)
    assert server.received == 2


def test_cname_left_unresolved_by_the_server_is_followed(responder):
    def handler(query, wire):
        name = query.question[0].name.to_text()
        if name == "a.example.":
            return reply_to(query, dns.rcode.NOERROR, "a.example. 50 CNAME b.example.")
        return reply_to(query, dns.rcode.NOERROR, "b.example. 500 TXT target")

    server = responder(handler)
    r = DnsResolver([server.spec], timeout=2.0)
    assert run(r.txt("a.example")) == Lookup(LookupStatus.ANSWER, ((b"target",),), 50.0)
    assert r.queries_sent == 2


def test_truncated_without_tcp_is_servfail(responder):
    def handler(query, wire):
        reply = reply_to(query)
        reply.flags |= dns.flags.TC
        return reply

    server = responder(handler)  # UDP only: the TCP connection is refused
    assert (
        run(DnsResolver([server.spec], timeout=1.0).txt("x.example")).status
        is LookupStatus.SERVFAIL
    )


def test_queries_use_rd_edns_and_random_ids(responder):
    seen: list[dns.message.Message] = []

    def handler(query, wire):
        seen.append(query)
        return reply_to(query, dns.rcode.NXDOMAIN)

    server = responder(handler)
    r = DnsResolver([server.spec], timeout=2.0)
    for _ in range(8):
        assert run(r.a("x.example")).status is LookupStatus.NXDOMAIN
    assert all(q.flags & dns.flags.RD and q.edns == 0 and q.payload == 1232 for q in seen)
    assert len({q.id for q in seen}) > 1
    assert seen[0].question[0].rdtype == dns.rdatatype.A


# -- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("127.0.0.1:5300", [Nameserver("127.0.0.1", 5300)]),
        ("192.0.2.1", [Nameserver("192.0.2.1", 53)]),
        ("[::1]:5353", [Nameserver("::1", 5353)]),
        ("[2001:db8::1]", [Nameserver("2001:db8::1", 53)]),
        ("::1", [Nameserver("::1", 53)]),
        ("127.0.0.1:5300, [::1]:53", [Nameserver("127.0.0.1", 5300), Nameserver("::1", 53)]),
    ],
)
def test_from_spec(spec, expected):
    assert list(DnsResolver.from_spec(spec, timeout=1.5).nameservers) == expected


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "ns.example.com",
        "ns.example.com:53",
        "1.2.3.4:0",
        "1.2.3.4:x",
        "[::1",
        "[::1]x",
        "1.2.3.4:70000",
    ],
)
def test_from_spec_rejects(spec):
    with pytest.raises(ValueError):
        DnsResolver.from_spec(spec)


def test_constructor_port_and_default_configuration():
    r = DnsResolver(["127.0.0.1", "::1"], port=5300, timeout=2.0)
    assert r.nameservers == (Nameserver("127.0.0.1", 5300), Nameserver("::1", 5300))
    assert str(r.nameservers[1]) == "[::1]:5300"
    system = DnsResolver()  # /etc/resolv.conf; no query is sent
    assert system.nameservers and all(ns.port == 53 for ns in system.nameservers)
    assert system.timeout == 5.0
    with pytest.raises(ValueError):
        DnsResolver(["127.0.0.1"], timeout=0)


def test_aclose_and_context_manager(named):
    async def use() -> Lookup[IPv4Address]:
        async with DnsResolver.from_spec(named.spec) as r:
            return await r.a("mail.example.net")

    assert run(use()).status is LookupStatus.ANSWER
