"""The loopback DNS servers the benchmark talks to, each in its own process.

* :class:`BindServer` — BIND 9 (``named``) via ``tests/fixtures/recipes/start-named.sh``,
  serving the world as one root-zone master file. A real server whose CPU is not ours.
* :class:`FixtureServer` — ``tests/fixtures/dnsserver.ZoneDataServer`` run in a child
  process (``python servers.py ZONEDATA.json DELAY``), so its CPU is not counted in ours
  either; it can add ``delay`` seconds to every answer and counts the queries it receives.

Both are context managers with ``.port`` and ``.name``; ``FixtureServer.count()`` and
``.reset()`` talk to the child over its stdin/stdout.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any, Self

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "tests" / "fixtures" / "recipes"


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return int(port)
    raise OSError("no free port")


def bind_available() -> bool:
    return shutil.which("named") is not None and (RECIPES / "start-named.sh").exists()


class BindServer:
    name = "BIND 9 (named -n 1)"

    def __init__(self, zone_text: str) -> None:
        self.zone_text = zone_text
        self.port = 0
        self._tmp = tempfile.mkdtemp(prefix="spfkit-bench-")
        self.dir = Path(self._tmp) / "named"

    def __enter__(self) -> Self:
        zone = Path(self._tmp) / "world.zone"
        zone.write_text(self.zone_text)
        self.port = free_port()
        subprocess.run(
            ["bash", str(RECIPES / "start-named.sh"), str(self.dir), str(self.port), str(zone)],
            check=True, capture_output=True, text=True,
        )
        self.version = subprocess.run(["named", "-v"], check=False, capture_output=True, text=True).stdout.strip()
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        subprocess.run(["bash", str(RECIPES / "stop-named.sh"), str(self.dir)], check=False, capture_output=True)
        shutil.rmtree(self._tmp, ignore_errors=True)


class FixtureServer:
    name = "tests/fixtures/dnsserver.py (child process)"

    def __init__(self, zonedata: dict[str, Any], delay: float = 0.0) -> None:
        self.zonedata, self.delay = zonedata, delay
        self.port = 0
        self.version = "ZoneDataServer"
        self._proc: subprocess.Popen[str] | None = None
        self._path = ""

    def __enter__(self) -> Self:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(self.zonedata, f)
            self._path = f.name
        self._proc = subprocess.Popen(
            [sys.executable, __file__, self._path, str(self.delay)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )
        self.port = int(self._read())
        return self

    def _read(self) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the fixture server exited")
        return line.strip()

    def _ask(self, command: str) -> str:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(command + "\n")
        return self._read()

    def count(self) -> int:
        """Queries received since the last reset (UDP and TCP)."""
        return int(self._ask("count"))

    def reset(self) -> None:
        self._ask("reset")

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        if self._proc is not None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            self._proc.wait(timeout=10)
        Path(self._path).unlink(missing_ok=True)


def _serve(path: str, delay: float) -> None:
    """Child process: serve the zone data, answer ``count``/``reset`` lines until EOF."""
    sys.path.insert(0, str(ROOT))
    from tests.fixtures.dnsserver import ZoneDataServer

    with open(path) as f:
        zonedata = json.load(f)
    with ZoneDataServer(zonedata, delay=delay) as srv:
        print(srv.port, flush=True)
        for line in sys.stdin:
            if line.strip() == "count":
                print(len(srv.queries), flush=True)
            elif line.strip() == "reset":
                srv.reset_counts()
                print("ok", flush=True)


if __name__ == "__main__":
    _serve(sys.argv[1], float(sys.argv[2]))
