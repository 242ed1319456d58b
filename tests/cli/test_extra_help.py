"""A command whose extra is not installed: ``--help`` shows its options (exit 0), running it
names the extra to install (exit 1), whatever the options. The extra is made missing in a
fresh interpreter (``sys.modules[name] = None`` makes ``import name`` fail) — spfkit's own
code is run as it is."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _without(modules: tuple[str, ...], *args: str) -> subprocess.CompletedProcess[str]:
    code = ("import sys\n"
            f"for name in {modules!r}:\n"
            "    sys.modules[name] = None  # as if not installed\n"
            "from spfkit.cli import main\n"
            f"sys.exit(main({list(args)!r}))\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)


CASES = [("web", "web", ("fastapi",), "fastapi", "--listen HOST:PORT"),
         ("web", "web", ("uvicorn",), "uvicorn", "--allow-remote"),
         ("milter", "milter", ("Milter",), "Milter", "--listen unix:/path|inet:HOST:PORT"),
         ("verifier", "verifier", ("aiosmtpd",), "aiosmtpd", "--listen")]


@pytest.mark.parametrize(("command", "extra", "missing", "module", "option"), CASES)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_shows_the_options_without_the_extra(command: str, extra: str,
                                                  missing: tuple[str, ...], module: str,
                                                  option: str, flag: str) -> None:
    out = _without(missing, command, flag)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    assert out.stdout.startswith(f"Usage: spfkit {command} [OPTIONS]")
    assert option in out.stdout and "Exit status" in out.stdout
    assert out.stdout.rstrip().endswith(f"Needs: pip install 'spfkit[{extra}]'")


@pytest.mark.parametrize(("command", "extra", "missing", "module", "option"), CASES)
@pytest.mark.parametrize("args", [[], ["--listen", "127.0.0.1:0"], ["--no-such-option"],
                                  ["--check-config"]])
def test_running_without_the_extra_names_it(command: str, extra: str, missing: tuple[str, ...],
                                            module: str, option: str, args: list[str]) -> None:
    out = _without(missing, command, *args)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr == (f"spfkit: error: 'spfkit {command}' needs the {extra} extra ({module} "
                          f"is not installed): pip install 'spfkit[{extra}]'\n")


def test_with_the_extra_installed_the_command_runs_as_written() -> None:
    out = _without((), "milter", "--stats", "--control-socket", "/nonexistent/spfkit.sock")
    assert out.returncode == 1 and "control socket /nonexistent/spfkit.sock does not answer" \
        in out.stderr and "needs the" not in out.stderr
