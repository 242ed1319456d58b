"""Benchmark: ``spfkit milter`` vs spf-engine's ``pyspf-milter`` — alone and behind Postfix.

Same mail, same DNS (BIND on loopback serving ``tests/milter/milter.zone``), same run:

1. **The milter alone**, driven by ``miltertest`` (OpenDKIM's milter client, Lua): each message
   is one milter connection (connect, HELO, MAIL, RCPT, header, EOH, EOM), as Postfix makes one
   per SMTP session; ``--clients`` miltertest processes at once.
2. **Through Postfix** (Debian's): a private Postfix with ``smtpd_milters`` pointing at each
   milter in turn (and at none, for Postfix's own cost), fed by ``--clients`` SMTP clients.

For each: messages per second and the milter's CPU per message (``/proc/PID/stat``). spfkit
checks HELO, MAIL FROM *and* the PRA (Sender ID) and adds two header kinds; pyspf-milter checks
SPF only and adds one; spfkit is also run with ``check_pra = false`` for the like-for-like row.

    python benchmarks/bench_milter.py [--messages 400] [--clients 4] [--out FILE]

Needs root and Debian's bind9, postfix, miltertest, python3-spf-engine, python3-milter,
python3-authres. A script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.e2e.harness import Named, Postfix, free_port, make_base, wait_for  # noqa: E402
from tests.milter.harness import MilterProcess, milter_params  # noqa: E402

ZONE = ROOT / "tests" / "milter" / "milter.zone"
TICKS = os.sysconf("SC_CLK_TCK")
CLIENT = "127.0.0.2"
LUA = """
-- a stage the milter negotiated away (pyspf-milter takes no HELO) is an error in miltertest:
-- each step runs under pcall, so every milter gets the same dialogue, minus what it skips
local n = tonumber(os.getenv("COUNT"))
local first = tonumber(os.getenv("FIRST"))
for i = first, first + n - 1 do
  local conn = mt.connect(os.getenv("MILTER"), 20, 0.2)
  if conn == nil then error("cannot connect") end
  mt.set_timeout(60)
  mt.macro(conn, SMFIC_CONNECT, "j", "mx.spfkit.test")
  pcall(mt.conninfo, conn, "client.milter.example", "127.0.0.2")
  pcall(mt.helo, conn, "client.milter.example")
  mt.macro(conn, SMFIC_MAIL, "i", "Q" .. i)
  pcall(mt.mailfrom, conn, "<bench" .. i .. "@mfrom.example>")
  pcall(mt.rcptto, conn, "<rcpt@example.org>")
  pcall(mt.header, conn, "From", "Author <author" .. i .. "@prapass.example>")
  pcall(mt.header, conn, "To", "rcpt@example.org")
  pcall(mt.header, conn, "Subject", "bench " .. i)
  pcall(mt.eoh, conn)
  pcall(mt.bodystring, conn, "benchmark message\\r\\n")
  if mt.eom(conn) ~= nil then error("eom") end
  mt.disconnect(conn)
  done = i
