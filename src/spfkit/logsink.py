"""Logging that never blocks answering: a bounded queue in front of the real sink.

A server's event loop must not wait on its log: when nothing reads the stderr pipe, or
syslog or journald stalls, a plain handler blocks in ``write()`` and no connection gets an
answer. :func:`start` puts a :class:`DroppingQueueHandler` (the standard library's
``QueueHandler`` over a bounded queue) on the logger and moves the real handlers behind a
``QueueListener`` thread. When the queue is full, records are dropped and counted; once the
sink drains, the listener first logs how many were lost. Under load the writer takes the
records in batches (all that are queued, up to :data:`BATCH`, then a pause of
:data:`BATCH_PAUSE`): one wake-up of the thread and one ``write()`` per batch for a stream
or file sink, instead of one each per record. :class:`OneLineFormatter` writes one
line per record whatever the sink: the level kept as a prefix, a traceback folded into the
line, control characters escaped, so a log line can be neither split nor forged.
"""

from __future__ import annotations

import logging
import logging.handlers
import queue
import threading
import time
from collections.abc import Sequence
from logging.handlers import QueueHandler, QueueListener
from typing import Final

__all__ = ["DroppingQueueHandler", "OneLineFormatter", "QueueLogging", "start"]

#: records waiting for a slow sink, at most; past it they are dropped (and counted)
DEFAULT_QUEUE_SIZE: Final = 10_000
#: records written at once, at most; after a batch of more than one, the writer pauses for
#: BATCH_PAUSE seconds so that the next records gather (a lone record is written at once)
BATCH: Final = 512
BATCH_PAUSE: Final = 0.002
#: the sinks whose batch is formatted and written in one go (their emit is the stock one)
_STREAMS: Final = (logging.StreamHandler, logging.FileHandler, logging.handlers.WatchedFileHandler)
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
    """Writes the queued records in batches; says how many were dropped before the next."""

    def __init__(self, records: queue.Queue[logging.LogRecord | None], front: DroppingQueueHandler,
                 handlers: Sequence[logging.Handler], name: str) -> None:
        super().__init__(records, *handlers, respect_handler_level=True)
        self.front = front
        self.name = name
        self.total_dropped = 0
        self._records = records

    def _monitor(self) -> None:
        records = self._records
        while True:
            batch: list[logging.LogRecord | None] = [records.get()]
            while len(batch) < BATCH:
                try:
                    batch.append(records.get_nowait())
                except queue.Empty:
                    break
            stop = None in batch
            self.handle_batch([r for r in batch[:batch.index(None)] if r] if stop else batch)
            if stop:
                return
            if len(batch) > 1:
                time.sleep(BATCH_PAUSE)

    def handle(self, record: logging.LogRecord) -> None:
        self.handle_batch([record])

    def handle_batch(self, batch: Sequence[logging.LogRecord | None]) -> None:
        records = [r for r in batch if r is not None]
        if lost := self.front.take_dropped():
            self.total_dropped += lost
            note = logging.LogRecord(self.name, logging.WARNING, __file__, 0,
                                     "%d log records were dropped: the log sink did not keep up",
                                     (lost,), None)
            records.insert(0, note)
        for handler in self.handlers:
            wanted = [r for r in records if r.levelno >= handler.level]
            if not wanted:
                continue
            if type(handler) in _STREAMS and isinstance(handler, logging.StreamHandler):
                _write_batch(handler, wanted)
            else:
                for record in wanted:
                    handler.handle(record)


def _write_batch(handler: logging.StreamHandler,  # type: ignore[type-arg]
                 records: Sequence[logging.LogRecord]) -> None:
    """``emit`` for a batch: the handler's filters and format per record, one ``write()`` and
    one ``flush()`` (and, for a watched file, one check that it was not rotated)."""
    records = [r for r in records if handler.filter(r)]
    if not records:
        return
    handler.acquire()
    try:
        if isinstance(handler, logging.handlers.WatchedFileHandler):
            handler.reopenIfNeeded()
        if isinstance(handler, logging.FileHandler) and handler.stream is None:
            handler.stream = handler._open()  # opened late (delay=True), as emit does
        end = handler.terminator
        handler.stream.write("".join(handler.format(r) + end for r in records))
        handler.flush()
    except Exception:  # noqa: BLE001 - a log sink's trouble never ends the writer
        handler.handleError(records[-1])
    finally:
        handler.release()


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
