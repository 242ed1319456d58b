"""``policyd`` without ``--config`` reads ``/etc/spfkit/policyd.toml`` when it exists.

The directory is ``$SPFKIT_CONFIG_DIR`` when set (here a temporary one): nothing is written
to /etc. A real process each time, so the environment is the process's own.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from spfkit.cli.policyd import CONFIG_DIR
from tests.cli.conftest import PYTHON_M


def policyd(config_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SPFKIT_CONFIG_DIR": str(config_dir)}
    return subprocess.run([*PYTHON_M, "policyd", *args], capture_output=True, text=True,
                          env=env, timeout=60)


def test_the_default_directory_is_etc_spfkit() -> None:
    assert CONFIG_DIR == "/etc/spfkit"


def test_the_file_in_the_config_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / "policyd.toml").write_text('Mail_From_reject = "Softfail"\ntest_only = true\n')
    proc = policyd(tmp_path, "--check-config")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == f"{tmp_path}/policyd.toml: OK"
    assert "softfail=reject" in proc.stdout and "test_only: true" in proc.stdout


def test_an_invalid_default_file_is_reported_like_any_other(tmp_path: Path) -> None:
    (tmp_path / "policyd.toml").write_text('HELO_reject = "Fial"\n')
    proc = policyd(tmp_path, "--check-config")
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"spfkit: error: {tmp_path}/policyd.toml:1: HELO_reject: ")


def test_no_file_means_the_defaults_and_config_overrides(tmp_path: Path) -> None:
    proc = policyd(tmp_path, "--check-config")
    assert proc.returncode == 0 and proc.stdout.startswith("(no file: the defaults): OK")
    (tmp_path / "policyd.toml").write_text('HELO_reject = "Fial"\n')  # not read: --config wins
    other = tmp_path / "other.toml"
    other.write_text("test_only = true\n")
    proc = policyd(tmp_path, "--config", str(other), "--check-config")
    assert proc.returncode == 0 and proc.stdout.startswith(f"{other}: OK")
