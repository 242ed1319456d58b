"""How long a policy connection may stay silent (:func:`next_wait`, the one rule of both
loops), and a connection's deadline as one timer that is moved lazily (:class:`Deadline`).

An ``asyncio.timeout`` per read costs a timer handle, a context manager and a cancellation
per request; here every answered request only assigns the next deadline, and the one timer,
when it fires before that deadline, sets itself again for it. When a deadline passes, the
connection is closed.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

from spfkit.policy.config import PolicyConfig

__all__ = ["Deadline", "Wait", "next_wait", "request_began"]


@dataclass(frozen=True, slots=True)
class Wait:
    """How long a connection may stay silent: until ``until`` (a loop time), else it is closed
    for ``reason``. ``began`` is when the pending request began (None between requests)."""

    until: float
    began: float | None
    reason: str


def next_wait(pending: bool, began: float | None, now: float, config: PolicyConfig) -> Wait:
    """The one timeout rule of both loops: ``read_timeout`` from a request's first octet
    (a dripping client cannot stretch it), ``idle_timeout`` between requests.

    ``began`` is when the request now pending began: the loops pass :func:`request_began`,
    so the limit holds per request — a client pipelining many requests is never closed for
    the time its earlier ones took.
    """
    if pending:
        began = now if began is None else began
        return Wait(began + config.read_timeout, began, "request not completed in time")
    return Wait(now + config.idle_timeout, None, f"no request for {config.idle_timeout:g} s")


def request_began(began: float | None, completed: int, arrived: float) -> float | None:
    """When the request pending after a chunk began: with the chunk that ``arrived``, when
    that chunk completed an earlier request (what follows is a new one), else as before."""
    return arrived if completed else began


class Deadline:
    """A connection's one timer for :func:`next_wait`, moved lazily: setting a later deadline
    (every answered request does) costs an assignment, and the timer, when it fires early,
    sets itself again for the deadline now in force. When one passes, it is logged with its
    reason and ``expire`` is called (it closes the connection); ``expired`` tells it did."""

    __slots__ = ("_expire", "_handle", "_log", "_loop", "_when", "expired", "reason", "until")

    def __init__(self, loop: asyncio.AbstractEventLoop, log: logging.Logger,
                 expire: Callable[[], None]) -> None:
        self._loop, self._log, self._expire = loop, log, expire
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
        self._expire()
