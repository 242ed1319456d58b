"""spfkit policyd vs Debian's policyd-spf: the same policy requests, the same DNS server, one run.

    python benchmarks/bench_policyd.py            # the full run (about 3 minutes on 2 cores)
    python benchmarks/bench_policyd.py --quick    # a smoke run (about 1 minute)

Needs root only for BIND's private instance (tests/fixtures/recipes/start-named.sh; without
``named`` the 0 ms server is the test fixture in a child process) and Debian's peer:
``apt-get install -y postfix-policyd-spf-python python3-dnspython`` (see README-policyd.md).

Workload: Postfix RCPT-time policy requests built from ``world.build_world()`` (client
address, HELO name, MAIL FROM of realistic senders: provider include chains, ``mx a``,
``exists``, redirects, no record, broken records, null senders). Both servers check HELO and
then MAIL FROM with the same settings (``policyd_peers.py``) and are driven through their
real interfaces by ``policyd_load.py``: spfkit's TCP server (``--listen``), and policyd-spf on
stdin/stdout with one process per connection, as Postfix's spawn(8) runs it.

For each DNS server — BIND 9 at 0 ms added, and ``tests/fixtures/dnsserver.py`` adding 20 ms
to every answer — and for 1 and 50 concurrent connections: a fresh server (fresh processes),
every connection proved ready first, then the workload once (**cold**: nothing cached when
it starts) and again (**warm**: spfkit's shared cache holds every answer; policyd-spf keeps
nothing between requests, so its warm pass is a second cold one). Requests/s, p50 and p99
latency, server CPU per request and, at 20 ms, DNS queries per request. Then the **spawn
start-up**: median of 20 runs from process start to the answer of one request from a pipe.

Writes ``benchmarks/results/policyd-latest.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "src"), str(HERE.parent)]

from policyd_load import (
    PipeConnection,
    TcpConnection,
    open_connections,
    ping_request,
    render_request,
    run_load,
    startup_time,
)
from policyd_peers import (
    DEBIAN_PYTHON,
    DNS_TIMEOUT,
    SpfkitServer,
    policyd_spf_argv,
    policyd_spf_available,
    policyd_spf_version,
    spfkit_config,
    spfkit_env,
    spfkit_policyd_argv,
    spfkit_spawn_argv,
)
from servers import BindServer, FixtureServer, bind_available
from world import Check, World, build_world, to_bind_zone

RESULTS = HERE / "results" / "policyd-latest.json"
DELAY = 0.020
TICKS = os.sysconf("SC_CLK_TCK")

# requests per pass: (dns ms, connections) -> count; the same requests for both servers
FULL = {(0, 1): 2000, (0, 50): 2000, (20, 1): 150, (20, 50): 1000}
QUICK = {(0, 1): 300, (0, 10): 300, (20, 1): 30, (20, 10): 100}
STARTUP_RUNS = 20

# issue #4: what policyd-spf did on a 2-core CI machine, and the aims
ISSUE_POLICYD_SPF = {"rps_0ms_1proc": 320, "rps_0ms_best_4proc": 530, "rps_20ms": 8.6,
                     "p50_20ms_ms": 106, "p99_20ms_ms": 391, "startup_ms": 400}


# ---------------------------------------------------------------------------------- helpers


def proc_cpu(pids: Sequence[int]) -> float:
    """CPU seconds (user + system) used so far by these processes."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))

    return "\n".join([title, line(cells[0]), "  ".join("-" * w for w in widths), *(line(r) for r in cells[1:])])


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


# ---------------------------------------------------------------------------------- cells


class Dns:
    """The DNS server of one part: its port, name, and (fixture only) a query counter."""

    def __init__(self, ms: int, port: int, name: str, counter: FixtureServer | None) -> None:
        self.ms, self.port, self.name, self.counter = ms, port, name, counter

    def count(self) -> int | None:
        return self.counter.count() if self.counter is not None else None

    def reset(self) -> None:
        if self.counter is not None:
            self.counter.reset()


