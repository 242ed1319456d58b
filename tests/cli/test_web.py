"""``spfkit web`` as users run it: a real process on a loopback port, the bundled example zone.

The server runs as a real process (signals, a port); usage errors and ``--help``, which
never get as far as listening, run in this process (``tests/cli/conftest.py``).
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.conftest import PYTHON_M, spfkit
from tests.fixtures.pipe_lines import PipeLines

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ZONE = str(ROOT / "examples" / "example.zone")
LISTENING = re.compile(r"^spfkit web: listening on (http://(?:[0-9.]+|\[[0-9a-f:]+\]):(\d+)/)$")


@dataclass
class Server:
    process: subprocess.Popen[str]
    output: PipeLines
    url: str = ""

    @property
    def lines(self) -> list[str]:
        """Its stderr so far; all of it once it has exited."""
        return self.output.all() if self.process.poll() is not None else self.output.lines

    def get(self, path: str) -> tuple[int, dict[str, str], str]:
        try:
            with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()


def start(*args: str) -> Server:
    process = subprocess.Popen(
        [*PYTHON_M, "web", *args], stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stderr is not None
    server = Server(process, PipeLines(process.stderr))
    if match := server.output.wait_for(LISTENING):
        server.url = match.group(1)
        return server
    raise AssertionError(f"spfkit web exited {process.wait()}: {server.output.text()}")


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = start("--listen", "127.0.0.1:0", "--zone", EXAMPLE_ZONE, "--rate-limit", "0")
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait()


def test_port_0_reports_the_real_port_and_serves_every_page(server: Server) -> None:
    port = int(server.url.rsplit(":", 1)[1].rstrip("/"))
    assert port > 0 and server.url == f"http://127.0.0.1:{port}/"
    for path in ("/", "/wizard", "/check", "/test", "/static/app.css", "/static/app.js"):
        status, _, _ = server.get(path)
        assert status == 200, path
    status, _, page = server.get("/check?domain=news.example.com")
    assert status == 200 and '<p id="lookup-count" class="count level-ok">3/10 DNS lookups</p>' in page
    status, _, body = server.get("/api/test?ip=192.0.2.25&sender=alice%40example.com")
    assert status == 200 and json.loads(body)["result"] == "pass"
    status, _, schema = server.get("/openapi.json")
    assert status == 200 and "/api/wizard" in json.loads(schema)["paths"]


def test_sigterm_stops_it_cleanly() -> None:
    running = start("--listen", "127.0.0.1:0", "--zone", EXAMPLE_ZONE)
    assert running.get("/")[0] == 200
    running.process.send_signal(signal.SIGTERM)
    assert running.process.wait(timeout=15) == 0
    assert running.process.stdout is not None and running.process.stdout.read() == ""
    assert [line for line in running.lines if not LISTENING.match(line.rstrip("\n"))] == []


def test_sigint_stops_it_too() -> None:
    running = start("--listen", "127.0.0.1:0", "--zone", EXAMPLE_ZONE)
    running.process.send_signal(signal.SIGINT)
    assert running.process.wait(timeout=15) == 0


def test_rate_limit_applies_per_client() -> None:
    running = start("--listen", "127.0.0.1:0", "--zone", EXAMPLE_ZONE, "--rate-limit", "2")
    try:
        codes = [running.get("/api/check?domain=example.com")[0] for _ in range(3)]
        assert codes == [200, 200, 429]
        status, headers, body = running.get("/api/check?domain=example.com")
        assert status == 429 and int(headers["retry-after"]) > 0
        assert "at most 2 a minute" in json.loads(body)["detail"]
    finally:
        running.process.send_signal(signal.SIGTERM)
        running.process.wait(timeout=15)


@pytest.mark.parametrize("listen", ["0.0.0.0:8080", "192.0.2.1:8080", "[::]:8080", "example.com:80"])
def test_non_loopback_needs_allow_remote(listen: str) -> None:
    proc = spfkit("web", "--listen", listen, "--zone", EXAMPLE_ZONE)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(f"spfkit: error: --listen {listen.replace('[', '').replace(']', '')} "
                                  "is not a loopback address; add --allow-remote")


@pytest.mark.parametrize("listen", ["8080", "localhost", "127.0.0.1:port", "::1:8080",
                                    "127.0.0.1:70000", "[nonsense]:80"])
def test_a_bad_listen_address_is_a_usage_error(listen: str) -> None:
    proc = spfkit("web", "--listen", listen)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "is not HOST:PORT (like 127.0.0.1:8080 or [::1]:8080)" in proc.stderr


def test_a_port_in_use_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = spfkit("web", "--listen", f"127.0.0.1:{port}", "--zone", EXAMPLE_ZONE)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(f"spfkit: error: cannot listen on 127.0.0.1:{port}: ")


def test_dns_options_are_checked_before_listening() -> None:
    proc = spfkit("web", "--zone", "/nonexistent.zone")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    proc = spfkit("web", "--zone", EXAMPLE_ZONE, "--nameserver", "127.0.0.1")
    assert proc.returncode == 2
    assert "--zone and --nameserver cannot be combined" in proc.stderr


def test_help_lists_every_option() -> None:
    proc = spfkit("web", "--help")
    assert proc.returncode == 0
    for option in ("--listen HOST:PORT", "--nameserver HOST[:PORT]", "--zone FILE",
                   "--timeout SECONDS", "--rate-limit N", "--allow-remote"):
        assert option in proc.stdout, option
    assert "[default: 127.0.0.1:8080]" in proc.stdout and "[default: 60" in proc.stdout
    assert "web" in spfkit("--help").stdout
