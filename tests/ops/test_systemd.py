"""The systemd units in packaging/systemd/: ``systemd-analyze verify`` accepts each, and
``systemd-analyze security`` rates each hardened.

verify needs each ``ExecStart=`` program to exist and each ``man:`` page of
``Documentation=`` to open: the units are copied with ``/usr/local/bin/spfkit`` pointing at
the ``spfkit`` script installed for these tests, and ``MANPATH`` at pages generated from the
command line (``spfkit.cli.manpage``) — so a unit naming a page that is not generated fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from spfkit.cli.manpage import write_pages
from tests.cli.conftest import SCRIPT

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "packaging" / "systemd").glob("*.service"))
INSTALLED = "/usr/local/bin/spfkit"  # where the units expect it (docs/operations.md)


@pytest.fixture(scope="module")
def manpath(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("man")
    write_pages(root / "man1")
    return root


def analyze(unit: Path, tmp_path: Path, manpath: Path, *args: str) -> subprocess.CompletedProcess[str]:
    text = unit.read_text()
    assert INSTALLED in text
    copy = tmp_path / unit.name
    copy.write_text(text.replace(INSTALLED, SCRIPT[0]))
    return subprocess.run(["systemd-analyze", *args, str(copy)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "MANPATH": str(manpath)})


def test_the_three_units_are_there() -> None:
    assert [unit.name for unit in UNITS] == [
        "spfkit-milter.service", "spfkit-policyd.service", "spfkit-web.service"]


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_systemd_analyze_verify_accepts_the_unit(unit: Path, tmp_path: Path, manpath: Path) -> None:
    proc = analyze(unit, tmp_path, manpath, "verify")
    assert proc.returncode == 0 and proc.stdout + proc.stderr == "", proc.stderr


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_the_unit_is_hardened(unit: Path, tmp_path: Path, manpath: Path) -> None:
    proc = analyze(unit, tmp_path, manpath, "security", "--offline=true")
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d) (\w+)", proc.stdout)
    assert found is not None, proc.stdout + proc.stderr
    assert float(found.group(1)) <= 2.0 and found.group(2) == "OK", found.group(0)
    text = unit.read_text()
    for setting in ("ProtectSystem=strict", "PrivateTmp=yes", "NoNewPrivileges=yes",
                    "CapabilityBoundingSet=\n", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
                    "SystemCallFilter=@system-service", "User=spfkit"):
        assert setting in text, setting


def test_the_policyd_unit_listens_on_loopback_and_the_milter_on_its_runtime_socket() -> None:
    policyd = (ROOT / "packaging/systemd/spfkit-policyd.service").read_text()
    milter = (ROOT / "packaging/systemd/spfkit-milter.service").read_text()
    assert "policyd --listen 127.0.0.1:10023" in policyd
    assert "--listen unix:/run/spfkit/milter.sock" in milter and "RuntimeDirectory=spfkit" in milter


def test_a_mistake_in_a_unit_is_caught(tmp_path: Path, manpath: Path) -> None:
    """The check could pass by looking at nothing: a misspelt value and a page that does not
    exist are reported."""
    bad = tmp_path / "src" / "spfkit-bad.service"
    bad.parent.mkdir()
    bad.write_text(UNITS[1].read_text().replace("ProtectSystem=strict", "ProtectSystem=strickt")
                   .replace("man:spfkit-policyd(1)", "man:spfkit-nosuch(1)"))
    proc = analyze(bad, tmp_path, manpath, "verify")
    assert proc.returncode != 0
    assert "protect system value, ignoring: strickt" in proc.stderr  # a warning: caught by ""
    assert "spfkit-nosuch" in proc.stderr


def test_the_sysusers_file_makes_the_spfkit_user(tmp_path: Path) -> None:
    """systemd-sysusers in a temporary root: the user the units run as, with no login."""
    (tmp_path / "etc").mkdir()
    proc = subprocess.run(["systemd-sysusers", f"--root={tmp_path}",
                           str(ROOT / "packaging" / "sysusers" / "spfkit.conf")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    (entry,) = [line.split(":") for line in (tmp_path / "etc" / "passwd").read_text().splitlines()
                if line.startswith("spfkit:")]
    assert entry[6] == "/usr/sbin/nologin" and entry[2] == entry[3]
    assert any(line.startswith("spfkit:") for line in (tmp_path / "etc" / "group").read_text().splitlines())


@pytest.mark.parametrize("installed", [False, True])
def test_the_milter_units_command_starts_with_or_without_its_file(tmp_path: Path,
                                                                  installed: bool) -> None:
    """The unit's ExecStart names no --config: /etc/spfkit/milter.toml is read when it exists
    (the example installed as operations.md says), the defaults otherwise — never "cannot
    read", which would keep the unit from starting."""
    unit = (ROOT / "packaging/systemd/spfkit-milter.service").read_text()
    (exec_start,) = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    args = exec_start.split()[1:]  # "milter --listen unix:/run/spfkit/milter.sock --log stderr"
    assert "--config" not in args
    if installed:
        (tmp_path / "milter.toml").write_text((ROOT / "examples/milter.toml").read_text())
    proc = subprocess.run([sys.executable, "-m", "spfkit", *args, "--check-config"],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "SPFKIT_CONFIG_DIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    shown = f"{tmp_path}/milter.toml: OK" if installed else "(no file: the defaults): OK"
    assert proc.stdout.splitlines()[0] == shown
    defaults = subprocess.run([sys.executable, "-m", "spfkit", *args, "--check-config",
                               "--config", "/dev/null"], capture_output=True, text=True, timeout=60)
    assert proc.stdout.splitlines()[1:] == defaults.stdout.splitlines()[1:]  # the example: defaults
