"""ZoneResolver: BIND master files in, authoritative answers out."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import TypeVar

import pytest

from spfkit.errors import SpfkitError
from spfkit.lookup import (
    Lookup,
    LookupStatus,
    MXHost,
    RRType,
    ZoneFileError,
    ZoneResolver,
)
from spfkit.lookup.zonefile import infer_origin
from tests.lookup.conftest import NAMED_ZONE

T = TypeVar("T")


def run(awaitable: Awaitable[T]) -> T:
    async def main() -> T:
        return await awaitable

    return asyncio.run(main())


EXAMPLE_COM = """\
$ORIGIN example.com.
$TTL 3600
@       IN SOA ns1 hostmaster ( 2024010101 7200 900 1209600 300 )
        IN NS  ns1
        IN MX  10 mail
        IN MX  20 mail.example.net.
        IN TXT "v=spf1 mx a:relay.example.com -all"
ns1     IN A   192.0.2.53
mail    IN A   192.0.2.25
        IN AAAA 2001:db8::25
relay 600 IN A 192.0.2.26
www     IN CNAME mail
split   IN TXT "v=spf1 ip4:192.0.2.0/24 " "include:_spf.example.net -all"
a.b.c   IN TXT "deep"
*.wild  IN TXT "v=spf1 -all"
"""

EXAMPLE_NET = """\
; no $ORIGIN, no SOA: names are read against the root
$TTL 300
example.net           IN TXT "v=spf1 include:example.com ~all"
mail.example.net.     IN A   198.51.100.25
_spf.example.net      IN TXT "v=spf1 ip6:2001:db8::/32 -all"
alias.example.net     IN CNAME www.example.com.
loop1.example.net     IN CNAME loop2.example.net.
loop2.example.net     IN CNAME loop1.example.net.
25.2.0.192.in-addr.arpa. IN PTR mail.example.com.
"""


@pytest.fixture
def zones(tmp_path: Path) -> ZoneResolver:
    com = tmp_path / "example.com.zone"
    net = tmp_path / "example.net.zone"
    com.write_text(EXAMPLE_COM)
    net.write_text(EXAMPLE_NET)
    return ZoneResolver(com, str(net))


def test_origin_relative_names_and_ttl(zones):
    assert run(zones.txt("example.com")) == Lookup(
        LookupStatus.ANSWER, ((b"v=spf1 mx a:relay.example.com -all",),), 3600.0
    )
    assert sorted(run(zones.mx("example.com")).records, key=lambda m: m.preference) == [
        MXHost(10, "mail.example.com"),
        MXHost(20, "mail.example.net"),
    ]
    assert run(zones.a("relay.example.com")) == Lookup(
        LookupStatus.ANSWER, (IPv4Address("192.0.2.26"),), 600.0
    )
    assert run(zones.aaaa("mail.example.com")).records == (IPv6Address("2001:db8::25"),)
    assert run(zones.ptr("25.2.0.192.in-addr.arpa")).records == ("mail.example.com",)
    assert run(zones.txt("split.example.com")).records == (
        (b"v=spf1 ip4:192.0.2.0/24 ", b"include:_spf.example.net -all"),
    )


def test_files_merge(zones):
    assert run(zones.txt("example.net")).records == ((b"v=spf1 include:example.com ~all",),)
    assert run(zones.a("mail.example.net")).records == (IPv4Address("198.51.100.25"),)


def test_negative_answers(zones):
    # RFC 2308 §5: min(SOA TTL 3600, MINIMUM 300)
    assert run(zones.txt("nope.example.com")) == Lookup(LookupStatus.NXDOMAIN, (), 300.0)
    assert run(zones.txt("mail.example.com")) == Lookup(LookupStatus.NODATA, (), 300.0)
    assert run(zones.txt("b.c.example.com")).status is LookupStatus.NODATA  # empty non-terminal
    assert run(zones.txt("c.example.com")).status is LookupStatus.NODATA
    assert run(zones.txt("x.a.b.c.example.com")).status is LookupStatus.NXDOMAIN
    assert run(zones.txt("nope.example.net")) == Lookup(LookupStatus.NXDOMAIN, (), 0.0)  # no SOA
    assert run(zones.txt("elsewhere.test")).status is LookupStatus.NXDOMAIN


def test_cname_followed_across_files(zones):
    assert run(zones.a("www.example.com")).records == (IPv4Address("192.0.2.25"),)
    assert run(zones.a("alias.example.net")).records == (IPv4Address("192.0.2.25"),)
    assert run(zones.txt("alias.example.net")).status is LookupStatus.NODATA
    assert run(zones.a("loop1.example.net")).status is LookupStatus.SERVFAIL


def test_wildcard(zones):
    assert run(zones.txt("host.wild.example.com")).records == ((b"v=spf1 -all",),)


def test_case_odd_names_and_queries(zones):
    assert run(zones.a("MAIL.EXAMPLE.COM.")).status is LookupStatus.ANSWER
    for name in ("", "a..b", "x" * 64 + ".com", "\udcff.example.com", "ü" * 40):
        assert run(zones.txt(name)).status is LookupStatus.NXDOMAIN
    assert zones.queries[0] == (RRType.A, "MAIL.EXAMPLE.COM.")
    assert len(zones.queries) == 6


def test_non_ascii_names_are_utf8_not_idna():
    zones = ZoneResolver.from_text('$TTL 60\nbücher.example. IN TXT "v=spf1 -all"\n')
    assert run(zones.txt("bücher.example")).records == ((b"v=spf1 -all",),)
    assert run(zones.txt("xn--bcher-kva.example")).status is LookupStatus.NXDOMAIN


def test_same_zone_as_bind_serves():
    zones = ZoneResolver.from_text(NAMED_ZONE)
    assert len(run(zones.txt("big.example.net")).records) == 40
    assert run(zones.a("alias2.example.net")).ttl == 30.0
    assert run(zones.txt("raw.example.net")).records == ((b"caf\xc3\xa9 \x00\xff",),)
    assert run(zones.a("x.wild.example.net")).records == (IPv4Address("192.0.2.99"),)


@pytest.mark.parametrize(
    ("text", "origin"),
    [
        ("$TTL 1\nexample.org. IN SOA ns hm 1 2 3 4 5\n", "example.org."),
        ("$ORIGIN example.org.\n@ 60 IN SOA ns hm 1 2 3 4 5\n", "example.org."),
        ("$ORIGIN org.\nexample IN SOA ns hm ( 1 2 3 4 5 )\n", "example.org."),
        ("$ORIGIN org.\n$ORIGIN example\n@ SOA ns hm 1 2 3 4 5\n", "example.org."),
        ("; example.org. IN SOA in a comment\nwww IN A 192.0.2.1\n", "."),
        ('x IN TXT "SOA"\n', "."),
    ],
)
def test_infer_origin(text, origin):
    assert infer_origin(text) == origin


def test_soa_owner_is_the_origin_of_relative_names():
    zones = ZoneResolver.from_text(
        "$TTL 60\nexample.org. IN SOA ns hm 1 2 3 4 5\nwww IN A 192.0.2.1\n"
    )
    assert run(zones.a("www.example.org")).records == (IPv4Address("192.0.2.1"),)
    explicit = ZoneResolver.from_text("$TTL 60\nwww IN A 192.0.2.2\n", origin="example.info")
    assert run(explicit.a("www.example.info")).records == (IPv4Address("192.0.2.2"),)


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.zone"
    with pytest.raises(ZoneFileError) as info:
        ZoneResolver(missing)
    assert info.value.filename == str(missing)
    assert str(info.value).startswith(f"{missing}: cannot read: ")
    assert isinstance(info.value, SpfkitError)


@pytest.mark.parametrize(
    ("text", "origin", "line", "reason"),
    [
        ("$TTL 60\nexample.com. IN A 192.0.2\n", None, None, "malformed"),  # dnspython: line 2 or 3
        ("$TTL 60\n\nexample.com. IN FOO 1\n", None, 3, "FOO"),
        ("example.com. IN TXT x\n", None, None, "TTL"),
        (
            "$TTL 60\nexample.com. IN SOA a b 1 2 3 4 5\nexample.net. IN SOA a b 1 2 3 4 5\n",
            None,
            3,
            "outside the zone",
        ),
        (
            "$TTL 60\n$ORIGIN example.com.\n@ SOA a b 1 2 3 4 5\n"
            "$ORIGIN example.org.\nwww A 192.0.2.1\n",
            None,
            5,
            "www.example.org.",
        ),
        (
            "$TTL 60\nexample.com. IN SOA a b 1 2 3 4 5\n",
            "example.net",
            2,
            "outside the zone example.net.",
        ),
        ("$TTL 60\nexample.com. IN TXT x\n", "example.net.", 2, "outside the zone"),
    ],
)
def test_unparsable_file(tmp_path, text, origin, line, reason):
    path = tmp_path / "bad.zone"
    path.write_text(text)
    with pytest.raises(ZoneFileError) as info:
        ZoneResolver(path, origin=origin)
    error = info.value
    assert error.filename == str(path)
    assert reason in error.reason
    assert "\n" not in str(error)
    if line is not None:
        assert error.line == line
        assert str(error).startswith(f"{path}:{line}: ")


def test_continuation_lines_and_quotes_are_not_owners():
    text = """$TTL 60
$ORIGIN example.com.
@ IN SOA (
ns.elsewhere.net.
hostmaster.elsewhere.net.
1 2 3 4 5 )
txt IN TXT "v=DKIM1; k=rsa; (" "p=abc"
other.example.com. IN A 192.0.2.7
"""
    zones = ZoneResolver.from_text(text)
    assert run(zones.txt("txt.example.com")).records == ((b"v=DKIM1; k=rsa; (", b"p=abc"),)
    assert run(zones.a("other.example.com")).records == (IPv4Address("192.0.2.7"),)
