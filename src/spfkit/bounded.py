"""Caches bounded in bytes, not in entries: what senders publish decides their size.

Every record and name spfkit caches comes from DNS, so an attacker chooses how big each entry
is; a cache capped at N entries holds N times the largest thing anyone publishes. A
:class:`SizedLRU` keeps the most recently used entries whose estimated sizes add up to at
most ``max_bytes``, and never keeps one entry over ``max_entry_bytes`` (it is computed, used
and dropped). Pure: no I/O, no asyncio.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["LRUStats", "SizedLRU"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class LRUStats:
    """What a cache holds and how it has served (for metrics and tests)."""

    entries: int
    bytes: int
    max_bytes: int
    hits: int
    misses: int
    evictions: int
    too_large: int


class SizedLRU(Generic[K, V]):
    """A least-recently-used cache whose entries' estimated sizes sum to <= ``max_bytes``."""

    __slots__ = ("_bytes", "_data", "_evictions", "_hits", "_misses", "_too_large",
                 "max_bytes", "max_entry_bytes")

    def __init__(self, max_bytes: int, max_entry_bytes: int | None = None) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must be >= 0")
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_bytes if max_entry_bytes is None else min(max_entry_bytes, max_bytes)
        self._data: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._hits = self._misses = self._evictions = self._too_large = 0

    def get(self, key: K) -> V | None:
        """The value for ``key`` (now the most recently used), or None."""
        found = self._data.get(key)
        if found is None:
            self._misses += 1
            return None
        self._hits += 1
        self._data.move_to_end(key)
        return found[0]

    def put(self, key: K, value: V, size: int) -> None:
        """Keep ``value`` (``size`` estimated bytes), dropping the least recently used first.

        An entry over ``max_entry_bytes`` is not kept (and an older one under its key goes).
        """
        self.discard(key)
        if size > self.max_entry_bytes:
            self._too_large += 1
            return
        self._data[key] = (value, size)
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, (_, dropped) = self._data.popitem(last=False)
            self._bytes -= dropped
            self._evictions += 1

    def pop_oldest(self) -> None:
        """Drop the least recently used entry (a cache with a count bound too)."""
        if self._data:
            _, (_, dropped) = self._data.popitem(last=False)
            self._bytes -= dropped
            self._evictions += 1

    def discard(self, key: K) -> None:
        found = self._data.pop(key, None)
        if found is not None:
            self._bytes -= found[1]

    def resize(self, max_bytes: int, max_entry_bytes: int | None = None) -> None:
        """New bounds (a reloaded configuration); entries over them go at once."""
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_bytes if max_entry_bytes is None else min(max_entry_bytes, max_bytes)
        for key in [k for k, (_, size) in self._data.items() if size > self.max_entry_bytes]:
            self.discard(key)
        while self._bytes > self.max_bytes:
            _, (_, dropped) = self._data.popitem(last=False)
            self._bytes -= dropped
            self._evictions += 1

    def clear(self) -> None:
        self._data.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    @property
    def bytes(self) -> int:
        return self._bytes

    def stats(self) -> LRUStats:
        return LRUStats(len(self._data), self._bytes, self.max_bytes, self._hits,
                          self._misses, self._evictions, self._too_large)
