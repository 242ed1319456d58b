"""``spfkit survey`` against checkdmarc's bulk mode, on the same domains and DNS, in one run.

    python benchmarks/bench_survey.py [--domains N] [--checkdmarc-domains M] [--out FILE.json]

The world is ``tests/survey/world.py`` (the generated population the survey tests use),
served by ``tests/fixtures/fastdns.FastDNSServer`` in a child process (its CPU is not ours),
at 0 ms and at 20 ms per answer. Measured:

* domains/s of ``spfkit survey`` (a subprocess, as users run it; its own ``run.cpu_seconds``
  gives CPU per domain and /proc's VmHWM its peak memory);
* domains/s of ``checkdmarc.check_domains`` (its bulk API, one domain after another, SPF and
  DMARC and the rest of what it checks; SMTP TLS is opt-in and off) on a sample of the same domains —
  it is much slower, so it gets fewer; rates are compared, not totals;
* ``--dask-local 1`` against ``--dask-local 2`` at 20 ms per answer.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.fastdns import FastDNSServer  # noqa: E402
from tests.survey.world import build  # noqa: E402

_HWM = ("import sys; from spfkit.cli import main; rc = main(sys.argv[1:]); "
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0], "
        "file=sys.stderr); sys.exit(rc)")


def _serve(n: int, delay: float, conn: Any) -> None:
    data, _ = build(n)
    with FastDNSServer(data, delay=delay) as srv:
        conn.send(srv.port)
        conn.recv()  # until told to stop


class Server:
    """The world on loopback DNS in a child process."""

    def __init__(self, n: int, delay: float) -> None:
        self.parent, child = multiprocessing.Pipe()
        self.proc = multiprocessing.Process(target=_serve, args=(n, delay, child), daemon=True)

    def __enter__(self) -> int:
        self.proc.start()
        return int(self.parent.recv())

    def __exit__(self, *exc: object) -> None:
        self.parent.send("stop")
        self.proc.join(10)


def run_spfkit(domains: Path, port: int, *extra: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", _HWM, "survey", str(domains), "--nameserver",
                           f"127.0.0.1:{port}", "--timeout", "3", "--retries", "1", "--json",
                           "--no-progress", *extra], capture_output=True, text=True, env=env, check=True)
    wall = time.monotonic() - start
    summary = json.loads(proc.stdout)
    done = summary["domains"]
    return {"domains": done, "seconds": round(wall, 2), "domains_per_s": round(done / wall, 1),
            # with --dask: the driver's CPU only (the workers are other processes)
            "cpu_ms_per_domain": round(1000 * summary["run"].get("cpu_seconds", 0) / done, 3),
            "peak_rss_mb": round(int(proc.stderr.strip().splitlines()[-1]) / 1024, 1)}


def run_checkdmarc(names: list[str], port: int) -> dict[str, Any]:
    import checkdmarc
    import dns.nameserver
    import dns.resolver

    server = dns.nameserver.Do53Nameserver("127.0.0.1", port)
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [server]
    resolver.timeout = resolver.lifetime = 3.0
    start = time.monotonic()
    cpu = time.process_time()
    # both: some of its checks take nameservers, others the resolver (none may reach the system's)
    checkdmarc.check_domains(names, resolver=resolver, nameservers=[server], timeout=3.0)
    wall = time.monotonic() - start
    return {"domains": len(names), "seconds": round(wall, 2),
            "domains_per_s": round(len(names) / wall, 2),
            "cpu_ms_per_domain": round(1000 * (time.process_time() - cpu) / len(names), 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--domains", type=int, default=5000)
    parser.add_argument("--checkdmarc-domains", type=int, default=200)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    _, truth = build(args.domains)
    names = list(truth)
    tmp = Path(tempfile.mkdtemp(prefix="bench-survey-"))
    domains = tmp / "domains.txt"
    domains.write_text("".join(f"{d}\n" for d in names))
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "load_avg": os.getloadavg()},
        "git": subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip(),
    }
    for delay in (0.0, 0.020):
        label = f"{int(delay * 1000)}ms"
        with Server(args.domains, delay) as port:
            spf = run_spfkit(domains, port, "--concurrency", "200")
            cd = run_checkdmarc(names[: args.checkdmarc_domains], port)  # same first names
            results[label] = {"spfkit": spf, "checkdmarc": cd,
                              "ratio": round(spf["domains_per_s"] / cd["domains_per_s"], 1)}
            if delay:
                results[label]["dask"] = {
                    f"{n}_workers": run_spfkit(domains, port, "--dask-local", str(n), "--partition",
                                               str(max(500, args.domains // 8)), "--out",
                                               str(tmp / f"parts{n}"))
                    for n in (1, 2)}
        print(json.dumps({label: results[label]}, indent=2), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results["machine"]), results["git"])


if __name__ == "__main__":
    main()
