"""A connection's deadline (``server.next_wait``) as one timer that is moved lazily.

An ``asyncio.timeout`` per read costs a timer handle, a context manager and a cancellation
per request; here every answered request only assigns the next deadline, and the one timer,
when it fires before that deadline, sets itself again for it. When a deadline passes, the
connection is closed, which ends the pending read.
"""

from __future__ import annotations

import asyncio
import logging
import math

__all__ = ["Deadline"]


class Deadline:
    """A connection's one timer for :func:`next_wait`, moved lazily: setting a later deadline
    (every answered request does) costs an assignment, and the timer, when it fires early,
    sets itself again for the deadline now in force. When one passes, the connection is
    closed (its read then returns): ``expired`` tells why."""

    __slots__ = ("_handle", "_log", "_loop", "_transport", "_when", "expired", "reason", "until")

    def __init__(self, loop: asyncio.AbstractEventLoop, log: logging.Logger,
                 transport: asyncio.BaseTransport) -> None:
        self._loop, self._log, self._transport = loop, log, transport
        self._handle: asyncio.TimerHandle | None = None
        self._when = self.until = math.inf
        self.reason = ""
        self.expired = False

    def set(self, until: float, reason: str) -> None:
        self.until, self.reason = until, reason
        if until < self._when:  # earlier than the timer: set it again
            self.cancel()
            self._when, self._handle = until, self._loop.call_at(until, self._fire)

    def clear(self) -> None:
        """No deadline until the next :meth:`set` (the timer, if it fires, just stops)."""
        self.until = math.inf

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle, self._when = None, math.inf

    def _fire(self) -> None:
        self._handle, self._when = None, math.inf
        if self.until == math.inf:
            return
        if self.until - self._loop.time() > 0.001:  # moved on since the timer was set
            self._when, self._handle = self.until, self._loop.call_at(self.until, self._fire)
            return
        self.expired = True
        self._log.info("closing a connection: %s", self.reason)
        self._transport.close()
