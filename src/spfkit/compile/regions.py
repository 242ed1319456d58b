"""Sets of client addresses as sorted, disjoint, inclusive integer intervals (RFC 7208 §5.6).

One :class:`Region` holds addresses of one IP version (the compiler walks the IPv4 space and
the IPv6 space separately: §5 asks A records for an IPv4 client and AAAA for an IPv6 one, so
the same record can decide, count and fail differently per version). Pure: no I/O.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from typing import Final

__all__ = ["BITS", "Region", "cidr_interval"]

#: address width per IP version
BITS: Final = {4: 32, 6: 128}
_MAX: Final = 1 << 129


def cidr_interval(address: int, prefix: int, width: int) -> tuple[int, int]:
    """§5.6: the addresses that share ``address``'s first ``prefix`` bits."""
    shift = width - prefix
    low = (address >> shift) << shift
    return low, low + (1 << shift) - 1


@dataclass(frozen=True, slots=True)
class Region:
    """Addresses of one IP version: ``spans`` are sorted, disjoint, non-adjacent ``(low, high)``."""

    version: int
    spans: tuple[tuple[int, int], ...]

    @classmethod
    def everything(cls, version: int) -> Region:
        return cls(version, ((0, (1 << BITS[version]) - 1),))

    @classmethod
    def of(cls, version: int, spans: Iterable[tuple[int, int]]) -> Region:
        """The union of arbitrary (possibly overlapping) inclusive intervals."""
        merged: list[tuple[int, int]] = []
        for low, high in sorted(spans):
            if merged and low <= merged[-1][1] + 1:
                if high > merged[-1][1]:
                    merged[-1] = (merged[-1][0], high)
            else:
                merged.append((low, high))
        return cls(version, tuple(merged))

    @classmethod
    def of_addresses(
        cls, version: int, addresses: Iterable[IPv4Address | IPv6Address], prefix: int | None
    ) -> Region:
        """§5.6: the clients an "a"/"mx" answer matches, each address widened to ``prefix``."""
        width = BITS[version]
        bits = width if prefix is None else prefix
        return cls.of(version, (cidr_interval(int(a), bits, width)
                                for a in addresses if a.version == version))

    def __bool__(self) -> bool:
        return bool(self.spans)

    def size(self) -> int:
        """How many addresses."""
        return sum(high - low + 1 for low, high in self.spans)

    def split(self, low: int, high: int) -> tuple[Region, Region]:
        """(the addresses in ``[low, high]``, the others): one network, in O(log n) + copies."""
        spans = self.spans
        # the first span that ends at or after low, and the first that starts after high
        i = bisect_left(spans, (low, low)) - 1
        if i < 0 or spans[i][1] < low:
            i += 1
        j = bisect_right(spans, (high, _MAX))
        if i >= j:
            return Region(self.version, ()), self
        first, last = spans[i], spans[j - 1]
        inside = [(max(first[0], low), min(first[1], high)), *spans[i + 1:j]]
        if j - 1 > i:
            inside[-1] = (last[0], min(last[1], high))
        outside = list(spans[:i])
        if first[0] < low:
            outside.append((first[0], low - 1))
        if last[1] > high:
            outside.append((high + 1, last[1]))
        outside.extend(spans[j:])
        return Region(self.version, tuple(inside)), Region(self.version, tuple(outside))

    def __and__(self, other: Region) -> Region:
        out: list[tuple[int, int]] = []
        a, b = self.spans, other.spans
        i = j = 0
        while i < len(a) and j < len(b):
            low = max(a[i][0], b[j][0])
            high = min(a[i][1], b[j][1])
            if low <= high:
                out.append((low, high))
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return Region(self.version, tuple(out))

    def __sub__(self, other: Region) -> Region:
        out: list[tuple[int, int]] = []
        cut = other.spans
        j = 0
        for low, high in self.spans:
            while j < len(cut) and cut[j][1] < low:
                j += 1
            k = j
            while k < len(cut) and cut[k][0] <= high:
                if cut[k][0] > low:
                    out.append((low, cut[k][0] - 1))
                low = max(low, cut[k][1] + 1)
                k += 1
            if low <= high:
                out.append((low, high))
        return Region(self.version, tuple(out))

    def __or__(self, other: Region) -> Region:
        return Region.of(self.version, (*self.spans, *other.spans))
