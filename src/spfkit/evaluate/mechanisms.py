"""Mechanism matching (RFC 7208 §5): one function per mechanism, each returning a bool.

A DNS-querying mechanism charges the budget before its query (§4.6.4); DNS trouble raises
:class:`TempError`, limit and syntax trouble :class:`PermError` (§5: "processing errors").
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any

from spfkit.errors import PermError, TempError
from spfkit.evaluate.budget import MAX_MX_NAMES
from spfkit.evaluate.run import Evaluation
from spfkit.identity import IPAddress
from spfkit.lookup.protocol import Lookup, LookupStatus, RRType
from spfkit.record.terms import IP4, IP6, MX, PTR, A, All, Exists, Include, Mechanism
from spfkit.results import Result

def ip_in(ip: IPAddress, addresses: tuple[Any, ...], cidr4: int | None, cidr6: int | None) -> bool:
    """§5.6: does <ip> fall in any of ``addresses`` widened to the CIDR length?"""
    if isinstance(ip, IPv4Address):
        bits, width = (32 if cidr4 is None else cidr4), 32
    else:
        bits, width = (128 if cidr6 is None else cidr6), 128
    shift = width - bits
    mine = int(ip) >> shift
    return any(int(addr) >> shift == mine for addr in addresses if addr.version == ip.version)


def _raise_on_error(lookup: Lookup[Any], what: str) -> None:
    if lookup.status.is_error:
        raise TempError(f"DNS {lookup.status.value} for {what}")


def _void(run: Evaluation, lookup: Lookup[Any], term: str) -> None:
    if lookup.is_void:
        run.budget.charge_void_lookup(term)


async def _target(run: Evaluation, mech: A | MX | PTR, domain: str, depth: int) -> str:
    if mech.domain_spec is None:
        return domain
    return await run.expand(mech.domain_spec, domain, depth)


async def match(mech: Mechanism, run: Evaluation, domain: str, depth: int, chain: tuple[str, ...]) -> bool:
    """§5: true when ``mech`` matches <ip>; ``domain`` is the <domain> of the record.

    ``chain`` is the include/redirect path so far (for loop detection).
    """
    if isinstance(mech, (All, IP4, IP6)):
        return mech.matches(run.ip)  # §5.1, §5.6: no DNS
    term = str(mech)
    run.budget.charge_dns_term(term)
    if isinstance(mech, A):
        return await _match_a(mech, run, domain, depth, term)
    if isinstance(mech, MX):
        return await _match_mx(mech, run, domain, depth, term)
    if isinstance(mech, PTR):
        return await _match_ptr(mech, run, domain, depth)
    if isinstance(mech, Exists):
        return await _match_exists(mech, run, domain, depth, term)
    if isinstance(mech, Include):
        return await _match_include(mech, run, domain, depth, chain)
    raise PermError(f"unknown mechanism {term!r}", term)  # pragma: no cover - parser rejects


async def _match_a(mech: A, run: Evaluation, domain: str, depth: int, term: str) -> bool:
    """§5.3 "a": an address of the target, within the CIDR length, equals <ip>."""
    target = await _target(run, mech, domain, depth)
    lookup = await run.query(run.address_type, target, depth, domain)
    _raise_on_error(lookup, f"{run.address_type.value} {target}")
    _void(run, lookup, term)
    return ip_in(run.ip, lookup.records, mech.cidr4, mech.cidr6)


async def _match_mx(mech: MX, run: Evaluation, domain: str, depth: int, term: str) -> bool:
    """§5.4 "mx": <ip> is an address of one of the target's MX hosts (at most 10)."""
    target = await _target(run, mech, domain, depth)
    lookup = await run.query(RRType.MX, target, depth, domain)
    _raise_on_error(lookup, f"MX {target}")
    _void(run, lookup, term)
    if len(lookup.records) > MAX_MX_NAMES:
        # §4.6.4: more than 10 MX names would mean more than 10 address lookups
        raise PermError(f"{target} has {len(lookup.records)} MX records (limit {MAX_MX_NAMES})", term)
    # RFC 7505: a null MX ("0 .") names no host
    hosts = [mx.exchange for mx in lookup.records if mx.exchange not in ("", ".")]
    for host, answer in zip(hosts, await run.query_all(run.address_type, hosts, depth, domain)):
        _raise_on_error(answer, f"{run.address_type.value} {host}")
        if ip_in(run.ip, answer.records, mech.cidr4, mech.cidr6):
            return True
    return False


async def _match_ptr(mech: PTR, run: Evaluation, domain: str, depth: int) -> bool:
    """§5.5 "ptr": a validated name of <ip> is the target or below it. DNS errors: no match."""
    target = await _target(run, mech, domain, depth)
    names = await run.validated_names(depth, domain, only_within=target, void_term=str(mech))
    return bool(names)


async def _match_exists(mech: Exists, run: Evaluation, domain: str, depth: int, term: str) -> bool:
    """§5.7 "exists": the target has an A record (always A, whatever <ip> is)."""
    target = await run.expand(mech.domain_spec, domain, depth)
    lookup = await run.query(RRType.A, target, depth, domain)
    _raise_on_error(lookup, f"A {target}")
    _void(run, lookup, term)
    return lookup.status is LookupStatus.ANSWER


async def _match_include(
    mech: Include, run: Evaluation, domain: str, depth: int, chain: tuple[str, ...]
) -> bool:
    """§5.2 "include": recursive check_host(); the table of §5.2 maps its result."""
    target = await run.expand(mech.domain_spec, domain, depth)
    inner = await run.check_include(target, depth + 1, chain)
    if inner is Result.PASS:
        return True
    if inner in (Result.FAIL, Result.SOFTFAIL, Result.NEUTRAL):
        return False
    if inner is Result.NONE:
        raise PermError(f"include:{target} has no SPF record", str(mech))
    # temperror / permerror inside the include propagate as exceptions before we get here
    raise PermError(f"include:{target} returned {inner.value}", str(mech))
