"""A compiled policy: one domain's ``check_host()`` as a sorted map from client ranges to
decisions (RFC 7208 §4.6, §5), for one IP version and one DNS state.

A check is then a bisect. Ranges whose decision depends on more than the address space the
compiler can see (a "ptr", ``%{i}``, …) hold ``None``: the evaluator answers those clients.
The map also tells how many addresses a domain authorises and which networks (the flattened
record). Pure: no I/O.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    collapse_addresses,
    summarize_address_range,
)
from typing import Final

from spfkit.record.model import Record
from spfkit.results import CheckResult, Result

__all__ = ["Decision", "PolicyMap"]

#: rough bytes of one IPv6 range of a map (an int and a tuple slot) and of one Decision
_RANGE_BYTES: Final = 120
_DECISION_BYTES: Final = 400


@dataclass(frozen=True, slots=True)
class Decision:
    """What ``check_host()`` returns for every client of one range (the ``CheckResult``
    fields), and the record whose "exp" explains a ``fail`` (§6.2, expanded per client)."""

    result: Result
    domain: str
    mechanism: str | None = None
    problem: str | None = None
    lookups: int = 0
    void_lookups: int = 0
    record: Record | None = None
    no_such_domain: bool = False  # a "none" because the domain's TXT lookup was NXDOMAIN
    _answer: CheckResult | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def answer(self) -> CheckResult:
        """The ``CheckResult`` of every client of the range (a fail's without its
        explanation); made once, when first asked for."""
        made = self._answer
        if made is None:
            made = CheckResult(self.result, self.domain, self.mechanism, None, self.problem,
                               self.lookups, self.void_lookups,
                               no_such_domain=self.no_such_domain)
            object.__setattr__(self, "_answer", made)
        return made


@dataclass(frozen=True, slots=True)
class PolicyMap:
    """``starts[k]`` is the first address of range k (range k ends where k+1 starts);
    ``decisions[k]`` its decision, ``None`` for "ask the evaluator"."""

    domain: str
    version: int
    #: an ``array("I")`` for IPv4 (4 bytes a range), a tuple of ints for IPv6
    starts: Sequence[int]
    decisions: tuple[Decision | None, ...]
    #: seconds the map stays true: the smallest TTL of the DNS answers it was built from
    ttl: float
    #: which inputs besides the address the decisions depend on ("sender", "helo")
    keyed_on: frozenset[str] = frozenset()

    def decide(self, address: int) -> Decision | None:
        """The decision for the client whose address (as an integer) is ``address``."""
        return self.decisions[bisect_right(self.starts, address) - 1]

    def ranges(self) -> list[tuple[int, int, Decision | None]]:
        """Every range as ``(first, last, decision)``."""
        end = (1 << (32 if self.version == 4 else 128)) - 1
        lasts = [s - 1 for s in self.starts[1:]] + [end]
        return list(zip(self.starts, lasts, self.decisions))

    @property
    def complete(self) -> bool:
        """True when no range needs the evaluator."""
        return None not in self.decisions

    def count(self, result: Result = Result.PASS) -> int:
        """How many addresses get ``result`` (the ranges that need the evaluator excluded)."""
        return sum(last - first + 1 for first, last, d in self.ranges()
                   if d is not None and d.result is result)

    def networks(self, result: Result = Result.PASS) -> list[IPv4Network | IPv6Network]:
        """The addresses that get ``result`` as the fewest CIDR networks (the flattened record)."""
        spans = [(first, last) for first, last, d in self.ranges()
                 if d is not None and d.result is result]
        if self.version == 4:
            v4 = [n for a, b in spans for n in summarize_address_range(IPv4Address(a), IPv4Address(b))]
            return list(collapse_addresses(v4))
        v6 = [n for a, b in spans for n in summarize_address_range(IPv6Address(a), IPv6Address(b))]
        return list(collapse_addresses(v6))

    def size(self) -> int:
        """Estimated bytes (for the byte-bounded cache)."""
        distinct = {id(d) for d in self.decisions}
        per_range = 12 if self.version == 4 else _RANGE_BYTES
        return 200 + per_range * len(self.starts) + _DECISION_BYTES * len(distinct)


def compact_starts(version: int, starts: Sequence[int]) -> Sequence[int]:
    """IPv4 range starts as 32-bit unsigned integers (an array), IPv6 ones as a tuple."""
    return array("I", starts) if version == 4 else tuple(starts)


def merge_ranges(
    pieces: Sequence[tuple[int, int, Decision | None]],
) -> tuple[tuple[int, ...], tuple[Decision | None, ...]]:
    """Sorted starts and decisions from disjoint pieces covering the space; neighbours with
    equal decisions become one range."""
    starts: list[int] = []
    decisions: list[Decision | None] = []
    # equal decisions (the "-all" between the networks of a record …) are kept once
    one: dict[Decision, Decision] = {}
    for first, _last, decision in sorted(pieces, key=lambda p: p[0]):
        if decisions and decisions[-1] == decision:
            continue
        starts.append(first)
        decisions.append(None if decision is None else one.setdefault(decision, decision))
    return tuple(starts), tuple(decisions)
