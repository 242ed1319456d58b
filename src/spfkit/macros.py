"""Macros (RFC 7208 §7): parse a macro-string once, expand it many times.

``parse_macro_string`` turns text into a :class:`MacroString` (a tuple of literal, escape and
macro parts); ``MacroString.expand`` fills it in from a :class:`MacroContext`. Expansion is
sync and pure: the one letter that needs DNS, ``p``, is looked up by the evaluator beforehand
and handed in as ``MacroContext.validated_name``. No asyncio, socket or dnspython imports.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from ipaddress import IPv4Address, IPv6Address
from typing import Final

from spfkit.bounded import SizedLRU
from spfkit.errors import MacroSyntaxError

#: §7.2 macro letters allowed everywhere, and the three allowed only in "exp" text.
LETTERS: Final = frozenset("slodiphv")
EXP_ONLY_LETTERS: Final = frozenset("crt")
#: §7.1 delimiter
DELIMITERS: Final = frozenset(".-+,/_=")
#: §7.3: at most 253 octets for a domain name built by expansion.
MAX_DOMAIN_LENGTH: Final = 253
#: RFC 3986 §2.3 unreserved characters, left alone by URL escaping (§7.3).
_UNRESERVED: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
#: a DIGIT transformer larger than any possible number of parts means "all of them".
_MAX_DIGITS: Final = 1024


@dataclass(frozen=True, slots=True)
class Literal:
    """Literal text (§7.1 macro-literal, or SP inside an explain-string)."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Escape:
    """§7.1: ``%%`` (a percent sign), ``%_`` (a space) or ``%-`` (URL-encoded space)."""

    char: str  # "%", "_" or "-"

    def expand(self) -> str:
        return {"%": "%", "_": " ", "-": "%20"}[self.char]

    def __str__(self) -> str:
        return "%" + self.char


@dataclass(frozen=True, slots=True)
class Macro:
    """§7.1 ``%{ letter [digits] [r] *delimiter }``; an upper-case letter URL-escapes (§7.3)."""

    letter: str  # as written; upper case means URL-escape
    digits: int | None = None
    reverse: bool = False
    delimiters: str = ""
    #: the macro exactly as written (``%{d02R}``), so that text survives a round trip
    source: str = field(default="", compare=False)

    @property
    def url_escape(self) -> bool:
        return self.letter.isupper()

    def __str__(self) -> str:
        if self.source:
            return self.source
        digits = "" if self.digits is None else str(self.digits)
        return "%{" + self.letter + digits + ("r" if self.reverse else "") + self.delimiters + "}"


Part = Literal | Escape | Macro


@dataclass(frozen=True, slots=True)
class MacroContext:
    """The values macro letters stand for (§7.2), for one check_host() call.

    ``sender`` is already the §4.3 form (``postmaster@domain`` when the local-part was empty);
    ``validated_name`` is the ``p`` value, computed by the evaluator only when needed.
    """

    sender: str
    domain: str
    ip: IPv4Address | IPv6Address
    helo: str = ""
    receiver: str = "unknown"
    timestamp: int = 0
    validated_name: str = "unknown"

    @property
    def local_part(self) -> str:
        local, _, _ = self.sender.rpartition("@")
        return local or "postmaster"

    @property
    def sender_domain(self) -> str:
        return self.sender.rpartition("@")[2]

    def value(self, letter: str) -> str:
        """§7.2: the raw value of a (lower-case) macro letter."""
        ip = self.ip
        match letter:
            case "s":
                return self.sender
            case "l":
                return self.local_part
            case "o":
                return self.sender_domain
            case "d":
                return self.domain
            case "i":
                if isinstance(ip, IPv4Address):
                    return str(ip)
                # §7.3: dot-format, one nibble per label (upper case, as openspf's suite expects)
                return ".".join(ip.exploded.replace(":", "").upper())
            case "p":
                return self.validated_name
            case "v":
                return "in-addr" if isinstance(ip, IPv4Address) else "ip6"
            case "h":
                return self.helo
            case "c":
                return str(ip)
            case "r":
                return self.receiver or "unknown"
            case "t":
                return str(self.timestamp)
        raise ValueError(f"not a macro letter: {letter!r}")


