"""The protocol's shared parts: BaseResolver's typed questions, Lookup values, the CNAME walk."""

from __future__ import annotations

import asyncio
from ipaddress import IPv4Address
from typing import Any

import pytest

from spfkit.lookup import BaseResolver, Lookup, LookupStatus, MXHost, Resolver, RRType
from spfkit.lookup._chain import MAX_CHAIN, ChainEnd, follow_cnames


class Recording(BaseResolver):
    """Only ``lookup()``: every typed question must arrive here."""

    def __init__(self) -> None:
        self.asked: list[tuple[RRType, str]] = []

    async def lookup(self, rrtype: RRType, name: str) -> Lookup[Any]:
        self.asked.append((rrtype, name))
        return Lookup(LookupStatus.NODATA)


def test_typed_questions_go_through_lookup() -> None:
    resolver = Recording()

    async def ask_all() -> None:
        for ask in (resolver.txt, resolver.a, resolver.aaaa, resolver.mx, resolver.ptr):
            assert (await ask("example.com")).status is LookupStatus.NODATA

    asyncio.run(ask_all())
    assert resolver.asked == [(t, "example.com") for t in
                              (RRType.TXT, RRType.A, RRType.AAAA, RRType.MX, RRType.PTR)]


def test_nothing_is_at_hand_by_default_and_lookup_is_required() -> None:
    resolver: Resolver = Recording()
    assert resolver.peek(RRType.TXT, "example.com") is None

    class Incomplete(BaseResolver):
        pass

    with pytest.raises(TypeError):
        Incomplete()  # type: ignore[abstract]


def test_summary_of_a_lookup() -> None:
    mx = Lookup(LookupStatus.ANSWER, (MXHost(10, "mx.example"),))
    assert mx.summary() == "NOERROR: 10 mx.example"
    assert Lookup(LookupStatus.NXDOMAIN).summary() == "NXDOMAIN"


# -- the CNAME walk (RFC 1034 §3.6.2) ----------------------------------------------------------

ADDRESS: Lookup[Any] = Lookup(LookupStatus.ANSWER, (IPv4Address("192.0.2.1"),), 300)


def chain_of(hops: int) -> dict[str, Lookup[Any] | tuple[str, float]]:
    names: dict[str, Lookup[Any] | tuple[str, float]] = {
        f"n{i}": (f"n{i + 1}", 60.0 + i) for i in range(hops)
    }
    names[f"n{hops}"] = ADDRESS
    return names


def test_the_walk_ends_at_the_answer_with_the_least_ttl() -> None:
    names = chain_of(3)
    assert follow_cnames("n0", names.get) == Lookup(LookupStatus.ANSWER, ADDRESS.records, 60.0)
    assert follow_cnames("n3", names.get) is ADDRESS


def test_loops_and_overlong_chains_are_servfail() -> None:
    loop = {"a": ("b", 1.0), "b": ("a", 1.0)}
    assert follow_cnames("a", loop.get) == Lookup(LookupStatus.SERVFAIL)
    assert follow_cnames("n0", chain_of(MAX_CHAIN).get).status is LookupStatus.ANSWER
    assert follow_cnames("n0", chain_of(MAX_CHAIN + 1).get) == Lookup(LookupStatus.SERVFAIL)


def test_a_name_with_nothing_ends_the_walk_for_the_caller() -> None:
    assert follow_cnames("a", {"a": ("b", 30.0)}.get) == ChainEnd("b", 30.0)
