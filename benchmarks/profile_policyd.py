"""Where a warm policyd request spends its CPU: bench_policyd.py's warm workload, profiled.

    python benchmarks/profile_policyd.py              # µs/request, then the cProfile tables
    python benchmarks/profile_policyd.py --no-profile # µs/request only (3 passes, best)

The real server loop (``PolicyServer`` on TCP, ``PolicyService``, the benchmark's
configuration with its log file and the queued log sink) runs in a thread of its own with its
own event loop; one blocking client connection in the main thread sends the workload's
requests one at a time. A cold pass fills the shared DNS cache (DNS answered from memory),
a second pass compiles each domain's map (a domain's second check does: its CPU is printed
apart); then the warm passes are measured with the *server thread's* CPU time (``time.thread_time``),
so the client's work is not counted, and profiled with cProfile enabled in that thread only.
"CPU in check_host" is the cumulative time of ``spfkit.evaluate.check_host.check_host``; the
rest is the per-request overhead (codec, decision, headers, log line, asyncio plumbing).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "src")]

import adapters
from policyd_load import render_request
from policyd_peers import spfkit_config
from world import build_world

from spfkit.lookup import CachingResolver, MemoryResolver
from spfkit.policy.config import load_config
from spfkit.policy.logs import configure_logging, stop_logging
from spfkit.policy.server import PolicyServer
from spfkit.policy.service import PolicyService


class ServerThread:
    """A PolicyServer in its own thread and loop; ``call(fn)`` runs fn in that thread."""

    def __init__(self, service: PolicyService) -> None:
        self.service = service
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.server = PolicyServer(self.service)
        await self.server.start()
        self.port = self.server.address.port
        self.ready.set()
        await self.server._stopping.wait()  # noqa: SLF001 - stop() from call()
        await self.server._shutdown()  # noqa: SLF001

    def start(self) -> ServerThread:
        self.thread.start()
        self.ready.wait(30)
        return self

    def call(self, fn: Any) -> Any:
        done = threading.Event()
        box: list[Any] = []

        def run() -> None:
            box.append(fn())
            done.set()

        self.loop.call_soon_threadsafe(run)
        done.wait(30)
        return box[0]

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.server.stop)
        self.thread.join(30)


def drive(port: int, requests: Sequence[bytes]) -> list[bytes]:
    answers = []
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for request in requests:
            conn.sendall(request)
            reply = b""
            while not reply.endswith(b"\n\n"):
                reply += conn.recv(65536)
            answers.append(reply)
    return answers


def _pass(server: ServerThread, checks: Sequence[Any], tag: str) -> float:
    """The server thread's CPU seconds for one pass over the workload (new messages)."""
    requests = [render_request(c, i, tag) for i, c in enumerate(checks)]
    t0 = server.call(time.thread_time)
    drive(server.port, requests)
    return float(server.call(time.thread_time) - t0)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--top", type=int, default=30)
    args = ap.parse_args(argv)
    world = build_world(1000, args.requests)
    checks = world.checks[:args.requests]
    with tempfile.TemporaryDirectory(prefix="spfkit-profile-policyd-") as tmp:
        cfg_path = spfkit_config(Path(tmp) / "policyd.toml", Path(tmp) / "policyd.log")
        config = load_config(str(cfg_path), {"listen": "127.0.0.1:0"})
        configure_logging(config, stdio=False, queued=True)
        resolver = CachingResolver(MemoryResolver(adapters.memory_zone(world.zonedata)))
        server = ServerThread(PolicyService(config, resolver)).start()
        try:
            drive(server.port, [render_request(c, i, "cold") for i, c in enumerate(checks)])
            second = _pass(server, checks, "second")  # a domain's second check compiles it
            print(f"second pass (the maps compiled), one connection: server thread CPU "
                  f"{second / len(checks) * 1e6:.1f} µs/request")
            best = min(_pass(server, checks, f"warm{n}") for n in range(args.passes))
            print(f"warm, one connection, {len(checks)} requests: server thread CPU "
                  f"{best / len(checks) * 1e6:.1f} µs/request (best of {args.passes} passes)")
            if not args.no_profile:
                prof = cProfile.Profile(time.thread_time)  # CPU of the server thread only
                requests = [render_request(c, i, "prof") for i, c in enumerate(checks)]
                server.call(prof.enable)
                drive(server.port, requests)
                server.call(prof.disable)
                stats = pstats.Stats(prof, stream=(buf := io.StringIO()))
                total = stats.total_tt  # type: ignore[attr-defined]
                inner = next((v[3] for k, v in stats.stats.items()  # type: ignore[attr-defined]
                              if k[2] == "check_host" and k[0].endswith("evaluate/check_host.py")), 0.0)
                print(f"profiled: {total / len(checks) * 1e6:.1f} µs/request, of which check_host "
                      f"{inner / len(checks) * 1e6:.1f} µs ({inner / total:.0%}); outside it "
                      f"{(total - inner) / len(checks) * 1e6:.1f} µs (CPU time, with cProfile's overhead)")
                stats.sort_stats("tottime").print_stats(args.top)
                stats.sort_stats("cumulative").print_stats(args.top)
                print(buf.getvalue())
        finally:
            server.stop()
            stop_logging()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