end
io.stderr:write("done ", tostring(n), "\\n")
"""


def cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Peer:
    """pyspf-milter under Debian's python3, pointed at our BIND."""

    def __init__(self, work: Path, dns_port: int, transport: str) -> None:
        self.port = free_port()
        self.path = work / "pyspf-milter.sock"
        unix = transport == "unix"
        self.listen = f"unix:{self.path}" if unix else f"inet:127.0.0.1:{self.port}"
        socket_line = f"local:{self.path}" if unix else f"inet:{self.port}@127.0.0.1"
        conf = work / "pyspf-milter.conf"
        conf.write_text(
            "debugLevel = 1\nTestOnly = 1\nHELO_reject = Fail\nMail_From_reject = Fail\n"
            "PermError_reject = False\nTempError_Defer = False\nskip_addresses = 192.0.2.1/32\n"
            "InternalHosts = 192.0.2.1\nAuthserv_Id = mx.spfkit.test\nLookup_Time = 20\n"
            f"Socket = {socket_line}\nPidFile = {work / 'pyspf-milter.pid'}\n"
            "UserID = root\nUMask = 0\n")
        self.argv = ["/usr/bin/python3", str(HERE / "pyspf-milter-local-dns.py"), "127.0.0.1",
                     str(dns_port), str(conf), str(work / "pyspf-milter.log")]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Peer:
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)

        def ready() -> bool:
            import socket
            try:
                if self.listen.startswith("unix:"):
                    with socket.socket(socket.AF_UNIX) as conn:
                        conn.connect(str(self.path))
                else:
                    socket.create_connection(("127.0.0.1", self.port), 0.3).close()
                return True
            except OSError:
                return False
        wait_for("pyspf-milter", ready, 20)
        return self

    def pass_lines(self) -> int:
        log = Path(self.argv[-1])
        return sum("spf=pass" in line for line in log.read_text(errors="replace").splitlines()) \
            if log.exists() else 0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def miltertest_run(listen: str, pid: int, messages: int, clients: int, work: Path) -> dict[str, Any]:
    kind, _, where = listen.partition(":")
    host, _, port = where.rpartition(":")
    target = f"unix:{where}" if kind == "unix" else f"inet:{port}@{host}"
    script = work / "bench.lua"
    script.write_text(LUA)
    each = messages // clients
    before, start = cpu(pid), time.perf_counter()
    procs = [subprocess.Popen(["miltertest", "-s", str(script)],
                              env={**os.environ, "MILTER": target, "COUNT": str(each),
                                   "FIRST": str(k * each)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for k in range(clients)]
    errors = [p.communicate()[1].decode(errors="replace") for p in procs]
    wall = time.perf_counter() - start
    used = cpu(pid) - before
    failed = [e for p, e in zip(procs, errors) if p.returncode != 0]
    total = each * clients
    return {"messages": total, "seconds": round(wall, 3), "msgs_per_s": round(total / wall, 1),
            "cpu_ms_per_msg": round(1000 * used / total, 2), "failed_clients": len(failed),
            "error": failed[0][-300:] if failed else None}


def smtp_run(port: int, pid: int | None, messages: int, clients: int, tag: str) -> dict[str, Any]:
    each = messages // clients
    refused: list[str] = []

    def client(k: int) -> None:
        with smtplib.SMTP("127.0.0.1", port, source_address=(CLIENT, 0), timeout=60) as smtp:
            smtp.ehlo("client.milter.example")
            for i in range(k * each, (k + 1) * each):
                body = (f"From: Author <author{i}@prapass.example>\r\nTo: rcpt@example.org\r\n"
                        f"Subject: {tag} {i}\r\n\r\nbenchmark message {i}\r\n")
                try:
                    smtp.sendmail(f"bench{i}@mfrom.example", ["rcpt@example.org"], body)
                except smtplib.SMTPException as exc:
                    refused.append(str(exc)[:200])
                    smtp.rset()

    before = cpu(pid) if pid else 0.0
    start = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    used = (cpu(pid) - before) if pid else None
    total = each * clients
    return {"messages": total, "seconds": round(wall, 3), "msgs_per_s": round(total / wall, 1),
            "milter_cpu_ms_per_msg": round(1000 * used / total, 2) if used is not None else None,
            "refused": len(refused), "first_refusal": refused[0] if refused else None}


def spfkit_milter(work: Path, name: str, dns_port: int, pra: bool, transport: str) -> MilterProcess:
    sub = work / name
    sub.mkdir()
    conf = sub / "milter.toml"
    conf.write_text('skip_addresses = ["192.0.2.1/32"]\nHeader_Type = "AR"\n'
                    'Receiver = "mx.spfkit.test"\nAuthserv_Id = "mx.spfkit.test"\n'
                    'Mail_From_reject = "Fail"\ndebugLevel = 1\n'
                    f'[milter]\ncheck_pra = {"true" if pra else "false"}\n')
    listen = f"unix:{sub / 'milter.sock'}" if transport == "unix" else f"inet:127.0.0.1:{free_port()}"
    return MilterProcess(listen,
                         ["--config", str(conf), "--nameserver", f"127.0.0.1:{dns_port}"],
                         sub / "milter.log").start()


def run_transport(work: Path, dns_port: int, transport: str, args: argparse.Namespace) -> dict[str, Any]:
    """Both parts of the benchmark with every milter on ``transport`` (unix or inet)."""
    work.mkdir(mode=0o755)
    stops: list[Callable[[], object]] = []
    report: dict[str, Any] = {}
    try:
        mine = spfkit_milter(work, "spfkit", dns_port, True, transport)
        stops.append(mine.stop)
        spf_only = spfkit_milter(work, "spfkit-spf-only", dns_port, False, transport)
        stops.append(spf_only.stop)
        peer = Peer(work, dns_port, transport).start()
        stops.append(peer.stop)
        milters = {"spfkit (SPF + PRA)": (mine.listen, mine.proc.pid),  # type: ignore[union-attr]
                   "spfkit (SPF only)": (spf_only.listen, spf_only.proc.pid),  # type: ignore[union-attr]
                   "pyspf-milter (SPF only)": (peer.listen, peer.pid)}
        alone: dict[str, Any] = {}
        for label, (listen, pid) in milters.items():
            miltertest_run(listen, pid, 2 * args.clients, args.clients, work)  # warm-up
            alone[label] = miltertest_run(listen, pid, args.messages, args.clients, work)
            print(f"{transport} miltertest  {label:26} {alone[label]}", flush=True)
        report["miltertest"] = alone
        rows: dict[str, Any] = {}
        for label, target in [("Postfix alone (no milter)", None), *milters.items()]:
            listen, pid = target if target else (None, None)
            params = milter_params(listen) if listen else []
            postfix = Postfix(work / f"postfix-{len(rows)}", "none", params).start()
            try:
                smtp_run(postfix.port, pid, 2 * args.clients, args.clients, "warm-up")
                rows[label] = smtp_run(postfix.port, pid, args.messages, args.clients, "bench")
            finally:
                postfix.stop()
            print(f"{transport} postfix     {label:26} {rows[label]}", flush=True)
        report["postfix"] = rows
        # what the checks said (the same DNS must give both milters SPF pass for every message)
        report["pass_lines_in_logs"] = {
            "spfkit (SPF + PRA)": len(mine.lines("mailfrom=pass", "sender-id=pass")),
            "spfkit (SPF only)": len(spf_only.lines("mailfrom=pass")),
            "pyspf-milter (SPF only)": peer.pass_lines()}
        peer_alone = alone["pyspf-milter (SPF only)"]["msgs_per_s"]
        peer_pf = rows["pyspf-milter (SPF only)"]["msgs_per_s"]
        report["ratios"] = {
            f"{label} / pyspf-milter": {
                "miltertest": round(alone[label]["msgs_per_s"] / peer_alone, 2),
                "postfix": round(rows[label]["msgs_per_s"] / peer_pf, 2)}
            for label in ("spfkit (SPF + PRA)", "spfkit (SPF only)")}
    finally:
        for stop in reversed(stops):
            stop()
    return report


def machine() -> dict[str, Any]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "?")
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True, check=False).stdout.strip()
    return {"cores": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "kernel": platform.release(), "spfkit_git": rev,
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "date": time.strftime("%Y-%m-%d %H:%M:%S %z")}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "milter-latest.json")
    args = parser.parse_args(argv)
    base = make_base(Path(tempfile.gettempdir()) / f"spfkit-bench-milter-{os.getpid()}")
    report: dict[str, Any] = {"machine": machine(), "messages": args.messages, "clients": args.clients}
    named = Named(base / "named", ZONE).start()
    try:
        for transport in ("unix", "inet"):
            report[transport] = run_transport(base / transport, named.port, transport, args)
    finally:
        named.stop()
        shutil.rmtree(base, ignore_errors=True)
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({t: report[t]["ratios"] for t in ("unix", "inet")}, indent=2))
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
