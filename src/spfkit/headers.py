"""Trace header fields for a check result, and the one value sanitiser.

* ``Received-SPF:`` — RFC 7208 §9.1, with the ABNF as corrected by erratum 5436::

      header-field   = "Received-SPF:" [CFWS] result [ FWS comment ]
                       [ FWS key-value-list ] [FWS] CRLF
      key-value-list = key-value-pair *( ";" [CFWS] key-value-pair ) [";"]
      key-value-pair = key [CFWS] "=" ( dot-atom / quoted-string )

* ``Authentication-Results:`` — RFC 8601 §2.2, methods ``spf`` and ``sender-id``
  (RFC 8601 §2.7.2).
* :func:`quote_value` and :func:`comment_text` — §9.1: "SPF verifiers MUST make sure
  that the Received-SPF header field does not contain invalid characters, is not
  excessively long ..., and does not contain malicious data that has been provided by
  the sender."  Every header value and every log value passes through one of them.

The sanitiser's contract, which a property test checks:

1. No control character reaches the output.  Every character of Unicode category Cc
   (C0 including TAB/CR/LF/NUL, DEL, C1), Cf (format: bidi overrides, zero-width
   characters, BOM), Cs (lone surrogates, which are not UTF-8) and Zl/Zp (U+2028/U+2029,
   line breaks to ``str.splitlines``) is replaced by its Python-style escape
   ``\\x0d`` / ``\\u202e`` / ``\\U000e0001``.  Nothing is dropped silently; the escape
   marks the spot.  (A literal backslash-x in the input reads the same; we accept that.)
2. Other non-ASCII text is kept where it is the session's own (a UTF-8 sender or HELO
   name: RFC 6532 allows UTF-8 in header values of such mail); text taken from DNS (the
   ``mechanism`` and ``problem`` / ``reason`` of a record) is made US-ASCII first with
   :func:`ascii_text`, as is every SMTP reply text (RFC 5321 §4.2).
3. A value is written bare only if it is both an RFC 5322 dot-atom and an RFC 2045
   token (ASCII letters, digits, ``!#$%&'*+-^_`{|}~`` and single inner dots), so one
   rendering is valid in both headers; otherwise it becomes an RFC 5322 quoted-string
   with ``"`` and ``\\`` escaped as quoted-pairs.
4. A rendered value is at most :data:`MAX_VALUE_OCTETS` octets of UTF-8, quotes
   included; longer input is cut at a character boundary and ends in
   :data:`ELLIPSIS`.  So a hostile sender cannot make a line longer than RFC 5322
   §2.1.1's 998 octets, and :meth:`HeaderField.fold` always has room to work.

Pure: imports no asyncio, socket or dnspython.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from ipaddress import IPv4Address, IPv6Address
from typing import Final

from spfkit.identity import Identity, normalize_ip, subject_for
from spfkit.results import CheckResult, Result
from spfkit.visible import HIDDEN, escape_char

__all__ = [
    "ELLIPSIS",
    "MAX_COMMENT_OCTETS",
    "MAX_VALUE_OCTETS",
    "HeaderField",
    "authentication_results",
    "ascii_text",
    "comment_text",
    "quote_value",
    "received_spf",
]

MAX_VALUE_OCTETS: Final = 512
"""Longest rendered value (token, or quoted-string with its quotes), in UTF-8 octets."""
MAX_COMMENT_OCTETS: Final = 512
"""Longest comment text (without the parentheses), in UTF-8 octets."""
ELLIPSIS: Final = "..."
"""Ends a value that was cut to fit its limit."""

# What HeaderField refuses outright: anything that could end or split a line.
_FORBIDDEN: Final = frozenset({"Cc", "Cs", "Zl", "Zp"})

# RFC 5322 §3.2.3 atext, less RFC 2045 §5.1 tspecials ("/", "=", "?"): bare in both.
_TOKEN: Final = re.compile(r"[A-Za-z0-9!#$%&'*+\-^_`{|}~]+(?:\.[A-Za-z0-9!#$%&'*+\-^_`{|}~]+)*")
# RFC 8601 §2.2: pvalue = [CFWS] ( value / [ [ local-part ] "@" ] domain-name ) [CFWS]
_ATEXT: Final = r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]"
_LABEL: Final = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_PVALUE_ADDR: Final = re.compile(rf"(?:(?:{_ATEXT}+(?:\.{_ATEXT}+)*)?@)?{_LABEL}(?:\.{_LABEL})+")
# RFC 7208 §12: name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9\-_.]*")
# RFC 5322 §3.6.8: field-name = 1*ftext; ftext = %d33-57 / %d59-126
_FIELD_NAME: Final = re.compile(r"[\x21-\x39\x3b-\x7e]+")

_RECEIVED_SPF_KEYS: Final = frozenset(
    {"client-ip", "envelope-from", "helo", "problem", "receiver", "identity", "mechanism"}
)
# RFC 4407 §2: the headers a PRA can come from; RFC 8601 §2.7.2 ptype "header".
_PRA_HEADERS: Final = frozenset({"resent-sender", "resent-from", "sender", "from"})
# §9.1 "problem": "if an error was returned, details about the error".
_ERRORS: Final = frozenset({Result.TEMPERROR, Result.PERMERROR})


# --------------------------------------------------------------------------- sanitiser


def ascii_text(s: str) -> str:
    """``s`` in US-ASCII: each other character becomes its escape (``\\xfc``, ``\\u2192``).

    For text that reaches a header or an SMTP reply (RFC 5321 §4.2: reply text is ASCII)
    from a sender's DNS records, whatever the mail session negotiated."""
    return s if s.isascii() else "".join(c if c.isascii() else escape_char(c) for c in s)


