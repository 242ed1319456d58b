"""Compiled policies kept for reuse, bounded in bytes and by each map's TTL (RFC 7208 §4.6.4).

A map is true for the DNS state it was built from, so it lives no longer than the smallest
TTL of the answers it used; a map built from a DNS failure (TTL 0) is not kept. A domain has
one entry, holding its IPv4 and its IPv6 map (which share their equal decisions) and the
mark that it was asked about once. Maps that depend on the sender or HELO (``%{s}``,
``%{h}`` …, :attr:`PolicyMap.keyed_on`) are kept under those values too. Beside the maps,
:class:`~spfkit.compile.answers.RememberedAnswers` keeps the evaluator's answers for the
clients the maps leave to it. Pure: no I/O; ``clock`` is passed in (tests use a fake one).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import replace
from typing import Final

from spfkit.bounded import LRUStats, SizedLRU
from spfkit.compile.answers import RememberedAnswers
from spfkit.compile.policy_map import PolicyMap

__all__ = ["DEFAULT_MAX_BYTES", "CompiledCache", "PolicyKey"]

#: 64 MiB: three quarters for maps (some 30,000 domains with both IP versions compiled, at
#: the 1.7 KB a domain measured in benchmarks/README.md, part 5), a quarter for remembered
#: evaluator answers (some 28,000)
DEFAULT_MAX_BYTES: Final = 64 * 1024 * 1024
#: bytes of an entry without its maps, as tracemalloc counts them: the LRU's slot and its
#: (value, size) tuple and size int, the entry object and its two expiry floats; and what a
#: large cache holds beyond the parts of its maps (160 bytes a domain measured at 100,000
#: domains: the term texts and "exp" records its decisions keep alive once the parser's own
#: cache has let them go, the hash table's slack)
_ENTRY_BYTES: Final = 180 + 64 + 48 + 160
#: the share of the bytes given to remembered evaluator answers
_ANSWERS_SHARE: Final = 4

#: (domain, IP version, the options that change results, None for the defaults)
PolicyKey = tuple[str, int, Hashable]


class _Seen:
    """The mark of a version asked about once but not compiled (or whose map expired)."""


_SEEN: Final = _Seen()


class _Entry:
    """One domain's maps (or marks) per IP version and when each expires."""

    __slots__ = ("v4", "v6", "expires4", "expires6")

    def __init__(self) -> None:
        self.v4: PolicyMap | _Seen | None = None
        self.v6: PolicyMap | _Seen | None = None
        self.expires4 = self.expires6 = 0.0

    def size(self) -> int:
        """Bytes of the entry and its maps, the decisions both maps hold counted once."""
        size = _ENTRY_BYTES
        v4, v6 = self.v4, self.v6
        if isinstance(v4, PolicyMap):
            size += v4.size()
        if isinstance(v6, PolicyMap):
            size += v6.size_beside(v4.decisions if isinstance(v4, PolicyMap) else ())
        return size


class CompiledCache:
    """Maps by (domain, options[, sender/HELO values]), both IP versions in one entry, least
    recently used first out; also remembers which domains were asked about once (compiled
    the second time) and, in :attr:`answers`, the evaluator's answers the maps leave to it."""

    __slots__ = ("_clock", "_entries", "answers", "max_bytes")

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_bytes = max_bytes
        self._clock = clock
        maps = max_bytes - max_bytes // _ANSWERS_SHARE
        self._entries: SizedLRU[Hashable, object] = SizedLRU(
            maps, max_entry_bytes=max(1, maps // 8))
        self.answers = RememberedAnswers(max_bytes // _ANSWERS_SHARE, clock)

    def get(self, key: PolicyKey, sender: str, helo: str) -> PolicyMap | None:
        """The fresh map for ``key`` that applies to this sender and HELO, or None."""
        domain, version, options = key
        ekey = domain if options is None else (domain, options)
        entry = self._entries.get(ekey)
        if not isinstance(entry, _Entry):
            return None
        if version == 4:
            found, expires = entry.v4, entry.expires4
        else:
            found, expires = entry.v6, entry.expires6
        if not isinstance(found, PolicyMap):
            return None
        if self._clock() >= expires:
            self._set(ekey, entry, version, _SEEN, 0.0)
            return None
        if not found.keyed_on:
            return found
        keyed = self._entries.get((ekey, version, *_values(found, sender, helo)))
        if not isinstance(keyed, tuple):
            return None
        expires, policy = keyed
        return policy if self._clock() < expires else None

    def put(self, key: PolicyKey, policy: PolicyMap, sender: str, helo: str) -> None:
        """Keep ``policy`` until its TTL runs out (a TTL of 0 keeps nothing)."""
        if policy.ttl <= 0:
            return
        domain, version, options = key
        ekey = domain if options is None else (domain, options)
        expires = self._clock() + policy.ttl
        entry = self._entries.get(ekey)
        if not isinstance(entry, _Entry):
            entry = _Entry()
        if policy.keyed_on:
            self._entries.put((ekey, version, *_values(policy, sender, helo)), (expires, policy),
                              policy.size() + 120)
            # a marker in the domain's entry says which values the maps are keyed on
            policy = PolicyMap(policy.domain, policy.version, (), (), policy.ttl, policy.keyed_on)
        else:
            other = entry.v6 if version == 4 else entry.v4
            if isinstance(other, PolicyMap):
                policy = _sharing(policy, other)
        self._set(ekey, entry, version, policy, expires)

    def first_time(self, key: PolicyKey) -> bool:
        """True the first time ``key`` is asked about (then the evaluator answers, and
        nothing is compiled: a one-off check costs no more than before)."""
        domain, version, options = key
        ekey = domain if options is None else (domain, options)
        entry = self._entries.get(ekey)
        if not isinstance(entry, _Entry):
            entry = _Entry()
        elif (entry.v4 if version == 4 else entry.v6) is not None:
            return False
        self._set(ekey, entry, version, _SEEN, 0.0)
        return True

    def _set(self, ekey: Hashable, entry: _Entry, version: int, value: PolicyMap | _Seen,
             expires: float) -> None:
        if version == 4:
            entry.v4, entry.expires4 = value, expires
        else:
            entry.v6, entry.expires6 = value, expires
        self._entries.put(ekey, entry, entry.size())

    def stats(self) -> LRUStats:
        return self._entries.stats()

    def __len__(self) -> int:
        """Entries held: one a domain, one more for each map kept per sender or HELO."""
        return len(self._entries)


def _sharing(policy: PolicyMap, other: PolicyMap) -> PolicyMap:
    """``policy`` holding ``other``'s decisions wherever they are equal (one object for the
    "-all" of both IP versions …)."""
    known = {d: d for d in other.decisions if d is not None}
    if not known:
        return policy
    decisions = tuple(None if d is None else known.get(d, d) for d in policy.decisions)
    return replace(policy, decisions=decisions)


def _values(policy: PolicyMap, sender: str, helo: str) -> tuple[str, ...]:
    return tuple(sender if what == "sender" else helo for what in sorted(policy.keyed_on))
