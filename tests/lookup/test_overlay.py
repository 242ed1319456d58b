"""OverlayResolver: drafted TXT records in front of any resolver (RFC 7208 §4.4, §4.6.4)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import pytest

from spfkit.evaluate import check_host
from spfkit.lookup import BaseResolver, LookupStatus, MemoryResolver, RRType
from spfkit.lookup.overlay import OverlayResolver
from spfkit.results import Result

T = TypeVar("T")

BASE = {
    "example.net": {
        "TXT": ["v=spf1 -all", "google-site-verification=abc"],
        "MX": (10, "mail.example.net"),
        "A": "192.0.2.80",
    },
    "mail.example.net": {"A": "192.0.2.25", "AAAA": "2001:db8::25"},
    "_spf.provider.example": {"TXT": "v=spf1 ip4:198.51.100.0/24 -all"},
}


def run(awaitable: Awaitable[T]) -> T:
    async def main() -> T:
        return await awaitable

    return asyncio.run(main())


@pytest.fixture
def base() -> MemoryResolver:
    return MemoryResolver(BASE)


def test_overridden_txt_comes_from_memory(base: MemoryResolver) -> None:
    overlay = OverlayResolver(base, {"Example.NET.": "v=spf1 mx ~all"})
    lookup = run(overlay.txt("example.net"))
    assert lookup.status is LookupStatus.ANSWER
    assert lookup.records == ((b"v=spf1 mx ~all",),)  # the whole RRset is replaced
    assert base.count(RRType.TXT) == 0
    assert overlay.local_queries == [(RRType.TXT, "example.net")]


def test_everything_else_comes_from_the_base(base: MemoryResolver) -> None:
    overlay = OverlayResolver(base, {"example.net": "v=spf1 mx ~all"})
    assert run(overlay.mx("example.net")).records[0].exchange == "mail.example.net"
    assert [str(a) for a in run(overlay.a("mail.example.net")).records] == ["192.0.2.25"]
    assert [str(a) for a in run(overlay.aaaa("mail.example.net")).records] == ["2001:db8::25"]
    assert run(overlay.txt("_spf.provider.example")).records == (
        (b"v=spf1 ip4:198.51.100.0/24 -all",),
    )
    assert run(overlay.ptr("25.2.0.192.in-addr.arpa")).status is LookupStatus.NXDOMAIN
    assert base.count() == 5 and overlay.local_queries == []


def test_several_strings_and_records() -> None:
    overlay = OverlayResolver(
        None,
        {
            "long.example.net": (b"v=spf1 ip4:192.0.2.1 ", b"-all"),
            "two.example.net": ["v=spf1 -all", "other"],
        },
    )
    assert run(overlay.txt("long.example.net")).records == ((b"v=spf1 ip4:192.0.2.1 ", b"-all"),)
    assert len(run(overlay.txt("two.example.net")).records) == 2


def test_without_a_base_only_the_overrides_exist() -> None:
    overlay = OverlayResolver(None, {"mail.example.net": "v=spf1 a -all"})
    assert run(overlay.txt("mail.example.net")).status is LookupStatus.ANSWER
    assert run(overlay.a("mail.example.net")).status is LookupStatus.NODATA
    assert (
        run(overlay.mx("example.net")).status is LookupStatus.NODATA
    )  # RFC 8020 empty non-terminal
    assert run(overlay.txt("other.example")).status is LookupStatus.NXDOMAIN
    assert run(overlay.aaaa("other.example")).status is LookupStatus.NXDOMAIN
    assert run(overlay.ptr("1.2.0.192.in-addr.arpa")).status is LookupStatus.NXDOMAIN


def test_base_errors_pass_through() -> None:
    overlay = OverlayResolver(
        MemoryResolver({"slow.example": "TIMEOUT"}), {"example.net": "v=spf1 -all"}
    )
    assert run(overlay.a("slow.example")).status is LookupStatus.TIMEOUT
    assert run(overlay.txt("example.net")).status is LookupStatus.ANSWER


def test_bad_override_names_are_refused() -> None:
    with pytest.raises(ValueError):
        OverlayResolver(None, {"a..b": "v=spf1 -all"})


def test_peek(base: MemoryResolver) -> None:
    overlay = OverlayResolver(base, {"example.net": "v=spf1 mx ~all"})
    assert overlay.peek(RRType.TXT, "example.net").records == ((b"v=spf1 mx ~all",),)
    assert overlay.peek(RRType.A, "example.net").records[0].exploded == "192.0.2.80"

    class Plain(BaseResolver):  # a resolver that holds no answers
        async def lookup(self, rrtype: RRType, name: str): ...

    assert (
        OverlayResolver(Plain(), {"x.example": "v=spf1 -all"}).peek(RRType.A, "y.example") is None
    )


def test_check_host_sees_the_draft_before_it_is_published(base: MemoryResolver) -> None:
    """The point of it: evaluate a record as receivers will once it is published."""
    assert (
        run(check_host("192.0.2.25", "example.net", "a@example.net", resolver=base)).result
        is Result.FAIL
    )
    overlay = OverlayResolver(base, {"example.net": "v=spf1 mx include:_spf.provider.example ~all"})
    assert (
        run(check_host("192.0.2.25", "example.net", "a@example.net", resolver=overlay)).result
        is Result.PASS
    )
    result = run(check_host("198.51.100.9", "example.net", "a@example.net", resolver=overlay))
    assert (result.result, result.lookups) == (Result.PASS, 2)
    assert (
        run(check_host("203.0.113.1", "example.net", "a@example.net", resolver=overlay)).result
        is Result.SOFTFAIL
    )
