"""Text from DNS reaches the terminal with its control characters shown, never acted on: a
record holding ``ESC [31m`` (or a CR, or a right-to-left override) cannot recolour, move the
cursor or hide text in ``show``, ``check`` or ``lint``."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spfkit.cli.output import escape
from spfkit.visible import visible_text
from tests.cli.conftest import spfkit

ZONE = """$ORIGIN test.
$TTL 300
@ IN SOA ns hostmaster 1 1 1 1 1
esc IN TXT "v=spf1 \\027[31mred\\027[0m -all"
cr IN TXT "v=spf1 a\\013b -all"
bidi IN TXT "v=spf1 ip4:192.0.2.1 -all exp=why.bidi.test"
why.bidi IN TXT "evil \\027[2J %{i}"
"""
CONTROLS = ("\x1b", "\r", "\u202e")


@pytest.fixture
def zone(tmp_path: Path) -> str:
    path = tmp_path / "hostile.zone"
    path.write_text(ZONE)
    return str(path)


@pytest.mark.parametrize("args", [
    ("show", "esc.test"), ("show", "cr.test"), ("lint", "esc.test"), ("lint", "cr.test"),
    ("check", "198.51.100.1", "a@esc.test"), ("check", "198.51.100.1", "a@cr.test"),
    ("check", "--trace", "198.51.100.1", "a@esc.test"),
])
def test_controls_from_dns_are_shown_not_sent(zone: str, args: tuple[str, ...]) -> None:
    proc = spfkit(args[0], "--zone", zone, *args[1:])
    assert proc.returncode in (0, 1, 2) and not proc.stderr, proc.stderr  # lint: 2 for errors
    assert not any(c in proc.stdout for c in CONTROLS), proc.stdout
    assert "x1b" in proc.stdout or "x0d" in proc.stdout or "u202e" in proc.stdout \
        or "\u241b" in proc.stdout or "\u240d" in proc.stdout  # shown, as an escape or a picture


def test_an_explanation_holding_a_control_is_not_shown(zone: str) -> None:
    """§6.2: an explanation that is no macro-string is not used: the default one is shown."""
    proc = spfkit("check", "--zone", zone, "198.51.100.1", "a@bidi.test")
    assert proc.returncode == 0 and "\x1b" not in proc.stdout
    assert "explanation: bidi.test does not designate 198.51.100.1" in proc.stdout


@given(st.text())
def test_escaped_text_holds_no_control_and_keeps_the_rest(text: str) -> None:
    shown = visible_text(text)
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in shown)
    if text.isprintable():
        assert shown == text
    assert "\x1b" not in escape(text)


EXAMPLE_ZONE = str(Path(__file__).resolve().parents[2] / "examples" / "example.zone")


@pytest.mark.parametrize("args", [
    ("check", "--json", "192.0.2.25", "a\udcff@example.com"),  # argv octet 0xff, not UTF-8
    ("lint", "--json", "ex\udcffample.com"),
    ("lint", "--format", "json", "example.com", "ex\udcffample.com"),  # JSON Lines
    ("show", "--json", "ex\udcffample.com"),
])
def test_json_output_is_utf8_whatever_the_input(args: tuple[str, ...]) -> None:
    """RFC 8259 §8.1: JSON text is UTF-8; an octet that was not (a lone surrogate here) is
    written as the escape the text output shows, never as the raw octet."""
    proc = spfkit(args[0], "--zone", EXAMPLE_ZONE, *args[1:])
    assert proc.returncode in (0, 1, 2) and not proc.stderr, proc.stderr  # lint: 2, no record
    text = proc.stdout.encode("utf-8").decode("utf-8")  # strict: a lone surrogate fails here
    assert "\\\\udcff" in text
    for line in (text.splitlines() if "--format" in args else [text]):
        json.loads(line)
