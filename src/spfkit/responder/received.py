"""Where the client IP, HELO name and MAIL FROM of a saved message come from.

A receiving MTA records the SMTP session in trace fields it prepends (RFC 5321 §4.4,
RFC 5322 §3.6.7): the topmost ``Received:`` names the client (``from <helo> (<rdns>
[<ip>])``), and the delivering MTA writes the reverse-path into ``Return-Path:``.
:func:`envelope_from_fields` takes each value from an explicit option when given, else from
those headers, and records which (:class:`Origin`), so the report can say so.

Received: forms understood (the from-clause, up to ``by``/``with``/``id``/``for``/``;``)::

    from helo.example (rdns.example [192.0.2.1])            Postfix, Sendmail, Gmail
    from helo.example (unknown [IPv6:2001:db8::1])          IPv6 address literal
    from rdns.example ([192.0.2.1] helo=helo.example)       Exim (helo= only when it differs)
    from unknown (HELO helo.example) (192.0.2.1)            qmail
    from helo.example (192.0.2.1)                           Microsoft

Pure: imports no asyncio, socket or dnspython.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import ip_address
from typing import Final

__all__ = [
    "Envelope",
    "Origin",
    "ReceivedFrom",
    "Source",
    "envelope_from_fields",
    "parse_received",
    "parse_return_path",
]

_CLAUSE_END: Final = frozenset({"by", "with", "via", "id", "for"})
_HELO_KEY: Final = re.compile(r"\bhelo=([^\s()\[\];]+)", re.IGNORECASE)
_QMAIL_HELO: Final = re.compile(r"\((?:HELO|EHLO)\s+([^\s()]+)\)", re.IGNORECASE)
_BRACKETED: Final = re.compile(r"\[(?:IPv6:)?([0-9A-Fa-f:.]+)\]", re.IGNORECASE)
_BARE_IP: Final = re.compile(r"[\s(]((?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]+)[\s):]")


class Source(StrEnum):
    """Where one value of the SMTP envelope was taken from."""

    OPTION = "option"  # given by the user (--ip, --helo, --mail-from)
    SESSION = "session"  # seen by the verifier in the SMTP session itself
    RECEIVED = "received"  # the topmost Received: header
    RETURN_PATH = "return-path"  # the Return-Path: header

    @property
    def description(self) -> str:
        """Where, in words: "the Return-Path: header"."""
        return {
            Source.OPTION: "the command line",
            Source.SESSION: "the SMTP session",
            Source.RECEIVED: "the topmost Received: header",
            Source.RETURN_PATH: "the Return-Path: header",
        }[self]


@dataclass(frozen=True, slots=True)
class Origin:
    """A value and where it came from."""

    value: str
    source: Source


@dataclass(frozen=True, slots=True)
class Envelope:
    """The SMTP facts the checks need; ``None`` where nothing said them."""

    ip: Origin | None
    helo: Origin | None
    mail_from: Origin | None


@dataclass(frozen=True, slots=True)
class ReceivedFrom:
    """The from-clause of one Received: field: the client's HELO name, address, rDNS name."""

    helo: str | None
    ip: str | None


def _from_clause(value: str) -> str | None:
    """The text between ``from`` and the first ``by``/``with``/``via``/``id``/``for``/``;``
    outside comments and literals; None when the field has no from-clause."""
    stripped = value.lstrip()
    if stripped[:5].lower() != "from ":
        return None
    depth, bracket, word_start = 0, False, 5
    for i in range(5, len(stripped)):
        c = stripped[i]
        if c == "(" and not bracket:
            depth += 1
        elif c == ")" and depth and not bracket:
            depth -= 1
        elif c == "[" and not depth:
            bracket = True
        elif c == "]":
            bracket = False
        elif c == ";" and not depth and not bracket:
            return stripped[5:i]
        if c.isspace() and not depth and not bracket:
            if stripped[word_start:i].lower() in _CLAUSE_END:
                return stripped[5:word_start]
            word_start = i + 1
    return stripped[5:]


def _is_ip(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True


def parse_received(value: str) -> ReceivedFrom | None:
    """The client of one ``Received:`` field body, or None when it has no from-clause."""
    clause = _from_clause(value.replace("\r", " ").replace("\n", " "))
    if clause is None:
        return None
    words = clause.split()
    first = words[0] if words else None
    helo: str | None = first if first and not first.startswith("(") else None
    if match := _HELO_KEY.search(clause) or _QMAIL_HELO.search(clause):
        helo = match.group(1).rstrip(".")
    ip: str | None = None
    for candidate in _BRACKETED.findall(clause):
        if _is_ip(candidate):
            ip = candidate
            break
    else:
        for candidate in _BARE_IP.findall(f" {clause} "):
            if _is_ip(candidate):
                ip = candidate
                break
    return ReceivedFrom(helo=helo, ip=ip)


def parse_return_path(value: str) -> str:
    """RFC 5322 §3.6.7 ``path = angle-addr / ([CFWS] "<" [CFWS] ">" [CFWS])``: the address,
    ``""`` for the null reverse-path ``<>``."""
    text = re.sub(r"\([^()]*\)", " ", value).strip()
    if text.startswith("<") and ">" in text:
        text = text[1 : text.index(">")]
    return text.strip()


def _first(fields: Sequence[tuple[str, str]], name: str) -> str | None:
    return next((v for n, v in fields if n.lower() == name), None)


def envelope_from_fields(
    fields: Sequence[tuple[str, str]],
    *,
    ip: str | None = None,
    helo: str | None = None,
    mail_from: str | None = None,
    given: Source = Source.OPTION,
) -> Envelope:
    """Each value from the caller when given (recorded as ``given``), else from the topmost
    Received: (IP, HELO) and the topmost Return-Path: (MAIL FROM) of ``fields``."""
    received_value = _first(fields, "received")
    received = parse_received(received_value) if received_value is not None else None
    return_path = _first(fields, "return-path")

    def pick(explicit: str | None, found: str | None, source: Source) -> Origin | None:
        if explicit is not None:
            return Origin(explicit, given)
        return Origin(found, source) if found is not None else None

    return Envelope(
        ip=pick(ip, received.ip if received else None, Source.RECEIVED),
        helo=pick(helo, received.helo if received else None, Source.RECEIVED),
        mail_from=pick(
            mail_from,
            parse_return_path(return_path) if return_path is not None else None,
            Source.RETURN_PATH,
        ),
    )
