"""How one question finds its answer among the nameservers: every decision, no socket.

Like dnspython's ``_Resolution``, a :class:`Resolution` only decides; its driver
(:class:`~spfkit.lookup.stub.DnsResolver`) sends and waits. The driver asks :meth:`start`
what to send, sends it, and hands what came back to :meth:`received`, which says what to
send next or gives the final :class:`~spfkit.lookup.protocol.Lookup`::

    step = resolution.start(now)
    while isinstance(step, Send):
        step = resolution.received(await transmit(step), now)

The decisions, in the order a query meets them:

* a name that cannot exist in DNS is NXDOMAIN at once, nothing is sent;
* servers are asked in order; each gets an equal share of the time still left, so a silent
  server costs its share and one answering SERVFAIL or REFUSED passes the rest on at once;
  there are no retransmissions to the same server. All of it ends within the deadline;
* a query goes over UDP with EDNS (RFC 6891); a server answering FORMERR or NOTIMP is asked
  again without it (RFC 6891 §7); a truncated answer is asked again over TCP (RFC 7766 §5);
* a reply that does not parse, an unreachable server or a second truncation is SERVFAIL for
  that server; the question fails with SERVFAIL if any server said so, else TIMEOUT;
* an answer that ends in a CNAME the server left unresolved is asked again for the target
  (RFC 1034 §3.6.2), at most :data:`MAX_RESTARTS` times, the TTL cut to the chain's.

Encoding and decoding are :mod:`spfkit.lookup._wire`'s. Imports no asyncio and no socket.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Final, NamedTuple

from spfkit.lookup._chain import Chain
from spfkit.lookup._names import labels_of, name_key
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
from spfkit.lookup.nameserver import Nameserver
from spfkit.lookup.protocol import Lookup, LookupStatus, RRType

__all__ = ["MAX_RESTARTS", "Outcome", "Resolution", "Send"]

MAX_RESTARTS: Final = 8  # new queries for CNAME targets a server left unresolved

_QTYPES: Final = {RRType.TXT: QType.TXT, RRType.A: QType.A, RRType.AAAA: QType.AAAA,
                  RRType.MX: QType.MX, RRType.PTR: QType.PTR}
_NXDOMAIN: Final[Lookup[object]] = Lookup(LookupStatus.NXDOMAIN)
_SERVFAIL: Final[Lookup[object]] = Lookup(LookupStatus.SERVFAIL)
_TIMEOUT: Final[Lookup[object]] = Lookup(LookupStatus.TIMEOUT)

#: what came back for a :class:`Send`: the reply's bytes (a UDP reply already known to
#: :func:`~spfkit.lookup._wire.matches` the query), an OSError, or None for silence until
#: the deadline
Outcome = bytes | OSError | None


class Send(NamedTuple):
    """Send ``query`` to ``server`` (over TCP if ``tcp``) and wait for it until ``deadline``.

    A named tuple rather than a frozen dataclass: one is made for every query sent, and
    this is the cheaper immutable record.
    """

    server: Nameserver
    query: Query
    tcp: bool
    deadline: float


def _random_id() -> int:
    # RFC 5452 §9.2: an unpredictable id, from the OS's CSPRNG (``secrets`` would be
    # the same source, at the cost of importing hmac and OpenSSL on every start-up)
    return int.from_bytes(os.urandom(2), "big")


class Resolution:
    """One question (``rrtype`` records of ``name``) on its way through ``servers``.

    ``deadline`` and every ``now`` are readings of the driver's clock; ``new_id`` makes query
    ids (random by default; tests pass a counter).
    """

    __slots__ = ("_servers", "_qtype", "_deadline", "_new_id", "_name", "_labels", "_chain",
                 "_index", "_failure", "_share", "_edns", "_query", "_tcp")

    def __init__(
        self,
        rrtype: RRType,
        name: str,
        servers: Sequence[Nameserver],
        deadline: float,
        *,
        new_id: Callable[[], int] = _random_id,
    ) -> None:
        self._servers = servers
        self._qtype = _QTYPES[rrtype]
        self._deadline = deadline
        self._new_id = new_id
        self._name = name
        self._labels = labels_of(name)
        self._chain: Chain[str] | None = None  # made at the first restart: most queries have none
        self._index = 0  # the server being asked
        self._failure = _TIMEOUT  # the outcome if no server answers
        self._share = deadline  # when the current server's time is up
        self._edns = True
        self._tcp = False
        self._query: Query | None = None

    def start(self, now: float) -> Send | Lookup[object]:
        """The first query to send, or the answer when none is needed."""
        if self._labels is None:
            return _NXDOMAIN  # no such name can exist: don't ask
        return self._next_server(now)

    def received(self, outcome: Outcome, now: float) -> Send | Lookup[object]:
        """What to do after ``outcome`` came back for the last :class:`Send`."""
        result = self._read(outcome)
        if isinstance(result, Send):
            return result
        if isinstance(result, Restart):
            return self._restart(result, now)
        if not result.status.is_error:
            return self._end(result)
        if result.status is LookupStatus.SERVFAIL:
            self._failure = result  # more telling than a later silence
        self._index += 1
        return self._next_server(now)

    # -- decisions ------------------------------------------------------------------------

    def _next_server(self, now: float) -> Send | Lookup[object]:
        """Ask the next server for its share of the time left; the failure when none is left."""
        servers = self._servers
        remaining = self._deadline - now
        if self._index >= len(servers) or remaining <= 0:
            return self._end(self._failure)
        self._share = now + remaining / (len(servers) - self._index)
        self._edns = True
        return self._udp()

    def _end(self, lookup: Lookup[object]) -> Lookup[object]:
        """The final answer; after restarts, its TTL cut to the chain's."""
        return lookup if self._chain is None else self._chain.end(lookup)

    def _udp(self) -> Send:
        assert self._labels is not None
        self._tcp = False
        self._query = encode_query(self._new_id(), self._labels, self._qtype, edns=self._edns)
        return Send(self._servers[self._index], self._query, False, self._share)

    def _read(self, outcome: Outcome) -> Send | Lookup[object] | Restart:
        """One server's reply → a retry on the same server, or that server's outcome."""
        query = self._query
        assert query is not None
        if outcome is None:
            return _TIMEOUT
        if isinstance(outcome, OSError):  # ICMP unreachable, no route, connection refused ...
            return Lookup(LookupStatus.SERVFAIL, reason=_unreachable(self._servers[self._index], outcome))
        if self._tcp and not matches(outcome, query):
            return _SERVFAIL
        try:
            reply = decode_response(outcome, query)
        except WireError:
            return _SERVFAIL
        if reply.truncated:
            if self._tcp:
                return _SERVFAIL
            self._tcp = True  # RFC 7766 §5: repeat the query over TCP
            return Send(self._servers[self._index], query, True, self._share)
        if self._edns and reply.rcode in (RCode.FORMERR, RCode.NOTIMP):
            self._edns = False  # RFC 6891 §7: a server without EDNS; ask again plainly
            return self._udp()
        return interpret(reply, query.question[:-5].lower(), self._qtype)

    def _restart(self, restart: Restart, now: float) -> Send | Lookup[object]:
        """RFC 1034 §3.6.2: ask again for the CNAME target a server left unresolved."""
        labels = labels_of(restart.target)
        if labels is None:
            return Lookup(LookupStatus.NXDOMAIN, (), 0.0)
        if self._chain is None:
            self._chain = Chain(name_key(self._name), MAX_RESTARTS)
        if not self._chain.follow(name_key(restart.target), restart.ttl):
            return _SERVFAIL  # a loop, or more than MAX_RESTARTS new queries
        self._labels = labels
        self._index = 0
        self._failure = _TIMEOUT
        return self._next_server(now)


def _unreachable(server: Nameserver, error: OSError) -> str:
    """Why no answer came from ``server``, in words (not a server's SERVFAIL)."""
    if isinstance(error, ConnectionRefusedError):
        return f"server {server} refused the connection: nothing answers on that port"
    return f"server {server} cannot be reached: {error.strerror or error}"
