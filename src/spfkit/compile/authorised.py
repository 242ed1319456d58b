"""``authorised_addresses()``: compile a domain for both IP versions and count the addresses
it authorises (RFC 7208 §2.6.3 ``pass``), for ``show``, ``lint``, the web and the survey.
Sans-I/O apart from the injected resolver.
"""

from __future__ import annotations

from spfkit.compile.compiler import compile_policy
from spfkit.compile.counts import AddressCounts, address_counts
from spfkit.evaluate.options import CheckOptions
from spfkit.lookup.protocol import Resolver

__all__ = ["authorised_addresses"]


async def authorised_addresses(
    domain: str, *, resolver: Resolver, sender: str = "", helo: str = "",
    options: CheckOptions | None = None,
) -> AddressCounts:
    """The addresses ``check_host(ip, domain, sender)`` passes, counted per IP version."""
    helo = helo or domain
    v4 = await compile_policy(domain, 4, resolver=resolver, sender=sender, helo=helo, options=options)
    v6 = await compile_policy(domain, 6, resolver=resolver, sender=sender, helo=helo, options=options)
    return address_counts(v4, v6)
