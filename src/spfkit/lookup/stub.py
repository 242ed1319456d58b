"""The real resolver: a stub resolver over UDP, TCP when truncated (RFC 1035 §4.2, RFC 7766).

:class:`DnsResolver` asks the configured nameservers (:mod:`~spfkit.lookup.nameserver`) for
the five record types SPF needs (RFC 7208 §4.4, §5) and turns everything that can go wrong
into a :class:`Lookup` value. Every decision — which server next, with how much of the
time, EDNS or not, TCP after truncation, new queries for CNAME targets — is made by the
socket-free :class:`~spfkit.lookup.resolution.Resolution`; this module only moves bytes:
each UDP query from a fresh socket (a new random source port per query, plus a random id:
RFC 5452 §9.2), waiting for the matching datagram, and each TCP query over a new connection.

Time: one question (all nameservers, TCP fallback and CNAME restarts together) ends within
``timeout`` seconds.

Encoding and decoding are the sans-I/O helpers of :mod:`spfkit.lookup._wire` (about 20
times cheaper in CPU than dnspython's message classes); dnspython itself is used only to read
an unusual system configuration (:func:`system_nameservers`).
Nothing happens on import; sockets live only as long as their query.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Final, Self

from spfkit.lookup._wire import Query, matches
from spfkit.lookup.defaults import QUERY_TIMEOUT
from spfkit.lookup.nameserver import Nameserver
from spfkit.lookup.protocol import BaseResolver, Lookup, RRType
from spfkit.lookup.resolution import Outcome, Resolution, Send

__all__ = ["DnsResolver"]

_MAX_UDP: Final = 65535


class DnsResolver(BaseResolver):
    """A :class:`~spfkit.lookup.protocol.Resolver` over real DNS (UDP, TCP on truncation).

    ``DnsResolver()`` uses the system's nameservers on port 53;
    ``DnsResolver(["127.0.0.1"], port=5300, timeout=5.0)`` or
    ``DnsResolver.from_spec("127.0.0.1:5300")`` name them. ``queries_sent`` counts the
    queries put on the wire (UDP and TCP), for benchmarks and tests.
    """

    def __init__(
        self,
        nameservers: Iterable[str | Nameserver] | None = None,
        *,
        port: int = 53,
        timeout: float = QUERY_TIMEOUT,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        names = system_nameservers() if nameservers is None else nameservers
        self.nameservers: tuple[Nameserver, ...] = tuple(
            ns if isinstance(ns, Nameserver) else Nameserver.parse(ns, port) for ns in names
        )
        if not self.nameservers:
            raise ValueError("no nameservers")
        self.timeout = timeout
        self.queries_sent = 0

    @classmethod
    def from_spec(cls, spec: str, *, timeout: float = QUERY_TIMEOUT) -> Self:
        """``"127.0.0.1:5300"``, ``"[::1]:53"``, or several separated by commas or spaces."""
        parts = [part for part in spec.replace(",", " ").split() if part]
        if not parts:
            raise ValueError("empty nameserver specification")
        return cls([Nameserver.parse(part) for part in parts], timeout=timeout)

    def __repr__(self) -> str:
        servers = ", ".join(str(ns) for ns in self.nameservers)
        return f"DnsResolver([{servers}], timeout={self.timeout})"

    # -- the Resolver protocol ------------------------------------------------------------

    async def lookup(self, rrtype: RRType, name: str) -> Lookup[Any]:
        """The ``rrtype`` records of ``name``: sends what the ``Resolution`` asks for, and waits."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        resolution = Resolution(rrtype, name, self.nameservers, now + self.timeout)
        step = resolution.start(now)
        while isinstance(step, Send):
            if step.tcp:
                outcome = await self._tcp(step.server, step.query, step.deadline)
            else:
                outcome = await self._udp(loop, step.server, step.query, step.deadline)
            step = resolution.received(outcome, loop.time())
        return step

    async def aclose(self) -> None:
        """Release resources. Sockets live only as long as their query, so nothing stays open."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- transports ---------------------------------------------------------------------

    async def _udp(
        self, loop: asyncio.AbstractEventLoop, server: Nameserver, query: Query, deadline: float
    ) -> Outcome:
        """Send ``query`` from a new socket: the matching reply, an error, or None at deadline."""
        try:
            family = socket.AF_INET6 if server.is_ipv6 else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_DGRAM)
        except OSError as exc:  # EMFILE under load: a failure of this query, not of the caller
            return exc
        try:
            sock.setblocking(False)
            sock.connect((server.host, server.port))  # connected: the kernel drops other sources
            sock.send(query.wire)
        except OSError as exc:
            sock.close()
            return exc
        self.queries_sent += 1
        done: asyncio.Future[Outcome] = loop.create_future()

        def readable() -> None:
            while not done.done():
                try:
                    data = sock.recv(_MAX_UDP)
                except (BlockingIOError, InterruptedError):
                    return
                except OSError as exc:
                    done.set_result(exc)
                    return
                if matches(data, query):  # RFC 5452 §9.1: anything else is ignored
                    done.set_result(data)

        fd = sock.fileno()
        loop.add_reader(fd, readable)
        timer = loop.call_at(deadline, _expire, done)
        try:
            return await done
        finally:
            timer.cancel()
            loop.remove_reader(fd)
            sock.close()

    async def _tcp(self, server: Nameserver, query: Query, deadline: float) -> Outcome:
        """RFC 1035 §4.2.2 / RFC 7766: the query over a new TCP connection, length-prefixed."""
        writer: asyncio.StreamWriter | None = None
        try:
            async with asyncio.timeout_at(deadline):
                reader, writer = await asyncio.open_connection(server.host, server.port)
                writer.write(len(query.wire).to_bytes(2, "big") + query.wire)
                self.queries_sent += 1
                size = int.from_bytes(await reader.readexactly(2), "big")
                return await reader.readexactly(size)
        except TimeoutError:
            return None
        except asyncio.IncompleteReadError as exc:
            return ConnectionResetError(f"connection closed after {len(exc.partial)} octets")
        except OSError as exc:
            return exc
        finally:
            if writer is not None:
                writer.close()


def _expire(done: asyncio.Future[Outcome]) -> None:
    if not done.done():
        done.set_result(None)


def system_nameservers(path: str = "/etc/resolv.conf") -> list[str]:
    """The nameservers of the system configuration (``/etc/resolv.conf``).

    The ``nameserver`` lines are read directly (a policy server spawned per connection
    starts faster without loading dnspython's resolver); anything unusual is left to
    dnspython. Like the C library, falls back to 127.0.0.1 when the file names none.
    """
    try:
        with open(path, encoding="ascii", errors="replace") as conf:
            lines = conf.read().splitlines()
    except OSError:
        lines = []
    found = []
    for line in lines:
        words = line.split()
        if len(words) >= 2 and words[0] == "nameserver":
            address = words[1].split("%", 1)[0]  # a link-local scope cannot be used here
            try:
                ipaddress.ip_address(address)
            except ValueError:
                continue
            found.append(address)
    if found:
        return found
    import dns.resolver  # only here: reading configuration is the one job dnspython does

    try:
        configured = dns.resolver.Resolver(configure=True).nameservers
    except (dns.resolver.NoResolverConfiguration, OSError):
        return ["127.0.0.1"]
    servers = [ns if isinstance(ns, str) else getattr(ns, "address", "") for ns in configured]
    return [ns for ns in servers if ns] or ["127.0.0.1"]
