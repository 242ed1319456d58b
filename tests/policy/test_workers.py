"""``policyd --workers N``: real processes sharing one TCP port, real TCP clients, DNS from the
loopback fixture; restart of a killed worker, SIGHUP and SIGTERM forwarding, the crash-loop stop."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from spfkit.policy.workers import MAX_RESTARTS
from tests.fixtures.dnsserver import ZoneDataServer
from tests.policy.test_server import ZONEDATA, Stderr, request, spfkit_policyd

LISTENING = r"spfkit-policyd\[(\d+)\]: listening on 127\.0\.0\.1:(\d+)\n"
DECIDED = r"spfkit-policyd\[(\d+)\]: SPF \w+: client="


@pytest.fixture(scope="module")
def dns() -> Iterator[ZoneDataServer]:
    with ZoneDataServer(ZONEDATA) as server:
        yield server


@contextlib.contextmanager
def reaped(proc: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    """The server process, killed at the end if still running, and always waited for."""
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def wait_count(err: Stderr, pattern: str, count: int, timeout: float = 30) -> list[re.Match[str]]:
    """Wait until stderr holds ``count`` matches of ``pattern``; returns them all."""
    end = time.monotonic() + timeout
    while len(found := list(re.finditer(pattern, err.text))) < count:
        left = end - time.monotonic()
        assert left > 0, f"fewer than {count} {pattern!r} in stderr:\n{err.text}"
        try:
            err.wait_for(r"\Z.", timeout=min(left, 0.2))  # reads whatever arrives meanwhile
        except AssertionError:
            pass
    return found


def children(pid: int) -> set[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {int(p) for p in text.split()}


def answer(conn: socket.socket) -> bytes:
    """The next reply on ``conn``, up to the empty line that ends it."""
    data = b""
    while not data.endswith(b"\n\n"):
        data += (chunk := conn.recv(4096))
        assert chunk, data
    return data


def converse(port: int, requests: list[bytes]) -> list[str]:
    """One Postfix-like connection: each request written, its reply read, in turn."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        return [_ask(conn, data) for data in requests]


def _ask(conn: socket.socket, data: bytes) -> str:
    """One request written on ``conn``, its reply read."""
    conn.sendall(data)
    return answer(conn).decode()


def many_clients(port: int, clients: int, each: int, tag: str) -> dict[int, list[str]]:
    """``clients`` connections at once, ``each`` requests on each; the replies per client."""
    replies: dict[int, list[str]] = {}
    barrier = threading.Barrier(clients)

    def client(number: int) -> None:
        barrier.wait()
        mine = [request(instance=f"{tag}-{number}-{i}", client_address=f"192.0.2.{1 + i % 2 * 9}")
                for i in range(each)]
        replies[number] = converse(port, mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return replies


def test_two_workers_share_the_port_answer_every_request_restart_reload_and_stop(
    dns: ZoneDataServer, tmp_path: Path
) -> None:
    config = tmp_path / "policyd.toml"
    config.write_text("test_only = false\n")
    with reaped(spfkit_policyd("--config", str(config), "--listen", "127.0.0.1:0", "--workers", "2",
                               "--nameserver", f"127.0.0.1:{dns.port}", "--log", "stderr",
                               "--log-level", "info")) as proc:
        err = Stderr(proc)
        ready = wait_count(err, LISTENING, 2)
        workers = {int(m.group(1)) for m in ready}
        port = int(ready[0].group(2))
        assert {int(m.group(2)) for m in ready} == {port}
        assert workers == children(proc.pid) and proc.pid not in workers and len(workers) == 2

        # 1. 40 connections at once, 3 requests each: every one answered, by both workers
        replies = many_clients(port, 40, 3, "a")
        assert sorted(replies) == list(range(40))
        for number, answers in replies.items():
            assert len(answers) == 3, number
            for i, answer in enumerate(answers):  # 192.0.2.10 is example.net's MX; .1 is not
                want = "action=PREPEND Received-SPF: pass" if i % 2 else "action=550 5.7.23"
                assert answer.startswith(want), (number, i, answer)
        decided = wait_count(err, DECIDED, 120)
        by_worker = {pid: sum(1 for m in decided if int(m.group(1)) == pid) for pid in workers}
        assert sum(by_worker.values()) == 120 and all(by_worker.values()), by_worker

        # 2. a worker killed is replaced; the port keeps answering
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        err.wait_for(rf"worker \d \(pid {victim}\) exited with signal SIGKILL; restarting it")
        ready = wait_count(err, LISTENING, 3)
        new = int(ready[-1].group(1))
        assert new not in workers and children(proc.pid) == workers - {victim} | {new}
        workers = children(proc.pid)
        replies = many_clients(port, 20, 1, "b")
        assert all(r[0].startswith("action=550 5.7.23") for r in replies.values()), replies
        assert len(replies) == 20

        # 3. SIGHUP reaches every worker: each reloads the file
        config.write_text("test_only = true\n")
        proc.send_signal(signal.SIGHUP)
        reloaded = wait_count(err, r"spfkit-policyd\[(\d+)\]: configuration reloaded from", 2)
        assert {int(m.group(1)) for m in reloaded} == workers
        replies = many_clients(port, 20, 1, "c")
        assert all(r[0].startswith("action=PREPEND Received-SPF: fail") for r in replies.values())

        # 4. SIGTERM stops every worker, then the parent, with status 0
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    assert proc.stderr is not None
    err.text += proc.stderr.read().decode()
    assert len(re.findall(r"worker \d \(pid \d+\) stopped with status 0", err.text)) == 2, err.text
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2)


