"""Where answers come from: the one place a program's resolver is built.

``make_resolver()`` turns the settings every front end offers — zone files (offline), or
nameservers (else the system's), a per-query timeout, the cache's size and how long it
remembers failures — into a resolver. The command line (``--zone``, ``--nameserver``,
``--timeout``) and the policy server's configuration both call it, so they answer alike.
Building a resolver reads the zone files, or ``/etc/resolv.conf`` when no nameserver is
given; it sends nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from spfkit.lookup.cache import CachingResolver
from spfkit.lookup.defaults import CACHE_BYTES, CACHE_ENTRIES, QUERY_TIMEOUT
from spfkit.lookup.stub import DnsResolver

if TYPE_CHECKING:
    from spfkit.lookup.zonefile import ZoneResolver

__all__ = ["make_resolver"]


def make_resolver(
    *,
    zones: Sequence[str] = (),
    nameservers: Sequence[str] = (),
    timeout: float = QUERY_TIMEOUT,
    cache_size: int = CACHE_ENTRIES,
    cache_bytes: int = CACHE_BYTES,
    error_ttl: float = 0.0,
) -> ZoneResolver | CachingResolver:
    """The zone files, or DNS (``nameservers``, else the system's) behind one TTL cache.

    ``error_ttl`` is how long a TIMEOUT or SERVFAIL is remembered (RFC 9520 §3.2; 0: not);
    the cache holds at most ``cache_size`` answers of ``cache_bytes`` estimated bytes.
    Raises :class:`~spfkit.lookup.zonefile.ZoneFileError` for a zone file that cannot be
    loaded and :class:`ValueError` for a bad nameserver, a bad timeout or both sources at once.
    """
    if zones and nameservers:
        raise ValueError("zone files and nameservers cannot be combined")
    if zones:
        # imported here: zone files are not on the DNS path a spawned policy process takes
        from spfkit.lookup.zonefile import ZoneResolver

        return ZoneResolver(*zones)
    inner = DnsResolver(list(nameservers) or None, timeout=timeout)
    return CachingResolver(inner, max_entries=cache_size, max_bytes=cache_bytes,
                           error_ttl=error_ttl)
