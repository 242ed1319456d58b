"""How the networks of a record nest (RFC 7208 §4.6.2, §5.6), without comparing every pair.

Two CIDR networks are either disjoint or one contains the other, and the networks containing
a given one are its supernets: one per prefix length. So each network is looked up under the
prefix lengths the record uses, in a table from network to the positions (in record order)
where it is written — O(n · d) for n networks and d distinct prefix lengths (at most 33 for
IPv4, 129 for IPv6), where comparing every pair was O(n²). Pure: standard library only.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network

__all__ = ["Nesting", "nesting"]

#: (version, prefix length, network address as an integer): one key per network
_Key = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class Nesting:
    """For the networks ``nets[0..n)`` in record order (only equal versions compare).

    ``inside[j]``: the first ``i < j`` whose network contains ``nets[j]`` (an equal one
    included), or None. ``widened_by[i]``: for a network no earlier one contains, the first
    ``j > i`` whose network strictly contains it, or None.
    """

    inside: tuple[int | None, ...]
    widened_by: tuple[int | None, ...]


def nesting(nets: Sequence[IPv4Network | IPv6Network]) -> Nesting:
    """The :class:`Nesting` of ``nets``."""
    keys = [(net.version, net.prefixlen, int(net.network_address)) for net in nets]
    where: dict[_Key, list[int]] = {}
    for p, key in enumerate(keys):
        where.setdefault(key, []).append(p)  # positions ascending
    lengths: dict[int, list[int]] = {
        version: sorted({k[1] for k in where if k[0] == version}) for version in (4, 6)
    }
    inside: list[int | None] = []
    widened_by: list[int | None] = []
    for p, (version, length, address) in enumerate(keys):
        width = 32 if version == 4 else 128
        first: int | None = None  # the first earlier container
        after: int | None = None  # the first later strict container
        for shorter in lengths[version]:
            if shorter > length:
                break
            mask = ((1 << shorter) - 1) << (width - shorter)
            spots = where.get((version, shorter, address & mask))
            if spots is None:
                continue
            if spots[0] < p and (first is None or spots[0] < first):
                first = spots[0]
            if shorter < length:
                k = bisect_right(spots, p)
                if k < len(spots) and (after is None or spots[k] < after):
                    after = spots[k]
        inside.append(first)
        widened_by.append(after if first is None else None)
    return Nesting(tuple(inside), tuple(widened_by))
