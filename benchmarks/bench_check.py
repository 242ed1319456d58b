"""spfkit vs pyspf on the same synthetic world, in the same run: CPU, loopback DNS, latency.

    python benchmarks/bench_check.py            # the full run (~3–4 minutes on 2 cores)
    python benchmarks/bench_check.py --quick    # a small smoke run (~20 s)
    python benchmarks/bench_check.py --profile  # also cProfile spfkit on the memory workload

1. **CPU, DNS from memory** — both answered from an in-process dict: spfkit through
   ``MemoryResolver`` (bare, and behind a shared ``CachingResolver``), pyspf through a
   replacement ``spf.DNSLookup``. Best of N passes over every check; results compared.
2. **Cold checks, loopback DNS** — a real server on 127.0.0.1 (BIND if installed, else the
   test fixture in a child process); spfkit with a fresh ``CachingResolver(DnsResolver)`` per
   check, pyspf through dnspython's default resolver (no cache). CPU per check and per query.
3. **Latency at 20 ms per answer** — the fixture server delaying every answer by 20 ms; each
   check alone, one after the other; compared with the dependency-depth limit of each check
   (``world.DepthAnalyser``).

Writes ``benchmarks/results/latest.json``. See ``benchmarks/README.md`` for what the numbers mean.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import io
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# measure the spfkit of this working tree, whatever else is installed
sys.path[:0] = [str(HERE), str(HERE.parent / "src")]

import adapters
import dns.version
import spf
import warm
from adapters import PyspfCounter, pyspf_check, spfkit_check
from servers import BindServer, FixtureServer, bind_available
from world import Analysis, Check, DepthAnalyser, World, build_world, to_bind_zone

import spfkit
from spfkit.evaluate import CheckOptions

PREFETCH = CheckOptions(prefetch=True)
SEQUENTIAL = CheckOptions(prefetch=False)
DELAY = 0.020  # seconds added to every answer in part 3


# ---------------------------------------------------------------------------------- helpers


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
    out = [title, line(cells[0]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


async def _spfkit_run(checks: Sequence[Check], resolver_for: Callable[[], Any], options: CheckOptions,
                      ) -> tuple[list[str], float, float, list[float]]:
    """Every check, one at a time: results, CPU seconds, wall seconds, per-check latencies."""
    results, latencies = [], []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for c in checks:
        t0 = time.perf_counter()
        results.append(await spfkit_check(c, resolver_for(), options))
        latencies.append(time.perf_counter() - t0)
    return results, time.process_time() - cpu0, time.perf_counter() - wall0, latencies


def spfkit_run(checks: Sequence[Check], resolver_for: Callable[[], Any], options: CheckOptions,
               ) -> tuple[list[str], float, float, list[float]]:
    return asyncio.run(_spfkit_run(checks, resolver_for, options))


def spfkit_concurrent(checks: Sequence[Check], resolver_for: Callable[[], Any], options: CheckOptions,
                      width: int) -> tuple[list[str], float, float]:
    """``width`` checks in flight at once (a policy server under load)."""

    async def main() -> tuple[list[str], float, float]:
        sem = asyncio.Semaphore(width)

        async def one(c: Check) -> str:
            async with sem:
                return await spfkit_check(c, resolver_for(), options)

        cpu0, wall0 = time.process_time(), time.perf_counter()
        results = await asyncio.gather(*(one(c) for c in checks))
        return list(results), time.process_time() - cpu0, time.perf_counter() - wall0

    return asyncio.run(main())


def pyspf_run(checks: Sequence[Check]) -> tuple[list[str], float, float, list[float]]:
    results, latencies = [], []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for c in checks:
        t0 = time.perf_counter()
        results.append(pyspf_check(c))
        latencies.append(time.perf_counter() - t0)
    return results, time.process_time() - cpu0, time.perf_counter() - wall0, latencies


# ---------------------------------------------------------------------------------- part 1


def measure_memory(world: World, repeats: int) -> dict[str, Any]:
    checks = world.checks
    zone = adapters.memory_zone(world.zonedata)
    mem = adapters.MemoryResolver(zone)
    variants: dict[str, tuple[Callable[[], Any], CheckOptions]] = {
        "spfkit MemoryResolver, prefetch=True (default)": (lambda: mem, PREFETCH),
        "spfkit MemoryResolver, prefetch=False": (lambda: mem, SEQUENTIAL),
    }
    variants["spfkit fresh CachingResolver(MemoryResolver) per check, prefetch=True"] = (
        lambda: adapters.CachingResolver(mem), PREFETCH)
    cached = adapters.CachingResolver(mem)
    variants["spfkit CachingResolver(MemoryResolver), warm, prefetch=True"] = (lambda: cached, PREFETCH)
    rows: dict[str, dict[str, Any]] = {}
    results: dict[str, list[str]] = {}
    for name, (resolver_for, options) in variants.items():
        spfkit_run(checks[:200], resolver_for, options)  # warm-up (imports, caches, the cache)
        best = None
        for _ in range(repeats):
            mem.queries.clear()
            res, cpu, wall, _ = spfkit_run(checks, resolver_for, options)
            queries = len(mem.queries)
            if best is None or cpu < best[1]:
                best = (res, cpu, wall, queries)
        assert best is not None
        results[name] = best[0]
        rows[name] = _row(len(checks), best[1], best[2], best[3])
    counter = PyspfCounter()
    adapters.use_pyspf_memory(adapters.pyspf_table(world.zonedata), counter)
    pyspf_run(checks[:200])
    best = None
    for _ in range(repeats):
        counter.queries = 0
        res, cpu, wall, _ = pyspf_run(checks)
        if best is None or cpu < best[1]:
            best = (res, cpu, wall, counter.queries)
    assert best is not None
    rows["pyspf, spf.DNSLookup from a dict"] = _row(len(checks), best[1], best[2], best[3])
    results["pyspf"] = best[0]
    return {"rows": rows, "results": results, "default": "spfkit MemoryResolver, prefetch=True (default)"}


def _row(n: int, cpu: float, wall: float, queries: int) -> dict[str, Any]:
    return {
        "checks": n, "cpu_s": cpu, "wall_s": wall, "checks_per_s": n / wall,
        "cpu_us_per_check": cpu / n * 1e6, "queries": queries,
        "cpu_us_per_query": cpu / queries * 1e6 if queries else None,
    }


# ---------------------------------------------------------------------------------- part 2


def measure_loopback(world: World, checks: Sequence[Check], server_kind: str) -> dict[str, Any]:
    use_bind = server_kind == "bind" or (server_kind == "auto" and bind_available())
    server: BindServer | FixtureServer
    server = BindServer(to_bind_zone(world.zonedata)) if use_bind else FixtureServer(world.zonedata)
    out: dict[str, Any] = {"rows": {}, "results": {}}
    with server:
        out["server"] = f"{server.name}: {server.version}"
        dnsr = adapters.spfkit_dns(server.port)
        cold = lambda: adapters.spfkit_cold(dnsr)
        spfkit_run(checks[:20], cold, PREFETCH)
        for name, options in (("spfkit cold, prefetch=True (default)", PREFETCH),
                              ("spfkit cold, prefetch=False", SEQUENTIAL)):
            before = dnsr.queries_sent
            res, cpu, wall, _ = spfkit_run(checks, cold, options)
            out["rows"][name] = _row(len(checks), cpu, wall, dnsr.queries_sent - before)
            out["results"][name] = res
        before = dnsr.queries_sent
        res, cpu, wall = spfkit_concurrent(checks, cold, PREFETCH, 32)
        out["rows"]["spfkit cold, 32 checks in flight"] = _row(len(checks), cpu, wall, dnsr.queries_sent - before)
        counter = PyspfCounter()
        adapters.use_pyspf_dns(server.port, counter)
        pyspf_run(checks[:20])
        counter.queries = 0
        res, cpu, wall, _ = pyspf_run(checks)
        out["rows"]["pyspf cold (dnspython, no cache)"] = _row(len(checks), cpu, wall, counter.queries)
        out["results"]["pyspf"] = res
    return out


# ---------------------------------------------------------------------------------- part 3


def measure_latency(world: World, checks: Sequence[Check], analyses: Sequence[Analysis]) -> dict[str, Any]:
    out: dict[str, Any] = {"rows": {}, "results": {}, "latencies": {}}
    limit = [a.depth * DELAY for a in analyses]
    with FixtureServer(world.zonedata, delay=DELAY) as server:
        dnsr = adapters.spfkit_dns(server.port)
        cold = lambda: adapters.spfkit_cold(dnsr)
        runs: list[tuple[str, Callable[[], tuple[list[str], float, float, list[float]]]]] = [
            ("spfkit, prefetch=True (default)", lambda: spfkit_run(checks, cold, PREFETCH)),
            ("spfkit, prefetch=False", lambda: spfkit_run(checks, cold, SEQUENTIAL)),
            ("pyspf", lambda: pyspf_run(checks)),
        ]
        counter = PyspfCounter()
        for name, run in runs:
            if name == "pyspf":
                adapters.use_pyspf_dns(server.port, counter)
            server.reset()
            res, _cpu, wall, lat = run()
            per_check = [x / lim for x, lim in zip(lat, limit) if lim]
            out["rows"][name] = {
                "checks": len(checks), "wall_s": wall, "mean_ms": statistics.fmean(lat) * 1e3,
                "p50_ms": statistics.median(lat) * 1e3, "p95_ms": _pct(lat, 95) * 1e3,
                "max_ms": max(lat) * 1e3, "server_queries": server.count(),
                "mean_over_depth_limit": statistics.fmean(lat) / statistics.fmean(limit),
                "checks_over_1_5x_own_limit": sum(r > 1.5 for r in per_check),
            }
            out["results"][name] = res
            out["latencies"][name] = lat
    by_shape: dict[str, dict[str, Any]] = {}
    for i, c in enumerate(checks):
        entry = by_shape.setdefault(world.shape_of(c), {"checks": 0, "depth_limit_ms": 0.0})
        entry["checks"] += 1
        entry["depth_limit_ms"] += limit[i] * 1e3
        for name in out["rows"]:
            entry[name] = entry.get(name, 0.0) + out["latencies"][name][i] * 1e3
    for entry in by_shape.values():
        for key in list(entry):
            if key != "checks":
                entry[key] /= entry["checks"]
    out["by_shape"] = dict(sorted(by_shape.items(), key=lambda kv: -kv[1]["checks"]))
    del out["latencies"]
    out["limits"] = {
        "depth_mean_ms": statistics.fmean(limit) * 1e3,
        "rounds_mean_ms": statistics.fmean(a.rounds for a in analyses) * DELAY * 1e3,
        "queries_mean_ms": statistics.fmean(a.queries for a in analyses) * DELAY * 1e3,
        "depth_histogram": dict(sorted(collections.Counter(a.depth for a in analyses).items())),
    }
    return out


def _pct(values: Sequence[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


# ---------------------------------------------------------------------------------- agreement


def agreement(world: World, spfkit: list[str], pyspf_res: list[str], analyses: Sequence[Analysis]) -> dict[str, Any]:
    groups: dict[tuple[str, str, str], list[Check]] = collections.defaultdict(list)
    for c, a, b in zip(world.checks, spfkit, pyspf_res):
        if a != b:
            groups[(world.shape_of(c), a, b)].append(c)
    analyser_off = sum(a != x.result for a, x in zip(spfkit, analyses))
    return {
        "checks": len(spfkit),
        "disagreements": sum(len(v) for v in groups.values()),
        "analyser_disagrees_with_spfkit": analyser_off,
        "groups": [
            {"shape": k[0], "spfkit": k[1], "pyspf": k[2], "count": len(v),
             "examples": [vars_of(c) for c in v[:3]]}
            for k, v in sorted(groups.items(), key=lambda kv: -len(kv[1]))
        ],
        "spfkit_results": dict(collections.Counter(spfkit).most_common()),
        "pyspf_results": dict(collections.Counter(pyspf_res).most_common()),
    }


def vars_of(c: Check) -> dict[str, str]:
    return {"ip": c.ip, "mail_from": c.mail_from, "helo": c.helo}


def profile_memory(world: World, top: int = 25) -> str:
    mem = adapters.MemoryResolver(adapters.memory_zone(world.zonedata))
    spfkit_run(world.checks[:200], lambda: mem, PREFETCH)
    prof = cProfile.Profile()
    prof.enable()
    spfkit_run(world.checks, lambda: mem, PREFETCH)
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return buf.getvalue()


# ---------------------------------------------------------------------------------- main


def report_memory(world: World, analyses: Sequence[Analysis], repeats: int, report: dict[str, Any],
                  ) -> dict[str, list[str]]:
    """Part 1: measure, print, fill ``report``; returns the results for later comparison."""
    n_checks = len(world.checks)
    mem = measure_memory(world, repeats)
    rows = mem["rows"]
    base = rows["pyspf, spf.DNSLookup from a dict"]["cpu_us_per_check"]
    print(table(f"1. CPU, DNS answered from memory (best of {repeats} passes over {n_checks} checks)",
                ["implementation", "checks/s", "CPU µs/check", "queries", "× pyspf speed"],
                [[k, r["checks_per_s"], r["cpu_us_per_check"], r["queries"], base / r["cpu_us_per_check"]]
                 for k, r in rows.items()]))
    agree = agreement(world, mem["results"][mem["default"]], mem["results"]["pyspf"], analyses)
    print(f"\nagreement spfkit/pyspf: {agree['checks'] - agree['disagreements']}/{agree['checks']} "
          f"same result, {agree['disagreements']} differ "
          f"(the depth analyser's own result differs from spfkit's in {agree['analyser_disagrees_with_spfkit']})")
    for g in agree["groups"][:10]:
        ex = g["examples"][0]
        print(f"  {g['count']:4d} × {g['shape']}: spfkit {g['spfkit']}, pyspf {g['pyspf']}"
              f"  e.g. ip={ex['ip']} from=<{ex['mail_from']}> helo={ex['helo']}")
    mem["summary"] = {"spfkit_over_pyspf_speed": base / rows[mem["default"]]["cpu_us_per_check"], "aim": 3.0}
    report["memory"] = {k: v for k, v in mem.items() if k != "results"}
    report["agreement"] = agree
    print()
    return {"spfkit": mem["results"][mem["default"]], "pyspf": mem["results"]["pyspf"]}



def report_loopback(world: World, subset: Sequence[Check], server: str, report: dict[str, Any],
                    memory_results: dict[str, list[str]]) -> None:
    """Part 2: measure, print, fill ``report``."""
    lb = measure_loopback(world, subset, server)
    rows = lb["rows"]
    py = rows["pyspf cold (dnspython, no cache)"]
    print(table(f"2. Cold checks against a loopback DNS server ({lb['server']}), {len(subset)} checks",
                ["implementation", "checks/s", "CPU µs/check", "queries", "CPU µs/query", "× pyspf CPU/check"],
                [[k, r["checks_per_s"], r["cpu_us_per_check"], r["queries"], r["cpu_us_per_query"],
                  py["cpu_us_per_check"] / r["cpu_us_per_check"]] for k, r in rows.items()]))
    lb["summary"] = {
        "spfkit_over_pyspf_checks_per_s": rows["spfkit cold, prefetch=True (default)"]["checks_per_s"] / py["checks_per_s"],
        "spfkit_over_pyspf_cpu_per_check": py["cpu_us_per_check"] / rows["spfkit cold, prefetch=True (default)"]["cpu_us_per_check"],
        "spfkit_over_pyspf_cpu_per_query": py["cpu_us_per_query"] / rows["spfkit cold, prefetch=True (default)"]["cpu_us_per_query"],
        "aim": 3.0,
    }
    over_dns = lb["results"]["spfkit cold, prefetch=True (default)"]
    diff = sum(a != b for a, b in zip(over_dns, lb["results"]["pyspf"]))
    print(f"\nover DNS: spfkit and pyspf differ on {diff}/{len(subset)} checks", end="")
    if memory_results:  # the DNS path must not change any result
        same = {
            "spfkit": sum(a != b for a, b in zip(over_dns, memory_results["spfkit"])),
            "spfkit_prefetch_false": sum(a != b for a, b in zip(
                lb["results"]["spfkit cold, prefetch=False"], memory_results["spfkit"])),
            "pyspf": sum(a != b for a, b in zip(lb["results"]["pyspf"], memory_results["pyspf"])),
        }
        lb["differs_from_memory_run"] = same
        print(f"; results that differ from the in-memory run: {same}", end="")
    print()
    report["loopback"] = {k: v for k, v in lb.items() if k != "results"}
    report["loopback"]["disagreements"] = diff
    print()



def report_latency(world: World, analyses: Sequence[Analysis], n_latency: int, report: dict[str, Any]) -> None:
    """Part 3: measure, print, fill ``report``."""
    subset = world.checks[:n_latency]
    lat = measure_latency(world, subset, analyses[:n_latency])
    lim = lat["limits"]
    print(table(f"3. Latency per check, {DELAY * 1e3:.0f} ms per DNS answer, {n_latency} checks one at a time "
                f"(dependency-depth limit: mean {lim['depth_mean_ms']:.1f} ms)",
                ["implementation", "mean ms", "p50 ms", "p95 ms", "max ms", "queries", "÷ depth limit"],
                [[k, r["mean_ms"], r["p50_ms"], r["p95_ms"], r["max_ms"], r["server_queries"],
                  r["mean_over_depth_limit"]] for k, r in lat["rows"].items()]))
    print(f"\nlimits (mean): dependency depth {lim['depth_mean_ms']:.1f} ms, sequential rounds "
          f"{lim['rounds_mean_ms']:.1f} ms, one query at a time {lim['queries_mean_ms']:.1f} ms; "
          f"depth histogram {lim['depth_histogram']}")
    names = list(lat["rows"])
    print()
    print(table("   by sender shape (mean ms per check)", ["shape", "checks", "depth limit", *names],
                [[shape, e["checks"], e["depth_limit_ms"], *(e[n] for n in names)]
                 for shape, e in lat["by_shape"].items()]))
    report["latency"] = {k: v for k, v in lat.items() if k != "results"}
    print()



def report_warm(world: World, repeats: int, report: dict[str, Any],
                memory_results: dict[str, list[str]]) -> None:
    """Part 4: warm checks from compiled policies (benchmarks/warm.py)."""
    pyspf_us = report.get("memory", {}).get("rows", {}).get("pyspf, spf.DNSLookup from a dict", {})
    w = warm.measure_warm(world, repeats, pyspf_us.get("cpu_us_per_check"))
    same = None
    if memory_results.get("spfkit"):
        same = sum(a == b for a, b in zip(w["results"], memory_results["spfkit"]))
    print(table(f"4. Warm checks: one long-lived resolver and its compiled cache (best of {repeats} passes)",
                ["workload", "checks", "checks/CPU s", "CPU µs/check", "× pyspf speed"],
                [["whole workload", w["checks"], w["checks_per_cpu_s_all"], w["cpu_us_per_check_all"],
                  w["x_pyspf_all"] or float("nan")],
                 ["whole workload, nothing remembered", w["checks"],
                  w["checks_per_cpu_s_not_remembering"], w["cpu_us_per_check_not_remembering"],
                  w["x_pyspf_not_remembering"] or float("nan")],
                 ["compiled checks only", w["compiled_checks"], w["checks_per_cpu_s_compiled"],
                  w["cpu_us_per_check_compiled"], w["x_pyspf_compiled"] or float("nan")]]))
    print(f"answered by a map {w['compiled_checks']}, by a remembered evaluator answer "
          f"{w['remembered_checks']}, by the evaluator {w['evaluated_checks']}; the remembered "
          f"pass equal to the compiled one in every field: {w['same_outcome_all_passes']}")
    if same is not None:
        print(f"results equal to part 1's evaluator: {same}/{w['checks']}")
    report["warm"] = {k: v for k, v in w.items() if k != "results"} | {"same_as_evaluator": same}
    print()


def report_cache_memory(n_domains: int, report: dict[str, Any]) -> None:
    """Part 5: memory of the compiled cache (benchmarks/warm.py)."""
    m = warm.measure_cache_memory(n_domains)
    print(f"5. Compiled cache of {m['domains']:,} domains ({m['maps']:,} maps, both IP versions, in {m['entries']:,} entries): "
          f"{m['tracemalloc_bytes'] / 1e6:,.1f} MB kept (tracemalloc; cache estimate "
          f"{m['estimated_bytes'] / 1e6:,.1f} MB) → {m['mb_per_100k_domains']:,.1f} MB per 100,000 "
          f"domains; compiling: {m['compile_cpu_us_per_map']:,.0f} CPU µs per map\n")
    report["cache_memory"] = m


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    git = ["git", "-C", str(HERE.parent)]
    rev = subprocess.run([*git, "rev-parse", "--short", "HEAD"],
                         check=False, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "src"],
                           check=False, capture_output=True, text=True).stdout.strip()
    return {
        "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
        "platform": platform.platform(), "spfkit_path": str(Path(spfkit.__file__).parent),
        "spfkit_git": (rev or "?") + (" + uncommitted changes in src/" if dirty else ""), "pyspf": spf.__version__,
        "dnspython": dns.version.version, "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a small world, for a smoke run")
    ap.add_argument("--domains", type=int, help="sender domains (default 1000, quick 100)")
    ap.add_argument("--checks", type=int, help="checks (default 2000, quick 200)")
    ap.add_argument("--loopback-checks", type=int, help="checks in part 2 (default: all)")
    ap.add_argument("--latency-checks", type=int, help="checks in part 3 (default 200, quick 30)")
    ap.add_argument("--repeats", type=int, help="passes in part 1, best kept (default 5, quick 1)")
    ap.add_argument("--server", choices=("auto", "bind", "fixture"), default="auto")
    ap.add_argument("--skip", action="append", default=[],
                    choices=("memory", "loopback", "latency", "warm", "cache-memory"))
    ap.add_argument("--cache-domains", type=int, help="domains in the compiled-cache memory "
                    "measurement (default 100000, quick 2000)")
    ap.add_argument("--profile", action="store_true", help="cProfile spfkit on the memory workload")
    ap.add_argument("--json", type=Path, default=HERE / "results" / "latest.json")
    args = ap.parse_args(argv)
    q = args.quick
    n_domains = args.domains or (100 if q else 1000)
    n_checks = args.checks or (200 if q else 2000)
    n_latency = args.latency_checks or (30 if q else 200)
    repeats = args.repeats or (1 if q else 5)

    started = time.perf_counter()
    world = build_world(n_domains, n_checks)
    analyses = DepthAnalyser(world.zonedata).analyse_all(world.checks)
    report: dict[str, Any] = {"machine": machine(), "world": {
        "sender_domains": n_domains, "owners": len(world.zonedata),
        "records": sum(len(v) for v in world.zonedata.values()), "checks": n_checks,
        "shapes": dict(collections.Counter(world.shapes.values()).most_common()),
        "ipv6_checks": sum(":" in c.ip for c in world.checks),
        "helo_checks": sum(not c.mail_from for c in world.checks),
    }}
    print(f"world: {n_domains} sender domains, {len(world.zonedata)} owners, "
          f"{report['world']['records']} records, {n_checks} checks "
          f"({report['world']['ipv6_checks']} IPv6, {report['world']['helo_checks']} HELO)\n")

    memory_results: dict[str, list[str]] = {}
    if "memory" not in args.skip:
        memory_results = report_memory(world, analyses, repeats, report)
    if "loopback" not in args.skip:
        subset = world.checks[: args.loopback_checks] if args.loopback_checks else world.checks
        report_loopback(world, subset, args.server, report, memory_results)
    if "latency" not in args.skip:
        report_latency(world, analyses, n_latency, report)
    if "warm" not in args.skip:
        report_warm(world, repeats, report, memory_results)
    if "cache-memory" not in args.skip:
        report_cache_memory(args.cache_domains or (2000 if q else 100_000), report)
    if args.profile:
        text = profile_memory(world)
        print(text)
        report["profile"] = text.splitlines()[:60]

    report["elapsed_s"] = time.perf_counter() - started
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"done in {report['elapsed_s']:.0f} s; wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
