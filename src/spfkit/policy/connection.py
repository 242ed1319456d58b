"""One policy client connection of :class:`~spfkit.policy.server.PolicyServer`, as an
``asyncio.Protocol``.

The loop of the style guide, ``for req in reader.feed(chunk): write(render(await
service.handle(req)))``, driven by the transport's callbacks instead of a stream and a task:
each chunk is fed to the codec as it arrives and every request a compiled map or a decided
transaction answers (:meth:`~spfkit.policy.service.PolicyService.answer_now`) is answered in
the same callback — no task, no future, no turn of the event loop. A request that must wait
(DNS, the evaluator) gets one task; reading pauses until it is answered, so answers leave in
the order of their requests and no more than one chunk's requests wait in memory.

The limits of ``server.next_wait`` hold as before: ``idle_timeout`` between requests,
``read_timeout`` from a request's first octet, none while answering. Answers a client has not
read stay small (a 16 KiB socket buffer, an 8 KiB transport limit): past them the connection
stops answering and reading, and is dropped when the client has not read for
``read_timeout``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import deque
from typing import TYPE_CHECKING, Final

from spfkit.policy.deadline import Deadline, next_wait
from spfkit.policy.protocol import PolicyReader, PolicyRequest, ProtocolError, render

if TYPE_CHECKING:
    from spfkit.policy.server import PolicyServer

__all__ = ["PolicyConnection", "SEND_BUFFER", "UNSENT_LIMIT"]

#: answers written but not yet taken by a client, at most (our socket buffer plus the
#: transport's): past it answering waits for the client to read, for ``read_timeout``
SEND_BUFFER: Final = 16384
UNSENT_LIMIT: Final = 8192


class PolicyConnection(asyncio.Protocol):
    """Requests in, answers out, in order; ``done`` is set when the connection is gone."""

    def __init__(self, server: PolicyServer) -> None:
        self.server = server
        self.service = server.service
        self.codec = PolicyReader()
        self.done = asyncio.get_running_loop().create_future()
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._deadline: Deadline | None = None
        self._waiting: deque[PolicyRequest | ProtocolError] = deque()  # behind an answer
        self._task: asyncio.Task[None] | None = None  # answering a request that waits
        self._began: float | None = None  # when the pending (incomplete) request began
        self._unread = False  # the client has not read enough of its answers
        self._eof = False
        self._closing = False

    @property
    def idle(self) -> bool:
        """Waiting for a request to begin: a stopping server may close it at once."""
        return not (self.codec.pending or self._waiting or self._task or self._unread)

    @property
    def log(self) -> logging.Logger:
        return self.service.log

    # -- transport callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if not self.server.admit(self):
            self._closing = True
            transport.close()
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:  # noticed after a few unread answers, not the kernel's megabytes
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
            except OSError:
                pass
        transport.set_write_buffer_limits(high=UNSENT_LIMIT)
        self._deadline = Deadline(self._loop, self.log, self._expire)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._closing:
            return
        arrived = self._loop.time()
        items = self.codec.feed(data)
        if items:
            self._began = arrived  # what is pending now began with this chunk
            self._waiting.extend(items)
            self._answer()
        elif self._began is None:
            self._began = arrived
        if not self._busy:
            self._arm()

    def eof_received(self) -> bool:
        if (error := self.codec.close()) is not None:
            self.log.warning("connection closed: %s", error.reason)
        self._eof = True
        if self._busy:
            return True  # half-closed: the answers still owed are written, then it closes
        self._close()
        return False

    def pause_writing(self) -> None:
        """The client has not read ``UNSENT_LIMIT`` octets: stop answering and reading, and
        give it ``read_timeout`` to read."""
        self._unread = True
        self._pause_reading()
        assert self._deadline is not None
        timeout = self.service.config.read_timeout
        self._deadline.set(self._loop.time() + timeout,
                           f"the client has not read its answers for {timeout:g} s")

    def resume_writing(self) -> None:
        self._unread = False
        if self._deadline is not None:
            self._deadline.clear()
        self._answer()
        if not self._busy:
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        if self._deadline is not None:
            self._deadline.cancel()
        if self._task is not None:
            self._task.cancel()
        if exc is not None:
            self.log.debug("connection ended: %s", str(exc) or type(exc).__name__)
        self.server.forget(self)
        if not self.done.done():
            self.done.set_result(None)

    # -- answering

    @property
    def _busy(self) -> bool:
        """Answers are owed: a request waits, or the client must read first."""
        return bool(self._task or self._unread or self._waiting)

    def _answer(self) -> None:
        """Answer the requests waiting, in order, while answers need no waiting."""
        transport, waiting, service = self._transport, self._waiting, self.service
        assert transport is not None
        while waiting and not (self._task or self._unread or self._closing):
            item = waiting.popleft()
            reply = service.answer_now(item)
            if reply is None:
                self._pause_reading()
                assert self._deadline is not None
                self._deadline.clear()  # answering: the deadline of the checks applies
                self._task = self._loop.create_task(self._answer_later(item))
                return
            transport.write(render(reply))

    async def _answer_later(self, item: PolicyRequest | ProtocolError) -> None:
        try:
            reply = await self.service.answer_later(item)
        except Exception:  # a fault of ours: this client is dropped, the others go on
            self.log.exception("answering a request failed; connection closed")
            self._task = None
            self.close_now()
            return
        self._task = None
        if self._closing or self._transport is None:
            return
        self._transport.write(render(reply))
        self._answer()
        if not self._busy:
            self._arm()

    def _arm(self) -> None:
        """Nothing owed: close when stopping or after end of input, else resume reading and
        set the deadline for the next octets (``server.next_wait``)."""
        if self._closing:
            return
        if self._eof or self.server.stopping:
            self._close()
            return
        assert self._transport is not None and self._deadline is not None
        if not self._transport.is_reading():
            self._transport.resume_reading()
        wait = next_wait(self.codec.pending, self._began, self._loop.time(), self.service.config)
        self._began = wait.began
        self._deadline.set(wait.until, wait.reason)

    def _pause_reading(self) -> None:
        assert self._transport is not None
        if self._transport.is_reading():
            self._transport.pause_reading()

    def _expire(self) -> None:
        """A deadline passed (logged by :class:`Deadline`): close, dropping unread answers."""
        assert self._transport is not None
        self._closing = True
        if self._transport.get_write_buffer_size():
            self._transport.abort()
        else:
            self._transport.close()

    def _close(self) -> None:
        if not self._closing:
            self._closing = True
            assert self._transport is not None
            self._transport.close()

    def close_now(self) -> None:
        """At the end of a stop: whatever is owed is dropped."""
        self._closing = True
        if self._transport is not None:
            self._transport.abort()

    def close_idle(self) -> None:
        """A stopping server's idle connection: closed at once."""
        self._close()
