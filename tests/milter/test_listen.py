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


def test_a_second_milter_never_takes_a_running_milters_sockets(tmp_path: Path) -> None:
    """A second start on the same UNIX socket, or with the same control socket, is refused
    (exit 1) and leaves the running milter's sockets as they were: it still answers."""
    path, control = tmp_path / "milter.sock", tmp_path / "control.sock"
    first = MilterProcess(f"unix:{path}", ["--log-level", "info", "--control-socket", str(control)],
                          tmp_path / "first.log").start()
    try:
        same_socket = _run("milter", f"unix:{path}")
        assert same_socket.returncode == 1
        assert same_socket.stderr == (f"spfkit: error: cannot listen on unix:{path}: another "
                                      "server is listening there\n"), same_socket.stderr
        with socket.socket(socket.AF_UNIX) as probe:
            probe.connect(str(path))  # still the first milter's
        other = tmp_path / "other.sock"
        same_control = subprocess.run(
            [sys.executable, "-m", "spfkit", "milter", "--listen", f"unix:{other}",
             "--control-socket", str(control), "--log", "stderr"],
            capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL)
        assert same_control.returncode == 1, same_control.stderr
        assert "another server is listening there" in same_control.stderr
        assert not other.exists()
        stats = subprocess.run([sys.executable, "-m", "spfkit", "milter", "--stats",
                                "--control-socket", str(control)],
                               capture_output=True, text=True, timeout=60, check=False)
        assert stats.returncode == 0, stats.stderr  # the first milter's control socket answers
    finally:
        assert first.stop() == 0
    assert not path.exists() and not control.exists()  # the first removes its own at stop


def test_a_control_socket_that_cannot_be_bound_is_one_line_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a socket")
    for control, reason in ((tmp_path / "missing" / "c.sock", "No such file or directory"),
                            (tmp_path / "file", "it exists and is not a socket")):
        proc = subprocess.run([sys.executable, "-m", "spfkit", "milter", "--listen",
                               f"unix:{tmp_path}/m.sock", "--control-socket", str(control)],
                              capture_output=True, text=True, timeout=60, check=False,
                              stdin=subprocess.DEVNULL)
        assert proc.returncode == 1
        assert proc.stderr == f"spfkit: error: cannot listen on unix:{control}: {reason}\n"
    assert not (tmp_path / "m.sock").exists()
