"""The real resolver: SPF's questions over UDP, TCP when truncated (RFC 1035 §4.2, RFC 7766).

:class:`DnsResolver` is a stub resolver for the five questions SPF asks (RFC 7208 §4.4, §5).
It sends each query from a fresh UDP socket (a new random source port per query, plus a
random id: RFC 5452 §9.2), waits for the matching datagram, repeats the query over TCP when
the TC bit is set, and turns everything that can go wrong into a :class:`Lookup` value.

Time: one query (all nameservers, TCP fallback and CNAME restarts together) ends within
``timeout`` seconds. The remaining time is shared between the nameservers not yet tried: a
server that is silent costs its share, a server answering SERVFAIL or REFUSED passes the rest
on at once. There are no retransmissions to the same server.

Encoding and decoding are the sans-I/O helpers of :mod:`spfkit.lookup._wire` (about 20
times cheaper in CPU than dnspython's message classes); dnspython itself is used only to read
the system configuration (``/etc/resolv.conf``) when no nameservers are given. Nothing
happens on import; sockets live only as long as their query.
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from types import TracebackType
from typing import Final, Self, cast

from spfkit.lookup._names import labels_of
from spfkit.lookup._wire import (
    QType,
    Query,
    RCode,
    Restart,
    WireError,
    decode_response,
    encode_query,
    interpret,
    matches,
)
from spfkit.lookup.protocol import Lookup, LookupStatus, MXHost, TXTRecord

__all__ = ["DnsResolver"]

MAX_RESTARTS: Final = 8  # new queries for CNAME targets a server left unresolved
_MAX_UDP: Final = 65535

_NXDOMAIN: Final[Lookup[object]] = Lookup(LookupStatus.NXDOMAIN)
_SERVFAIL: Final[Lookup[object]] = Lookup(LookupStatus.SERVFAIL)
_TIMEOUT: Final[Lookup[object]] = Lookup(LookupStatus.TIMEOUT)


@dataclass(frozen=True, slots=True)
class Nameserver:
    """One server to ask: an IP address literal and a port."""

    host: str
    port: int = 53

    @property
    def family(self) -> socket.AddressFamily:
        return socket.AF_INET6 if ":" in self.host else socket.AF_INET

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @classmethod
    def parse(cls, spec: str, default_port: int = 53) -> Nameserver:
        """``"192.0.2.1"``, ``"192.0.2.1:5300"``, ``"::1"``, ``"[::1]:5300"`` → Nameserver.

        Raises ValueError for anything else; host names are refused because resolving them
        would need the very resolver being configured.
        """
        text = spec.strip()
        host, port = text, default_port
        if text.startswith("["):
            close = text.find("]")
            rest = text[close + 1 :] if close > 0 else "?"
            if rest and not rest.startswith(":"):
                raise ValueError(f"bad nameserver {spec!r}: expected [IPv6]:PORT")
            host = text[1:close]
            if rest:
                port = _port(rest[1:], spec)
        elif text.count(":") == 1:
            host, _, rest = text.partition(":")
            port = _port(rest, spec)
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            raise ValueError(f"bad nameserver {spec!r}: {host!r} is not an IP address") from None
        return cls(host, port)


def _port(text: str, spec: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"bad nameserver {spec!r}: port must be 1-65535")
    return int(text)


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


class DnsResolver:
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
        timeout: float = 5.0,
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
    def from_spec(cls, spec: str, *, timeout: float = 5.0) -> Self:
        """``"127.0.0.1:5300"``, ``"[::1]:53"``, or several separated by commas or spaces."""
        parts = [part for part in spec.replace(",", " ").split() if part]
        if not parts:
            raise ValueError("empty nameserver specification")
        return cls([Nameserver.parse(part) for part in parts], timeout=timeout)

    def __repr__(self) -> str:
        servers = ", ".join(str(ns) for ns in self.nameservers)
        return f"DnsResolver([{servers}], timeout={self.timeout})"

    # -- the Resolver protocol ------------------------------------------------------------

    async def txt(self, name: str) -> Lookup[TXTRecord]:
        """RFC 7208 §4.4: the TXT RRset of ``name``; each record its character-strings."""
        return cast(Lookup[TXTRecord], await self._lookup(name, QType.TXT))

    async def a(self, name: str) -> Lookup[IPv4Address]:
        """§5.3, §5.4: IPv4 addresses."""
        return cast(Lookup[IPv4Address], await self._lookup(name, QType.A))

    async def aaaa(self, name: str) -> Lookup[IPv6Address]:
        """§5.3, §5.4: IPv6 addresses."""
        return cast(Lookup[IPv6Address], await self._lookup(name, QType.AAAA))

    async def mx(self, name: str) -> Lookup[MXHost]:
        """§5.4: mail exchangers."""
        return cast(Lookup[MXHost], await self._lookup(name, QType.MX))

    async def ptr(self, name: str) -> Lookup[str]:
        """§5.5: PTR targets of a reverse name."""
        return cast(Lookup[str], await self._lookup(name, QType.PTR))

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

    # -- resolution -------------------------------------------------------------------------

    async def _lookup(self, name: str, qtype: QType) -> Lookup[object]:
        labels = labels_of(name)
        if labels is None:
            return _NXDOMAIN  # no such name can exist: don't ask
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        chain_ttl = float("inf")
        for _ in range(MAX_RESTARTS + 1):
            outcome = await self._ask(loop, labels, qtype, deadline)
            if isinstance(outcome, Lookup):
                if chain_ttl < outcome.ttl:
                    return Lookup(outcome.status, outcome.records, chain_ttl)
                return outcome
            chain_ttl = min(chain_ttl, outcome.ttl)
            restart = labels_of(outcome.target)
            if restart is None:
                return Lookup(LookupStatus.NXDOMAIN, (), 0.0)
            labels = restart
        return _SERVFAIL

    async def _ask(
        self,
        loop: asyncio.AbstractEventLoop,
        labels: tuple[bytes, ...],
        qtype: QType,
        deadline: float,
    ) -> Lookup[object] | Restart:
        """Ask the nameservers in order until one gives a usable answer or time runs out."""
        failure = _TIMEOUT
        servers = self.nameservers
        for index, server in enumerate(servers):
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            share = loop.time() + remaining / (len(servers) - index)
            outcome = await self._exchange(loop, server, labels, qtype, share)
            if isinstance(outcome, Restart) or not outcome.status.is_error:
                return outcome
            if outcome.status is LookupStatus.SERVFAIL:
                failure = _SERVFAIL  # more telling than a later silence
        return failure

    async def _exchange(
        self,
        loop: asyncio.AbstractEventLoop,
        server: Nameserver,
        labels: tuple[bytes, ...],
        qtype: QType,
        deadline: float,
    ) -> Lookup[object] | Restart:
        """One server: UDP, then TCP if truncated; without EDNS if the server rejects it."""
        edns = True
        while True:
            query = encode_query(secrets.randbits(16), labels, qtype, edns=edns)
            wire = await self._udp(loop, server, query, deadline)
            if wire is None:
                return _TIMEOUT
            if isinstance(wire, OSError):
                return _SERVFAIL  # ICMP unreachable, no route, ...
            try:
                reply = decode_response(wire, query)
                if reply.truncated:  # RFC 7766 §5: repeat the query over TCP
                    wire = await self._tcp(server, query, deadline)
                    if wire is None:
                        return _TIMEOUT
                    if isinstance(wire, OSError) or not matches(wire, query):
                        return _SERVFAIL
                    reply = decode_response(wire, query)
                    if reply.truncated:
                        return _SERVFAIL
            except WireError:
                return _SERVFAIL
            if edns and reply.rcode in (RCode.FORMERR, RCode.NOTIMP):
                edns = False  # RFC 6891 §7: a server without EDNS; ask again plainly
                continue
            return interpret(reply, query.question[:-5].lower(), qtype)

    async def _udp(
        self, loop: asyncio.AbstractEventLoop, server: Nameserver, query: Query, deadline: float
    ) -> bytes | OSError | None:
        """Send ``query`` from a new socket: the matching reply, an error, or None at deadline."""
        try:
            sock = socket.socket(server.family, socket.SOCK_DGRAM)
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
        done: asyncio.Future[bytes | OSError | None] = loop.create_future()

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

    async def _tcp(
        self, server: Nameserver, query: Query, deadline: float
    ) -> bytes | OSError | None:
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


def _expire(done: asyncio.Future[bytes | OSError | None]) -> None:
    if not done.done():
        done.set_result(None)
