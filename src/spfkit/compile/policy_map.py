"""A compiled policy: one domain's ``check_host()`` as a sorted map from client ranges to
decisions (RFC 7208 §4.6, §5), for one IP version and one DNS state.

A check is then a bisect. Ranges whose decision depends on more than the address space the
compiler can see (a "ptr", ``%{i}``, …) hold ``None``: the evaluator answers those clients.
The map also tells how many addresses a domain authorises and which networks (the flattened
record). Pure: no I/O.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    collapse_addresses,
    summarize_address_range,
)
from typing import Final, overload

from spfkit.record.model import Record
from spfkit.results import CheckResult, Result

__all__ = ["Decision", "ExplainedFail", "PolicyMap", "WideStarts", "answer_and_record", "decision"]

#: bytes measured (``sys.getsizeof``, CPython 3.11, 64-bit) of what a map is made of: the
#: map itself and its TTL, a Decision and its CheckResult, an array's header, a tuple's
#: header and one slot of it; kept beside the code that allocates them (``size()``)
_MAP_BYTES: Final = 88 + 24
_ANSWER_BYTES: Final = 104
_EXPLAINED_BYTES: Final = 48
_ARRAY_BYTES: Final = 64
_TUPLE_BYTES: Final = 40
_STR_BYTES: Final = 49
_SLOT_BYTES: Final = 8
#: a Python int of up to 128 bits, as a tuple of IPv6 starts holds them
_WIDE_INT_BYTES: Final = 48
#: IPv6 maps with more ranges than this keep their starts in two arrays (:class:`WideStarts`)
_SMALL_WIDE: Final = 2
_LOW64: Final = (1 << 64) - 1
#: the starts of every one-range map, and a bytes object's header
_FROM_ZERO: Final = (0,)
_BYTES_BYTES: Final = 33

#: RFC 4291 §2.5.5.2: ::ffff:0:0/96, the IPv4-mapped addresses (never an IPv6 client)
_MAPPED_FIRST: Final = 0xFFFF_0000_0000
_MAPPED_LAST: Final = 0xFFFF_FFFF_FFFF


class ExplainedFail:
    """A ``fail`` decided in a record that has "exp" (§6.2): the answer (without its
    explanation, which is expanded per client) and that record. Reads like the answer."""

    __slots__ = ("answer", "record")

    answer: CheckResult
    record: Record

    def __init__(self, answer: CheckResult, record: Record) -> None:
        object.__setattr__(self, "answer", answer)
        object.__setattr__(self, "record", record)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"ExplainedFail is immutable: cannot set {name}")

    @property
    def result(self) -> Result:
        return self.answer.result

    @property
    def domain(self) -> str:
        return self.answer.domain

    @property
    def mechanism(self) -> str | None:
        return self.answer.mechanism

    @property
    def problem(self) -> str | None:
        return self.answer.problem

    @property
    def lookups(self) -> int:
        return self.answer.lookups

    @property
    def void_lookups(self) -> int:
        return self.answer.void_lookups

    @property
    def no_such_domain(self) -> bool:
        return self.answer.no_such_domain

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ExplainedFail):
            return NotImplemented
        return self.record is other.record and self.answer == other.answer

    def __hash__(self) -> int:
        return hash((self.answer, id(self.record)))

    def __repr__(self) -> str:
        return f"ExplainedFail({self.answer!r}, exp={self.record.explanation})"


#: what ``check_host()`` returns for every client of one range: its ``CheckResult`` (a
#: fail's without the explanation), made once and shared by every range, map and check that
#: reaches it; an :class:`ExplainedFail` for a fail whose record has "exp"
Decision = CheckResult | ExplainedFail


def decision(result: Result, domain: str, mechanism: str | None = None,
             problem: str | None = None, lookups: int = 0, void_lookups: int = 0,
             record: Record | None = None, no_such_domain: bool = False) -> Decision:
    """The :data:`Decision` of these ``CheckResult`` fields; ``record`` is the one whose term
    decided, kept only for a fail it can explain with "exp" (§6.2)."""
    answer = CheckResult(result, domain, mechanism, None, problem, lookups, void_lookups,
                         no_such_domain=no_such_domain)
    if result is Result.FAIL and record is not None and record.explanation is not None:
        return ExplainedFail(answer, record)
    return answer


def answer_and_record(found: Decision) -> tuple[CheckResult, Record | None]:
    """The ``CheckResult`` of a decision, and the record whose "exp" explains it, if any."""
    if type(found) is ExplainedFail:
        return found.answer, found.record
    assert isinstance(found, CheckResult)
    return found, None


class WideStarts(Sequence[int]):
    """Sorted IPv6 range starts in 16 bytes each: their high and low 64 bits in two
    ``array("Q")`` (the low one omitted when every start is a multiple of 2^64, as starts of
    networks of /64 or shorter are). :meth:`rank` is ``bisect_right`` over them."""

    __slots__ = ("_high", "_low")

    def __init__(self, starts: Sequence[int]) -> None:
        self._high = array("Q", [s >> 64 for s in starts])
        low = array("Q", [s & _LOW64 for s in starts])
        self._low = low if any(low) else None

    def rank(self, address: int) -> int:
        """How many starts are <= ``address``."""
        high, low = self._high, self._low
        top = address >> 64
        if low is None:  # every start is a multiple of 2^64
            return bisect_right(high, top)
        after = bisect_right(high, top)
        # among the starts whose high half equals the address's, those whose low half is <=
        return bisect_right(low, address & _LOW64, bisect_left(high, top, 0, after), after)

    def __len__(self) -> int:
        return len(self._high)

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[int]: ...
    def __getitem__(self, index: int | slice) -> int | Sequence[int]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        low = self._low
        return (self._high[index] << 64) | (0 if low is None else low[index])

    def size(self) -> int:
        """Bytes held: the object, its arrays' headers and their items."""
        arrays = 1 if self._low is None else 2
        return 48 + arrays * (_ARRAY_BYTES + 8 * len(self._high))


