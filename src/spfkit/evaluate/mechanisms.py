"""The DNS mechanisms (RFC 7208 §5.3–§5.7): one function each, returning a bool.

"all", "ip4" and "ip6" match from the record alone (``LocalMechanism.matches``, §5.1, §5.6);
"include" is a recursive check_host() and lives in ``check_host.py`` (§5.2). Each mechanism
here charges the budget before its query (§4.6.4); DNS trouble raises :class:`TempError`,
limit trouble :class:`PermError` (§5: "processing errors").
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any

from spfkit.errors import PermError, TempError
from spfkit.evaluate.budget import MAX_MX_NAMES
from spfkit.evaluate.run import Evaluation, Frame
from spfkit.identity import IPAddress
from spfkit.lookup.protocol import Lookup, LookupStatus, RRType
from spfkit.record.terms import MX, PTR, A, DNSMechanism, Exists, Mechanism


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
        raise TempError(f"DNS {lookup.outcome} for {what}")


def _void(run: Evaluation, lookup: Lookup[Any], term: str) -> None:
    if lookup.is_void:
        run.budget.charge_void_lookup(term)


async def target_of(run: Evaluation, mech: DNSMechanism, frame: Frame) -> str:
    """§4.8: the expanded domain-spec, or the current <domain> when there is none."""
    if mech.domain_spec is None:
        return frame.domain
    return await run.expand(mech.domain_spec, frame)


async def match(mech: Mechanism, run: Evaluation, frame: Frame) -> bool:
    """§5: true when ``mech`` ("a", "mx", "ptr", "exists") matches <ip>; ``frame.domain``
    is the <domain> of the record."""
    term = str(mech)
    run.budget.charge_dns_term(term)
    if isinstance(mech, A):
        return await _match_a(mech, run, frame, term)
    if isinstance(mech, MX):
        return await _match_mx(mech, run, frame, term)
    if isinstance(mech, PTR):
        return await _match_ptr(mech, run, frame)
    if isinstance(mech, Exists):
        return await _match_exists(mech, run, frame, term)
    raise PermError(f"unknown mechanism {term!r}", term)  # pragma: no cover - parser rejects


async def _match_a(mech: A, run: Evaluation, frame: Frame, term: str) -> bool:
    """§5.3 "a": an address of the target, within the CIDR length, equals <ip>."""
    target = await target_of(run, mech, frame)
    lookup = await run.query(run.address_type, target, frame)
    _raise_on_error(lookup, f"{run.address_type.value} {target}")
    _void(run, lookup, term)
    run.budget.charge_work(len(lookup.records), term)
    return ip_in(run.ip, lookup.records, mech.cidr4, mech.cidr6)


async def _match_mx(mech: MX, run: Evaluation, frame: Frame, term: str) -> bool:
    """§5.4 "mx": <ip> is an address of one of the target's MX hosts (at most 10)."""
    target = await target_of(run, mech, frame)
    lookup = await run.query(RRType.MX, target, frame)
    _raise_on_error(lookup, f"MX {target}")
    _void(run, lookup, term)
    if len(lookup.records) > MAX_MX_NAMES:
        # §4.6.4: more than 10 MX names would mean more than 10 address lookups
        raise PermError(f"{target} has {len(lookup.records)} MX records (limit {MAX_MX_NAMES})", term)
    # RFC 7505: a null MX ("0 .") names no host
    hosts = [mx.exchange for mx in lookup.records if mx.exchange not in ("", ".")]
    for host, answer in zip(hosts, await run.query_all(run.address_type, hosts, frame)):
        _raise_on_error(answer, f"{run.address_type.value} {host}")
        run.budget.charge_work(len(answer.records), term)
        if ip_in(run.ip, answer.records, mech.cidr4, mech.cidr6):
            return True
    return False


async def _match_ptr(mech: PTR, run: Evaluation, frame: Frame) -> bool:
    """§5.5 "ptr": a validated name of <ip> is the target or below it. DNS errors: no match."""
    target = await target_of(run, mech, frame)
    names = await run.validated_names(frame, only_within=target, void_term=str(mech))
    return bool(names)


async def _match_exists(mech: Exists, run: Evaluation, frame: Frame, term: str) -> bool:
    """§5.7 "exists": the target has an A record (always A, whatever <ip> is)."""
    target = await target_of(run, mech, frame)
    lookup = await run.query(RRType.A, target, frame)
    _raise_on_error(lookup, f"A {target}")
    _void(run, lookup, term)
    return lookup.status is LookupStatus.ANSWER