def _visible(s: str, limit: int) -> tuple[list[str], bool]:
    """One visible unit per input character, and whether input beyond ``limit`` was dropped.

    Every character renders as at least one octet, so ``limit + 1`` characters are
    enough to tell whether the limit is exceeded; a megabyte of input costs nothing.
    """
    head = s[: limit + 1]
    if head.isprintable():  # fast path: no control, format or line-separator characters
        return list(head), len(s) > len(head)
    units = [escape_char(c) if unicodedata.category(c) in HIDDEN else c for c in head]
    return units, len(s) > len(head)


def _fit(pieces: list[str], truncated: bool, limit: int) -> str:
    """Join ``pieces`` within ``limit`` UTF-8 octets, cutting only between pieces."""
    sizes = [len(p.encode("utf-8")) for p in pieces]
    if not truncated and sum(sizes) <= limit:
        return "".join(pieces)
    room = limit - len(ELLIPSIS)
    kept: list[str] = []
    for piece, size in zip(pieces, sizes):
        if size > room:
            break
        kept.append(piece)
        room -= size
    return "".join(kept) + ELLIPSIS


def quote_value(s: str) -> str:
    """RFC 5322 §3.2.3–3.2.4: ``s`` as a dot-atom/token if it is one, else a quoted-string.

    Controls become visible escapes and the result is at most ``MAX_VALUE_OCTETS``
    octets (see the module docstring).  Used for every header value and log value.
    """
    if len(s) <= _REMEMBERED_CHARS:
        return _quote_short(s)
    return _quote_value(s)


#: values this short are quoted once and remembered (a client, a HELO name, a sender, a
#: deciding term recur in mail after mail): at most 4,096 of them, some 3 MB at worst
_REMEMBERED_CHARS: Final = 160


@lru_cache(maxsize=4096)
def _quote_short(s: str) -> str:
    return _quote_value(s)


def _quote_value(s: str) -> str:
    if len(s) <= MAX_VALUE_OCTETS and s.isascii() and s.isprintable():
        # fast path (the usual case): one octet per character, nothing to make visible;
        # the same answer as _quote_any's (a property test compares them)
        if _TOKEN.fullmatch(s):
            return s
        quoted = s.replace("\\", "\\\\").replace('"', '\\"')
        if len(quoted) <= MAX_VALUE_OCTETS - 2:
            return '"' + quoted + '"'
    return _quote_any(s)


def _quote_any(s: str) -> str:
    """:func:`quote_value` for any text, one visible unit per character (the general path)."""
    units, truncated = _visible(s, MAX_VALUE_OCTETS)
    text = "".join(units)
    if not truncated and len(text) <= MAX_VALUE_OCTETS and _TOKEN.fullmatch(text):
        return text
    # §3.2.4: quoted-pair = "\" (VCHAR / WSP); qtext excludes only "\" and DQUOTE.
    pieces = [u.replace("\\", "\\\\").replace('"', '\\"') for u in units]
    return '"' + _fit(pieces, truncated, MAX_VALUE_OCTETS - 2) + '"'


