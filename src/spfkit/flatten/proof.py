"""The equivalence proof: the flattened records authorise exactly what the source tree did.

Both trees are compiled (``spfkit.compile``) for IPv4 and IPv6, read without the §4.6.4
limits: the source as published (the policy its owner meant) and the flattened records served
through an :class:`~spfkit.lookup.overlay.OverlayResolver`, as receivers will see them. The
two maps are compared range by range; the first address where the results differ is the
counter-example. The most lookups and void lookups the flattened tree spends on any client
are reported, so that the caller can hold them to the limits (then the limits change no
result: the maps are what receivers compute). Ranges that both maps leave to the evaluator (a kept
``ptr``/``exists``/macro term) are counted, not compared: the same terms, as written, decide
them. Sans-I/O apart from the injected resolver.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from spfkit.compile import PolicyMap, compile_policy
from spfkit.flatten.plan import UNLIMITED
from spfkit.lookup.overlay import OverlayResolver
from spfkit.lookup.protocol import Resolver
from spfkit.results import Result

__all__ = ["Difference", "Proof", "compare_maps", "prove"]


@dataclass(frozen=True, slots=True)
class Difference:
    """The first address where the source and the flattened tree disagree."""

    address: IPv4Address | IPv6Address
    source: Result | None
    flattened: Result | None


@dataclass(frozen=True, slots=True)
class Proof:
    """The verdict: ``difference`` None means equal everywhere; ``lookups`` is the most
    DNS-querying terms (§4.6.4) a receiver spends on the flattened tree for any client."""

    difference: Difference | None
    lookups: int
    source_lookups: int
    undecided: int  # addresses both maps leave to the evaluator
    #: the most void lookups (§4.6.4) the flattened tree spends for any client
    void_lookups: int = 0

    @property
    def equal(self) -> bool:
        return self.difference is None


def _result(policy: PolicyMap, address: int) -> Result | None:
    decision = policy.decide(address)
    return None if decision is None else decision.result


def compare_maps(source: PolicyMap, flat: PolicyMap) -> tuple[Difference | None, int]:
    """The first differing address (or None) and how many addresses neither decides."""
    bounds = sorted(set(source.starts) | set(flat.starts))
    end = 1 << (32 if source.version == 4 else 128)
    undecided = 0
    for k, start in enumerate(bounds):
        a, b = _result(source, start), _result(flat, start)
        if a != b:
            return Difference(_address(source.version, start), a, b), undecided
        if a is None:
            undecided += (bounds[k + 1] if k + 1 < len(bounds) else end) - start
    return None, undecided


def _address(version: int, value: int) -> IPv4Address | IPv6Address:
    return IPv4Address(value) if version == 4 else IPv6Address(value)


def _max_lookups(policy: PolicyMap) -> int:
    return max((d.lookups for d in policy.decisions if d is not None), default=0)


def _max_voids(policy: PolicyMap) -> int:
    return max((d.void_lookups for d in policy.decisions if d is not None), default=0)


async def prove(domain: str, records: Mapping[str, str], resolver: Resolver) -> Proof:
    """Compile both trees and compare them (see the module doc)."""
    flat_resolver = OverlayResolver(resolver, dict(records))
    lookups = source_lookups = undecided = voids = 0
    for version in (4, 6):
        source = await compile_policy(domain, version, resolver=resolver, options=UNLIMITED)
        flat = await compile_policy(domain, version, resolver=flat_resolver, options=UNLIMITED)
        difference, left = compare_maps(source, flat)
        lookups = max(lookups, _max_lookups(flat))
        voids = max(voids, _max_voids(flat))
        source_lookups = max(source_lookups, _max_lookups(source))
        undecided += left
        if difference is not None:
            return Proof(difference, lookups, source_lookups, undecided, voids)
    return Proof(None, lookups, source_lookups, undecided, voids)
