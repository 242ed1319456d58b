"""The command list: ``spfkit --help`` imports no command, and a command whose extra is
missing says which one to install."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import click
import pytest

from spfkit.cli import COMMANDS


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_listed_summary_is_the_commands_own(name: str) -> None:
    entry = COMMANDS[name]
    module, _, attr = entry.target.partition(":")
    command = getattr(importlib.import_module(module), attr)
    assert isinstance(command, click.Command) and command.name == name
    if entry.fixed:
        assert command.short_help == entry.summary
    else:
        assert command.short_help is None
        assert " ".join((command.help or "").split("\n\n")[0].split()) == entry.summary


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)


def test_help_loads_no_command_module() -> None:
    out = _run("import sys\nfrom spfkit.cli import main\nstatus = main(['--help'])\n"
               "loaded = sorted(m for m in sys.modules if m.startswith(('spfkit.cli.', 'fastapi',"
               " 'aiosmtpd', 'uvicorn', 'rich')))\n"
               "print(status, loaded, file=sys.stderr)")
    assert out.stderr.strip() == "0 []", out.stderr
    assert "web       Serve the wizard" in out.stdout


@pytest.mark.parametrize(("command", "extra", "module"), [
    ("web", "web", "fastapi"), ("verifier", "verifier", "aiosmtpd")])
def test_a_missing_extra_is_named(command: str, extra: str, module: str) -> None:
    out = _run(f"import sys\nsys.modules[{module!r}] = None  # as if not installed\n"
               f"from spfkit.cli import main\nsys.exit(main([{command!r}, '--listen', '127.0.0.1:0']))")
    assert out.returncode == 1
    assert out.stderr == (f"spfkit: error: 'spfkit {command}' needs the {extra} extra ({module} is "
                          f"not installed): pip install 'spfkit[{extra}]'\n")
    assert "Traceback" not in out.stderr


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ZONE = str(EXAMPLES / "example.zone")


@pytest.mark.parametrize("args", [
    ["check", "--time-budget", "nan"], ["check", "--time-budget", "inf"],
    ["check", "--time-budget", "0"], ["check", "--timeout", "nan"],
    ["check", "--default-explanation", "%{"], ["check", "--default-explanation", "%{z}"],
    ["verify", "--time-budget", "nan"], ["survey", "--qps", "nan", "-"],
    ["survey", "--timeout", "inf", "-"],
])
def test_option_values_that_mean_nothing_are_usage_errors(args: list[str]) -> None:
    """nan/inf pass float() and click's ranges; a macro-string that does not parse (RFC 7208
    §7.1) would be the explanation of every fail: all are refused before anything runs."""
    from tests.cli.conftest import spfkit

    command, rest = args[0], args[1:]
    tail = {"check": ["--zone", ZONE, "192.0.2.99", "a@parked.example.com"],
            "verify": ["--zone", ZONE, str(EXAMPLES / "message.eml")], "survey": ["--no-progress"]}
    proc = spfkit(command, *rest, *tail[command], stdin="")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("spfkit: error: Invalid value for") and rest[0] in line, line
