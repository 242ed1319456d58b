"""RFC 5322 §3.4 mailbox lists, read as RFC 4407 §2 step 5 needs them.

Step 5 asks three questions of the one header field a previous step selected: does it
"appear to contain multiple mailboxes", is "the single mailbox ... hopelessly malformed", and
does it "contain a domain name"?  :func:`parse_mailbox_list` answers them for any text:

    mailbox-list = (mailbox *("," mailbox)) / obs-mbox-list          ; §3.4, §4.4
    mailbox      = name-addr / addr-spec
    name-addr    = [display-name] angle-addr
    angle-addr   = [CFWS] "<" addr-spec ">" [CFWS] / obs-angle-addr
    obs-angle-addr = [CFWS] "<" obs-route addr-spec ">" [CFWS]
    group        = display-name ":" [group-list] ";" [CFWS]           ; not allowed in From/Sender
    addr-spec    = local-part "@" domain
    local-part   = dot-atom / quoted-string / obs-local-part          ; obs: word *("." word)
    domain       = dot-atom / domain-literal / obs-domain

Tolerated (kept as :attr:`MailboxList.notes`): empty list elements (obs-mbox-list), an
obs-route, a group wrapped around the mailboxes, RFC 6532 UTF-8 text.  Hopeless (an item
``error``): unbalanced quotes, comments, brackets or angle brackets; no ``@``; an empty
local-part; a local-part that is not dot-atom/quoted-string/obs-local-part; a domain that
is a literal (``[192.0.2.1]`` is no domain name) or not a sequence of DNS labels.

Written by hand rather than with :mod:`email.headerregistry`, whose parser raises
``IndexError`` on some hostile input (``@example.com``) and silently repairs others.
Pure: never raises, imports no asyncio, socket or dnspython.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, NamedTuple

__all__ = ["Mailbox", "MailboxItem", "MailboxList", "parse_mailbox_list"]

_WS: Final = frozenset(" \t\r\n")
_SPECIALS: Final = frozenset('<>@,;:."()[]\\')
# A DNS label (RFC 1035 §2.3.1, underscores tolerated as DNS allows them) or a UTF-8 U-label.
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_LABEL: Final = re.compile(r"[A-Za-z0-9_\x80-\ud7ff\ue000-\U0010ffff]"
                           r"(?:[A-Za-z0-9_\-\x80-\ud7ff\ue000-\U0010ffff]*"
                           r"[A-Za-z0-9_\x80-\ud7ff\ue000-\U0010ffff])?")


class _Tok(NamedTuple):
    kind: str  # "atom", "qs" (quoted-string), "lit" (domain literal), "ws", or the special itself
    text: str


@dataclass(frozen=True, slots=True)
class Mailbox:
    """One addr-spec: ``local_part`` as written (a quoted-string keeps its quotes)."""

    local_part: str
    domain: str

    @property
    def address(self) -> str:
        return f"{self.local_part}@{self.domain}"


@dataclass(frozen=True, slots=True)
class MailboxItem:
    """One element of the list: a mailbox, or the reason it is hopelessly malformed."""

    text: str
    mailbox: Mailbox | None = None
    error: str | None = None
    group: str | None = None  # the display name of the group it sits in, if any


@dataclass(frozen=True, slots=True)
class MailboxList:
    """The non-empty elements of a mailbox-list, and what was tolerated on the way."""

    items: tuple[MailboxItem, ...] = ()
    notes: tuple[str, ...] = ()
    error: str | None = None  # the whole field could not be read (e.g. an unterminated quote)


def parse_mailbox_list(value: str) -> MailboxList:
    """RFC 5322 §3.4: the mailboxes of one header field body (comments dropped)."""
    tokens, error = _lex(value)
    if error is not None:
        return MailboxList(error=error)
    notes: list[str] = []
    items: list[MailboxItem] = []
    for chunk, group in _split(tokens, notes):
        if _blank(chunk):
            if group is None:
                notes.append("an empty element in the list was ignored "
                             "(RFC 5322 §4.4 obs-mbox-list)")
            continue
        items.append(_item(chunk, group, notes))
    return MailboxList(tuple(items), tuple(dict.fromkeys(notes)))


def _lex(value: str) -> tuple[list[_Tok], str | None]:
    """Tokens of ``value``; comments are dropped (they are CFWS).  Linear in ``len(value)``."""
    tokens: list[_Tok] = []
    i, n = 0, len(value)
    while i < n:
        c = value[i]
        if c in _WS:
            j = i
            while j < n and value[j] in _WS:
                j += 1
            tokens.append(_Tok("ws", " "))
            i = j
        elif c == "(":  # §3.2.2 comment, nested, with quoted-pairs
            depth, i = 1, i + 1
            while i < n and depth:
                if value[i] == "\\":
                    i += 1
                elif value[i] == "(":
                    depth += 1
                elif value[i] == ")":
                    depth -= 1
                i += 1
            if depth:
                return [], "a comment is not closed: '(' without ')'"
            tokens.append(_Tok("ws", " "))
        elif c == '"':  # §3.2.4 quoted-string
            j = i + 1
            while j < n and value[j] != '"':
                j += 2 if value[j] == "\\" else 1
            if j >= n:
                return [], "a quoted-string is not closed: '\"' without its pair"
            tokens.append(_Tok("qs", value[i : j + 1]))
            i = j + 1
        elif c == "[":  # §3.4.1 domain-literal
            j = value.find("]", i)
            if j < 0 or "[" in value[i + 1 : j]:
                return [], "a domain literal is not closed: '[' without ']'"
            tokens.append(_Tok("lit", value[i : j + 1]))
            i = j + 1
        elif c in ")]\\":
            return [], f"an unpaired {c!r}"
        elif c in _SPECIALS:
            tokens.append(_Tok(c, c))
            i += 1
        elif not _is_atext(c):
            return [], f"a control character (U+{ord(c):04X})"
        else:
            j = i
            while j < n and _is_atext(value[j]):
                j += 1
            tokens.append(_Tok("atom", value[i:j]))
            i = j
    return tokens, None


def _is_atext(c: str) -> bool:
    """RFC 5322 §3.2.3 atext, widened by RFC 6532 §3.2 to every non-ASCII character (octets
    that were not UTF-8 arrive as surrogate escapes: text here, refused in an addr-spec)."""
    return c not in _SPECIALS and c not in _WS and 0x20 <= ord(c) != 0x7F


def _split(tokens: list[_Tok], notes: list[str]) -> list[tuple[list[_Tok], str | None]]:
    """Split at top-level commas; unwrap groups (``name: a, b;``) into their mailboxes.

    An element that holds only white space comes back empty; one right after a group's
    ``;`` (the ``[CFWS]`` that ends the group) is dropped.
    """
    chunks: list[tuple[list[_Tok], str | None]] = []
    current: list[_Tok] = []
    group: str | None = None
    in_angle = closed = False
    for tok in tokens:
        top = not in_angle
        if tok.kind == "<":
            in_angle = True
        elif tok.kind == ">":
            in_angle = False
        elif top and tok.kind == ",":
            if not (closed and _blank(current)):
                chunks.append((current, group))
            current, closed = [], False
            continue
        elif top and tok.kind == ":" and group is None:
            group = _text(current).strip() or "(no name)"
            notes.append(f"group syntax ({group}:...;) is not a mailbox-list (RFC 5322 §3.6.2)")
            current, closed = [], False
            continue
        elif top and tok.kind == ";" and group is not None:
            if not _blank(current) or not any(g == group for _, g in chunks):
                chunks.append((current, group))
            current, group, closed = [], None, True
            continue
        current.append(tok)
    if not (closed and _blank(current)):
        chunks.append((current, group))
    return chunks


def _blank(tokens: list[_Tok]) -> bool:
    return all(t.kind == "ws" for t in tokens)


def _text(tokens: list[_Tok]) -> str:
    return "".join(t.text for t in tokens)


def _item(chunk: list[_Tok], group: str | None, notes: list[str]) -> MailboxItem:
    text = _text(chunk).strip()
    kinds = [t.kind for t in chunk]
    if group is None and ";" in kinds:
        return MailboxItem(text, error="a ';' outside a group")
    if ":" in kinds and "<" not in kinds:
        return MailboxItem(text, error="a ':' outside an angle-addr")
    if "<" in kinds or ">" in kinds:
        if kinds.count("<") != 1 or kinds.count(">") != 1 or kinds.index("<") > kinds.index(">"):
            return MailboxItem(text, error="the angle brackets '<' '>' do not pair up")
        start, end = kinds.index("<"), kinds.index(">")
        phrase, spec, after = chunk[:start], chunk[start + 1 : end], chunk[end + 1 :]
        if any(t.kind != "ws" for t in after):
            return MailboxItem(text, error="text after the angle-addr '<...>'")
        if any(t.kind not in ("atom", "qs", "ws", ".") for t in phrase):
            return MailboxItem(text, error="the display name holds special characters")
        spec = _strip_route(spec, notes)
    else:
        spec = chunk
    mailbox, error = _addr_spec([t for t in spec if t.kind != "ws"], spec)
    return MailboxItem(text, mailbox, error, group)


def _strip_route(spec: list[_Tok], notes: list[str]) -> list[_Tok]:
    """RFC 5322 §4.4 obs-route (``<@relay.example:user@example.com>``) is ignored."""
    solid = [t for t in spec if t.kind != "ws"]
    if solid and solid[0].kind == "@" and any(t.kind == ":" for t in solid):
        notes.append("a source route (RFC 5322 §4.4 obs-route) was ignored")
        colon = next(i for i, t in enumerate(spec) if t.kind == ":")
        return spec[colon + 1 :]
    return spec


def _addr_spec(solid: list[_Tok], spec: list[_Tok]) -> tuple[Mailbox | None, str | None]:
    """§3.4.1 addr-spec = local-part "@" domain, from the tokens without white space."""
    if not solid:
        return None, "an empty address"
    ats = [i for i, t in enumerate(solid) if t.kind == "@"]
    if not ats:
        return None, f"no '@': {_text(spec).strip()!r} has no domain name"
    if len(ats) > 1:
        return None, "more than one '@' outside quotes (several addresses without commas?)"
    local, domain = solid[: ats[0]], solid[ats[0] + 1 :]
    if not local:
        return None, "an empty local-part before '@'"
    if not _dotted(local, ("atom", "qs")):
        return None, "the local-part is not a dot-atom or quoted-string"
    if _SURROGATE.search(_text(local)):
        return None, "the local-part holds octets that are not UTF-8"
    if not domain:
        return None, "no domain name after '@'"
    if len(domain) == 1 and domain[0].kind == "lit":
        return None, f"the domain {domain[0].text} is an address literal, not a domain name"
    if not _dotted(domain, ("atom",)) or not all(_LABEL.fullmatch(t.text) for t in domain[::2]):
        written = _text(spec).rpartition("@")[2].strip()
        return None, f"{written!r} is not a domain name"
    return Mailbox(_text(local), _text(domain)), None


def _dotted(tokens: list[_Tok], word_kinds: tuple[str, ...]) -> bool:
    """``word *("." word)``: words and dots alternate, starting and ending with a word."""
    if len(tokens) % 2 == 0:
        return False
    for i, tok in enumerate(tokens):
        if (i % 2 == 0) != (tok.kind in word_kinds) or (i % 2 == 1 and tok.kind != "."):
            return False
    return True
