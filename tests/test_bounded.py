"""``SizedLRU``: a cache bounded in bytes, whatever sizes its entries have."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from spfkit.bounded import SizedLRU
from spfkit.record.parse import RECORD_CACHE, estimated_size, parse_record


def test_least_recently_used_goes_first() -> None:
    cache: SizedLRU[str, int] = SizedLRU(100)
    cache.put("a", 1, 40)
    cache.put("b", 2, 40)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3, 40)
    assert "b" not in cache and cache.get("a") == 1 and cache.get("c") == 3
    assert cache.bytes == 80


def test_an_entry_over_the_entry_limit_is_not_kept() -> None:
    cache: SizedLRU[str, int] = SizedLRU(1000, max_entry_bytes=100)
    cache.put("small", 1, 10)
    cache.put("small", 2, 101)  # the old value under that key goes too
    assert "small" not in cache and cache.bytes == 0
    assert cache.stats().too_large == 1


def test_resize_drops_what_no_longer_fits() -> None:
    cache: SizedLRU[int, int] = SizedLRU(1000)
    for n in range(10):
        cache.put(n, n, 100)
    cache.resize(350, max_entry_bytes=100)
    assert cache.bytes <= 350 and list(range(7, 10)) == [n for n in range(10) if n in cache]


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 300)), max_size=200),
       st.integers(0, 1000))
def test_the_bound_always_holds(puts: list[tuple[int, int]], limit: int) -> None:
    cache: SizedLRU[int, int] = SizedLRU(limit, max_entry_bytes=limit // 2)
    for key, size in puts:
        cache.put(key, size, size)
        assert cache.bytes <= limit
        assert cache.bytes == sum(cache.get(k) or 0 for k in range(21) if k in cache)
    if puts and puts[-1][1] <= limit // 2:
        assert cache.get(puts[-1][0]) == puts[-1][1]  # the newest fitting entry is kept


def test_the_record_cache_keeps_no_huge_record_and_stays_bounded() -> None:
    """300 sender domains with different 50 KB records once grew policyd to 1.1 GB."""
    before = RECORD_CACHE.stats().too_large
    for n in range(50):
        text = "v=spf1 " + " ".join(f"ip4:10.{n}.{k % 256}.{k // 256}" for k in range(400)) + " -all"
        assert len(text) > 4096 and len(parse_record(text).terms) == 401
        assert text not in RECORD_CACHE
    assert RECORD_CACHE.stats().too_large - before == 50
    assert RECORD_CACHE.bytes <= RECORD_CACHE.max_bytes
    small = "v=spf1 ip4:192.0.2.0/24 -all"
    parse_record(small)
    assert small in RECORD_CACHE and estimated_size(len(small)) < 4096


def test_a_cached_syntax_error_keeps_no_frames() -> None:
    """A cached exception's traceback held the frames (and locals) of its first caller:
    200 failing parses by a caller holding 1 MB grew a process by ~190 MiB (the fuzzer)."""
    import pytest

    from spfkit.errors import RecordSyntaxError

    text = "v=spf1 ip4:192.0.2.300 -all"
    big = bytearray(1_000_000)  # a local of the first caller
    with pytest.raises(RecordSyntaxError):
        parse_record(text)
    cached = RECORD_CACHE.get(text)
    assert isinstance(cached, RecordSyntaxError) and cached.__traceback__ is None
    del big
