"""Fetch order of include/redirect targets: no prefetch vs sequential vs eager, same run.

    python benchmarks/bench_prefetch.py            # 200 latency checks, 2,000 cold checks
    python benchmarks/bench_prefetch.py --quick    # a smoke run

1. **Latency at 20 ms per answer** (the fixture server delaying every answer; each check alone):
   mean / p95 wall time per check, over the dependency-depth limit of each check
   (``world.DepthAnalyser``), and the queries the server received.
2. **Cold checks against loopback DNS** (BIND if installed, else the fixture): CPU per check
   and queries sent, one check at a time and 32 in flight, a fresh cache per check.

Results must be identical in every mode (checked). See benchmarks/README.md, "Fetch order".
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "src")]

import adapters
from bench_check import DELAY, _pct, machine, spfkit_concurrent, spfkit_run, table
from servers import BindServer, FixtureServer, bind_available
from world import DepthAnalyser, build_world, to_bind_zone

from spfkit.evaluate import CheckOptions, FetchOrder

MODES = {
    "no prefetch": CheckOptions(prefetch=False),
    "prefetch, sequential fetch": CheckOptions(fetch_order=FetchOrder.SEQUENTIAL),
    "prefetch, eager fetch": CheckOptions(fetch_order=FetchOrder.EAGER),
}


def latency(world: Any, checks: Sequence[Any], analyses: Sequence[Any]) -> dict[str, Any]:
    limit = [a.depth * DELAY for a in analyses]
    rows: dict[str, Any] = {}
    results: dict[str, list[str]] = {}
    with FixtureServer(world.zonedata, delay=DELAY) as server:
        dnsr = adapters.spfkit_dns(server.port)
        for name, options in MODES.items():
            server.reset()
            res, _cpu, wall, lat = spfkit_run(checks, lambda: adapters.spfkit_cold(dnsr), options)
            rows[name] = {
                "mean_ms": statistics.fmean(lat) * 1e3, "p95_ms": _pct(lat, 95) * 1e3,
                "max_ms": max(lat) * 1e3, "server_queries": server.count(),
                "mean_over_depth_limit": statistics.fmean(lat) / statistics.fmean(limit),
            }
            results[name] = res
    return {"rows": rows, "results": results, "depth_limit_mean_ms": statistics.fmean(limit) * 1e3}


def cold(world: Any, checks: Sequence[Any], kind: str) -> dict[str, Any]:
    use_bind = kind == "bind" or (kind == "auto" and bind_available())
    server: BindServer | FixtureServer
    server = BindServer(to_bind_zone(world.zonedata)) if use_bind else FixtureServer(world.zonedata)
    rows: dict[str, Any] = {}
    results: dict[str, list[str]] = {}
    with server:
        dnsr = adapters.spfkit_dns(server.port)
        fresh = lambda: adapters.spfkit_cold(dnsr)
        spfkit_run(checks[:50], fresh, CheckOptions())
        for name, options in MODES.items():
            best = None
            for _ in range(3):
                before = dnsr.queries_sent
                res, cpu, wall, _ = spfkit_run(checks, fresh, options)
                if best is None or cpu < best[1]:
                    best = (res, cpu, wall, dnsr.queries_sent - before)
            assert best is not None
            before = dnsr.queries_sent
            _, cpu32, wall32 = spfkit_concurrent(checks, fresh, options, 32)
            rows[name] = {
                "cpu_us_per_check": best[1] / len(checks) * 1e6, "checks_per_s": len(checks) / best[2],
                "queries": best[3], "cpu_us_per_query": best[1] / best[3] * 1e6,
                "in_flight_32_checks_per_s": len(checks) / wall32,
                "in_flight_32_cpu_us_per_check": cpu32 / len(checks) * 1e6,
                "in_flight_32_queries": dnsr.queries_sent - before,
            }
            results[name] = best[0]
        name = f"{server.name}: {server.version}"
    return {"rows": rows, "results": results, "server": name}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--latency-checks", type=int, default=200)
    ap.add_argument("--server", choices=["auto", "bind", "fixture"], default="auto")
    ap.add_argument("--json", type=Path, default=HERE / "results" / "prefetch-latest.json")
    args = ap.parse_args(argv)
    world = build_world(100, 200) if args.quick else build_world()
    n_lat = min(args.latency_checks, 50 if args.quick else args.latency_checks)
    checks = world.checks
    analyses = DepthAnalyser(world.zonedata).analyse_all(checks[:n_lat])
    report: dict[str, Any] = {"machine": machine()}
    print(f"machine: {report['machine']['cpu']}, {report['machine']['cores']} cores, "
          f"Python {report['machine']['python']}, spfkit {report['machine']['spfkit_git']}\n")

    lat = latency(world, checks[:n_lat], analyses)
    print(table(f"1. Latency, {DELAY * 1e3:.0f} ms per DNS answer, {n_lat} checks one at a time "
                f"(dependency-depth limit: mean {lat['depth_limit_mean_ms']:.1f} ms)",
                ["mode", "mean ms", "p95 ms", "max ms", "queries", "÷ depth limit"],
                [[k, r["mean_ms"], r["p95_ms"], r["max_ms"], r["server_queries"],
                  r["mean_over_depth_limit"]] for k, r in lat["rows"].items()]))
    same = {k: sum(a != b for a, b in zip(v, lat["results"]["no prefetch"]))
            for k, v in lat["results"].items()}
    print(f"results that differ from no prefetch: {same}\n")

    cl = cold(world, checks, args.server)
    print(table(f"2. Cold checks against loopback DNS ({cl['server']}), {len(checks)} checks, "
                "a fresh cache each",
                ["mode", "CPU µs/check", "checks/s", "queries", "CPU µs/query", "32 in flight: checks/s",
                 "CPU µs/check", "queries"],
                [[k, r["cpu_us_per_check"], r["checks_per_s"], r["queries"], r["cpu_us_per_query"],
                  r["in_flight_32_checks_per_s"], r["in_flight_32_cpu_us_per_check"],
                  r["in_flight_32_queries"]] for k, r in cl["rows"].items()]))
    same_cold = {k: sum(a != b for a, b in zip(v, cl["results"]["no prefetch"]))
                 for k, v in cl["results"].items()}
    print(f"results that differ from no prefetch: {same_cold}")
    report["latency"] = {k: v for k, v in lat.items() if k != "results"} | {"differ": same}
    report["cold"] = {k: v for k, v in cl.items() if k != "results"} | {"differ": same_cold}
    args.json.parent.mkdir(exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if not any(same.values()) and not any(same_cold.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
