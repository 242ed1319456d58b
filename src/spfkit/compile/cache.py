"""Compiled policies kept for reuse, bounded in bytes and by each map's TTL (RFC 7208 §4.6.4).

A map is true for the DNS state it was built from, so it lives no longer than the smallest
TTL of the answers it used; a map built from a DNS failure (TTL 0) is not kept. Maps that
depend on the sender or HELO (``%{s}``, ``%{h}`` …, :attr:`PolicyMap.keyed_on`) are kept
under those values too. Pure: no I/O; ``clock`` is passed in (tests use a fake one).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Final

from spfkit.bounded import LRUStats, SizedLRU
from spfkit.compile.policy_map import PolicyMap

__all__ = ["DEFAULT_MAX_BYTES", "CompiledCache", "PolicyKey"]

#: 64 MiB: by the maps' own (generous) estimate some 30,000 maps, i.e. 15,000 domains with
#: both IP versions (measured: 2.8 KB of memory a domain; benchmarks/README.md, part 5)
DEFAULT_MAX_BYTES: Final = 64 * 1024 * 1024
#: estimated bytes of a "seen once" mark, and of the marker of a map keyed on sender/HELO
_SEEN_BYTES: Final = 120

#: (domain lower-cased, IP version, the options that change results)
PolicyKey = tuple[str, int, Hashable]


class CompiledCache:
    """Maps by (domain, IP version, options[, sender/HELO values]), least recently used first
    out; also remembers which domains were asked about once (compiled the second time)."""

    __slots__ = ("_clock", "_maps", "_seen", "max_bytes")

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_bytes = max_bytes
        self._clock = clock
        self._maps: SizedLRU[Hashable, tuple[float, PolicyMap]] = SizedLRU(
            max_bytes, max_entry_bytes=max(1, max_bytes // 8))
        self._seen: SizedLRU[PolicyKey, bool] = SizedLRU(max(1, max_bytes // 16))

    def get(self, key: PolicyKey, sender: str, helo: str) -> PolicyMap | None:
        """The fresh map for ``key`` that applies to this sender and HELO, or None."""
        found = self._fresh(key)
        if found is None or not found.keyed_on:
            return found
        return self._fresh((key, *_values(found, sender, helo)))

    def put(self, key: PolicyKey, policy: PolicyMap, sender: str, helo: str) -> None:
        """Keep ``policy`` until its TTL runs out (a TTL of 0 keeps nothing)."""
        if policy.ttl <= 0:
            return
        expires = self._clock() + policy.ttl
        if policy.keyed_on:
            self._maps.put((key, *_values(policy, sender, helo)), (expires, policy), policy.size())
            # a marker under the plain key says which values the maps are keyed on
            marker = PolicyMap(policy.domain, policy.version, (), (), policy.ttl, policy.keyed_on)
            self._maps.put(key, (expires, marker), _SEEN_BYTES)
        else:
            self._maps.put(key, (expires, policy), policy.size())

    def first_time(self, key: PolicyKey) -> bool:
        """True the first time ``key`` is asked about (then the evaluator answers, and
        nothing is compiled: a one-off check costs no more than before)."""
        if key in self._seen:
            return False
        self._seen.put(key, True, _SEEN_BYTES)
        return True

    def _fresh(self, key: Hashable) -> PolicyMap | None:
        found = self._maps.get(key)
        if found is None:
            return None
        expires, policy = found
        if self._clock() >= expires:
            self._maps.discard(key)
            return None
        return policy

    def stats(self) -> LRUStats:
        return self._maps.stats()

    def __len__(self) -> int:
        return len(self._maps)


def _values(policy: PolicyMap, sender: str, helo: str) -> tuple[str, ...]:
    return tuple(sender if what == "sender" else helo for what in sorted(policy.keyed_on))
