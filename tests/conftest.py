"""Root conftest: only the conformance summary hook.

pytest calls ``pytest_terminal_summary`` in the controller process; under pytest-xdist that
process loads only the initial conftests (this one), never ``tests/conformance/conftest.py``.
"""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print ``rfc7208: N/203 passed`` and ``rfc4408: N/191 passed`` after a conformance run."""
    if not any("tests/conformance/" in getattr(r, "nodeid", "")
               for key in ("passed", "failed", "error") for r in terminalreporter.stats.get(key, ())):
        return
    from tests.conformance.harness import summary_lines

    lines = summary_lines(terminalreporter.stats)
    if lines:
        terminalreporter.section("openspf conformance")
        for line in lines:
            terminalreporter.write_line(line)