def comment_text(s: str) -> str:
    """RFC 5322 §3.2.2: ``s`` made safe to write between ``(`` and ``)``.

    ``(``, ``)`` and ``\\`` become quoted-pairs, controls become visible escapes, and
    the text is at most ``MAX_COMMENT_OCTETS`` octets.  The parentheses are not added.
    """
    if len(s) <= MAX_COMMENT_OCTETS and s.isascii() and s.isprintable():
        # fast path (the usual case): one octet per character, nothing to make visible
        escaped = s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        if len(escaped) <= MAX_COMMENT_OCTETS:
            return escaped
    return _comment_any(s)


def _comment_any(s: str) -> str:
    """:func:`comment_text` for any text, one visible unit per character (the general path)."""
    units, truncated = _visible(s, MAX_COMMENT_OCTETS)
    pieces = [u.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for u in units]
    return _fit(pieces, truncated, MAX_COMMENT_OCTETS)


def _pvalue(s: str) -> str:
    """RFC 8601 §2.2 pvalue: a plain ``local-part@domain`` stays bare, all else is a value."""
    if len(s) <= MAX_VALUE_OCTETS and _PVALUE_ADDR.fullmatch(s):
        return s
    return quote_value(s)


# --------------------------------------------------------------------------- HeaderField


@dataclass(frozen=True, slots=True)
class HeaderField:
    """One header field, unfolded; ``str()`` gives ``"Name: value"`` without CRLF.

    The constructor refuses a value that holds a control or line-break character, so
    no HeaderField can carry an injected header whoever built it.
    """

    name: str
    value: str

    def __post_init__(self) -> None:
        if not _FIELD_NAME.fullmatch(self.name):
            raise ValueError(f"not an RFC 5322 field name: {self.name!r}")
        value = self.value
        if not value.isprintable() and any(unicodedata.category(c) in _FORBIDDEN for c in value):
            raise ValueError(f"{self.name} value holds a control character; use quote_value()")

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"

    def fold(self, width: int = 78) -> str:
        """RFC 5322 §2.2.3: CRLF inserted before existing spaces so lines fit ``width``.

        Breaks go first at key-value boundaries (after ``;`` or a comment's ``)``),
        then at any space, even inside a comment or quoted-string, where §3.2.2 and
        §3.2.4 make the CRLF invisible.  Only CRLFs are added, so removing every CRLF
        gives ``str(self)`` back.  No continuation line is all white space (§3.2.2),
        and a word longer than ``width`` stays whole (values are capped well below
        the 998-octet line limit).  No trailing CRLF.
        """
        head = f"{self.name}:"
        lines: list[str] = []
        line = head

        def may_break(word: str) -> bool:
            return bool(word) and line != head and bool(line.strip())

        for number, group in enumerate(_groups(self.value)):
            joined = "".join(" " + word for word in group)
            if number and len(line) + len(joined) > width and may_break(group[0]):
                lines.append(line)
                line = ""
            if len(line) + len(joined) <= width:
                line += joined
                continue
            for word in group:
                if len(line) + 1 + len(word) > width and may_break(word):
                    lines.append(line)
                    line = ""
                line += " " + word
        lines.append(line)
        return "\r\n".join(lines)


def _groups(value: str) -> list[list[str]]:
    """The value's words, grouped so that each group ends at a key-value boundary."""
    groups: list[list[str]] = [[]]
    for word in value.split(" "):
        groups[-1].append(word)
        if word.endswith((";", ")")):
            groups.append([])
    return [g for g in groups if g]


# --------------------------------------------------------------------------- Received-SPF


def _sender(
    identity: Identity, envelope_from: str | None, helo: str | None, pra: str | None, domain: str
) -> str:
    """The identity that was checked, as RFC 7208 §2.3–2.4 and §4.1 name <sender>."""
    if identity is Identity.PRA:
        return pra or domain
    if identity is Identity.MAILFROM and envelope_from:
        return envelope_from
    # §2.3 / §2.4: a HELO check, or a null reverse-path, uses "postmaster@" + HELO.
    return subject_for(Identity.HELO, "", helo).sender if helo else domain


def _default_comment(result: Result, ip: str, sender: str, receiver: str | None) -> str:
    """The customary sentence for each result (RFC 4408 §7 examples, still in use)."""
    sentence = {
        Result.PASS: f"domain of {sender} designates {ip} as permitted sender",
        Result.FAIL: f"domain of {sender} does not designate {ip} as permitted sender",
        Result.SOFTFAIL: f"domain of transitioning {sender} does not designate {ip}"
        " as permitted sender",
        Result.NEUTRAL: f"{ip} is neither permitted nor denied by domain of {sender}",
        Result.NONE: f"domain of {sender} does not designate permitted sender hosts",
        Result.PERMERROR: f"error in processing during lookup of {sender}",
        Result.TEMPERROR: f"error in processing during lookup of {sender}",
    }[result]
    return f"{receiver}: {sentence}" if receiver else sentence


