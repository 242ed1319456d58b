"""The milter's moving parts without an MTA: counters, the loop thread, the control socket, CLI."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spfkit.identity import Identity
from spfkit.milter.bridge import LoopThread
from spfkit.milter.control import ask, serve_control
from spfkit.milter.counters import EVENTS, Counters
from spfkit.results import Result


def test_counters_from_many_threads() -> None:
    counters = Counters(dns=lambda: (7, 3))

    def work() -> None:
        for _ in range(1000):
            counters.result(Identity.PRA, Result.FAIL)
            counters.event("messages")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    snap = counters.snapshot()
    assert snap["results"]["pra"]["fail"] == 4000 and snap["events"]["messages"] == 4000
    assert snap["results"]["helo"] == {r.value: 0 for r in Result}
    assert set(snap["events"]) == set(EVENTS) and snap["dns"] == {"queries": 7, "cache_hits": 3}
    json.dumps(snap)
    with pytest.raises(AssertionError):
        counters.event("no-such-event")


def test_loop_thread_runs_and_times_out() -> None:
    loop = LoopThread().start()
    try:
        async def value() -> int:
            return 42

        cancelled = threading.Event()

        async def stall() -> None:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                cancelled.set()
                raise

        assert loop.run(value(), 5) == 42
        with pytest.raises(TimeoutError):
            loop.run(stall(), 0.2)
        assert cancelled.wait(5)  # the overrunning coroutine does not live on
    finally:
        loop.stop()


def test_control_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "control.sock")
    loop = LoopThread().start()
    try:
        server = loop.run(serve_control(path, lambda: {"events": {"messages": 5}}), 5)
        assert oct(os.stat(path).st_mode & 0o777) == "0o600"
        assert ask(path) == {"events": {"messages": 5}}
        assert ask(path, "ping") == {"ok": True}
        assert "unknown command" in str(ask(path, "shutdown")["error"])
        server.close()
    finally:
        loop.stop()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spfkit", "milter", *args], capture_output=True,
                          text=True, timeout=60, check=False)


def test_cli_usage_and_config_errors(tmp_path: Path) -> None:
    proc = run_cli("--zone", "a", "--nameserver", "127.0.0.1")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "cannot be combined" in proc.stderr
    proc = run_cli("--check-config")  # no --listen: fine for a check
    assert proc.returncode == 0 and "pra:" in proc.stdout
    proc = run_cli()
    assert proc.returncode == 2 and "no milter socket" in proc.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[milter]\nreject_stage = "data"\n')
    proc = run_cli("--config", str(bad), "--listen", "inet:127.0.0.1:1")
    assert proc.returncode == 2 and "milter.reject_stage" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run_cli("--listen", "tcp:nowhere", "--check-config")
    assert proc.returncode == 2 and "milter.listen" in proc.stderr


def test_cli_help_lists_exit_statuses() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0 and "Exit status:" in proc.stdout and "--stats" in proc.stdout


def test_sigterm_on_an_idle_milter_exits_0(tmp_path: Path) -> None:
    from tests.milter.harness import MilterProcess

    sock = tmp_path / "m.sock"
    proc = MilterProcess(f"unix:{sock}", ["--zone", os.devnull], tmp_path / "m.log").start()
    assert oct(sock.stat().st_mode & 0o777) == "0o666"  # socket_mode: Postfix's smtpd may connect
    assert proc.stop() == 0
    assert proc.lines("stopped")
    assert not sock.exists()  # its UNIX socket removed, as the control socket is


@given(st.text(max_size=600))
def test_reply_text_is_one_ascii_line_with_percent_doubled(text: str) -> None:
    """A reply carries DNS-chosen text (an ``exp=`` explanation): libmilter drops a reply
    with a single ``%``, and SMTP replies are ASCII lines."""
    from spfkit.milter.adapter import _smtp_text

    out = _smtp_text(text)
    assert out.isascii() and out.isprintable()
    assert all(len(run) % 2 == 0 for run in re.findall("%+", out))
    assert _smtp_text("50% of 100%") == "50%% of 100%%"
