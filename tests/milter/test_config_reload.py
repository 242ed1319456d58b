"""A configuration file that is not UTF-8 is one more invalid configuration: refused with one
line by ``--check-config`` (exit 2), and refused on SIGHUP with the running milter kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.milter.harness import MilterProcess


def test_a_config_that_is_not_utf8_is_refused_and_the_running_one_kept(tmp_path: Path) -> None:
    config = tmp_path / "milter.toml"
    config.write_text('HELO_reject = "Fail"\n')
    sock = tmp_path / "m.sock"
    milter = MilterProcess(f"unix:{sock}", ["--config", str(config), "--zone", os.devnull],
                           tmp_path / "m.log").start()
    try:
        config.write_bytes(b'HELO_reject = "Fail"\n\xff = 1\n')
        check = subprocess.run([sys.executable, "-m", "spfkit", "milter", "--config", str(config),
                                "--check-config"], capture_output=True, text=True, timeout=60)
        assert check.returncode == 2 and check.stderr.count("\n") == 1, check.stderr
        assert "not UTF-8" in check.stderr and "Traceback" not in check.stderr
        milter.signal(signal.SIGHUP)
        (line,) = milter.wait_lines("reload failed")
        assert "not UTF-8" in line
        assert milter.alive() and sock.exists()
        assert "Traceback" not in milter.text()
    finally:
        assert milter.stop() == 0
