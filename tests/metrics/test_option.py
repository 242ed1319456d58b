"""``--metrics`` refusals: one line each, before anything serves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import spfkit

ROOT = Path(__file__).resolve().parents[2]
ZONE = str(ROOT / "examples" / "example.zone")


@pytest.mark.parametrize(("args", "message"), [
    (["policyd", "--zone", ZONE, "--metrics", "127.0.0.1:0"], "--metrics needs --listen"),
    (["policyd", "--zone", ZONE, "--listen", "127.0.0.1:0", "--check-config",
      "--metrics", "127.0.0.1:0"], "cannot be combined with --check-config"),
    (["policyd", "--zone", ZONE, "--listen", "127.0.0.1:0", "--workers", "2",
      "--metrics", "127.0.0.1:0"], "cannot be combined with --workers"),
    (["policyd", "--metrics", "unix:/tmp/m.sock"], "the metrics endpoint is HTTP over TCP"),
    (["web", "--metrics", "localhost:9100"], "'localhost' is not an IP address"),
    (["web", "--metrics", "127.0.0.1:99999"], "the port must be 0-65535"),
])
def test_a_bad_metrics_option_is_a_usage_error(args: list[str], message: str) -> None:
    proc = spfkit(*args)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("spfkit: error: ") and message in lines[0]


def test_a_taken_metrics_port_is_a_usage_error() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = spfkit("web", "--zone", ZONE, "--listen", "127.0.0.1:0",
                      "--metrics", f"127.0.0.1:{port}")
    assert proc.returncode == 2
    assert proc.stderr == (f"spfkit: error: --metrics: cannot listen on 127.0.0.1:{port}: "
                           "Address already in use (see 'spfkit web --help')\n")


@pytest.mark.parametrize("command", [["policyd", "--zone", ZONE, "--listen", "127.0.0.1:0"],
                                     ["web", "--zone", ZONE, "--listen", "127.0.0.1:0"]])
def test_without_prometheus_client_it_names_the_extra(command: list[str]) -> None:
    code = ("import sys\nsys.modules['prometheus_client'] = None  # as if not installed\n"
            f"from spfkit.cli import main\nsys.exit(main({[*command, '--metrics', '127.0.0.1:0']!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert out.stderr == ("spfkit: error: --metrics needs the metrics extra (prometheus_client "
                          "is not installed): pip install 'spfkit[metrics]'\n")


def test_without_the_option_prometheus_client_is_not_imported() -> None:
    code = ("import sys\nfrom spfkit.cli import main\n"
            "main(['policyd', '--zone', %r, '--check-config'])\n"
            "print('prometheus_client' in sys.modules, file=sys.stderr)" % ZONE)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stderr.strip() == "False", out.stderr
