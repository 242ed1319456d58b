"""The manual pages: generated from the command tree, rendered by man(1) without a warning."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spfkit.cli import COMMANDS
from spfkit.cli.manpage import escape

ROOT = Path(__file__).resolve().parents[2]


def render(page: Path) -> subprocess.CompletedProcess[str]:
    """``man -l`` as a reader runs it, 80 columns, groff's warnings on."""
    env = {**os.environ, "MANWIDTH": "80", "MAN_KEEP_FORMATTING": "", "LC_ALL": "C.UTF-8"}
    return subprocess.run(["man", "--warnings", "-l", str(page)], capture_output=True,
                          text=True, env=env, timeout=60)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("man")
    proc = subprocess.run([str(ROOT / "scripts" / "make-man.sh"), str(directory)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return {path.name: path for path in directory.iterdir()}


def test_one_page_per_command_and_one_for_spfkit(pages: dict[str, Path]) -> None:
    assert sorted(pages) == sorted(["spfkit.1", *(f"spfkit-{name}.1" for name in COMMANDS)])


@pytest.mark.parametrize("name", ["spfkit", *COMMANDS])
def test_each_page_renders_without_warnings(pages: dict[str, Path], name: str) -> None:
    file_name = "spfkit.1" if name == "spfkit" else f"spfkit-{name}.1"
    proc = render(pages[file_name])
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    text = proc.stdout
    for heading in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "SEE ALSO"):
        assert f"\n{heading}\n" in text, heading
    # a path under this Python's prefix is as long as it is (man never breaks a word)
    assert max(len(line) for line in text.splitlines() if sys.prefix not in line) <= 80
    if name == "spfkit":
        assert "--version" in text and all(f"spfkit-{n}(1)" in text for n in COMMANDS)
    else:
        assert f"spfkit {name} [OPTIONS]" in text and "--help" in text and "spfkit(1)" in text


def test_the_policyd_page_says_what_its_help_says(pages: dict[str, Path]) -> None:
    from tests.cli.conftest import spfkit

    text = " ".join(render(pages["spfkit-policyd.1"]).stdout.split())
    helped = spfkit("policyd", "--help").stdout
    for option in ("--listen ADDR", "--check-config", "--explain", "--metrics HOST:PORT"):
        assert option in helped and option in text
    assert "SIGHUP reloads --config" in text and "Exit status: 0 when stopped" in text


def test_a_page_with_a_troff_mistake_is_caught(tmp_path: Path) -> None:
    """The check above could pass by seeing nothing: a bad glyph gives a warning."""
    bad = tmp_path / "bad.1"
    bad.write_text('.TH "BAD" "1"\n.SH NAME\nbad \\- \\[nosuchglyph]\n')
    assert "nosuchglyph" in render(bad).stderr


@pytest.mark.parametrize(("text", "troff"), [
    ("--zone FILE", "\\-\\-zone FILE"), (".starts with a dot", "\\&.starts with a dot"),
    ("'quoted", "\\&'quoted"), ("a\\b", "a\\eb"), ("§4.6.4 — ok", "\\[u00A7]4.6.4 \\[u2014] ok"),
])
def test_escape(text: str, troff: str) -> None:
    assert escape(text) == troff


@settings(deadline=None)  # a loaded machine must not fail it
@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r")))
def test_escaped_text_is_one_safe_ascii_troff_line(text: str) -> None:
    line = escape(text)
    assert line.isascii() and "\n" not in line
    assert not line.startswith((".", "'"))  # never read as a request
    assert "-" not in line.replace("\\-", "")  # every hyphen is a minus sign
    assert "\\" not in line.replace("\\e", "").replace("\\-", "").replace("\\&", "") \
        .replace("\\[u", "")  # no escape but the four it writes
