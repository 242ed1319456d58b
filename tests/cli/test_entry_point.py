"""The program as a process: ``python -m spfkit`` and the ``spfkit`` script start, exit 0 or 2,
and print what the in-process runs of the other CLI tests see (``tests/cli/conftest.py``)."""

from __future__ import annotations

import logging
import signal
from pathlib import Path

import pytest

from spfkit import __version__
from tests.cli.conftest import PYTHON_M, SCRIPT, spfkit, spfkit_process

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ZONE = str(ROOT / "examples" / "example.zone")
MESSAGE = str(ROOT / "examples" / "message.eml")
REQUEST = (b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.99\n"
           b"helo_name=mail.example.com\nsender=news@news.example.com\nrecipient=b@example.org\n\n")

COMMANDS = pytest.mark.parametrize("command", [PYTHON_M, SCRIPT], ids=["python -m spfkit", "spfkit"])


@COMMANDS
def test_it_starts_and_exits_0(command: tuple[str, ...]) -> None:
    proc = spfkit_process("--version", command=command)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"spfkit, version {__version__}\n", "")


@COMMANDS
@pytest.mark.parametrize("args", [["check", "300.1.1.1", "a@example.com"], ["nosuchcommand"]])
def test_a_usage_error_is_one_line_and_exit_2(command: tuple[str, ...], args: list[str]) -> None:
    proc = spfkit_process(*args, command=command)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("spfkit: error: ")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(("args", "stdin"), [
    pytest.param(["check", "--zone", EXAMPLE_ZONE, "--trace", "192.0.2.99", "bob@example.com"],
                 None, id="check text and trace"),
    pytest.param(["lint", "--record", "v=spf1 ptr ipv4:192.0.2.1 ＋all"], None,
                 id="lint text and carets"),
    pytest.param(["show", "--zone", EXAMPLE_ZONE, "news.example.com"], None, id="show tree"),
    pytest.param(["verify", MESSAGE, "--zone", EXAMPLE_ZONE, "--receiver", "mx.example.org"], None,
                 id="verify text"),
    pytest.param(["wizard", "example.com", "--zone", EXAMPLE_ZONE, "--include",
                  "_spf.mailprovider.example"], None, id="wizard notes on stderr"),
    pytest.param(["wizard", "example.net", "--offline", "--interactive", "--format", "text"],
                 "\n".join(["", "y", "300.1.1.1", "192.0.2.7", "", "", "", "", "", "fail", ""]) + "\n",
                 id="wizard questions from a pipe"),
    pytest.param(["wizard", "example.net", "--offline", "--interactive"], "",
                 id="wizard end of input: 130"),
    pytest.param(["policyd", "--zone", EXAMPLE_ZONE, "--explain", "--log-level", "debug"], REQUEST,
                 id="policyd explain from stdin"),
    pytest.param(["check", "--help"], None, id="help"),
    pytest.param(["lint", "--timeout", "soon", "example.com"], None, id="usage error"),
])
def test_in_process_output_is_the_piped_output(args: list[str], stdin: bytes | str | None) -> None:
    real, here = spfkit_process(*args, stdin=stdin), spfkit(*args, stdin=stdin)
    assert (here.returncode, here.stdout, here.stderr) == (real.returncode, real.stdout, real.stderr)


def test_in_process_runs_leave_logging_and_signals_as_they_were() -> None:
    """``policyd --explain`` configures its logger; the next test must not inherit it."""
    logger = logging.getLogger("spfkit.policyd")

    def state() -> tuple[object, ...]:
        return (list(logger.handlers), logger.level, logger.propagate, logging.raiseExceptions,
                signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP))

    before = state()
    assert spfkit("policyd", "--zone", EXAMPLE_ZONE, "--explain", stdin=REQUEST).returncode == 0
    assert state() == before
