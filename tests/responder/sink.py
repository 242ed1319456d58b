"""An SMTP "mailbox" for the tests: an aiosmtpd server that keeps every message it gets.

Started the way users start aiosmtpd (its ``Controller``, a thread with its own loop)::

    with MailSink() as sink:                      # 127.0.0.1, a free port
        ... relay to ("127.0.0.1", sink.port) ...
        [report] = sink.wait_for("alice@pass.example")
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import TracebackType
from typing import Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.fixtures.ports import free_port


@dataclass(frozen=True)
class Delivered:
    mail_from: str
    rcpt: str
    data: bytes

    @property
    def message(self) -> EmailMessage:
        msg = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


class MailSink:
    """Delivers every message to per-recipient lists (recipient lower-cased)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = free_port(host)
        self._lock = threading.Condition()
        self.boxes: dict[str, list[Delivered]] = {}
        self._controller = Controller(self, hostname=host, port=self.port,
                                      server_hostname="sink.test")

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        with self._lock:
            for rcpt in envelope.rcpt_tos:
                self.boxes.setdefault(rcpt.lower(), []).append(
                    Delivered(envelope.mail_from or "", rcpt, bytes(data)))
            self._lock.notify_all()
        return "250 2.0.0 delivered"

    def all(self) -> list[Delivered]:
        with self._lock:
            return [m for box in self.boxes.values() for m in box]

    def box(self, rcpt: str) -> list[Delivered]:
        with self._lock:
            return list(self.boxes.get(rcpt.lower(), []))

    def wait_for(self, rcpt: str, count: int = 1, timeout: float = 15.0) -> list[Delivered]:
        """The first ``count`` messages for ``rcpt``; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.boxes.get(rcpt.lower(), [])) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no message for {rcpt} within {timeout} s; "
                                         f"boxes: {sorted(self.boxes)}")
                self._lock.wait(left)
            return list(self.boxes[rcpt.lower()][:count])

    def start(self) -> Self:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