@dataclass(frozen=True, slots=True)
class MacroString:
    """A parsed macro-string (§7.1) or explain-string (§6.2)."""

    parts: tuple[Part, ...]

    def __str__(self) -> str:
        return "".join(str(part) for part in self.parts)

    @property
    def letters(self) -> frozenset[str]:
        """The macro letters used, lower-cased."""
        return frozenset(p.letter.lower() for p in self.parts if isinstance(p, Macro))

    @property
    def is_literal(self) -> bool:
        return not any(isinstance(p, Macro) for p in self.parts)

    def expand(self, ctx: MacroContext) -> str:
        """§7.3: the expanded text (no length rule; see :meth:`expand_domain`)."""
        return "".join(_expand_part(part, ctx) for part in self.parts)

    def expand_domain(self, ctx: MacroContext) -> str:
        """§7.3: expand for use as a DNS name: no trailing dot, at most 253 octets.

        Equal to ``truncate_domain(self.expand(ctx))``, but built from the right: truncation
        keeps only right-hand labels, so once more than 253 octets containing a dot are
        expanded, nothing further left can be part of the result and is never expanded.
        The work and the text built are bounded by 253 octets plus the last part and the
        last label, however many macros the domain-spec repeats.
        """
        tail: list[str] = []  # expanded parts, right-most first, trailing dots removed
        octets = 0
        has_dot = False
        for part in reversed(self.parts):
            text = _expand_part(part, ctx)
            if not tail:
                text = text.rstrip(".")  # §7.3 trailing dots go before any length is counted
                if not text:
                    continue
            tail.append(text)
            octets += _octets(text)
            has_dot = has_dot or "." in text
            if has_dot and octets > MAX_DOMAIN_LENGTH:
                break
        tail.reverse()
        return truncate_domain("".join(tail))


def truncate_domain(name: str) -> str:
    """§7.3: drop trailing dots, then whole left-hand labels until <= 253 octets remain.

    "If the expanded domain-spec is longer than 253 characters, the left side is truncated
    [...] removing labels from the left until the total length is <= 253": the result is the
    longest suffix starting after a dot that fits, or, when even the last label is longer,
    that label (a single label cannot be shortened). One pass over at most 254 octets.
    """
    name = name.rstrip(".")
    if _octets(name) <= MAX_DOMAIN_LENGTH:
        return name
    if name.isascii():
        # a dot at index i leaves len(name) - i - 1 octets; the first such dot that fits wins
        cut = name.find(".", len(name) - MAX_DOMAIN_LENGTH - 1)
    else:
        cut, kept = -1, 0
        for i in range(len(name) - 1, -1, -1):
            if name[i] == ".":
                cut = i
            kept += _octets(name[i])
            if kept > MAX_DOMAIN_LENGTH:
                break
    if cut < 0:
        cut = name.rfind(".")  # the last label alone is too long: keep just that label
    return name[cut + 1 :] if cut >= 0 else name


