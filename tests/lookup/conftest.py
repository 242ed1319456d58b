"""Fixtures for the lookup tests: a real BIND on loopback, and a scriptable UDP responder.

``named`` starts BIND 9 through ``tests/fixtures/recipes/start-named.sh`` (a copy of the
project recipe, so CI needs nothing outside the repository) on a free port, serving
``NAMED_ZONE`` as the root zone, once per test session (per xdist worker). If ``named`` is not
installed the fixture fails: CI installs bind9, and a silently skipped test proves nothing.
"""

from __future__ import annotations

import shutil
import socket
import socketserver
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dns.message
import pytest

from tests.fixtures.named import running_named

RECIPES = Path(__file__).resolve().parents[1] / "fixtures" / "recipes"

#: 40 TXT records of 100 octets: about 4.4 kB, far over the 1232-octet EDNS payload
BIG_TXT = [f"record {i:02d} " + "x" * 90 for i in range(40)]

NAMED_ZONE = "\n".join(
    [
        "$TTL 300",
        ". IN SOA ns.spfkit.test. hostmaster.spfkit.test. ( 1 3600 600 86400 120 )",
        ". IN NS ns.spfkit.test.",
        "ns.spfkit.test. IN A 127.0.0.1",
        "example.net. 600 IN MX 10 mail.example.net.",
        "example.net. 600 IN MX 20 mx2.example.net.",
        'example.net. IN TXT "v=spf1 mx ~all"',
        'example.net. IN TXT "google-site-verification=abc"',
        "mail.example.net. IN A 127.0.0.2",
        "mail.example.net. IN A 127.0.0.3",
        "mail.example.net. IN AAAA 2001:db8::25",
        'multi.example.net. IN TXT "v=spf1 ip4:192.0.2.0/24 " "-all"',
        'raw.example.net. IN TXT "caf\\195\\169 \\000\\255"',
        "alias.example.net. 60 IN CNAME mail.example.net.",
        "alias2.example.net. 30 IN CNAME alias.example.net.",
        "dangling.example.net. IN CNAME nowhere.example.net.",
        "loop1.example.net. IN CNAME loop2.example.net.",
        "loop2.example.net. IN CNAME loop1.example.net.",
        'deep.ent.example.net. IN TXT "below an empty non-terminal"',
        "2.0.0.127.in-addr.arpa. IN PTR mail.example.net.",
        "2.0.0.127.in-addr.arpa. IN PTR other.example.net.",
        'b\\195\\188cher.example.net. IN TXT "v=spf1 -all"',
        "*.wild.example.net. IN A 192.0.2.99",
        *(f'big.example.net. IN TXT "{text}"' for text in BIG_TXT),
        "",
    ]
)


@dataclass(frozen=True)
class Named:
    """A running BIND: where it listens."""

    host: str
    port: int

    @property
    def spec(self) -> str:
        return f"{self.host}:{self.port}"


@pytest.fixture(scope="session")
def named() -> Iterator[Named]:
    """BIND on 127.0.0.1:<free port> serving NAMED_ZONE; fails (never skips) without BIND."""
    assert shutil.which("named"), (
        "BIND's named is not installed (apt-get install -y bind9 dnsutils)"
    )
    base = Path(tempfile.mkdtemp(prefix="spfkit-lookup-", dir="/tmp"))
    base.chmod(0o755)  # start-named.sh: DIR must be world-searchable
    zone = base / "zone.db"
    zone.write_text(NAMED_ZONE, encoding="utf-8")
    try:
        with running_named(base / "named", zone) as port:
            yield Named("127.0.0.1", port)
    finally:
        shutil.rmtree(base, ignore_errors=True)


Handler = Callable[[dns.message.Message, bytes], "bytes | dns.message.Message | list[bytes] | None"]


class Responder:
    """A UDP server on 127.0.0.1 whose answers a test scripts with ``handler(query, wire)``.

    The handler returns a dnspython message, raw bytes, a list of raw datagrams to send in
    order, or None to stay silent. ``received`` counts the datagrams that arrived.
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.received = 0
        responder = self

        class _Handle(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data, sock = self.request
                responder.received += 1
                try:
                    query = dns.message.from_wire(data)
                except Exception:
                    return
                reply = responder.handler(query, data)
                if reply is None:
                    return
                datagrams = reply if isinstance(reply, list) else [reply]
                for item in datagrams:
                    wire = item if isinstance(item, bytes) else item.to_wire()
                    sock.sendto(wire, self.client_address)

        self._server = socketserver.ThreadingUDPServer(("127.0.0.1", 0), _Handle)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def spec(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def responder() -> Iterator[Callable[[Handler], Responder]]:
    """Factory of :class:`Responder` servers, all closed after the test."""
    made: list[Responder] = []

    def make(handler: Handler) -> Responder:
        server = Responder(handler)
        made.append(server)
        return server

    yield make
    for server in made:
        server.close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A bound UDP port on 127.0.0.1 that never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])
