"""``spfkit.logsink``: a stalled log sink never blocks the caller; lines stay one line each."""

from __future__ import annotations

import logging
import os
import threading
import time

from spfkit import logsink


def _logger(name: str, handler: logging.Handler) -> logging.Logger:
    log = logging.getLogger(name)
    log.handlers.clear()
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    return log


def test_a_pipe_nobody_reads_never_blocks_the_logger() -> None:
    read_end, write_end = os.pipe()  # a pipe buffer of 64 KiB, then write() blocks
    stream = os.fdopen(write_end, "w", buffering=1)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logsink.OneLineFormatter("test: "))
    log = _logger("spfkit.test.stalled", handler)
    running = logsink.start(log, maxsize=100)
    done = threading.Event()

    def flood() -> None:
        for n in range(20_000):  # about 1 MB of lines: far more than the pipe holds
            log.info("line %d %s", n, "x" * 40)
        done.set()

    threading.Thread(target=flood, daemon=True).start()
    assert done.wait(30), "logging blocked on a stalled sink"
    assert running.dropped > 0
    # drain the pipe: the writer thread catches up and says how much was lost
    seen = b""
    while b"log records were dropped" not in seen:
        chunk = os.read(read_end, 65536)
        assert chunk
        seen = seen[-200:] + chunk
    log.info("after")
    running.stop(timeout=0.5)
    stream.close()
    os.close(read_end)


def test_stop_returns_even_when_the_sink_is_stalled() -> None:
    read_end, write_end = os.pipe()
    stream = os.fdopen(write_end, "w", buffering=1)
    log = _logger("spfkit.test.stop", logging.StreamHandler(stream))
    running = logsink.start(log, maxsize=10)
    for n in range(5000):
        log.info("%d %s", n, "y" * 100)
    running.stop(timeout=0.3)  # returns; the daemon writer is left behind
    assert logsink.DroppingQueueHandler not in {type(h) for h in log.handlers}
    os.close(read_end)


def test_one_line_per_record_with_the_level_and_a_folded_traceback() -> None:
    formatter = logsink.OneLineFormatter("spfkit-policyd[1]: ")
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        import sys
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed for %s", ("a\r\nb",),
                                   sys.exc_info())
    line = formatter.format(record)
    assert "\n" not in line and "\r" not in line
    assert line.startswith("spfkit-policyd[1]: error: failed for a\\x0d\\x0ab | Traceback")
    assert "ValueError: bad" in line
    info = logging.LogRecord("x", logging.INFO, __file__, 1, "fine", (), None)
    assert formatter.format(info) == "spfkit-policyd[1]: fine"
    stamped = logsink.OneLineFormatter(timestamp=True).format(info)
    assert stamped.endswith(" fine") and stamped[:4].isdigit()


def _flushed(running: logsink.QueueLogging) -> None:
    assert running.stop(timeout=5.0), "the writer did not finish"


def test_a_burst_is_written_whole_and_in_order(tmp_path) -> None:
    path = tmp_path / "burst.log"
    handler = logging.FileHandler(path, delay=True)
    handler.setFormatter(logsink.OneLineFormatter("p: "))
    log = _logger("spfkit.test.burst", handler)
    running = logsink.start(log, maxsize=50_000)
    for n in range(5000):  # far more than one batch: several batches, one write each
        log.info("record %d", n)
    _flushed(running)
    handler.close()
    lines = path.read_text().splitlines()
    assert lines == [f"p: record {n}" for n in range(5000)]


def test_a_rotated_file_is_reopened_between_batches(tmp_path) -> None:
    from logging.handlers import WatchedFileHandler

    path = tmp_path / "watched.log"
    handler = WatchedFileHandler(path)
    handler.setFormatter(logsink.OneLineFormatter())
    log = _logger("spfkit.test.rotate", handler)
    running = logsink.start(log)
    log.info("before")
    deadline = time.monotonic() + 5
    while "before" not in path.read_text():
        assert time.monotonic() < deadline, "the first line was never written"
    os.rename(path, tmp_path / "watched.log.1")  # logrotate moves the file away
    log.info("after")
    _flushed(running)
    handler.close()
    assert (tmp_path / "watched.log.1").read_text() == "before\n"
    assert path.read_text() == "after\n"


def test_each_sink_gets_the_records_of_its_level(tmp_path) -> None:
    everything = logging.FileHandler(tmp_path / "all.log")
    warnings = logging.FileHandler(tmp_path / "warn.log")
    warnings.setLevel(logging.WARNING)
    seen: list[str] = []

    class Collect(logging.Handler):  # not a stream: its records are handled one by one
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    log = _logger("spfkit.test.levels", everything)
    log.addHandler(warnings)
    log.addHandler(Collect())
    running = logsink.start(log)
    for n in range(300):
        (log.warning if n % 3 == 0 else log.info)("n=%d", n)
    _flushed(running)
    everything.close()
    warnings.close()
    assert (tmp_path / "all.log").read_text().splitlines() == [f"n={n}" for n in range(300)]
    assert (tmp_path / "warn.log").read_text().splitlines() == [f"n={n}" for n in range(0, 300, 3)]
    assert seen == [f"n={n}" for n in range(300)]
