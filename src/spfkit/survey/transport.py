"""UDP for a survey: a small pool of long-lived sockets instead of one socket per query.

:class:`~spfkit.lookup.stub.DnsResolver` opens a fresh socket for every query (a new random
source port each time, RFC 5452 §9.2) — right for a mail server, but at survey rates the
socket calls cost more CPU than the SPF evaluation, and every query in flight holds a file
descriptor. :class:`PooledDnsResolver` is the same resolver (the same sans-I/O
``Resolution``, the same TCP fallback) whose UDP queries go through ``ports`` sockets:

* each socket is an asyncio datagram endpoint; replies are matched to queries by id **and**
  question and source address (``_wire.matches``, RFC 5452 §4.1), anything else is dropped;
* a socket is retired after ``reuse`` queries and replaced by a new one, so source ports
  keep changing (the kernel picks a random ephemeral port each time) and ids are random;
* a query whose id is already pending on a socket is sent from another one.

File descriptors: ``ports`` plus the TCP connections in flight.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable
from typing import Any, Final

from spfkit.lookup._wire import Query, matches
from spfkit.lookup.defaults import QUERY_TIMEOUT
from spfkit.lookup.nameserver import Nameserver
from spfkit.lookup.resolution import Outcome
from spfkit.lookup.stub import DnsResolver

__all__ = ["PooledDnsResolver"]

_MAX_UDP: Final = 65535


class _Port(asyncio.DatagramProtocol):
    """One UDP socket and the queries waiting on it, by id."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, tuple[Query, tuple[str, int], asyncio.Future[Outcome]]] = {}
        self.used = 0
        self.retired = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if len(data) < 12:
            return
        entry = self.pending.get(int.from_bytes(data[:2], "big"))
        if entry is None:
            return
        query, server, done = entry
        if tuple(addr[:2]) == server and matches(data, query) and not done.done():
            done.set_result(data)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable on an unconnected socket: the waiting queries learn it
        for _, _, done in list(self.pending.values()):
            if not done.done() and isinstance(exc, OSError):
                done.set_result(exc)

    def close_if_idle(self) -> None:
        if self.retired and not self.pending and self.transport is not None:
            self.transport.close()
            self.transport = None


class PooledDnsResolver(DnsResolver):
    """:class:`DnsResolver` with its UDP queries multiplexed over ``ports`` sockets."""

    def __init__(self, nameservers: Iterable[str | Nameserver] | None = None, *, port: int = 53,
                 timeout: float = QUERY_TIMEOUT, ports: int = 32, reuse: int = 500) -> None:
        super().__init__(nameservers, port=port, timeout=timeout)
        self.ports = max(1, ports)
        self.reuse = max(1, reuse)
        self._pool: dict[int, list[_Port]] = {}  # address family → live ports
        self._turn = 0

    async def _port(self, loop: asyncio.AbstractEventLoop, family: int, qid: int) -> _Port:
        """The next socket in turn (round robin) that has no query with this id pending; a
        retired one is replaced by a new socket in its place."""
        live = self._pool.setdefault(family, [])
        for _ in range(len(live)):
            self._turn = (self._turn + 1) % len(live)
            port = live[self._turn]
            if port.retired:
                break
            if qid not in port.pending:
                return port
        if len(live) >= self.ports:
            old = live.pop(self._turn % len(live))
            old.retired = True  # closed when its last reply is in
            old.close_if_idle()
        _, port = await loop.create_datagram_endpoint(
            _Port, local_addr=("::" if family == socket.AF_INET6 else "0.0.0.0", 0), family=family)
        live.append(port)
        return port

    async def _udp(self, loop: asyncio.AbstractEventLoop, server: Nameserver, query: Query,
                   deadline: float) -> Outcome:
        family = socket.AF_INET6 if server.is_ipv6 else socket.AF_INET
        try:
            port = await self._port(loop, family, query.qid)
        except OSError as exc:  # EMFILE and the like: this query fails, the caller goes on
            return exc
        assert port.transport is not None
        address = (server.host, server.port)
        done: asyncio.Future[Outcome] = loop.create_future()
        port.pending[query.qid] = (query, address, done)
        port.used += 1
        if port.used >= self.reuse:
            port.retired = True  # no new queries; closed when the last reply is in
        try:
            port.transport.sendto(query.wire, address)
        except OSError as exc:
            done.set_result(exc)
        self.queries_sent += 1
        timer = loop.call_at(deadline, _expire, done)
        try:
            return await done
        finally:
            timer.cancel()
            port.pending.pop(query.qid, None)
            port.close_if_idle()

    async def aclose(self) -> None:
        for live in self._pool.values():
            for port in live:
                if port.transport is not None:
                    port.transport.close()
        self._pool.clear()


def _expire(done: asyncio.Future[Outcome]) -> None:
    if not done.done():
        done.set_result(None)
