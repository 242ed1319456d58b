"""``spfkit milter --listen``: a socket that cannot be bound is policyd's one line and exit
status 1 (docs/milter.md), never a ``listening on`` line; a bound one is announced. Real
processes, real libmilter (pymilter)."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.milter.harness import MilterProcess


def _run(command: str, listen: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spfkit", command, "--listen", listen,
                           "--log", "stderr", "--log-level", "debug"],
                          capture_output=True, text=True, timeout=60, check=False,
                          stdin=subprocess.DEVNULL)


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        yield sock.getsockname()[1]


def _cases(tmp_path: Path, port: int) -> list[tuple[str, str, str]]:
    (tmp_path / "file").write_text("not a socket")
    return [(f"unix:{tmp_path}/missing/dir/milter.sock", f"unix:{tmp_path}/missing/dir/milter.sock",
             "No such file or directory"),
            (f"unix:{tmp_path}/file", f"unix:{tmp_path}/file", "it exists and is not a socket"),
            (f"inet:127.0.0.1:{port}", f"127.0.0.1:{port}", "Address already in use")]


def test_a_socket_that_cannot_be_bound_is_one_line_and_exit_1(tmp_path: Path,
                                                                taken_port: int) -> None:
    for listen, shown, reason in _cases(tmp_path, taken_port):
        proc = _run("milter", listen)
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr == f"spfkit: error: cannot listen on {shown}: {reason}\n", proc.stderr
        # the same words as policyd for the same socket (docs/policyd.md)
        policyd = _run("policyd", listen.removeprefix("inet:"))
        assert (policyd.returncode, policyd.stderr) == (1, proc.stderr), policyd.stderr
    assert (tmp_path / "file").read_text() == "not a socket"  # left as it was
    assert not (tmp_path / "missing").exists()


def test_a_bound_socket_is_announced_and_removed_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "milter.sock"
    milter = MilterProcess(f"unix:{path}", ["--log-level", "info"], tmp_path / "milter.log")
    milter.start()  # waits for a connection to be accepted, then for "listening on"
    try:
        [line] = milter.lines("listening on")
        assert f"listening on unix:{path} (Postfix: smtpd_milters = unix:{path})" in line
        assert path.is_socket()
    finally:
        assert milter.stop() == 0
    assert not path.exists() and "error" not in milter.text()


def test_a_socket_left_by_a_dead_milter_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "milter.sock"
    with socket.socket(socket.AF_UNIX) as stale:
        stale.bind(str(path))  # closed, never unlinked: what a killed milter leaves
    milter = MilterProcess(f"unix:{path}", ["--log-level", "info"], tmp_path / "milter.log")
    milter.start()
    assert milter.stop() == 0 and milter.lines("listening on")
