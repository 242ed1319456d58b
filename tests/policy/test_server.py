"""The server loops on real sockets: TCP and UNIX, 500 connections at once, hostile and silent
clients, graceful stop and reload (as a subprocess, DNS from the loopback fixture), spawn mode."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import resource
import select
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from spfkit.lookup import MemoryResolver, RRType
from spfkit.policy.config import parse_config
from spfkit.policy.protocol import PolicyReader
from spfkit.policy.server import PolicyServer, ServerError, Wait, next_wait
from spfkit.policy.service import PolicyService, make_resolver
from tests.fixtures.dnsserver import ZoneDataServer

ZONEDATA: dict[str, Any] = {
    "example.net": [{"TXT": "v=spf1 mx -all exp=why.example.net"}, {"MX": [10, "mail.example.net"]}],
    "mail.example.net": [{"A": "192.0.2.10"}, {"TXT": "v=spf1 a -all"}],
    "why.example.net": [{"TXT": "%{i} may not send for %{d}"}],
    "soft.example": [{"TXT": "v=spf1 ip4:192.0.2.10 ~all"}],
    "neutral.example": [{"TXT": "v=spf1 ?all"}],
}
MEMORY: dict[str, Any] = {
    "example.net": {"TXT": "v=spf1 mx -all", "MX": (10, "mail.example.net")},
    "mail.example.net": {"A": "192.0.2.10", "TXT": "v=spf1 a -all"},
}


def request(**attrs: str) -> bytes:
    base = {"request": "smtpd_access_policy", "protocol_state": "RCPT", "client_address": "192.0.2.10",
            "helo_name": "mail.example.net", "sender": "alice@example.net",
            "recipient": "bob@example.org", "instance": "i1"}
    base.update(attrs)
    return b"".join(f"{k}={v}\n".encode() for k, v in base.items()) + b"\n"


async def read_reply(reader: asyncio.StreamReader) -> str:
    data = await reader.readuntil(b"\n\n")
    assert data.startswith(b"action=") and data.count(b"\n") == 2, data
    return data[len(b"action="):-2].decode()


class Running:
    """A PolicyServer serving in the current loop; ``async with Running(...) as srv``."""

    def __init__(self, config: dict[str, Any], resolver: Any = None) -> None:
        cfg = parse_config({"listen": "127.0.0.1:0", "Receiver": "mx.example.org", **config})
        self.service = PolicyService(cfg, resolver if resolver is not None else MemoryResolver(MEMORY))
        self.server = PolicyServer(self.service)

    async def __aenter__(self) -> PolicyServer:
        await self.server.start()
        self.task = asyncio.ensure_future(self.server.serve())
        return self.server

    async def __aexit__(self, *exc: object) -> None:
        self.server.stop()
        await asyncio.wait_for(self.task, 10)


async def connect(server: PolicyServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    if server.address.is_unix:
        return await asyncio.open_unix_connection(server.address.path)
    return await asyncio.open_connection(server.address.host, server.address.port)


# --------------------------------------------------------------------------- in-process, TCP


def test_requests_pipelined_on_one_connection_are_answered_in_order() -> None:
    async def main() -> list[str]:
        async with Running({}) as server:
            reader, writer = await connect(server)
            writer.write(request(instance="a") + request(instance="b", client_address="192.0.2.99",
                                                         helo_name="x.example"))
            replies = [await read_reply(reader), await read_reply(reader)]
            writer.close()
            return replies

    first, second = asyncio.run(main())
    assert first.startswith("PREPEND Received-SPF: pass ")
    assert second.startswith("550 5.7.23 SPF fail for MAIL FROM example.net")


class SlowFor(MemoryResolver):
    """MEMORY, with every lookup of ``slow.example`` answered after 50 ms."""

    async def lookup(self, rrtype: RRType, name: str) -> Any:
        if name.rstrip(".").endswith("slow.example"):
            await asyncio.sleep(0.05)
        return await super().lookup(rrtype, name)

    def peek(self, rrtype: RRType, name: str) -> Any:
        return None if name.rstrip(".").endswith("slow.example") else super().peek(rrtype, name)


def test_answers_given_at_once_wait_behind_an_earlier_request_that_waits() -> None:
    """A pipelined chunk of: a warm request (compiled map), one whose DNS takes 50 ms, and two
    warm ones — the answers come in the order of the requests, not of their readiness."""
    memory = {**MEMORY, "slow.example": {"TXT": "v=spf1 ?all"}}

    async def main() -> list[str]:
        async with Running({}, SlowFor(memory)) as server:
            reader, writer = await connect(server)
            for n in range(3):  # example.net's first checks: evaluated, then compiled
                writer.write(request(instance=f"warm{n}"))
                await read_reply(reader)
            probe = PolicyReader().feed(request(instance="probe"))[0]
            assert server.service.answer_now(probe) is not None  # warm: answered in place
            writer.write(request(instance="a")
                         + request(instance="b", sender="carol@slow.example", helo_name="x.example")
                         + request(instance="c", client_address="192.0.2.99", helo_name="x.example")
                         + request(instance="d"))
            replies = [await read_reply(reader) for _ in range(4)]
            writer.close()
            return replies

    a, b, c, d = asyncio.run(main())
    assert a.startswith("PREPEND Received-SPF: pass ")
    assert b.startswith("PREPEND Received-SPF: neutral ") and "slow.example" in b
    assert c.startswith("550 5.7.23 SPF fail for MAIL FROM example.net")
    assert d.startswith("PREPEND Received-SPF: pass ")


def test_a_failing_answer_costs_that_connection_only(caplog: pytest.LogCaptureFixture) -> None:
    """Should answering a request that waits ever raise, its connection is closed (logged)
    and the server goes on answering others."""
    async def main() -> tuple[bytes, str]:
        async with Running({}) as server:
            service = server.service
            real = service.answer_later

            async def broken(item: Any) -> Any:
                raise RuntimeError("injected")

            service.answer_later = broken  # type: ignore[method-assign]
            reader, writer = await connect(server)
            writer.write(request(instance="x", sender="carol@neutral.example"))
            lost = await asyncio.wait_for(reader.read(), 5)  # closed, no answer
            writer.close()
            service.answer_later = real  # type: ignore[method-assign]
            reader, writer = await connect(server)
            writer.write(request(instance="y"))
            reply = await read_reply(reader)
            writer.close()
            return lost, reply

    with caplog.at_level("ERROR"):
        lost, reply = asyncio.run(main())
    assert lost == b""
    assert reply.startswith("PREPEND Received-SPF: pass ")
    assert any("answering a request failed" in r.getMessage() and r.exc_info for r in caplog.records)


def _raise_nofile(want: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert soft == resource.RLIM_INFINITY or soft >= want, f"open-file limit {soft} < {want}"


SCENARIOS = [  # sender, client, expected reply prefix
    ("alice@example.net", "192.0.2.10", "PREPEND Received-SPF: pass "),
    ("bob@example.net", "192.0.2.99", "550 5.7.23 SPF fail for MAIL FROM example.net: "
                                      '"192.0.2.99 may not send for example.net"'),
    ("carol@soft.example", "192.0.2.98", "PREPEND Received-SPF: softfail "),
    ("dave@neutral.example", "192.0.2.97", "PREPEND Received-SPF: neutral "),
    ("erin@none.example", "192.0.2.96", "PREPEND Received-SPF: none "),
]


def test_500_concurrent_connections_each_with_several_requests() -> None:
    connections, per_connection = 500, 4
    _raise_nofile(2 * connections + 200)

    async def client(server: PolicyServer, number: int, start: asyncio.Event) -> int:
        reader, writer = await connect(server)
        await start.wait()  # every connection is open before the first request
        correct = 0
        for n in range(per_connection):
            sender, client_ip, expected = SCENARIOS[(number + n) % len(SCENARIOS)]
            helo = "mail.example.net" if client_ip == "192.0.2.10" else "unknown.invalid"
            for rcpt in range(2):  # two recipients: the second must be DUNNO or the same reject
                writer.write(request(sender=sender, client_address=client_ip, helo_name=helo,
                                     instance=f"{number}.{n}", recipient=f"r{rcpt}@example.org"))
                reply = await read_reply(reader)
                if rcpt == 0:
                    correct += reply.startswith(expected)
                else:
                    correct += reply == ("DUNNO" if expected.startswith("PREPEND") else reply)
        writer.close()
        return correct

    async def main(dns: ZoneDataServer) -> tuple[list[int], int]:
        config = {"nameservers": [f"127.0.0.1:{dns.port}"], "max_connections": connections + 10,
                  "dns_timeout": 5}
        cfg = parse_config({"listen": "127.0.0.1:0", **config})
        async with Running(config, make_resolver(cfg)) as server:
            start = asyncio.Event()
            tasks = [asyncio.ensure_future(client(server, n, start)) for n in range(connections)]
            while len(server._connections) < connections:
                await asyncio.sleep(0.05)
            peak = len(server._connections)
            start.set()
            async with asyncio.timeout(120):
                results = await asyncio.gather(*tasks)
            return results, peak

    with ZoneDataServer(ZONEDATA, delay=0.01) as dns:
        results, peak = asyncio.run(main(dns))
        assert not dns.errors
    assert peak == connections
    assert results == [2 * per_connection] * connections


def test_garbage_is_answered_and_the_connection_survives() -> None:
    async def main() -> list[str]:
        async with Running({}) as server:
            reader, writer = await connect(server)
            replies = []
            for junk in (b"hello\n\n", b"\x00\xff\xfe binary \x01\n\n", b"request=other\n\n",
                         b"sender=" + b"A" * 100_000 + b"\n\n",
                         request(protocol_state="END-OF-MESSAGE"), request(protocol_state="CONNECT"),
                         b"x=1\n" * 500 + b"\n", request(client_address="")):
                writer.write(junk)
                replies.append(await read_reply(reader))
            writer.write(request(instance="fine"))
            replies.append(await read_reply(reader))
            writer.close()
            return replies

    replies = asyncio.run(main())
    assert replies[:-1] == ["DUNNO"] * 8
    assert replies[-1].startswith("PREPEND Received-SPF: pass")


def test_a_silent_client_is_dropped_after_the_idle_timeout() -> None:
    async def main() -> float:
        async with Running({"idle_timeout": 0.5, "read_timeout": 0.5}) as server:
            reader, writer = await connect(server)
            start = time.monotonic()
            assert await asyncio.wait_for(reader.read(), 5) == b""
            writer.close()
            assert not server._connections
            return time.monotonic() - start

    assert 0.4 < asyncio.run(main()) < 3


def test_a_dripping_client_cannot_hold_a_connection() -> None:
    """read_timeout counts from the first octet of a request, not from the last one."""
    async def main() -> float:
        async with Running({"idle_timeout": 30, "read_timeout": 0.5}) as server:
            reader, writer = await connect(server)
            start = time.monotonic()

            async def drip() -> None:  # one octet every 50 ms, for as long as the server listens
                with contextlib.suppress(ConnectionError):
                    while True:
                        writer.write(b"x")
                        await writer.drain()
                        await asyncio.sleep(0.05)

            dripping = asyncio.ensure_future(drip())
            try:
                closed = await asyncio.wait_for(reader.read(), 5) == b""  # the server's close
            except ConnectionResetError:  # it closed with our last octets unread
                closed = True
            finally:
                dripping.cancel()
            took = time.monotonic() - start
            writer.close()
            assert closed
            return took

    assert 0.4 < asyncio.run(main()) < 3


def test_one_timeout_rule_for_both_loops() -> None:
    config = parse_config({"idle_timeout": 30, "read_timeout": 2})
    idle = next_wait(False, None, 100.0, config)
    assert idle == Wait(130.0, None, "no request for 30 s")
    begun = next_wait(True, None, 100.0, config)
    assert begun == Wait(102.0, 100.0, "request not completed in time")
    later = next_wait(True, begun.began, 101.5, config)  # more octets do not move the deadline
    assert later.until == 102.0 and later.began == 100.0
    assert next_wait(False, later.began, 101.6, config).began is None


def test_max_connections_refuses_the_next_one() -> None:
    async def main() -> bytes:
        async with Running({"max_connections": 2}) as server:
            held = [await connect(server) for _ in range(2)]
            while len(server._connections) < 2:
                await asyncio.sleep(0.01)
            reader, writer = await connect(server)
            data = await asyncio.wait_for(reader.read(), 5)
            writer.close()
            for _, w in held:
                w.close()
            return data

    assert asyncio.run(main()) == b""


def test_stop_finishes_the_answer_in_flight() -> None:
    class Held(MemoryResolver):
        """Every TXT answer waits until ``release`` is set; ``asked`` tells a check is waiting."""

        def __init__(self, zone: dict[str, Any]) -> None:
            super().__init__(zone)
            self.asked = asyncio.Event()
            self.release = asyncio.Event()

        async def lookup(self, rrtype: RRType, name: str) -> Any:
            if rrtype is RRType.TXT:
                self.asked.set()
                await self.release.wait()
            return await super().lookup(rrtype, name)

    async def main() -> tuple[str, bytes, bool]:
        resolver = Held(MEMORY)
        running = Running({}, resolver)
        server = await running.__aenter__()
        reader, writer = await connect(server)
        idle_reader, idle_writer = await connect(server)
        writer.write(request())
        await asyncio.wait_for(resolver.asked.wait(), 5)  # the answer is now in flight
        server.stop()
        idle_closed = await asyncio.wait_for(idle_reader.read(), 5) == b""  # idle: closed at once
        resolver.release.set()
        reply = await read_reply(reader)
        rest = await asyncio.wait_for(reader.read(), 5)
        await asyncio.wait_for(running.task, 5)
        writer.close()
        idle_writer.close()
        return reply, rest, idle_closed

    reply, rest, idle_closed = asyncio.run(main())
    assert reply.startswith("PREPEND Received-SPF: pass") and rest == b"" and idle_closed


# --------------------------------------------------------------------------- UNIX sockets


@pytest.fixture
def sockdir() -> Iterator[Path]:
    path = Path(f"/tmp/spfkit-test-{os.getpid()}-{time.monotonic_ns()}")
    path.mkdir()
    yield path
    for child in path.iterdir():
        child.unlink()
    path.rmdir()


def test_unix_socket_mode_stale_socket_and_cleanup(sockdir: Path) -> None:
    path = sockdir / "policy"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))  # bound, never listening: what a killed server leaves behind
    stale.close()

    async def main() -> str:
        async with Running({"listen": f"unix:{path}", "socket_mode": "0660"}) as server:
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
            reader, writer = await connect(server)
            writer.write(request())
            reply = await read_reply(reader)
            writer.close()
            return reply

    assert asyncio.run(main()).startswith("PREPEND Received-SPF: pass")
    assert not path.exists()


def test_unix_socket_refuses_a_live_socket_or_a_plain_file(sockdir: Path) -> None:
    live = sockdir / "live"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(live))
    listener.listen()
    plain = sockdir / "plain"
    plain.write_text("x")

    async def start(path: Path) -> None:
        cfg = parse_config({"listen": f"unix:{path}"})
        await PolicyServer(PolicyService(cfg, MemoryResolver({}))).start()

    try:
        with pytest.raises(ServerError, match="another server is listening"):
            asyncio.run(start(live))
        with pytest.raises(ServerError, match="not a socket"):
            asyncio.run(start(plain))
    finally:
        listener.close()


# --------------------------------------------------------------------------- as a subprocess


def spfkit_policyd(*args: str, **kw: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "spfkit", "policyd", *args],
                            stdin=kw.pop("stdin", subprocess.DEVNULL),
                            stdout=kw.pop("stdout", subprocess.PIPE),
                            stderr=kw.pop("stderr", subprocess.PIPE), **kw)


class Stderr:
    """Collects a subprocess's stderr; waits for a line matching a pattern."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        self.fd = proc.stderr.fileno()
        self.text = ""

    def wait_for(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        end = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.text)
            if found:
                return found
            left = end - time.monotonic()
            assert left > 0, f"no {pattern!r} in stderr:\n{self.text}"
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                chunk = os.read(self.fd, 65536)
                assert chunk, f"stderr closed before {pattern!r}:\n{self.text}"
                self.text += chunk.decode(errors="replace")


