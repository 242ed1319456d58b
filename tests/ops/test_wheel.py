"""The wheel carries what the help text and the units point to, and the help finds it.

A copy of the source tree is built with pip (as a user's ``pip install .`` does), the wheel's
file list is read, and it is installed into a fresh virtual environment whose ``spfkit
policyd --help`` must name files that exist there, with the repository's text.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_SKIP = shutil.ignore_patterns(".git", ".venv", "build", "dist", "artifacts", "__pycache__",
                               "*.egg-info", ".pytest_cache", ".mypy_cache", ".ruff_cache")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("tree") / "spfkit"
    shutil.copytree(ROOT, tree, ignore=_SKIP)
    out = tree.parent / "dist"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q",
                           "--disable-pip-version-check", "-w", str(out)], cwd=tree,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (found,) = out.glob("spfkit-*.whl")
    return found


def test_the_wheel_carries_docs_examples_and_packaging(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    data = next(n for n in names if ".data/data/" in n).split(".data/data/")[0] + ".data/data/"
    expected = {f"share/doc/spfkit/docs/{p.name}" for p in (ROOT / "docs").glob("*.md")}
    expected |= {f"share/doc/spfkit/examples/{p.name}" for p in (ROOT / "examples").iterdir()}
    expected |= {f"share/spfkit/systemd/{p.name}" for p in (ROOT / "packaging/systemd").iterdir()}
    expected |= {"share/spfkit/logrotate/spfkit", "share/spfkit/sysusers/spfkit.conf"}
    assert {"share/doc/spfkit/docs/policyd.md", "share/doc/spfkit/docs/metrics.md",
            "share/doc/spfkit/docs/operations.md", "share/doc/spfkit/examples/policyd.toml",
            "share/spfkit/systemd/spfkit-policyd.service"} <= expected
    assert {data + name for name in expected} <= names
    assert "spfkit/web/templates/check.html" in names and "spfkit/py.typed" in names


def test_the_installed_help_points_at_installed_files(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip",
                    str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                              "-q", "--no-deps", "--no-index", "--disable-pip-version-check",
                              "--force-reinstall",  # even when the host has spfkit installed
                              str(wheel)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run([str(python), "-c", "import spfkit; print(spfkit.__file__)"],
                           capture_output=True, text=True, env=env, timeout=60)
    assert where.stdout.startswith(str(venv)), where.stdout  # the wheel's copy, not the tree
    proc = subprocess.run([str(venv / "bin" / "spfkit"), "policyd", "--help"], capture_output=True,
                          text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    docs = re.search(r"Documentation:\s+(\S+)", proc.stdout)
    example = re.search(r"Example file:\s+(\S+)", proc.stdout)
    assert docs is not None and example is not None, proc.stdout
    assert docs.group(1) == f"{venv}/share/doc/spfkit/docs/policyd.md"
    assert Path(docs.group(1)).read_text() == (ROOT / "docs" / "policyd.md").read_text()
    assert Path(example.group(1)).read_text() == (ROOT / "examples" / "policyd.toml").read_text()
