"""Property: for random provider trees, flattening is equivalent and fits the limits.

Hypothesis draws a top record and up to four providers (each may include later ones, use
``-``/``~``/``?`` terms, ``a:`` hosts, a ``redirect``) and some providers to keep (often
nested inside another one); :func:`flatten` must either refuse
for the lookup limit or a too-small record size, or give records that fit every limit and
that the evaluator (not the compiler) judges like the source tree at every range boundary.
"""

from __future__ import annotations

import asyncio
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from spfkit.compile import compile_policy
from spfkit.evaluate import check_host
from spfkit.flatten import FlattenError, flatten
from spfkit.flatten.plan import UNLIMITED
from spfkit.lookup.overlay import OverlayResolver
from spfkit.record.parse import parse_record
from spfkit.wizard.zones import split_strings
from tests.fixtures.zone_resolver import ZoneDataResolver

qualifier = st.sampled_from(["", "-", "~", "?"])
net4 = st.builds(lambda a, p: f"ip4:10.0.{a}.0/{p}", st.integers(0, 7), st.integers(22, 28))
net6 = st.builds(lambda a, p: f"ip6:2001:db8:{a:x}::/{p}", st.integers(0, 7), st.integers(46, 64))
host = st.sampled_from(["a:h1.example", "a:h2.example", "a:h1.example/30", "mx:m.example"])
ending = st.sampled_from(["", "-all", "~all", "?all", "all"])


def _terms(index: int, providers: int) -> st.SearchStrategy[list[str]]:
    later = [f"include:p{j}.example" for j in range(index + 1, providers)]
    term = st.one_of(net4, net6, host, *(st.just(t) for t in later)) if later \
        else st.one_of(net4, net6, host)
    return st.lists(st.tuples(qualifier, term).map("".join), min_size=1, max_size=8)


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, list[Any]]:
    providers = draw(st.integers(1, 4))
    data: dict[str, list[Any]] = {
        "h1.example": [{"A": "10.0.3.9"}, {"AAAA": "2001:db8:3::9"}],
        "h2.example": [{"A": "10.0.9.1"}],
        "m.example": [{"MX": [10, "h2.example"]}, {"MX": [20, "h1.example"]}],
    }
    for i in range(providers):
        body = draw(_terms(i, providers))
        end = draw(ending)
        if not end and i + 1 < providers and draw(st.booleans()):
            end = f"redirect=p{providers - 1}.example"
        data[f"p{i}.example"] = [{"TXT": " ".join(["v=spf1", *body, end]).strip()}]
    top = draw(_terms(-1, providers))
    data["example.com"] = [{"TXT": " ".join(["v=spf1", *top, draw(ending)]).strip()}]
    return data


def _boundaries(resolver: ZoneDataResolver) -> list[str]:
    """The first and last address of (up to 40) ranges of the source maps."""
    out: list[str] = []
    for version, make in ((4, IPv4Address), (6, IPv6Address)):
        policy = asyncio.run(compile_policy("example.com", version, resolver=resolver,
                                            options=UNLIMITED))
        for first, last, _d in policy.ranges()[:40]:
            out += [str(make(first)), str(make(last))]
    return out


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds(), st.sampled_from([120, 200, 450]), st.sets(st.integers(1, 3), max_size=2))
def test_flattening_is_equivalent_and_fits(data: dict[str, list[Any]], max_bytes: int,
                                           kept: set[int]) -> None:
    """``kept``: providers named with --keep, most often nested inside another provider."""
    source = ZoneDataResolver(data)
    keep = frozenset(f"p{i}.example" for i in kept)
    try:
        result = asyncio.run(flatten("example.com", source, max_bytes=max_bytes, keep=keep))
    except FlattenError as exc:
        assert "not equivalent" not in str(exc), exc
        event("refused: " + str(exc).split(":")[0])  # the limit or the record size
        return
    event(f"{len(result.records)} record(s)")
    written = {t.lstrip("+-~?") for _n, text in result.records for t in text.split()}
    event(f"kept nested: {bool(keep & {w.removeprefix('include:') for w in written})}")
    assert result.proof.equal and result.lookups <= 10
    for _name, text in result.records:
        assert len(text.encode()) <= max_bytes
        assert all(len(s) <= 255 for s in split_strings(text))
        parse_record(text)
    flat = OverlayResolver(source, dict(result.records))
    for ip in _boundaries(source):
        want = asyncio.run(check_host(ip, "example.com", "", resolver=source, options=UNLIMITED))
        got = asyncio.run(check_host(ip, "example.com", "", resolver=flat))
        assert got.result == want.result, (ip, result.records, data)
