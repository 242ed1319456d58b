"""Where the client IP, HELO name and MAIL FROM of a saved message come from.

A receiving MTA records the SMTP session in trace fields it prepends (RFC 5321 §4.4,
RFC 5322 §3.6.7): each ``Received:`` names the host it came from (``from <helo> (<rdns>
[<ip>])``), and the delivering MTA writes the reverse-path into ``Return-Path:``. A message
often passes the receiver's own hosts after its MX (a content filter on 127.0.0.1, an
internal relay), each adding a field above the MX's, so :func:`find_client` walks the fields
from the top past the receiver's own relays (:class:`~spfkit.responder.relays.TrustedRelays`)
to the first that names a client outside them — the fields below it were written by hosts
nobody vouches for, and are never read. :func:`envelope_from_fields` takes each value from an
explicit option when given, else from those headers, and records which (:class:`Origin`,
with the :class:`ClientHeader`), so the report can say so.

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
from itertools import pairwise
from typing import Final

from spfkit.responder.relays import DEFAULT_RELAYS, TrustedRelays

__all__ = [
    "ClientHeader",
    "Envelope",
    "Hop",
    "Origin",
    "PassedHop",
    "ReceivedFrom",
    "Source",
    "envelope_from_fields",
    "find_client",
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
    RECEIVED = "received"  # a Received: header (ClientHeader says which)
    RETURN_PATH = "return-path"  # the Return-Path: header

    @property
    def description(self) -> str:
        """Where, in words: "the Return-Path: header"."""
        return {
            Source.OPTION: "the command line",
            Source.SESSION: "the SMTP session",
            Source.RECEIVED: "a Received: header",
            Source.RETURN_PATH: "the Return-Path: header",
        }[self]


@dataclass(frozen=True, slots=True)
class ReceivedFrom:
    """The from-clause of one Received: field: the client's HELO name, address, rDNS name."""

    helo: str | None
    ip: str | None


@dataclass(frozen=True, slots=True)
class Hop:
    """One ``Received:`` field: ``index`` 1 is the topmost of ``count``; ``by`` the host that
    wrote it, ``text`` its from-clause as written, ``client`` what that names (None: none)."""

    index: int
    count: int
    by: str | None
    text: str | None
    client: ReceivedFrom | None


@dataclass(frozen=True, slots=True)
class PassedHop:
    """A field written by the receiver's own host about another of its hosts, and why."""

    hop: Hop
    why: str  # "loopback", "trusted relay 192.0.2.0/24", "no from-clause (local submission)"


@dataclass(frozen=True, slots=True)
class ClientHeader:
    """The field the client came from (``hop``, None when none names one: ``problem`` says
    why) and the receiver's own hops passed above it, top first."""

    hop: Hop | None
    passed: tuple[PassedHop, ...] = ()
    problem: str | None = None

    @property
    def description(self) -> str:
        """Which field, in words: "the topmost Received: header", "Received: header 3 of 3,
        past 2 trusted hops"."""
        if self.hop is None:
            return "no Received: header"
        if self.hop.index == 1:
            return "the topmost Received: header"
        own = len(self.passed)
        return (f"Received: header {self.hop.index} of {self.hop.count}, past {own} "
                f"trusted hop{'s' if own != 1 else ''}")


@dataclass(frozen=True, slots=True)
class Origin:
    """A value and where it came from (``header``: which Received: field, for RECEIVED)."""

    value: str
    source: Source
    header: ClientHeader | None = None

    @property
    def description(self) -> str:
        """Where, in words: "the Return-Path: header", "the topmost Received: header (…)"."""
        if self.source is Source.RECEIVED and self.header is not None:
            return self.header.description
        return self.source.description


@dataclass(frozen=True, slots=True)
class Envelope:
    """The SMTP facts the checks need; ``None`` where nothing said them."""

    ip: Origin | None
    helo: Origin | None
    mail_from: Origin | None
    #: the walk of the Received: fields (why no client was found, when none was)
    client: ClientHeader | None = None


