"""The DNS defaults every front end shares: how long one query may take, how much the shared
cache keeps. Pure constants, so configuration layers can name them without importing sockets."""

from __future__ import annotations

from typing import Final

__all__ = ["CACHE_BYTES", "CACHE_ENTRIES", "QUERY_TIMEOUT"]

#: seconds one query may take, over every server tried (then TIMEOUT: a temperror)
QUERY_TIMEOUT: Final = 5.0
#: answers the shared TTL cache keeps at most ...
CACHE_ENTRIES: Final = 100_000
#: ... and their estimated bytes at most (senders decide how large each one is)
CACHE_BYTES: Final = 64 * 1024 * 1024
