"""packaging/logrotate/spfkit: ``logrotate -d`` accepts it, and a real rotation under a running
``policyd --log FILE`` loses no line and writes none into the rotated file.

The file is used as shipped but for its path (a temporary directory for /var/log/spfkit) and
its user (``su`` and ``create`` name this process's user and group for spfkit, who need not
exist here). The rotation is forced (``-f``) with its own state file.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import subprocess
import sys
import time
from pathlib import Path

from tests.fixtures.ports import free_port
from tests.metrics.test_services import ask, policy_request

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "packaging" / "logrotate" / "spfkit"
ZONE = ROOT / "examples" / "example.zone"


def configured(log_dir: Path) -> Path:
    text = SHIPPED.read_text()
    assert "/var/log/spfkit/*.log {" in text and "su spfkit spfkit" in text
    user, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    text = text.replace("/var/log/spfkit/", f"{log_dir}/").replace("spfkit spfkit", f"{user} {group}")
    conf = log_dir.parent / "logrotate.conf"
    conf.write_text(text)
    return conf


def logrotate(conf: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["logrotate", *flags, "-s", str(conf.parent / "state"), str(conf)],
                          capture_output=True, text=True, timeout=60)


def test_logrotate_debug_mode_accepts_the_file(tmp_path: Path) -> None:
    log_dir = tmp_path / "log"
    log_dir.mkdir(mode=0o750)
    (log_dir / "policyd.log").write_text("a line\n")
    proc = logrotate(configured(log_dir), "-d")
    assert proc.returncode == 0, proc.stderr
    assert "error" not in proc.stderr.lower(), proc.stderr
    assert f"considering log {log_dir}/policyd.log" in proc.stderr


def test_logrotate_rejects_a_broken_file(tmp_path: Path) -> None:
    """The check above could pass by reading nothing: a misspelt directive is an error."""
    log_dir = tmp_path / "log"
    log_dir.mkdir(mode=0o750)
    conf = configured(log_dir)
    conf.write_text(conf.read_text().replace("notifempty", "notifempti"))
    proc = logrotate(conf, "-d")
    assert "error:" in proc.stderr and "unknown option 'notifempti'" in proc.stderr


def wait_for_line(path: Path, pattern: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if re.search(pattern, text):
            return text
        time.sleep(0.05)
    raise AssertionError(f"{path}: no line matching {pattern!r}")


def test_a_rotation_under_a_running_policyd_keeps_every_line(tmp_path: Path) -> None:
    log_dir = tmp_path / "log"
    log_dir.mkdir(mode=0o750)
    log = log_dir / "policyd.log"
    conf = configured(log_dir)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "spfkit", "policyd", "--listen", f"127.0.0.1:{port}",
         "--zone", str(ZONE), "--log", str(log), "--log-level", "info"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_line(log, r"listening on 127\.0\.0\.1")
        ask(port, [policy_request("192.0.2.25", "alice@example.com", "before")])
        wait_for_line(log, r"envelope-from=\"alice@example\.com\"")
        proc = logrotate(conf, "-f")
        assert proc.returncode == 0, proc.stderr
        rotated = log_dir / "policyd.log.1"
        assert rotated.exists() and log.exists() and log.stat().st_size == 0
        ask(port, [policy_request("192.0.2.99", "bob@example.com", "after")])
        after = wait_for_line(log, r"envelope-from=\"bob@example\.com\"")
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0, process.stderr.read() if process.stderr else ""
    before = rotated.read_text()
    assert "alice@example.com" in before and "bob@example.com" not in before
    assert "alice@example.com" not in after
    assert "stopped" in log.read_text()  # the last lines went to the new file too
