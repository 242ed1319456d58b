"""Hostile senders and clients against a real ``spfkit policyd`` on real sockets (issue:
no record, request or client can stall, bloat or misuse it).

DNS comes from the loopback fixture (UDP, TCP for the large answers); the server is a
subprocess where its memory, its stderr or its CPU is the point, and runs in this process
where only its socket behaviour is.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures.dnsserver import ZoneDataServer
from tests.fixtures.ports import free_port
from tests.policy.test_server import Running, Stderr, ask, connect, read_reply, request

BOMB = "v=spf1 exists:" + "%{i1000r}" * 6998 + " -all"  # ~63 KB, the record
ZONEDATA: dict[str, Any] = {
    "bomb.example": [{"TXT": "v=spf1 " + " ".join(f"include:i{k}.bomb.example" for k in range(9))
                      + " -all"}],
    **{f"i{k}.bomb.example": [{"TXT": BOMB}] for k in range(9)},
    "good.example": [{"TXT": "v=spf1 ip4:192.0.2.10 -all"}],
    **{f"big{n}.example": [{"TXT": "v=spf1 " + " ".join(
        f"ip4:10.{n % 250}.{k % 256}.{k // 256}" for k in range(3300)) + " -all"}]
       for n in range(300)},
}


@pytest.fixture(scope="module")
def dns() -> Iterator[ZoneDataServer]:
    with ZoneDataServer(ZONEDATA) as server:
        yield server


def _policyd(dns: ZoneDataServer, *extra: str, stderr: Any = subprocess.PIPE,
             port: int | None = None) -> tuple[subprocess.Popen[bytes], int]:
    port = port or free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "spfkit", "policyd", "--listen", f"127.0.0.1:{port}",
         "--nameserver", f"127.0.0.1:{dns.port}", "--log", "stderr", *extra],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
    end = time.monotonic() + 20
    while True:  # ready once it accepts (its stderr may be a pipe nobody reads)
        assert proc.poll() is None, "spfkit policyd exited"
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, port
        except OSError:
            assert time.monotonic() < end, "spfkit policyd did not listen"
            time.sleep(0.05)


def _ask(port: int, data: bytes) -> tuple[str, float]:
    """The answer (without ``action=``) and how long it took."""
    started = time.monotonic()
    answer = ask(port, data, timeout=40)
    assert "\r" not in answer and "\n" not in answer, answer
    return answer, time.monotonic() - started


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def test_a_macro_bomb_tree_ends_on_the_budget_and_others_are_answered(dns: ZoneDataServer) -> None:
    """The issue's record: nine includes of a 63 KB "%{i1000r}" record, an IPv6 client; once
    it kept one request busy for 40 s and every other connection waiting for 21 s."""
    proc, port = _policyd(dns, "--log-level", "info")
    err = Stderr(proc)
    try:
        bomb = request(client_address="2001:db8::1", helo_name="h.bomb.example",
                       sender="x@bomb.example", instance="bomb")
        def good(n: int) -> bytes:
            return request(client_address="192.0.2.10", helo_name="mail.good.example",
                           sender="a@good.example", instance=f"good{n}")
        loop = asyncio.new_event_loop()
        try:
            async def both() -> tuple[tuple[str, float], list[tuple[str, float]]]:
                hostile = loop.run_in_executor(None, _ask, port, bomb)
                others = [await loop.run_in_executor(None, _ask, port, good(n)) for n in range(5)]
                return await hostile, others

            (answer, took), others = loop.run_until_complete(both())
        finally:
            loop.close()
        assert took < 30  # within the deadline
        assert answer.startswith(("PREPEND", "DUNNO")), answer  # permerror is accepted by default
        assert all(a.startswith("PREPEND Received-SPF: pass") and t < 1.0 for a, t in others), others
        line = err.wait_for(r"SPF permerror: [^\n]*bomb\.example[^\n]*\n").group(0)
        assert "work budget" in line
        assert "Traceback" not in err.text
    finally:
        _stop(proc)


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_memory_stays_flat_whatever_senders_publish(dns: ZoneDataServer) -> None:
    """300 sender domains, each with a different ~50 KB record, once grew policyd to 1.1 GB."""
    assert 45_000 < len(ZONEDATA["big7.example"][0]["TXT"]) < 60_000
    proc, port = _policyd(dns, "--log-level", "warning")
    try:
        start = _rss_kib(proc.pid)
        for n in range(300):
            answer, _ = _ask(port, request(client_address="192.0.2.77", helo_name="x.invalid",
                                           sender=f"u@big{n}.example", instance=f"b{n}"))
            assert answer.startswith(("550", "DUNNO", "PREPEND")), answer
        end = _rss_kib(proc.pid)
        assert end < 200 * 1024, f"RSS grew from {start} KiB to {end} KiB"
    finally:
        _stop(proc)


def test_a_stderr_pipe_nobody_reads_stops_no_answer(dns: ZoneDataServer) -> None:
    """With --listen, logs go to stderr: a full pipe must never block the event loop."""
    read_end, write_end = os.pipe()  # never read: the pipe fills after 64 KiB
    try:
        proc, port = _policyd(dns, "--log-level", "debug", stderr=write_end)
        os.close(write_end)
        write_end = -1
        try:
            async def client(n: int) -> list[str]:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                answers = []
                for k in range(3):
                    writer.write(request(client_address="192.0.2.10", helo_name="mail.good.example",
                                         sender=f"c{n}@good.example", instance=f"{n}-{k}"))
                    await writer.drain()
                    answers.append(await asyncio.wait_for(read_reply(reader), 30))
                writer.close()
                return answers

            async def all_clients() -> list[list[str]]:
                return await asyncio.gather(*(client(n) for n in range(300)))

            results = asyncio.run(all_clients())
            assert len(results) == 300
            assert all(len(r) == 3 and all(a.startswith("PREPEND") for a in r) for r in results)
        finally:
            _stop(proc)
    finally:
        if write_end >= 0:
            os.close(write_end)
        os.close(read_end)


def test_a_pipelining_client_gets_every_answer_and_keeps_its_connection() -> None:
    """read_timeout is per request: 200 requests over 4 s with a 1 s limit, each burst
    ending in the middle of the next request."""
    async def main() -> list[str]:
        async with Running({"read_timeout": 1.0}) as server:
            reader, writer = await connect(server)
            stream = b"".join(request(instance=f"p{n}", sender=f"u{n}@example.net")
                              for n in range(200))
            bursts = 20
            size = len(stream) // bursts + 1
            answers: list[str] = []

            async def read_all() -> None:
                while len(answers) < 200:
                    answers.append(await read_reply(reader))

            reading = asyncio.ensure_future(read_all())
            for k in range(bursts):
                writer.write(stream[k * size:(k + 1) * size])
                await writer.drain()
                await asyncio.sleep(0.2)
            await asyncio.wait_for(reading, 10)
            writer.write(request(instance="last"))  # the connection is still open
            answers.append(await read_reply(reader))
            writer.close()
            return answers

    answers = asyncio.run(main())
    assert len(answers) == 201 and all(a.startswith(("PREPEND", "DUNNO")) for a in answers)


def test_a_client_that_stops_reading_is_dropped_soon() -> None:
    """Once, a client that never read got ~60,000 answers and ~70 s of work before the
    server noticed; now a few KiB of unread answers and read_timeout end it."""
    async def main() -> tuple[bool, int, float]:
        async with Running({"read_timeout": 1.0}) as server:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setblocking(False)
            loop = asyncio.get_running_loop()
            await loop.sock_connect(sock, (server.address.host, server.address.port))
            burst = request(sender="x@example.net") * 50
            started = loop.time()
            try:  # send and never read, until the server stops taking requests
                while loop.time() - started < 20:
                    await asyncio.wait_for(loop.sock_sendall(sock, burst), 3)
            except (ConnectionError, OSError, TimeoutError):
                pass
            dropped, received = False, 0
            try:  # now read: what was answered, then the end of the connection
                while loop.time() - started < 25:
                    chunk = await asyncio.wait_for(loop.sock_recv(sock, 65536), 5)
                    if not chunk:
                        dropped = True
                        break
                    received += len(chunk)
            except (ConnectionError, OSError):
                dropped = True  # reset: the server closed with our requests unread
            except TimeoutError:
                pass
            sock.close()
            return dropped, received, loop.time() - started

    dropped, received, took = asyncio.run(main())
    assert dropped, "the server kept a client that does not read its answers"
    assert took < 15
    answer = len(b"action=PREPEND Received-SPF: pass\n\n")
    assert received < 2000 * answer, f"{received} octets of answers before the drop"


def test_a_prepended_header_stays_one_line_of_at_most_990_octets(tmp_path: Any) -> None:
    """Each value is capped at 512 octets; a 600-character HELO name and a 600-character
    sender together once made a 1,137-octet PREPEND (found by benchmarks/fuzz.py)."""
    from tests.cli.conftest import spfkit

    stdin = (f"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.25\n"
             f"helo_name={'h' * 600}.example.com\nsender={'s' * 600}@example.com\n")
    for header in ("SPF", "AR", "both"):
        config = tmp_path / f"{header}.toml"
        config.write_text(f'Header_Type = "{header}"\n')
        out = spfkit("policyd", "--config", str(config), "--zone", "examples/example.zone",
                     "--explain", stdin=stdin)
        [reply] = [line for line in out.stdout.splitlines() if line.startswith("reply:")]
        prepend = reply.split("action=PREPEND ", 1)[1]
        assert len(prepend.encode()) <= 990 and "\r" not in prepend
        assert prepend.startswith(("Received-SPF: pass", "Authentication-Results:"))
