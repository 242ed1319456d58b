"""Shell completion as docs/operations.md documents it: click's script, sourced in a real bash,
completes command names and options; and ``spfkit --version``."""

from __future__ import annotations

import os
import subprocess

from spfkit import __version__
from tests.cli.conftest import PYTHON_M, SCRIPT, spfkit


def complete(words: str) -> list[str]:
    """What bash's completion of ``spfkit`` offers for ``words`` (the line so far)."""
    script = subprocess.run(SCRIPT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "_SPFKIT_COMPLETE": "bash_source"})
    assert script.returncode == 0 and "_spfkit_completion" in script.stdout, script.stderr
    line = words.split(" ")
    program = (f"{script.stdout}\n"
               f"COMP_WORDS=({' '.join(repr(w) for w in line)}); COMP_CWORD={len(line) - 1}\n"
               "_spfkit_completion spfkit\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    env = {**os.environ, "PATH": f"{os.path.dirname(SCRIPT[0])}:{os.environ['PATH']}"}
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], capture_output=True,
                          text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_a_command_name_is_completed() -> None:
    assert complete("spfkit pol") == ["policyd"]
    assert sorted(complete("spfkit ve")) == ["verifier", "verify"]


def test_an_option_of_a_command_is_completed() -> None:
    assert complete("spfkit policyd --check-") == ["--check-config"]


def test_zsh_and_fish_scripts_are_produced() -> None:
    for shell, marker in (("zsh", "compdef _spfkit_completion spfkit"), ("fish", "complete")):
        proc = subprocess.run(PYTHON_M, capture_output=True, text=True, timeout=60,
                              env={**os.environ, "_SPFKIT_COMPLETE": f"{shell}_source"})
        assert proc.returncode == 0 and marker in proc.stdout, shell


def test_version() -> None:
    proc = spfkit("--version")
    assert proc.returncode == 0 and proc.stdout == f"spfkit, version {__version__}\n"