def _top_level(text: str) -> tuple[list[tuple[int, int]], int]:
    """The spans of the words of ``text`` split at white space outside comments and
    ``[literals]``, up to the first such ``;`` (which ends the trace's clauses), and where
    that is."""
    depth, bracket, start = 0, False, None
    spans: list[tuple[int, int]] = []
    for i, c in enumerate(text):
        if c == "(" and not bracket:
            depth += 1
        elif c == ")" and depth and not bracket:
            depth -= 1
        elif c == "[" and not depth:
            bracket = True
        elif c == "]":
            bracket = False
        if not depth and not bracket and (c.isspace() or c == ";"):
            if start is not None:
                spans.append((start, i))
                start = None
            if c == ";":
                return spans, i
        elif start is None:
            start = i
    if start is not None:
        spans.append((start, len(text)))
    return spans, len(text)


def _from_clause(value: str) -> str | None:
    """The text between ``from`` and the first ``by``/``with``/``via``/``id``/``for``/``;``
    outside comments and literals; None when the field has no from-clause."""
    stripped = value.lstrip()
    if stripped[:5].lower() != "from ":
        return None
    spans, end = _top_level(stripped)
    for start, stop in spans[1:]:
        if stripped[start:stop].lower() in _CLAUSE_END:
            return stripped[5:start]
    return stripped[5:end]


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


def _by_host(value: str) -> str | None:
    """The host after the top-level ``by`` of a Received: field (RFC 5321 §4.4 By-domain)."""
    text = value.replace("\r", " ").replace("\n", " ")
    spans, _ = _top_level(text)
    words = [text[start:stop] for start, stop in spans]
    return next((after for before, after in pairwise(words)
                 if before.lower() == "by" and not after.startswith("(")), None)


def _shortened(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def find_client(fields: Sequence[tuple[str, str]],
                relays: TrustedRelays = DEFAULT_RELAYS) -> ClientHeader:
    """The ``Received:`` field that names the SMTP client, walking from the top past the
    receiver's own hops: a field with no from-clause (a local submission), or naming an
    address ``relays`` trusts. A from-clause with no address ends the walk (nothing below
    it can be believed)."""
    received = [v for n, v in fields if n.lower() == "received"]
    passed: list[PassedHop] = []
    for index, value in enumerate(received, 1):
        clause = _from_clause(value.replace("\r", " ").replace("\n", " "))
        hop = Hop(index, len(received), _by_host(value),
                  _shortened(clause) if clause is not None else None, parse_received(value))
        if hop.client is None:
            passed.append(PassedHop(hop, "no from-clause (local submission)"))
            continue
        if hop.client.ip is None:
            return ClientHeader(None, tuple(passed), f"Received: header {index} names no "
                                "client address")
        why = relays.why_trusted(hop.client.ip)
        if why is None:
            return ClientHeader(hop, tuple(passed))
        passed.append(PassedHop(hop, why))
    if not received:
        return ClientHeader(None, (), "the message has no Received: header")
    return ClientHeader(None, tuple(passed), f"all {len(received)} Received: headers are "
                        "the receiver's own hops (trusted relays, or no from-clause)"
                        if len(received) > 1 else "its one Received: header is a hop of the "
                        f"receiver's own ({passed[0].why})")


def _first(fields: Sequence[tuple[str, str]], name: str) -> str | None:
    return next((v for n, v in fields if n.lower() == name), None)


def envelope_from_fields(
    fields: Sequence[tuple[str, str]],
    *,
    ip: str | None = None,
    helo: str | None = None,
    mail_from: str | None = None,
    given: Source = Source.OPTION,
    relays: TrustedRelays = DEFAULT_RELAYS,
) -> Envelope:
    """Each value from the caller when given (recorded as ``given``), else from the
    Received: field :func:`find_client` picks with ``relays`` (IP, HELO) and the topmost
    Return-Path: (MAIL FROM) of ``fields``."""
    client = find_client(fields, relays)
    received = client.hop.client if client.hop is not None else None
    return_path = _first(fields, "return-path")

    def pick(explicit: str | None, found: str | None, source: Source) -> Origin | None:
        if explicit is not None:
            return Origin(explicit, given)
        if found is None:
            return None
        return Origin(found, source, client if source is Source.RECEIVED else None)

    return Envelope(
        ip=pick(ip, received.ip if received else None, Source.RECEIVED),
        helo=pick(helo, received.helo if received else None, Source.RECEIVED),
        mail_from=pick(
            mail_from,
            parse_return_path(return_path) if return_path is not None else None,
            Source.RETURN_PATH,
        ),
        client=client,
    )
