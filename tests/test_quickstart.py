"""The README's first quick-start command on a fresh clone with Debian's own python3, whose
packages the system manages (PEP 668: no system-wide pip), as CI runs the second."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEBIAN_PYTHON = Path("/usr/bin/python3")


def _externally_managed(python: Path) -> bool:
    out = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
                         capture_output=True, text=True, check=True, timeout=30)
    return (Path(out.stdout.strip()) / "EXTERNALLY-MANAGED").exists()


@pytest.mark.timeout(600)
def test_the_first_command_works_with_debians_python3(tmp_path: Path) -> None:
    assert DEBIAN_PYTHON.exists(), "Debian's python3 is needed (scripts/test-all.sh installs it)"
    assert shutil.which("git"), "git is needed"
    clone = tmp_path / "spfkit"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CERT", "SSL_CERT_FILE"):
        if name in os.environ:  # how this machine reaches the package registry, if set
            env[name] = os.environ[name]
    out = subprocess.run(["bash", "scripts/try-example.sh"], cwd=clone, env=env,
                         capture_output=True, text=True, timeout=540, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("pass  192.0.2.25 → alice@example.com"), out.stdout
    assert "decided by: mx in the record of example.com" in out.stdout
    if _externally_managed(DEBIAN_PYTHON):
        assert (clone / ".venv" / "bin" / "spfkit").exists()  # installed beside, not into, the system
