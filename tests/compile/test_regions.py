"""Regions behave as the sets of addresses they stand for (union, intersection, difference,
CIDR widening), checked against Python sets on a small space."""

from __future__ import annotations

from ipaddress import IPv4Address

from hypothesis import given
from hypothesis import strategies as st

from spfkit.compile.regions import Region, cidr_interval

spans = st.lists(st.tuples(st.integers(0, 200), st.integers(0, 40)).map(lambda t: (t[0], t[0] + t[1])),
                 max_size=6)


def _set(region: Region) -> set[int]:
    return {x for low, high in region.spans for x in range(low, high + 1)}


def _raw(pairs: list[tuple[int, int]]) -> set[int]:
    return {x for low, high in pairs for x in range(low, high + 1)}


@given(spans, spans)
def test_region_algebra_is_set_algebra(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> None:
    ra, rb = Region.of(4, a), Region.of(4, b)
    assert _set(ra) == _raw(a) and ra.size() == len(_raw(a))
    assert _set(ra & rb) == _raw(a) & _raw(b)
    assert _set(ra - rb) == _raw(a) - _raw(b)
    assert _set(ra | rb) == _raw(a) | _raw(b)
    for region in (ra & rb, ra - rb, ra | rb):  # canonical: sorted, disjoint, not touching
        assert all(x[1] + 1 < y[0] for x, y in zip(region.spans, region.spans[1:]))


@given(st.integers(0, 2**32 - 1), st.integers(0, 32))
def test_cidr_interval_is_the_network(address: int, prefix: int) -> None:
    low, high = cidr_interval(address, prefix, 32)
    assert low <= address <= high and high - low + 1 == 2 ** (32 - prefix)
    assert low % 2 ** (32 - prefix) == 0


def test_addresses_of_the_other_version_are_left_out() -> None:
    region = Region.of_addresses(4, [IPv4Address("192.0.2.1")], 31)
    assert region.spans == ((int(IPv4Address("192.0.2.0")), int(IPv4Address("192.0.2.1"))),)
    assert not Region.of_addresses(6, [IPv4Address("192.0.2.1")], None)


@given(spans, st.integers(0, 250), st.integers(0, 60))
def test_split_is_intersection_and_difference(a: list[tuple[int, int]], low: int, width: int) -> None:
    region = Region.of(4, a)
    hit, rest = region.split(low, low + width)
    net = Region.of(4, [(low, low + width)])
    assert hit == region & net and rest == region - net