@dataclass(frozen=True, slots=True)
class PolicyMap:
    """``starts[k]`` is the first address of range k (range k ends where k+1 starts); its
    decision is ``decisions[index[k]]``, ``None`` for "ask the evaluator" (without an
    ``index``, ``decisions[k]``). ``decisions`` holds each distinct decision once."""

    domain: str
    version: int
    #: an ``array("I")`` for IPv4 (4 bytes a range); for IPv6 a tuple of ints when there are
    #: few, else :class:`WideStarts` (16 bytes a range) (``compact_starts``)
    starts: Sequence[int]
    decisions: tuple[Decision | None, ...]
    #: seconds the map stays true: the smallest TTL of the DNS answers it was built from
    ttl: float
    #: which inputs besides the address the decisions depend on ("sender", "helo")
    keyed_on: frozenset[str] = frozenset()
    #: one byte a range: the position of its decision in ``decisions`` (``merge_ranges``)
    index: bytes | None = None

    def decide(self, address: int) -> Decision | None:
        """The decision for the client whose address (as an integer) is ``address``."""
        starts = self.starts
        if type(starts) is WideStarts:
            k = starts.rank(address) - 1
        else:
            k = bisect_right(starts, address) - 1
        index = self.index
        return self.decisions[k if index is None else index[k]]

    def ranges(self) -> list[tuple[int, int, Decision | None]]:
        """Every range as ``(first, last, decision)``."""
        end = (1 << (32 if self.version == 4 else 128)) - 1
        lasts = [s - 1 for s in self.starts[1:]] + [end]
        index, decisions = self.index, self.decisions
        per_range = decisions if index is None else [decisions[i] for i in index]
        return list(zip(self.starts, lasts, per_range))

    @property
    def complete(self) -> bool:
        """True when no range needs the evaluator."""
        return None not in self.decisions

    def count(self, result: Result = Result.PASS) -> int:
        """How many addresses get ``result`` (the ranges that need the evaluator excluded).

        For IPv6, not ::ffff:0:0/96: a client at an IPv4-mapped address is checked as IPv4
        (RFC 7208 §5), so no IPv6 client is ever at one."""
        total = sum(last - first + 1 for first, last, d in self.ranges()
                    if d is not None and d.result is result)
        if self.version == 6:
            total -= sum(max(0, min(last, _MAPPED_LAST) - max(first, _MAPPED_FIRST) + 1)
                         for first, last, d in self.ranges()
                         if d is not None and d.result is result)
        return total

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
        """Bytes this map holds (for the byte-bounded cache), as ``tracemalloc`` counts them:
        the map, its starts and its decisions; ``shared`` decisions (those of the domain's
        other map, kept in the same cache entry) are not counted twice."""
        return self.size_beside(())

    def size_beside(self, shared: Sequence[Decision | None]) -> int:
        """:meth:`size` without the decisions that are also in ``shared``."""
        starts = self.starts
        n = len(starts)
        if starts is _FROM_ZERO:  # one range: the shared starts of every such map
            held = 0
        elif isinstance(starts, WideStarts):
            held = starts.size()
        elif isinstance(starts, array):
            held = _ARRAY_BYTES + starts.itemsize * n
        else:  # a tuple of Python ints
            held = _TUPLE_BYTES + (_SLOT_BYTES + _WIDE_INT_BYTES) * n
        if self.index is not None:
            held += _BYTES_BYTES + len(self.index)
        known = {id(d) for d in shared}
        for d in self.decisions:
            if d is not None and id(d) not in known:
                known.add(id(d))
                held += _ANSWER_BYTES + (_EXPLAINED_BYTES if type(d) is ExplainedFail else 0)
                if d.problem is not None:  # error texts are the decision's own
                    held += _STR_BYTES + len(d.problem)
        return _MAP_BYTES + held + _TUPLE_BYTES + _SLOT_BYTES * len(self.decisions)


def compact_starts(version: int, starts: Sequence[int]) -> Sequence[int]:
    """Range starts in little memory: IPv4 ones as 32-bit unsigned integers (an array),
    IPv6 ones as :class:`WideStarts`, or a tuple when there are only one or two; the one
    range of a map that decides every client alike shares one tuple."""
    if len(starts) == 1:
        return _FROM_ZERO
    if version == 4:
        return array("I", starts)
    return tuple(starts) if len(starts) <= _SMALL_WIDE else WideStarts(starts)


def merge_ranges(
    pieces: Sequence[tuple[int, int, Decision | None]],
) -> tuple[tuple[int, ...], tuple[Decision | None, ...], bytes | None]:
    """Sorted starts, the distinct decisions and each range's position among them (None
    when there is one range, or over 256 decisions: then a decision per range), from disjoint pieces covering the space; neighbours with
    equal decisions become one range."""
    starts: list[int] = []
    per_range: list[Decision | None] = []
    # equal decisions (the "-all" between the networks of a record …) are kept once
    position: dict[Decision | None, int] = {}
    for first, _last, decision in sorted(pieces, key=lambda p: p[0]):
        if per_range and per_range[-1] == decision:
            continue
        starts.append(first)
        per_range.append(decision)
        position.setdefault(decision, len(position))
    distinct = tuple(position)
    if len(distinct) > 256 or len(starts) == 1:
        return tuple(starts), tuple(per_range), None
    return tuple(starts), distinct, bytes(position[d] for d in per_range)
