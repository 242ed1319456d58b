"""make_resolver: zone files, or nameservers behind one cache (the CLI's and policyd's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spfkit.lookup import (
    CachingResolver,
    DnsResolver,
    Nameserver,
    ZoneFileError,
    ZoneResolver,
    make_resolver,
)

EXAMPLE_ZONE = Path(__file__).resolve().parents[2] / "examples" / "example.zone"


def test_zone_files_are_answered_offline() -> None:
    resolver = make_resolver(zones=[str(EXAMPLE_ZONE)])
    assert isinstance(resolver, ZoneResolver)
    assert resolver.files == (str(EXAMPLE_ZONE),)


def test_nameservers_behind_one_cache() -> None:
    resolver = make_resolver(nameservers=["127.0.0.1:5300", "::1"], timeout=2.5,
                             cache_size=10, error_ttl=5.0)
    assert isinstance(resolver, CachingResolver)
    assert (resolver.max_entries, resolver.error_ttl) == (10, 5.0)
    inner = resolver.inner
    assert isinstance(inner, DnsResolver)
    assert inner.nameservers == (Nameserver("127.0.0.1", 5300), Nameserver("::1", 53))
    assert inner.timeout == 2.5


def test_without_nameservers_the_system_configuration_is_used() -> None:
    resolver = make_resolver()
    assert isinstance(resolver, CachingResolver) and isinstance(resolver.inner, DnsResolver)
    assert resolver.inner.nameservers  # resolv.conf, or 127.0.0.1 like the C library
    assert (resolver.max_entries, resolver.error_ttl) == (100_000, 0.0)


@pytest.mark.parametrize(
    "kwargs",
    [{"nameservers": ["mail.example"]}, {"nameservers": ["127.0.0.1"], "timeout": 0},
     {"zones": ["a.zone"], "nameservers": ["127.0.0.1"]}],
)
def test_bad_settings_are_value_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        make_resolver(**kwargs)  # type: ignore[arg-type]


def test_a_missing_zone_file_is_a_zone_file_error(tmp_path: Path) -> None:
    with pytest.raises(ZoneFileError, match="cannot read"):
        make_resolver(zones=[str(tmp_path / "missing.zone")])
