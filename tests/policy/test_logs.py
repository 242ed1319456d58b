"""Where policyd logs: files, syslog (and what happens without one), levels, sanitised lines."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spfkit import logsink
from spfkit.policy.config import ConfigError, parse_config
from spfkit.policy.logs import LOGGER, configure_logging, level_of


@pytest.fixture(autouse=True)
def restore() -> Iterator[None]:
    log = logging.getLogger(LOGGER)
    handlers, level, propagate = list(log.handlers), log.level, log.propagate
    yield
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()
    for handler in handlers:
        log.addHandler(handler)
    log.setLevel(level)
    log.propagate = propagate


def test_levels() -> None:
    assert level_of(parse_config({"debugLevel": 0})) == logging.WARNING
    assert level_of(parse_config({})) == logging.INFO
    assert level_of(parse_config({"debugLevel": 5})) == logging.DEBUG


def test_a_log_file(tmp_path: Path) -> None:
    path = tmp_path / "policyd.log"
    log = configure_logging(parse_config({"log": str(path)}), stdio=False)
    log.info("SPF pass: one line")
    log.debug("not at level 1")
    for handler in log.handlers:
        handler.flush()
    text = path.read_text()
    assert "spfkit-policyd[" in text and "SPF pass: one line" in text and "not at level" not in text


def test_an_unwritable_log_file_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="log: cannot open"):
        configure_logging(parse_config({"log": "/nonexistent/dir/x.log"}), stdio=False)


def test_syslog_over_a_unix_datagram_socket(tmp_path: Path) -> None:
    path = tmp_path / "log.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(5)
    try:
        log = configure_logging(parse_config({"log": "syslog", "syslog_address": str(path)}),
                                stdio=False)
        log.warning("malformed policy request")
        datagram = server.recv(4096).decode()
    finally:
        server.close()
    # <PRI>: facility mail (2) * 8 + warning (4) = 20
    assert datagram.startswith("<20>spfkit-policyd[")
    assert datagram.rstrip("\x00").endswith("warning: malformed policy request")


def test_without_syslog_a_server_logs_to_stderr_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = parse_config({"log": "syslog", "syslog_address": str(tmp_path / "missing")})
    log = configure_logging(config, stdio=False)
    log.info("after")
    err = capsys.readouterr().err
    assert "warning: syslog is not reachable at" in err and "after" in err


@given(st.lists(st.floats(0, 4e9, allow_nan=False), max_size=20))
def test_a_log_file_line_has_the_standard_timestamp_whatever_the_order(times: list[float]) -> None:
    """The file sink's formatter formats each second once; every line still gets logging's
    own time (spfkit.logsink.OneLineFormatter)."""
    ours, standard = logsink.OneLineFormatter(timestamp=True), logging.Formatter()
    for created in sorted(times) + times:  # in order (the cache is used), then any order
        record = logging.LogRecord("t", logging.INFO, "", 0, "m", None, None)
        record.created, record.msecs = created, int((created - int(created)) * 1000) + 0.0
        assert ours.formatTime(record) == standard.formatTime(record)