def until(condition: Callable[[], bool], timeout: float = 20) -> None:
    """Wait (polling) until ``condition()`` holds."""
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "condition not reached in time"
        time.sleep(0.01)


def ask(port: int, data: bytes, timeout: float = 20) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(data)
        reply = b""
        while not reply.endswith(b"\n\n"):
            chunk = conn.recv(4096)
            assert chunk, reply
            reply += chunk
    return reply.decode()[len("action="):-2]


@pytest.fixture(scope="module")
def dns() -> Iterator[ZoneDataServer]:
    with ZoneDataServer(ZONEDATA) as server:
        yield server


def test_sigterm_finishes_the_answer_in_flight(dns: ZoneDataServer) -> None:
    with ZoneDataServer(ZONEDATA, delay=1.5) as slow:
        proc = spfkit_policyd("--listen", "127.0.0.1:0", "--nameserver", f"127.0.0.1:{slow.port}",
                              "--log", "stderr")
        err = Stderr(proc)
        try:
            port = int(err.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
            conn = socket.create_connection(("127.0.0.1", port), timeout=20)
            conn.sendall(request(sender="someone@example.net", client_address="192.0.2.99",
                                 helo_name="unknown.invalid"))
            until(lambda: slow.count() > 0)  # the check now waits on the slow DNS answer
            proc.send_signal(signal.SIGTERM)
            reply = b""
            while not reply.endswith(b"\n\n"):
                chunk = conn.recv(4096)
                assert chunk, reply
                reply += chunk
            assert conn.recv(4096) == b""  # then the server closes the connection
            conn.close()
            assert proc.wait(20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    assert reply.startswith(b"action=550 5.7.23 SPF fail for MAIL FROM example.net")
    err.text += proc.stderr.read().decode() if proc.stderr else ""
    assert "stopping" in err.text
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2)


def test_sighup_reloads_and_keeps_the_old_config_when_the_new_one_is_bad(
    dns: ZoneDataServer, tmp_path: Path
) -> None:
    config = tmp_path / "policyd.toml"
    config.write_text("test_only = false\n")
    proc = spfkit_policyd("--config", str(config), "--listen", "127.0.0.1:0",
                          "--nameserver", f"127.0.0.1:{dns.port}", "--log", "stderr")
    err = Stderr(proc)
    failing = {"sender": "x@example.net", "client_address": "192.0.2.99", "helo_name": "u.invalid"}
    try:
        port = int(err.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        assert ask(port, request(instance="1", **failing)).startswith("550 5.7.23")
        config.write_text("test_only = true\n")
        proc.send_signal(signal.SIGHUP)
        err.wait_for(r"configuration reloaded from")
        assert ask(port, request(instance="2", **failing)).startswith("PREPEND Received-SPF: fail")
        config.write_text("test_only = \"perhaps\"\n")
        proc.send_signal(signal.SIGHUP)
        err.wait_for(r"configuration not reloaded, keeping the old one: .*test_only")
        assert ask(port, request(instance="3", **failing)).startswith("PREPEND Received-SPF: fail")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_stdio_mode_on_a_pipe(dns: ZoneDataServer) -> None:
    data = (request(instance="1") + request(instance="1", recipient="carol@example.org")
            + b"garbage\n\n" + request(instance="2", client_address="192.0.2.99", helo_name="u.invalid"))
    proc = subprocess.run(
        [sys.executable, "-m", "spfkit", "policyd", "--nameserver", f"127.0.0.1:{dns.port}",
         "--log", "stderr"], input=data, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    replies = proc.stdout.decode().split("\n\n")
    assert replies[-1] == "" and len(replies) == 5
    assert replies[0].startswith("action=PREPEND Received-SPF: pass")
    assert replies[1:4] == ["action=DUNNO", "action=DUNNO", replies[3]]
    assert replies[3].startswith("action=550 5.7.23")
    log = proc.stderr.decode()
    assert "SPF pass: client=" in log and " identity=mailfrom " in log and "malformed policy request" in log


def test_stdio_mode_as_spawn_runs_it_logs_never_reach_the_socket(dns: ZoneDataServer) -> None:
    """spawn(8) gives the child one socket as stdin, stdout and stderr."""
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen(
        [sys.executable, "-m", "spfkit", "policyd", "--nameserver", f"127.0.0.1:{dns.port}",
         "--log", "stderr", "--log-level", "debug"],
        stdin=theirs, stdout=theirs, stderr=theirs)
    theirs.close()
    try:
        ours.settimeout(30)
        ours.sendall(request() + b"junk\n\n")
        data = b""
        while data.count(b"\n\n") < 2:
            chunk = ours.recv(65536)
            assert chunk, data
            data += chunk
        ours.shutdown(socket.SHUT_WR)  # end of input: the child exits
        rest = ours.recv(65536)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        ours.close()
    assert rest == b""
    first, second, tail = data.split(b"\n\n")
    assert first.startswith(b"action=PREPEND Received-SPF: pass") and second == b"action=DUNNO"
    assert tail == b""


def test_stdio_mode_exits_on_sigterm_and_after_the_idle_timeout(tmp_path: Path) -> None:
    config = tmp_path / "p.toml"
    config.write_text("idle_timeout = 0.5\nread_timeout = 0.5\n")
    proc = spfkit_policyd("--config", str(config), "--zone", "/dev/null", "--log", "stderr",
                          stdin=subprocess.PIPE)
    start = time.monotonic()
    assert proc.wait(20) == 0
    assert time.monotonic() - start < 15
    assert proc.stderr is not None and b"no request for 0.5 s" in proc.stderr.read()
    proc = spfkit_policyd("--zone", "/dev/null", "--log", "stderr", "--log-level", "debug",
                          stdin=subprocess.PIPE)
    err = Stderr(proc)
    err.wait_for("answering policy requests on standard input")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    err.text += proc.stderr.read().decode() if proc.stderr else ""
    assert "Traceback" not in err.text