def test_sigterm_lets_each_worker_finish_its_answer_in_flight() -> None:
    with ZoneDataServer(ZONEDATA, delay=1.5) as slow:
        with reaped(spfkit_policyd("--listen", "127.0.0.1:0", "--workers", "2", "--nameserver",
                                   f"127.0.0.1:{slow.port}", "--log", "stderr")) as proc:
            err = Stderr(proc)
            port = int(wait_count(err, LISTENING, 2)[0].group(2))
            conns = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(8)]
            for number, conn in enumerate(conns):
                conn.sendall(request(instance=f"t{number}", client_address="192.0.2.99",
                                     helo_name=f"h{number}.invalid"))
            end = time.monotonic() + 20
            while slow.count() < 8:  # each check waits on the slow answer for its HELO name
                assert time.monotonic() < end, slow.count()
                time.sleep(0.01)
            proc.send_signal(signal.SIGTERM)
            for conn in conns:
                reply = answer(conn)
                assert reply.startswith(b"action=550 5.7.23 SPF fail"), reply
                assert conn.recv(4096) == b""
                conn.close()
            assert proc.wait(30) == 0


def test_workers_need_a_tcp_listen_address(tmp_path: Path) -> None:
    for extra in ([], ["--listen", f"unix:{tmp_path}/sock"]):
        done = subprocess.run([sys.executable, "-m", "spfkit", "policyd", "--workers", "2", *extra],
                              capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        assert done.returncode == 2, done
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(
            "spfkit: error: --workers needs a TCP listen address (--listen HOST:PORT)"), lines
        assert "Traceback" not in done.stderr


def test_a_port_in_use_is_one_error_line_and_status_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "spfkit", "policyd", "--workers", "2",
                               "--listen", f"127.0.0.1:{port}", "--log", "stderr"],
                              capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert done.returncode == 1, done
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in done.stderr
    assert "worker 0 started" not in done.stderr


def test_a_worker_that_keeps_dying_stops_the_server() -> None:
    """MAX_RESTARTS exits within the window: the supervisor gives up with status 1.

    Run in a fresh interpreter: forking the test process, whose other threads (pytest-xdist's
    channel, servers of other tests) may hold locks, could leave a child stuck on one."""
    script = """
import logging, os, sys
from spfkit.policy.workers import supervise
read, write = os.pipe()
def worker(slot):
    os.write(write, b"%d" % slot)
    return 3
status = supervise(1, worker, logging.getLogger("test-workers"))
os.close(write)
starts = b""
while chunk := os.read(read, 100):
    starts += chunk
print(status, starts.decode())
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "0" * MAX_RESTARTS], done
