"""CPU per DNS query: spfkit's stub resolver (``lookup/stub.py``) vs the c-ares binding
(``pycares`` through ``aiodns``), against the same loopback BIND, in the same run.

    pip install -e '.[bench]'                  # pycares, aiodns (for this benchmark only)
    python benchmarks/bench_resolver.py        # about 30 s
    python benchmarks/bench_resolver.py --quick

Every TXT, A, AAAA and MX question of ``world.build_world()``'s zone (plus names that do
not exist), asked one at a time and 32 at a time, three passes each, best pass reported:
process CPU per query and wall queries/s. spfkit's figure is its whole ``lookup()``: the
question encoded, sent, the answer decoded into a ``Lookup`` value. c-ares is measured
raw (``aiodns.query``: its own result objects) and with the conversion to the same
``Lookup`` values spfkit's evaluator needs, so the two rows do the same work. The answers of
both are compared question by question.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "src")]

import warnings

import aiodns
import pycares
from bench_check import machine, table
from servers import BindServer
from world import build_world, to_bind_zone

from spfkit.lookup import DnsResolver
from spfkit.lookup.protocol import Lookup, LookupStatus, MXHost, RRType

Question = tuple[RRType, str]
# aiodns 4 deprecates query() for query_dns(); query() is the one aiodns 3 has too
warnings.filterwarnings("ignore", "query\\(\\) is deprecated", DeprecationWarning)
_STATUS = {aiodns.error.ARES_ENOTFOUND: LookupStatus.NXDOMAIN, aiodns.error.ARES_ENODATA: LookupStatus.NODATA,
           aiodns.error.ARES_ETIMEOUT: LookupStatus.TIMEOUT}


def questions(world: Any, limit: int) -> list[Question]:
    out: list[Question] = []
    for owner, entries in world.zonedata.items():
        kinds = {kind for entry in entries if isinstance(entry, dict) for kind in entry}
        for kind in ("TXT", "A", "AAAA", "MX"):
            if kind in kinds:
                out.append((RRType(kind), owner))
        out.append((RRType.A, f"nx-{len(out)}.{owner}"))  # NXDOMAIN / NODATA answers too
    return out[:limit]


def cares_lookup(resolver: aiodns.DNSResolver) -> Callable[[RRType, str], Coroutine[Any, Any, Lookup[Any]]]:
    """c-ares behind the same seam: its answers as spfkit ``Lookup`` values."""

    async def lookup(rrtype: RRType, name: str) -> Lookup[Any]:
        try:
            answer = await resolver.query(name, rrtype.value)
        except aiodns.error.DNSError as exc:
            return Lookup(_STATUS.get(exc.args[0], LookupStatus.SERVFAIL))
        if rrtype is RRType.TXT:
            records: tuple[Any, ...] = tuple(
                r.text if isinstance(r.text, bytes) else r.text.encode() for r in answer)
        elif rrtype is RRType.MX:
            records = tuple(MXHost(r.priority, r.host) for r in answer)
        else:
            records = tuple(r.host for r in answer)
        return Lookup(LookupStatus.ANSWER, records)

    return lookup


async def run(ask: Callable[[RRType, str], Any], qs: Sequence[Question], width: int) -> tuple[list[Any], float, float]:
    sem = asyncio.Semaphore(width)

    async def one(q: Question) -> Any:
        async with sem:
            return await ask(*q)

    cpu0, wall0 = time.process_time(), time.perf_counter()
    if width == 1:
        out = [await ask(*q) for q in qs]
    else:
        out = list(await asyncio.gather(*(one(q) for q in qs)))
    return out, time.process_time() - cpu0, time.perf_counter() - wall0


def comparable(lookup: Lookup[Any]) -> tuple[str, tuple[str, ...]]:
    records = sorted(str(r.exchange).rstrip(".").lower() + f"/{r.preference}" if isinstance(r, MXHost)
                     else (b"".join(r) if isinstance(r, tuple) else r).decode() if isinstance(r, (bytes, tuple))
                     else str(r) for r in lookup.records)
    return lookup.status.value, tuple(records)


async def measure(port: int, qs: Sequence[Question], passes: int) -> dict[str, Any]:
    spfkit = DnsResolver(["127.0.0.1"], port=port, timeout=5)
    cares = aiodns.DNSResolver(nameservers=["127.0.0.1"], udp_port=port, tcp_port=port, timeout=5, tries=1)
    converted = cares_lookup(cares)
    variants: dict[str, Callable[[RRType, str], Any]] = {
        "spfkit DnsResolver.lookup() → Lookup": spfkit.lookup,
        "c-ares (aiodns.query), raw results": lambda t, n: _raw(cares, t, n),
        "c-ares (aiodns.query) → Lookup": converted,
    }
    rows: dict[str, Any] = {}
    answers: dict[str, list[Any]] = {}
    for width in (1, 32):
        for name, ask in variants.items():
            await run(ask, qs[:100], width)  # warm-up
            best = None
            for _ in range(passes):
                got, cpu, wall = await run(ask, qs, width)
                if best is None or cpu < best[1]:
                    best = (got, cpu, wall)
            assert best is not None
            rows[f"{name}, {width} at a time"] = {
                "cpu_us_per_query": best[1] / len(qs) * 1e6, "queries_per_s": len(qs) / best[2]}
            answers[name] = best[0]
    mine = [comparable(a) for a in answers["spfkit DnsResolver.lookup() → Lookup"]]
    theirs = [comparable(a) for a in answers["c-ares (aiodns.query) → Lookup"]]
    differ = [(q, a, b) for q, a, b in zip(qs, mine, theirs) if a != b]
    return {"rows": rows, "questions": len(qs), "differ": len(differ), "examples": [
        (f"{q[0].value} {q[1]}", a, b) for q, a, b in differ[:5]]}


async def _raw(resolver: aiodns.DNSResolver, rrtype: RRType, name: str) -> Any:
    try:
        return await resolver.query(name, rrtype.value)
    except aiodns.error.DNSError as exc:
        return exc.args[0]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--questions", type=int, default=3000)
    args = ap.parse_args(argv)
    world = build_world(100 if args.quick else 1000, 10)
    qs = questions(world, 300 if args.quick else args.questions)
    info = machine()
    print(f"machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}, spfkit "
          f"{info['spfkit_git']}, pycares {pycares.__version__}, aiodns {aiodns.__version__}")
    with BindServer(to_bind_zone(world.zonedata)) as server:
        out = asyncio.run(measure(server.port, qs, 1 if args.quick else 3))
        print(table(f"CPU per DNS query against loopback {server.name} ({server.version}), "
                    f"{out['questions']} questions, best of passes",
                    ["resolver", "CPU µs/query", "queries/s"],
                    [[k, r["cpu_us_per_query"], r["queries_per_s"]] for k, r in out["rows"].items()]))
    print(f"answers that differ (spfkit vs c-ares → Lookup): {out['differ']}/{out['questions']}"
          + (f", e.g. {out['examples']}" if out["differ"] else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