#: spfkit's passes: a domain's first check is evaluated, its second compiles the domain's map
#: (src/spfkit/compile/dispatch.py), so "warm" — every answer from a compiled map or the cache —
#: is the third pass; policyd-spf keeps nothing, so two passes say all about it
SPFKIT_PHASES = ("cold", "second", "warm")
PEER_PHASES = ("cold", "warm")
#: with ``--workers 2`` each worker gets about half of every pass (the kernel spreads the
#: connections), so a domain's second check *by that worker* comes later: two more passes
#: before "warm", so that it measures the steady state, as on a server running for a while
WORKERS_PHASES = ("cold", "second", "third", "fourth", "warm")


async def _passes(conns: list[Any], pids: Callable[[], list[int]], checks: Sequence[Check],
                  dns: Dns, phases: Sequence[str] = PEER_PHASES) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in phases:
        requests = [render_request(c, i, name) for i, c in enumerate(checks)]  # new messages each pass
        dns.reset()
        cpu0 = proc_cpu(pids())
        stats = await run_load(conns, requests)
        cpu = proc_cpu(pids()) - cpu0
        queries = dns.count()
        row = stats.summary()
        row["server_cpu_ms_per_request"] = round(cpu / stats.requests * 1000, 3)
        row["dns_queries_per_request"] = round(queries / stats.requests, 2) if queries is not None else None
        row["_answers"] = stats.answers
        out[name] = row
    return out


async def spfkit_cell(cfg: Path, dns: Dns, conc: int, checks: Sequence[Check], tmp: Path,
                      workers: int = 1, unix: bool = False) -> dict[str, Any]:
    """spfkit policyd as a server: on TCP, or (``unix``) on a UNIX socket, as Postfix's
    ``check_policy_service unix:...`` reaches it."""
    path = tmp / "spfkit-policyd.sock"
    with SpfkitServer(cfg, dns.port, tmp / "spfkit-stderr.log", workers,
                      log=tmp / "spfkit-policyd.log", unix=path if unix else None) as server:
        assert server.proc is not None
        conns = await open_connections((lambda: TcpConnection.open_unix(str(path))) if unix
                                       else (lambda: TcpConnection.open("127.0.0.1", server.port)), conc)
        try:
            return await _passes(conns, server.pids, checks, dns,
                                 SPFKIT_PHASES if workers == 1 else WORKERS_PHASES)
        finally:
            await asyncio.gather(*(c.close() for c in conns))


async def spawned_cell(argv: Sequence[str], env: dict[str, str] | None, dns: Dns, conc: int,
                       checks: Sequence[Check], phases: Sequence[str] = PEER_PHASES) -> dict[str, Any]:
    """One process per connection on stdin/stdout, as Postfix's spawn(8) runs it."""
    t0 = time.perf_counter()
    conns = await open_connections(lambda: PipeConnection.spawn(argv, env), conc)
    started = time.perf_counter() - t0
    try:
        out = await _passes(conns, lambda: [c.proc.pid for c in conns], checks, dns, phases)
        out["spawn_all_s"] = round(started, 2)
        return out
    finally:
        await asyncio.gather(*(c.close() for c in conns))


async def measure_modes(dns: Dns, cfg: Path, checks: Sequence[Check], n: int, tmp: Path,
                        concs: Sequence[int]) -> list[dict[str, Any]]:
    """``--workers 2`` against one worker, one process on a UNIX socket, and spfkit in spawn
    mode, at ``dns``."""
    rows = []
    for conc in concs:
        print(f"  {dns.ms} ms, {conc} connection(s), {n} requests: spfkit on a UNIX socket ...", flush=True)
        unix = await spfkit_cell(cfg, dns, conc, checks[:n], tmp, unix=True)
        print(f"  {dns.ms} ms, {conc} connection(s), {n} requests: spfkit --workers 2 ...", flush=True)
        two = await spfkit_cell(cfg, dns, conc, checks[:n], tmp, workers=2)
        print(f"  {dns.ms} ms, {conc} connection(s), {n} requests: spfkit spawn mode ...", flush=True)
        spawn = await spawned_cell(spfkit_policyd_argv(cfg, dns.port, tmp),
                                   compiled_env(spfkit_env(), tmp / "pycache"), dns, conc, checks[:n],
                                   SPFKIT_PHASES)
        rows.append({"dns_ms": dns.ms, "connections": conc, "requests": n,
                     "spfkit_unix": {k: {kk: vv for kk, vv in v.items() if kk != "_answers"}
                                     for k, v in unix.items()},
                     "spfkit_workers_2": {k: {kk: vv for kk, vv in v.items() if kk != "_answers"}
                                          for k, v in two.items()},
                     "spfkit_spawn": {k: ({kk: vv for kk, vv in v.items() if kk != "_answers"}
                                          if isinstance(v, dict) else v) for k, v in spawn.items()}})
    return rows


