"""Reading observations from files: decision logs (``.gz`` too), a Maildir, an mbox.

Streamed: a log is read line by line, a mailbox message by message, and only each message's
header section is parsed (``email.parser.BytesHeaderParser``), never its body.
"""

from __future__ import annotations

import email.utils
import gzip
import mailbox
from collections.abc import Iterator
from datetime import datetime, timezone
from email.message import Message
from email.parser import BytesHeaderParser
from pathlib import Path

from spfkit.errors import reading
from spfkit.stats.observe import (
    Observation,
    from_headers,
    from_log_line,
    from_milter_line,
)

__all__ = ["from_log_file", "from_maildir", "from_mbox"]


def from_log_file(path: str | Path, *, year: int | None = None) -> Iterator[Observation]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with reading(path), opener(path, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            obs = from_log_line(line, year=year)
            if obs is not None:
                yield obs
            else:
                yield from from_milter_line(line, year=year)


def _message_time(msg: Message) -> datetime | None:
    """When the message was received: the date after the last ';' of the topmost Received:
    field (RFC 5322 §3.6.7), else its Date:; naive UTC."""
    for value in [*(msg.get_all("Received") or [])[:1], msg.get("Date")]:
        if not value:
            continue
        text = str(value).rpartition(";")[2].strip() if ";" in str(value) else str(value)
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            continue
        if when.tzinfo is not None:
            when = when.astimezone(timezone.utc).replace(tzinfo=None)
        return when
    return None


def _observations(messages: Iterator[Message]) -> Iterator[Observation]:
    for msg in messages:
        fields = [(name, str(value)) for name, value in msg.items()]
        yield from from_headers(fields, _message_time(msg))


def _headers_only(source: mailbox.Mailbox[mailbox.Message], path: str | Path) -> Iterator[Message]:
    parser = BytesHeaderParser()
    with reading(path):
        for key in source.iterkeys():
            with source.get_file(key) as f:
                yield parser.parse(f)  # type: ignore[arg-type]


def from_maildir(path: str | Path) -> Iterator[Observation]:
    """Every message of a Maildir (``new/`` and ``cur/``)."""
    return _observations(_headers_only(mailbox.Maildir(str(path), create=False), path))


def from_mbox(path: str | Path) -> Iterator[Observation]:
    return _observations(_headers_only(mailbox.mbox(str(path), create=False), path))