def _octets(text: str) -> int:
    """Length in octets (UTF-8; bytes smuggled in by ``surrogateescape`` count as one)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogateescape"))


def _expand_part(part: Part, ctx: MacroContext) -> str:
    if isinstance(part, Literal):
        return part.text
    if isinstance(part, Escape):
        return part.expand()
    return _expand_macro(part, ctx)


def _expand_macro(macro: Macro, ctx: MacroContext) -> str:
    value = ctx.value(macro.letter.lower())
    if macro.digits is not None or macro.reverse or macro.delimiters:
        # §7.3: split on the delimiters (default "."), reverse, keep the right-most
        # <digits> parts, rejoin with "."
        if macro.delimiters.strip("."):
            parts = _splitter("".join(sorted(set(macro.delimiters))))(value)
        else:
            parts = value.split(".")
        if macro.reverse:
            parts.reverse()
        if macro.digits is not None and macro.digits < len(parts):
            parts = parts[len(parts) - macro.digits :]
        value = ".".join(parts)
    if macro.url_escape:
        value = "".join(
            chr(b) if b in _UNRESERVED else f"%{b:02X}"
            for b in value.encode("utf-8", "surrogateescape")
        )
    return value


@lru_cache(maxsize=256)
def _splitter(delimiters: str) -> Callable[[str], list[str]]:
    """One pass splitting on any of the delimiters, however often each is written."""
    return re.compile("[" + re.escape("".join(sorted(set(delimiters)))) + "]").split


def parse_macro_string(text: str, *, explanation: bool = False) -> MacroString:
    """Parse §7.1 ``macro-string`` (or §6.2 ``explain-string`` when ``explanation``).

    Raises :class:`MacroSyntaxError` with the 0-based column of the first bad character.
    Results are cached by text: explanations and default texts repeat across checks.
    """
    parsed = _parse_cached(text, explanation)
    if isinstance(parsed, MacroSyntaxError):
        raise MacroSyntaxError(parsed.text, parsed.column, parsed.reason)
    return parsed


def _macro_size(chars: int) -> int:
    """Estimated bytes of a parsed macro-string of ``chars`` characters."""
    return 300 + 40 * chars


#: parsed macro-strings by (text, explanation), bounded in bytes: a domain-spec is what a
#: sender publishes, and one over 1,024 characters (no real one is) is parsed, used, not kept
_CACHE: Final[SizedLRU[tuple[str, bool], MacroString | MacroSyntaxError]] = SizedLRU(
    8 * 1024 * 1024, max_entry_bytes=_macro_size(1024))


def _parse_cached(text: str, explanation: bool) -> MacroString | MacroSyntaxError:
    key = (text, explanation)
    found = _CACHE.get(key)
    if found is None:
        try:
            found = _parse(text, explanation)
        except MacroSyntaxError as exc:
            found = exc.with_traceback(None)  # kept: its frames (and their locals) are not
        _CACHE.put(key, found, _macro_size(len(text)))
    return found


def _parse(text: str, explanation: bool) -> MacroString:
    parts: list[Part] = []
    literal_start = 0
    i = 0
    n = len(text)
    allowed = LETTERS | EXP_ONLY_LETTERS if explanation else LETTERS
    while i < n:
        ch = text[i]
        if ch == "%":
            if i > literal_start:
                parts.append(Literal(text[literal_start:i]))
            if i + 1 >= n:
                raise MacroSyntaxError(text, i, "a '%' must be followed by '{', '%', '_' or '-'")
            nxt = text[i + 1]
            if nxt in "%_-":
                parts.append(Escape(nxt))
                i += 2
            elif nxt == "{":
                macro, i = _parse_macro(text, i, allowed)
                parts.append(macro)
            else:
                raise MacroSyntaxError(text, i, f"'%{nxt}' is not a macro (use '%%' for a percent sign)")
            literal_start = i
            continue
        code = ord(ch)
        if not (0x21 <= code <= 0x7E or (explanation and ch == " ")):
            what = "a space" if ch == " " else f"the character {ch!r}"
            raise MacroSyntaxError(text, i, f"{what} is not allowed here (RFC 7208 §7.1)")
        i += 1
    if n > literal_start:
        parts.append(Literal(text[literal_start:]))
    return MacroString(tuple(parts))


def _parse_macro(text: str, start: int, allowed: frozenset[str]) -> tuple[Macro, int]:
    """Parse ``%{...}`` at ``start``; return the macro and the index after ``}``."""
    end = text.find("}", start + 2)
    if end < 0:
        raise MacroSyntaxError(text, start, "unterminated macro: missing '}'")
    body = text[start + 2 : end]
    if not body:
        raise MacroSyntaxError(text, start, "empty macro '%{}'")
    letter = body[0]
    if letter.lower() not in allowed:
        where = " outside an explanation" if letter.lower() in EXP_ONLY_LETTERS else ""
        raise MacroSyntaxError(text, start + 2, f"unknown macro letter {letter!r}{where}")
    j = 1
    while j < len(body) and body[j].isascii() and body[j].isdigit():
        j += 1
    digits: int | None = None
    if j > 1:
        significant = body[1:j].lstrip("0")
        if not significant:
            raise MacroSyntaxError(text, start + 3, "the digit transformer must not be zero (§7.3)")
        # more parts than any name can have means "all of them"; no need to build a huge int
        digits = int(significant) if len(significant) <= 6 else _MAX_DIGITS
        digits = min(digits, _MAX_DIGITS)
    reverse = False
    if j < len(body) and body[j] in "rR":
        reverse = True
        j += 1
    delimiters = body[j:]
    for k, ch in enumerate(delimiters):
        if ch not in DELIMITERS:
            raise MacroSyntaxError(text, start + 2 + j + k, f"{ch!r} is not a macro delimiter")
    return Macro(letter, digits, reverse, delimiters, text[start : end + 1]), end + 1