async def policyd_spf_cell(dns: Dns, conc: int, checks: Sequence[Check], tmp: Path) -> dict[str, Any]:
    return await spawned_cell(policyd_spf_argv(dns.port, tmp / "policyd-spf.log"), None, dns, conc, checks)


def agreement(a: Sequence[str], b: Sequence[str]) -> dict[str, Any]:
    same = sum(x == y for x, y in zip(a, b))
    diff = collections.Counter(f"{x} / {y}" for x, y in zip(a, b) if x != y)
    return {"same": same, "of": len(a), "differences (spfkit / policyd-spf)": dict(diff.most_common(8))}


async def measure_part(dns: Dns, cfg: Path, checks: Sequence[Check], sizes: dict[tuple[int, int], int],
                       tmp: Path, with_peer: bool, extra_peer_conc: Sequence[int] = ()) -> list[dict[str, Any]]:
    rows = []
    for conc in sorted({c for ms, c in sizes if ms == dns.ms}):
        n = sizes[(dns.ms, conc)]
        subset = checks[:n]
        print(f"  {dns.ms} ms, {conc} connection(s), {n} requests: spfkit ...", flush=True)
        mine = await spfkit_cell(cfg, dns, conc, subset, tmp)
        peer = None
        if with_peer:
            print(f"  {dns.ms} ms, {conc} connection(s), {n} requests: policyd-spf ...", flush=True)
            peer = await policyd_spf_cell(dns, conc, subset, tmp)
        rows.append(_row(dns, conc, n, mine, peer))
    for conc in extra_peer_conc if with_peer else ():
        n = sizes[(dns.ms, 1)]
        print(f"  {dns.ms} ms, {conc} connections, {n} requests: policyd-spf only ...", flush=True)
        peer = await policyd_spf_cell(dns, conc, checks[:n], tmp)
        rows.append(_row(dns, conc, n, None, peer))
    return rows


def _row(dns: Dns, conc: int, n: int, mine: dict[str, Any] | None, peer: dict[str, Any] | None) -> dict[str, Any]:
    row: dict[str, Any] = {"dns_ms": dns.ms, "dns_server": dns.name, "connections": conc, "requests": n}
    if mine is not None:
        row["spfkit"] = {k: {kk: vv for kk, vv in v.items() if kk != "_answers"} for k, v in mine.items()}
    if peer is not None:
        row["policyd_spf"] = {k: ({kk: vv for kk, vv in v.items() if kk != "_answers"} if isinstance(v, dict) else v)
                              for k, v in peer.items()}
    if mine is not None and peer is not None:
        row["agreement_cold"] = agreement(mine["cold"]["_answers"], peer["cold"]["_answers"])
        row["spfkit_answers"] = dict(collections.Counter(mine["cold"]["_answers"]).most_common())
    return row


# ---------------------------------------------------------------------------------- start-up