def _from_dns(text: str | None) -> str | None:
    return None if text is None else ascii_text(text)


def received_spf(
    result: CheckResult,
    *,
    client_ip: IPv4Address | IPv6Address | str,
    identity: Identity,
    envelope_from: str | None,
    helo: str | None,
    receiver: str | None = None,
    comment: str | None = None,
    pra: str | None = None,
    extensions: Sequence[tuple[str, str]] = (),
) -> HeaderField:
    """RFC 7208 §9.1: the ``Received-SPF:`` field for one check.

    ``comment`` replaces the customary sentence; ``""`` leaves the comment out.
    Keys are written in the order receiver, identity, client-ip, envelope-from, helo,
    mechanism, problem, then ``extensions`` (``name``-shaped keys such as ``x-queue``);
    ``None`` leaves a key out, ``""`` is written as ``""`` (e.g. a null reverse-path).
    ``pra`` is the checked address for :attr:`Identity.PRA`, named in the comment.
    Raises ``ValueError`` for a ``client_ip`` that is not an IP address or a bad key.
    """
    ip = str(normalize_ip(client_ip))  # ValueError for a non-IP: a caller mistake
    if comment is None:
        sender = _sender(identity, envelope_from, helo, pra, result.domain)
        comment = _default_comment(result.result, ip, sender, receiver)
    pairs: list[tuple[str, str | None]] = [
        ("receiver", receiver),
        ("identity", identity.value),
        ("client-ip", ip),  # §9.1: an IPv6 address is a quoted-string (":" is no atext)
        ("envelope-from", envelope_from),
        ("helo", helo),
        ("mechanism", _from_dns(result.mechanism)),
        ("problem", _from_dns(result.problem) if result.result in _ERRORS else None),
    ]
    for key, value in extensions:
        if not _NAME.fullmatch(key) or key.lower() in _RECEIVED_SPF_KEYS:
            raise ValueError(f"not an extension key (RFC 7208 §9.1 name): {key!r}")
        pairs.append((key, value))
    parts = [result.result.value]
    if comment:
        parts.append(f"({comment_text(comment)})")
    # §9.1 examples end the key-value-list with ";", which the ABNF allows.
    parts.extend(f"{key}={quote_value(value)};" for key, value in pairs if value is not None)
    return HeaderField("Received-SPF", " ".join(parts))


# --------------------------------------------------------------------------- Authentication-Results


def authentication_results(
    result: CheckResult,
    *,
    authserv_id: str,
    identity: Identity,
    envelope_from: str | None,
    helo: str | None,
    pra: str | None = None,
    pra_header: str = "from",
    comment: str | None = None,
) -> HeaderField:
    """RFC 8601 §2.2: ``authserv-id; method=result [(comment)] [reason=...] ptype.property=value``.

    RFC 8601 §2.7.2: SPF reports ``spf`` with ``smtp.mailfrom`` (the checked address;
    ``postmaster@HELO`` for a null reverse-path, RFC 7208 §2.4) or ``smtp.helo``; Sender
    ID reports ``sender-id`` with ``header.<pra_header>`` (one of the RFC 4407 PRA
    headers) carrying ``pra``.  With nothing to name, the record's domain is used.
    ``reason=`` carries ``result.problem`` for temperror/permerror.
    """
    if identity is Identity.PRA:
        header = pra_header.lower()
        if header not in _PRA_HEADERS:
            raise ValueError(f"not a PRA header (RFC 4407 §2): {pra_header!r}")
        method, prop = "sender-id", f"header.{header}"
    elif identity is Identity.HELO:
        method, prop = "spf", "smtp.helo"
    else:
        method, prop = "spf", "smtp.mailfrom"
    if identity is Identity.HELO:
        checked = helo or result.domain
    else:
        checked = _sender(identity, envelope_from, helo, pra, result.domain)
    parts = [f"{quote_value(authserv_id)};", f"{method}={result.result.value}"]
    if comment:
        parts.append(f"({comment_text(comment)})")
    if result.problem is not None and result.result in _ERRORS:
        parts.append(f"reason={quote_value(ascii_text(result.problem))}")
    if checked:
        parts.append(f"{prop}={_pvalue(checked)}")
    return HeaderField("Authentication-Results", " ".join(parts))
