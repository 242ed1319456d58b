"""A load generator for Postfix policy servers (SMTP access policy delegation), both transports.

Postfix's smtpd asks one question at a time on each policy connection and waits for the
answer; concurrency comes from several smtpd processes, each with its own connection. This
module does the same: ``N`` connections, each sending the next request of a shared workload as
soon as its previous answer is in, and timing every request from the first byte written to
the blank line that ends the answer.

Two transports, the ones the two servers speak:

* :class:`TcpConnection` — ``check_policy_service inet:HOST:PORT`` (spfkit's ``--listen``);
* :class:`PipeConnection` — spawn(8): one process per connection, the request on its stdin
  and the answer on its stdout (Debian's policyd-spf only speaks this; so does
  ``spfkit policyd`` without ``--listen``).

Every connection is opened and proved ready (one answered request from a skipped client
address, no DNS) before the clock starts, so start-up is measured separately.
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from world import Check

__all__ = [
    "PING_ADDRESS", "Connection", "PipeConnection", "RunStats", "TcpConnection", "classify",
    "open_connections", "ping_request", "render_request", "run_load", "startup_time",
]

# the one address both servers are told to skip (never 127.0.0.0/8: the default skip lists
# hold it); a request from it is answered without DNS and proves the connection is ready
PING_ADDRESS = "192.0.2.1"
RECIPIENT = "postmaster@example.org"


def render_request(check: Check, serial: int, tag: str = "m", recipient: str = RECIPIENT) -> bytes:
    """One RCPT-time policy request as Postfix 3.7's smtpd writes it (attributes it sends).

    ``instance`` (``tag.serial``) names the message: a server may answer a repeated instance
    from memory (policyd-spf says DUNNO, "header already prepended"), so every pass over the
    workload, and the pings, use their own tag: every request is a new message."""
    attrs = {
        "request": "smtpd_access_policy",
        "protocol_state": "RCPT",
        "protocol_name": "ESMTP",
        "client_address": check.ip,
        "client_name": "unknown",
        "client_port": str(40000 + serial % 20000),
        "reverse_client_name": "unknown",
        "server_address": "127.0.0.1",
        "server_port": "25",
        "helo_name": check.helo,
        "sender": check.mail_from,
        "recipient": recipient,
        "recipient_count": "0",
        "queue_id": "",
        "instance": f"{tag}.{serial:x}.{os.getpid():x}",
        "size": "0",
        "etrn_domain": "",
        "stress": "",
        "sasl_method": "",
        "sasl_username": "",
        "sasl_sender": "",
        "ccert_subject": "",
        "ccert_issuer": "",
        "ccert_fingerprint": "",
        "ccert_pubkey_fingerprint": "",
        "encryption_protocol": "",
        "encryption_cipher": "",
        "encryption_keysize": "0",
        "policy_context": "",
        "compatibility_level": "3.6",
        "mail_version": "3.7.11",
    }
    return "".join(f"{k}={v}\n" for k, v in attrs.items()).encode() + b"\n"


def ping_request(serial: int) -> bytes:
    return render_request(Check(PING_ADDRESS, "ping@ping.invalid", "ping.invalid"), serial, "ping")


_RESULT = re.compile(r"Received-SPF:\s*([A-Za-z]+)|\bspf=([a-z]+)", re.IGNORECASE)


def classify(answer: bytes) -> str:
    """An answer reduced to what both servers can be compared on: ``reject``, ``defer``,
    ``dunno``, or the SPF result of a prepended header (``prepend:pass``)."""
    text = answer.decode("utf-8", "replace").strip()
    action = text.partition("=")[2]
    word = action.split(" ", 1)[0].lower()
    if word[:1] == "5" or word in ("reject", "550"):
        return "reject"
    if word[:1] == "4" or word.startswith("defer"):
        return "defer"
    if word == "prepend":
        m = _RESULT.search(action)
        return f"prepend:{(m.group(1) or m.group(2)).lower()}" if m else "prepend:?"
    return word or "?"


class Connection(Protocol):
    async def ask(self, request: bytes) -> bytes: ...
    async def close(self) -> None: ...


@dataclass
class TcpConnection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    @classmethod
    async def open(cls, host: str, port: int) -> TcpConnection:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        return cls(reader, writer)

    @classmethod
    async def open_unix(cls, path: str) -> TcpConnection:
        """The same client over a UNIX socket (``check_policy_service unix:...``)."""
        reader, writer = await asyncio.open_unix_connection(path, limit=1 << 20)
        return cls(reader, writer)

    async def ask(self, request: bytes) -> bytes:
        self.writer.write(request)
        return await self.reader.readuntil(b"\n\n")

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except OSError:
            pass


@dataclass
class PipeConnection:
    """One spawned policy process, as Postfix's spawn(8) runs it: stdin/stdout, stderr dropped."""

    proc: asyncio.subprocess.Process
    started: float = 0.0

    @classmethod
    async def spawn(cls, argv: Sequence[str], env: dict[str, str] | None = None) -> PipeConnection:
        started = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, env=env, limit=1 << 20,
        )
        return cls(proc, started)

    async def ask(self, request: bytes) -> bytes:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(request)
        answer = await self.proc.stdout.readuntil(b"\n\n")
        return answer

    async def close(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.is_closing():
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


async def open_connections(factory, n: int) -> list[Connection]:
    """``n`` connections, each proved ready by one answered ping (no DNS)."""
    conns = list(await asyncio.gather(*(factory() for _ in range(n))))
    await asyncio.gather(*(c.ask(ping_request(i)) for i, c in enumerate(conns)))
    return conns


@dataclass
class RunStats:
    requests: int
    concurrency: int
    wall: float
    latencies: list[float] = field(repr=False)
    answers: list[str] = field(repr=False)
    client_cpu: float = 0.0
    errors: int = 0

    @property
    def rps(self) -> float:
        return self.requests / self.wall if self.wall else 0.0

    def pct(self, p: float) -> float:
        """Latency percentile in ms (nearest rank)."""
        if not self.latencies:
            return float("nan")
        s = sorted(self.latencies)
        k = max(0, min(len(s) - 1, round(p / 100 * len(s) + 0.5) - 1))
        return s[k] * 1000

    def summary(self) -> dict[str, float | int]:
        return {
            "requests": self.requests, "concurrency": self.concurrency, "wall_s": round(self.wall, 4),
            "rps": round(self.rps, 1), "p50_ms": round(self.pct(50), 3), "p99_ms": round(self.pct(99), 3),
            "mean_ms": round(statistics.fmean(self.latencies) * 1000, 3) if self.latencies else None,
            "max_ms": round(max(self.latencies) * 1000, 3) if self.latencies else None,
            "client_cpu_s": round(self.client_cpu, 3), "errors": self.errors,
        }


async def run_load(conns: Sequence[Connection], requests: Sequence[bytes]) -> RunStats:
    """Send every request once over ``conns`` (each connection one request at a time)."""
    latencies = [0.0] * len(requests)
    answers = [""] * len(requests)
    next_index = iter(range(len(requests)))
    errors = 0

    async def worker(conn: Connection) -> None:
        nonlocal errors
        for i in next_index:
            t0 = time.perf_counter()
            try:
                answer = await conn.ask(requests[i])
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                errors += 1
                answers[i] = f"error:{type(exc).__name__}"
                return
            latencies[i] = time.perf_counter() - t0
            answers[i] = classify(answer)

    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    done = [lat for lat, a in zip(latencies, answers) if a and not a.startswith("error:")]
    return RunStats(len(requests), len(conns), wall, done, answers, cpu, errors)


async def startup_time(argv: Sequence[str], request: bytes, env: dict[str, str] | None = None) -> tuple[float, bytes]:
    """Seconds from spawning ``argv`` to the end of its answer to ``request`` (written at once
    into the pipe, as smtpd does right after connecting), and the answer."""
    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(request)
    try:
        answer = await asyncio.wait_for(proc.stdout.readuntil(b"\n\n"), 30)
    except asyncio.IncompleteReadError as exc:
        answer = exc.partial or b"(no answer)"
    elapsed = time.perf_counter() - t0
    proc.stdin.close()
    try:
        await asyncio.wait_for(proc.wait(), 10)
    except TimeoutError:
        proc.kill()
        await proc.wait()
    return elapsed, answer