async def measure_startup(argv: Sequence[str], request: bytes, runs: int, env: dict[str, str] | None = None
                          ) -> dict[str, Any]:
    times, cpu, answer = [], [], b""
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        elapsed, answer = await startup_time(argv, request, env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(elapsed * 1000)  # the process's own CPU: what load on the machine moves least
        cpu.append((after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000)
    times.sort()
    return {"median_ms": round(statistics.median(times), 1), "min_ms": round(times[0], 1),
            "max_ms": round(times[-1], 1), "cpu_median_ms": round(statistics.median(cpu), 1),
            "runs": runs, "argv": " ".join(argv),
            "answer": answer.decode("utf-8", "replace").strip()[:200]}


def compiled_env(env: dict[str, str], pycache: Path) -> dict[str, str]:
    """``env`` with byte-compiled modules kept (in ``pycache``), as an installed wheel has
    them: a PYTHONDONTWRITEBYTECODE shell would otherwise time compiling every module."""
    env = {key: value for key, value in env.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def spawn_tree_argv(tmp: Path, cfg: Path, dns_port: int) -> list[str] | None:
    """spfkit as the e2e tests run it under spawn(8): Debian's python3 -I -S and a copy of
    spfkit and its dependencies (tests/e2e/spawn_tree.py); None if that cannot be built here."""
    try:
        from tests.e2e.spawn_tree import SpawnTree

        tree = SpawnTree(tmp / "spawn-tree").build()
    except Exception as exc:  # noqa: BLE001 - optional row; say why it is missing
        print(f"  (no spawn-tree row: {str(exc).splitlines()[0][:160]})")
        return None
    return tree.argv("--config", str(cfg), "--nameserver", f"127.0.0.1:{dns_port}", "--timeout", "2")


# ---------------------------------------------------------------------------------- report


def print_report(report: dict[str, Any]) -> None:
    rows = []
    for r in report["throughput"]:
        for phase in SPFKIT_PHASES:
            k = r.get("spfkit", {}).get(phase)
            p = r.get("policyd_spf", {}).get(phase)
            rows.append([
                f"{r['dns_ms']} ms", r["connections"], phase, r["requests"],
                k and k["rps"], k and k["p50_ms"], k and k["p99_ms"], k and k["server_cpu_ms_per_request"],
                k and k["dns_queries_per_request"],
                p and p["rps"], p and p["p50_ms"], p and p["p99_ms"], p and p["server_cpu_ms_per_request"],
                p and p["dns_queries_per_request"],
                ratio(k and k["rps"], p and p["rps"]),
            ])
    print()
    print(table("Throughput and latency (requests/s; latency ms; server CPU ms/request; DNS queries/request)",
                ["DNS", "conns", "cache", "n", "spfkit r/s", "p50", "p99", "cpu", "q/req",
                 "policyd-spf r/s", "p50", "p99", "cpu", "q/req", "× r/s"], rows))
    for r in report["throughput"]:
        if "agreement_cold" in r:
            a = r["agreement_cold"]
            print(f"  agreement {r['dns_ms']} ms/{r['connections']} conns: {a['same']}/{a['of']} same answer"
                  + (f"; differences: {a['differences (spfkit / policyd-spf)']}" if a["same"] != a["of"] else ""))
    one = {(r["dns_ms"], r["connections"]): r.get("spfkit", {}) for r in report["throughput"]}
    peer = {(r["dns_ms"], r["connections"]): r.get("policyd_spf", {}) for r in report["throughput"]}
    mrows = []
    for r in report.get("modes", []):
        key = (r["dns_ms"], r["connections"])
        for phase in SPFKIT_PHASES:
            base, two, spawn = one.get(key, {}).get(phase), r["spfkit_workers_2"][phase], r["spfkit_spawn"][phase]
            unix = r.get("spfkit_unix", {}).get(phase)
            p = peer.get(key, {}).get(phase)
            mrows.append([f"{r['dns_ms']} ms", r["connections"], phase, r["requests"],
                          base and base["rps"], unix and unix["rps"], unix and unix["p99_ms"],
                          unix and unix["server_cpu_ms_per_request"],
                          two["rps"], ratio(two["rps"], base and base["rps"]),
                          two["p99_ms"], spawn["rps"], spawn["p99_ms"], spawn["server_cpu_ms_per_request"],
                          ratio(spawn["rps"], p and p["rps"])])
    if mrows:
        print()
        print(table("Modes: one process on TCP / on a UNIX socket; --workers 2 (TCP); spawn mode "
                    "(one spfkit process per connection)",
                    ["DNS", "conns", "cache", "n", "TCP r/s", "UNIX r/s", "p99", "cpu",
                     "2 workers r/s", "× 1 worker", "p99",
                     "spawn r/s", "p99", "cpu", "× policyd-spf"], mrows))
    srows = [[name, s["median_ms"], s["min_ms"], s["max_ms"], s.get("cpu_median_ms"), s["runs"]]
             for name, s in report["startup"].items()]
    print()
    print(table("Spawn-mode start-up: process start → answer to one request from a pipe (ms); "
                "the process's CPU ms",
                ["implementation", "median", "min", "max", "CPU median", "runs"], srows))
    print()
    for line in report["aims"]:
        print(line)


def aims(report: dict[str, Any]) -> list[str]:
    cells = {(r["dns_ms"], r["connections"]): r for r in report["throughput"]}
    out = []

    def get(ms: int, conc: int, impl: str, phase: str, key: str) -> float | None:
        r = cells.get((ms, conc), {}).get(impl, {})
        return r.get(phase, {}).get(key) if isinstance(r, dict) else None

    concs = sorted({conc for _, conc in cells})
    base = get(0, 1, "policyd_spf", "cold", "rps")
    base_src = "measured" if base else "issue's figure"
    base = base or ISSUE_POLICYD_SPF["rps_0ms_1proc"]
    for conc in concs:
        rps, p99 = get(0, conc, "spfkit", "warm", "rps"), get(0, conc, "spfkit", "warm", "p99_ms")
        if rps is None:
            continue
        ok = rps >= 20 * base and p99 is not None and p99 < 5
        out.append(f"aim 1 (0 ms, warm, {conc} conn): {rps:,.0f} r/s = {rps / base:.1f}× policyd-spf's one-process "
                   f"{base:,.0f} r/s ({base_src}; aim ≥ 20×), p99 {p99:.2f} ms (aim < 5 ms): "
                   f"{'MET' if ok else 'NOT MET'}")
    for conc in concs:
        p50 = get(20, conc, "spfkit", "warm", "p50_ms")
        cold = get(20, conc, "spfkit", "cold", "p50_ms")
        if p50 is None:
            continue
        out.append(f"aim 2 (20 ms per answer, {conc} conn): warm shared cache p50 {p50:.2f} ms (aim ≤ 25 ms): "
                   f"{'MET' if p50 <= 25 else 'NOT MET'}; cold p50 {cold:.1f} ms")
    for r in report.get("modes", []):  # issue 12: --workers 2 ≥ 1.7× one worker; spawn ≥ 5×
        if r["dns_ms"] != 0:
            continue
        conc = r["connections"]
        unix = r.get("spfkit_unix", {}).get("warm")
        if unix:
            ok = unix["rps"] >= 20 * base and unix["p99_ms"] < 5
            out.append(f"aim 1 (0 ms, warm, {conc} conn, UNIX socket): {unix['rps']:,.0f} r/s = "
                       f"{unix['rps'] / base:.1f}× policyd-spf's one-process {base:,.0f} r/s, p99 "
                       f"{unix['p99_ms']:.2f} ms: {'MET' if ok else 'NOT MET'}")
        one, two = get(0, conc, "spfkit", "warm", "rps"), r["spfkit_workers_2"]["warm"]["rps"]
        spawn = r["spfkit_spawn"]["warm"]["rps"]
        if one:
            out.append(f"aim 4 (0 ms, warm, {conc} conn, --workers 2): {two:,.0f} r/s = {two / one:.2f}× one "
                       f"worker (aim ≥ 1.7×): {'MET' if two >= 1.7 * one else 'NOT MET'}")
        peer = get(0, conc, "policyd_spf", "warm", "rps")  # spawned too: a process per connection
        if peer:
            out.append(f"aim 5 (0 ms, warm, {conc} conn, spawn mode): {spawn:,.0f} r/s = {spawn / peer:.1f}× "
                       f"policyd-spf's {peer:,.0f} r/s at {conc} conn (aim ≥ 5×): "
                       f"{'MET' if spawn >= 5 * peer else 'NOT MET'}")
    for name, s in report["startup"].items():
        if name.startswith("spfkit"):
            out.append(f"aim 3 (spawn start-up, {name}): median {s['median_ms']:.0f} ms, CPU "
                       f"{s.get('cpu_median_ms', 0):.0f} ms (aim ≤ 80 ms): "
                       f"{'MET' if s['median_ms'] <= 80 else 'NOT MET'}")
    return out


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    rev = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True, check=False).stdout.strip()
    named = subprocess.run(["named", "-v"], capture_output=True, text=True, check=False).stdout.strip() \
        if bind_available() else None
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "debian_python": subprocess.run([DEBIAN_PYTHON, "-V"], capture_output=True, text=True,
                                            check=False).stdout.strip() if Path(DEBIAN_PYTHON).exists() else None,
            "kernel": platform.release(), "spfkit_git": rev, "bind": named,
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "date": time.strftime("%Y-%m-%d %H:%M:%S %z")}


# ---------------------------------------------------------------------------------- main


async def run(args: argparse.Namespace) -> dict[str, Any]:
    sizes = QUICK if args.quick else FULL
    world: World = build_world(args.domains, max(sizes.values()))
    checks = world.checks
    peer = policyd_spf_available() and not args.no_peer
    if not peer and not args.no_peer:
        print("policyd-spf is not installed: apt-get install -y postfix-policyd-spf-python python3-dnspython",
              file=sys.stderr)
        raise SystemExit(2)
    report: dict[str, Any] = {
        "machine": machine(), "quick": args.quick, "world": {"domains": args.domains, "checks": len(checks)},
        "policyd_spf": policyd_spf_version() if peer else None, "issue_policyd_spf": ISSUE_POLICYD_SPF,
        "throughput": [], "startup": {},
    }
    with tempfile.TemporaryDirectory(prefix="spfkit-bench-policyd-") as tmpname:
        tmp = Path(tmpname)
        os.chmod(tmp, 0o755)
        cfg = spfkit_config(tmp / "spfkit-policyd.toml", tmp / "spfkit-policyd.log")
        zero = BindServer(to_bind_zone(world.zonedata)) if bind_available() else FixtureServer(world.zonedata)
        with zero as srv0:
            dns0 = Dns(0, srv0.port, srv0.name, None)
            print(f"DNS 0 ms: {srv0.name} on 127.0.0.1:{srv0.port}", flush=True)
            if not args.startup_only:
                report["throughput"] += await measure_part(dns0, cfg, checks, sizes, tmp, peer,
                                                           extra_peer_conc=() if args.quick else (4,))
                concs = sorted({c for ms, c in sizes if ms == 0})
                report["modes"] = await measure_modes(dns0, cfg, checks, sizes[(0, 1)], tmp, concs)
            print(f"  spawn start-up, {args.startup_runs} runs each ...", flush=True)
            first = render_request(next(c for c in checks if c.mail_from), 0, "startup")
            for src in args.baseline_src:  # another revision's tree first, then this one
                report["startup"][f"spfkit policyd (console script, {src})"] = await measure_startup(
                    spfkit_spawn_argv(cfg, srv0.port), first, args.startup_runs,
                    compiled_env(spfkit_env(src), tmp / "pycache-baseline"))
            report["startup"]["spfkit policyd (console script)"] = await measure_startup(
                spfkit_spawn_argv(cfg, srv0.port), first, args.startup_runs,
                compiled_env(spfkit_env(), tmp / "pycache"))
            report["startup"]["spfkit-policyd (console script, no click)"] = await measure_startup(
                spfkit_policyd_argv(cfg, srv0.port, tmp), first, args.startup_runs,
                compiled_env(spfkit_env(), tmp / "pycache"))
            for prefix in args.installed:  # as scripts/install.sh installs it (Debian's python3)
                tail = ["--config", str(cfg), "--nameserver", f"127.0.0.1:{srv0.port}", "--timeout", DNS_TIMEOUT]
                report["startup"][f"spfkit-policyd (installed in {prefix})"] = await measure_startup(
                    [str(prefix / "bin" / "spfkit-policyd"), *tail], first, args.startup_runs)
                report["startup"][f"spfkit policyd (installed in {prefix})"] = await measure_startup(
                    [str(prefix / "bin" / "spfkit"), "policyd", *tail], first, args.startup_runs)
            tree = spawn_tree_argv(tmp, cfg, srv0.port)
            if tree:
                report["startup"]["spfkit policyd (e2e spawn tree, python3 -I -S)"] = await measure_startup(
                    tree, first, args.startup_runs)
            if peer:
                report["startup"]["policyd-spf"] = await measure_startup(
                    policyd_spf_argv(srv0.port, tmp / "policyd-spf.log"), first, args.startup_runs)
                if not args.quick:
                    report["startup"]["policyd-spf (ping, no DNS)"] = await measure_startup(
                        policyd_spf_argv(srv0.port, tmp / "policyd-spf.log"), ping_request(0), args.startup_runs)
            if not args.quick:
                report["startup"]["spfkit policyd (console script, ping, no DNS)"] = await measure_startup(
                    spfkit_spawn_argv(cfg, srv0.port), ping_request(0), args.startup_runs,
                    compiled_env(spfkit_env(), tmp / "pycache"))
                report["startup"]["spfkit-policyd (ping, no DNS)"] = await measure_startup(
                    spfkit_policyd_argv(cfg, srv0.port, tmp), ping_request(0), args.startup_runs,
                    compiled_env(spfkit_env(), tmp / "pycache"))
        if args.startup_only:
            report["aims"] = []
            return report
        with FixtureServer(world.zonedata, delay=DELAY) as srv20:
            dns20 = Dns(20, srv20.port, f"{srv20.name}, {DELAY * 1000:.0f} ms per answer", srv20)
            print(f"DNS 20 ms: {dns20.name} on 127.0.0.1:{srv20.port}", flush=True)
            report["throughput"] += await measure_part(dns20, cfg, checks, sizes, tmp, peer)
    report["aims"] = aims(report)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: fewer requests, 1 and 10 connections, 5 start-ups (about 1 minute)")
    ap.add_argument("--domains", type=int, default=1000, help="sender domains in the world (default 1000)")
    ap.add_argument("--startup-runs", type=int, default=None, help=f"spawn start-up runs (default {STARTUP_RUNS})")
    ap.add_argument("--no-peer", action="store_true", help="spfkit only (no policyd-spf)")
    ap.add_argument("--startup-only", action="store_true", help="only the spawn start-up rows")
    ap.add_argument("--baseline-src", action="append", default=[], metavar="DIR",
                    help="also time the start-up of the spfkit in DIR (another revision's src/), "
                    "in the same run (repeatable)")
    ap.add_argument("--installed", action="append", default=[], type=Path, metavar="PREFIX",
                    help="also time the start-up of PREFIX/bin/spfkit-policyd and PREFIX/bin/spfkit "
                         "(a virtual environment made by scripts/install.sh --prefix PREFIX --no-link)")
    ap.add_argument("--out", type=Path, default=RESULTS, help=f"JSON output (default {RESULTS.relative_to(HERE.parent)})")
    args = ap.parse_args(argv)
    if args.startup_runs is None:
        args.startup_runs = 5 if args.quick else STARTUP_RUNS
    t0 = time.monotonic()
    report = asyncio.run(run(args))
    report["elapsed_s"] = round(time.monotonic() - t0, 1)
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print_report(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nload average at start {report['machine']['load_average_at_start']}, at end "
          f"{report['machine']['load_average_at_end']} ({os.cpu_count()} cores)")
    print(f"wrote {args.out} ({report['elapsed_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
