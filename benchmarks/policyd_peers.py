"""How bench_policyd.py starts each policy server: spfkit policyd and Debian's policyd-spf.

Both are configured to make the same decisions (check HELO, then MAIL FROM; reject ``fail``
of either with 550 5.7.23; prepend a ``Received-SPF:`` header for everything else; no defer
on temperror, no reject on permerror; skip only 192.0.2.1, the ping address) and to log one
line per decision to a file, and both ask the same DNS server with a 2 s query timeout.

* spfkit: ``spfkit policyd --listen 127.0.0.1:PORT`` (one process, shared DNS cache), run from
  this working tree; for spawn start-up also plain ``spfkit policyd`` on stdin/stdout.
* policyd-spf 2.9.4 / spf-engine 3.0.4 (``apt-get install -y postfix-policyd-spf-python
  python3-dnspython``) under Debian's ``/usr/bin/python3``, through
  ``policyd-spf-local-dns.py`` (a copy of ``../shared/recipes/``), which points pyspf's
  DNS at our server and its syslog lines at a file. It only speaks stdin/stdout, so it gets
  one process per connection, as Postfix's spawn(8) gives it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Self

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SRC = ROOT / "src"
POLICYD_SPF_WRAPPER = HERE / "policyd-spf-local-dns.py"
POLICYD_SPF_CONF = HERE / "policyd-spf-bench.conf"
DEBIAN_PYTHON = "/usr/bin/python3"
DNS_TIMEOUT = "2"

__all__ = [
    "SpfkitServer", "policyd_spf_argv", "policyd_spf_available", "policyd_spf_version",
    "DNS_TIMEOUT", "spfkit_config", "spfkit_env", "spfkit_policyd_argv", "spfkit_spawn_argv",
]


def spfkit_config(path: Path, log: Path) -> Path:
    """spfkit's configuration for the benchmark (TOML, policyd-spf's option names)."""
    path.write_text(
        "# made by benchmarks/policyd_peers.py: the decisions of policyd-spf-bench.conf\n"
        'HELO_reject = "Fail"\n'
        'Mail_From_reject = "Fail"\n'
        "PermError_reject = false\n"
        "TempError_Defer = false\n"
        'skip_addresses = ["192.0.2.1/32"]\n'
        'Header_Type = "SPF"\n'
        "Hide_Receiver = false\n"
        'Authserv_Id = "mx.spfkit.test"\n'
        "Lookup_Time = 20\n"
        "debugLevel = 1\n"
        f'log = "{log}"\n'
    )
    return path


def spfkit_env(src: str | Path = SRC) -> dict[str, str]:
    """Run the spfkit of this working tree (or of ``src``), whatever is installed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH", "")]))
    return env


#: what pip writes for the ``spfkit-policyd`` console script (pyproject.toml), for a tree whose
#: installed scripts predate it (an editable install made before it existed)
_LAUNCHER = """#!{python}
import re
import sys
from spfkit.spawn import main
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit(main())
"""


def spfkit_policyd_argv(config: Path, dns_port: int, tmp: Path) -> list[str]:
    """What master.cf would run with the click-free entry point: ``spfkit-policyd`` next to
    this interpreter, else the same launcher written into ``tmp``."""
    script = Path(sys.executable).with_name("spfkit-policyd")
    if not script.exists():
        script = tmp / "spfkit-policyd"
        script.write_text(_LAUNCHER.format(python=sys.executable))
        script.chmod(0o755)
    return [str(script), "--config", str(config), "--nameserver", f"127.0.0.1:{dns_port}",
            "--timeout", DNS_TIMEOUT]


def spfkit_spawn_argv(config: Path, dns_port: int) -> list[str]:
    """What master.cf would run: the ``spfkit`` console script next to this interpreter
    (``python -m spfkit`` if there is none), in spawn mode on stdin/stdout."""
    script = Path(sys.executable).with_name("spfkit")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "spfkit"]
    return [*head, "policyd", "--config", str(config), "--nameserver", f"127.0.0.1:{dns_port}",
            "--timeout", DNS_TIMEOUT]


class SpfkitServer:
    """``spfkit policyd --listen 127.0.0.1:PORT`` in its own process (its CPU is not ours)."""

    def __init__(self, config: Path, dns_port: int, stderr: Path, workers: int = 1,
                 log: Path | None = None, unix: Path | None = None) -> None:
        self.config, self.dns_port, self.stderr = config, dns_port, stderr
        self.workers, self.log = workers, log  # log: the configured log file (--workers)
        self.unix = unix  # listen on this UNIX socket instead of TCP (one process)
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        self.port = _free_tcp_port()
        listen = f"unix:{self.unix}" if self.unix else f"127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "spfkit", "policyd", "--listen", listen,
                "--config", str(self.config), "--nameserver", f"127.0.0.1:{self.dns_port}",
                "--timeout", DNS_TIMEOUT]
        if self.workers > 1:
            argv += ["--workers", str(self.workers)]
        with open(self.stderr, "ab") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=err, env=spfkit_env())
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"spfkit policyd exited {self.proc.returncode}: "
                                   f"{self.stderr.read_text(errors='replace')[-2000:]}")
            try:
                if self.unix:
                    with socket.socket(socket.AF_UNIX) as probe:
                        probe.settimeout(0.2)
                        probe.connect(str(self.unix))
                else:
                    socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                if self._all_listening():
                    return self
                time.sleep(0.02)
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("spfkit policyd did not listen within 30 s") from None
                time.sleep(0.02)

    def _all_listening(self) -> bool:
        """Every worker has logged ``listening on`` (one process: the connect said so)."""
        if self.workers == 1 or self.log is None:
            return True
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text.count(f"]: listening on 127.0.0.1:{self.port}\n") >= self.workers

    def pids(self) -> list[int]:
        """The server's processes: the parent and, with --workers, its workers."""
        if self.proc is None:
            return []
        try:
            kids = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            kids = []
        return [self.proc.pid, *map(int, kids)]

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def policyd_spf_available() -> bool:
    return Path("/usr/bin/policyd-spf").exists() and Path(DEBIAN_PYTHON).exists()


def policyd_spf_argv(dns_port: int, log: Path) -> list[str]:
    return [DEBIAN_PYTHON, str(POLICYD_SPF_WRAPPER), "127.0.0.1", str(dns_port), str(POLICYD_SPF_CONF), str(log)]


def policyd_spf_version() -> str:
    proc = subprocess.run(
        [DEBIAN_PYTHON, "-c", (
            "import spf, spf_engine, dns.version; "
            "print(f'spf-engine {spf_engine.__version__}, pyspf {spf.__version__}, "
            "dnspython {dns.version.version}' if spf.DNSLookup is spf.DNSLookup_dnspython else "
            "f'spf-engine {spf_engine.__version__}, pyspf {spf.__version__}, pydns')")],
        capture_output=True, text=True, check=False,
    )
    pkg = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "postfix-policyd-spf-python"],
                         capture_output=True, text=True, check=False).stdout.strip()
    return f"postfix-policyd-spf-python {pkg or '?'} ({proc.stdout.strip() or proc.stderr.strip()[-200:]})"

