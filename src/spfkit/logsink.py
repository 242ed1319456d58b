"""Logging that never blocks answering: a bounded queue in front of the real sink.

A server's event loop must not wait on its log: when nothing reads the stderr pipe, or
syslog or journald stalls, a plain handler blocks in ``write()`` and no connection gets an
answer. :func:`start` puts a :class:`DroppingQueueHandler` (the standard library's
``QueueHandler`` over a bounded queue) on the logger and moves the real handlers behind a
``QueueListener`` thread. When the queue is full, records are dropped and counted; once the
sink drains, the listener first logs how many were lost. :class:`OneLineFormatter` writes one
line per record whatever the sink: the level kept as a prefix, a traceback folded into the
line, control characters escaped, so a log line can be neither split nor forged.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from logging.handlers import QueueHandler, QueueListener
from typing import Final

__all__ = ["DroppingQueueHandler", "OneLineFormatter", "QueueLogging", "start"]

#: records waiting for a slow sink, at most; past it they are dropped (and counted)
DEFAULT_QUEUE_SIZE: Final = 10_000
_CONTROL: Final = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F) if c != 0x09}


class OneLineFormatter(logging.Formatter):
    """``message`` for info and debug, ``warning: message`` above (as Postfix logs), with an
    optional prefix and timestamp; a traceback is folded into the line with `` | ``."""

    def __init__(self, prefix: str = "", *, timestamp: bool = False) -> None:
        super().__init__()
        self.prefix = prefix
        self.timestamp = timestamp
        self._second: tuple[int, str] = (-1, "")  # the last second formatted, and its text

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        """``logging.Formatter``'s time, with ``strftime`` done once a second, not per line."""
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second[0]:
            self._second = (second, time.strftime(self.default_time_format,
                                                  self.converter(record.created)))
        return (self.default_msec_format or "%s,%03d") % (self._second[1], record.msecs)

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.levelno >= logging.WARNING:
            text = f"{record.levelname.lower()}: {text}"
        if record.exc_info:
            text += " | " + " | ".join(self.formatException(record.exc_info).splitlines())
        text = text.translate(_CONTROL)  # CR, LF and the rest never end or forge a line
        stamp = f"{self.formatTime(record)} " if self.timestamp else ""
        return f"{stamp}{self.prefix}{text}"


class DroppingQueueHandler(QueueHandler):
    """A ``QueueHandler`` that never waits: a full queue drops the record and counts it."""

    def __init__(self, records: queue.Queue[logging.LogRecord | None]) -> None:
        super().__init__(records)
        self._lock = threading.Lock()
        self.dropped = 0

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        """The message is rendered now (its arguments may change later); the record keeps
        its level and traceback for the sink's formatter (same process: nothing pickled)."""
        record.msg, record.args = record.getMessage(), None
        return record

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            with self._lock:
                self.dropped += 1

    def take_dropped(self) -> int:
        with self._lock:
            count, self.dropped = self.dropped, 0
        return count


class _Listener(QueueListener):
    """Says how many records were dropped before it passes on the next one."""

    def __init__(self, records: queue.Queue[logging.LogRecord | None], front: DroppingQueueHandler,
                 handlers: Sequence[logging.Handler], name: str) -> None:
        super().__init__(records, *handlers, respect_handler_level=True)
        self.front = front
        self.name = name
        self.total_dropped = 0

    def handle(self, record: logging.LogRecord) -> None:
        if lost := self.front.take_dropped():
            self.total_dropped += lost
            note = logging.LogRecord(self.name, logging.WARNING, __file__, 0,
                                     "%d log records were dropped: the log sink did not keep up",
                                     (lost,), None)
            super().handle(note)
        super().handle(record)


class QueueLogging:
    """A running queue in front of a logger's handlers; :meth:`stop` puts them back."""

    def __init__(self, logger: logging.Logger, listener: _Listener,
                 records: queue.Queue[logging.LogRecord | None], front: DroppingQueueHandler,
                 handlers: Sequence[logging.Handler]) -> None:
        self.logger = logger
        self._listener = listener
        self._records = records
        self._front = front
        self._handlers = tuple(handlers)

    @property
    def dropped(self) -> int:
        """Records dropped so far (reported or not yet)."""
        return self._listener.total_dropped + self._front.dropped

    def stop(self, timeout: float = 2.0) -> bool:
        """Flush what the sink takes within ``timeout`` s; False when the sink is stalled.

        Then the writer thread is still blocked in the sink's ``write()``, holding its locks:
        a normal interpreter exit would wait for it (``logging.shutdown``) or abort on the
        stream's lock, so the caller should end the process with ``os._exit``.
        """
        deadline = time.monotonic() + timeout
        listener = self._listener
        thread = listener._thread
        try:
            self._records.put(None, timeout=max(deadline - time.monotonic(), 0.01))  # sentinel
        except queue.Full:
            pass
        if thread is not None:
            thread.join(max(deadline - time.monotonic(), 0.0))
        listener._thread = None
        self.logger.removeHandler(self._front)
        if thread is not None and thread.is_alive():
            return False
        for handler in self._handlers:
            self.logger.addHandler(handler)
        return True


def start(logger: logging.Logger, *, maxsize: int = DEFAULT_QUEUE_SIZE) -> QueueLogging:
    """Move ``logger``'s handlers behind a bounded queue and a writer thread."""
    handlers = list(logger.handlers)
    for handler in handlers:
        logger.removeHandler(handler)
    records: queue.Queue[logging.LogRecord | None] = queue.Queue(maxsize)
    front = DroppingQueueHandler(records)
    listener = _Listener(records, front, handlers, logger.name)
    listener.start()  # a daemon thread: a stalled sink never holds up exit
    logger.addHandler(front)
    return QueueLogging(logger, listener, records, front, handlers)
