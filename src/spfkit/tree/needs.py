"""What an evaluation really needs when it stopped at a §4.6.4 limit (RFC 7208 §4.6.4).

Receivers stop at the 11th DNS-querying term or the 3rd void lookup, so the counts of a
``CheckResult`` stop there too: a tree that needs 11 lookups reports 10. The real total is
learnt in one way only: the same evaluator runs again with the limits lifted
(:data:`EXPLORE_LIMIT`), over the same answers. ``tree.build`` does it for its sample
clients; ``spfkit check`` and the web's ``/test`` do it for the client they check
(:func:`check_with_needs`). Nothing here counts: the counts are ``check_host()``'s.
"""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address, IPv6Address
from typing import Final

from spfkit.evaluate.identities import check
from spfkit.evaluate.options import CheckOptions
from spfkit.identity import Identity
from spfkit.lookup.protocol import Resolver
from spfkit.lookup.snapshot import SnapshotResolver
from spfkit.results import CheckResult, Result
from spfkit.tree.model import Needed

__all__ = ["EXPLORE_LIMIT", "Needed", "check_with_needs", "hit_limit", "lifted"]

#: the lifted limits of the second run: enough for any real tree, bounded for hostile ones
EXPLORE_LIMIT: Final = 100


def hit_limit(result: CheckResult, options: CheckOptions) -> bool:
    """Did the evaluation stop at a §4.6.4 limit (the 11th term or the 3rd void lookup)?"""
    if result.result is not Result.PERMERROR:
        return False
    return (result.lookups >= options.max_dns_terms
            or result.void_lookups > options.max_void_lookups)


def lifted(options: CheckOptions) -> CheckOptions:
    """``options`` with the §4.6.4 term and void limits raised to :data:`EXPLORE_LIMIT`."""
    return replace(options, max_dns_terms=EXPLORE_LIMIT, max_void_lookups=EXPLORE_LIMIT)


async def check_with_needs(
    ip: str | IPv4Address | IPv6Address, mail_from: str, helo: str, *, resolver: Resolver,
    identity: Identity = Identity.MAILFROM, receiver: str | None = None,
    options: CheckOptions | None = None, trace: bool = False,
) -> tuple[CheckResult, Needed | None]:
    """``evaluate.check()``, and when it stopped at a limit, what it would have needed.

    ``trace``: the evaluator's trace is wanted (a compiled answer has none).

    The second evaluation reads the answers the first one got (a snapshot of DNS), so it
    asks the network only for what lies beyond the limit. ``None``: within the limits.
    """
    options = options or CheckOptions()
    snap = SnapshotResolver(resolver)
    result = await check(ip, mail_from, helo, resolver=snap, identity=identity,
                         receiver=receiver, options=options, trace=trace)
    if not hit_limit(result, options):
        return result, None
    explored = await check(ip, mail_from, helo, resolver=snap, identity=identity,
                           receiver=receiver, options=lifted(options))
    return result, Needed.of(explored)
