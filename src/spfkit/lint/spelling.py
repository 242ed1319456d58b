"""Recognising what an author meant: misspelt names, look-alike characters, stray spaces.

The tables the text and record rules share (RFC 7208 §5 mechanism names, §6 modifier names,
§3.1 "the character content of the record is encoded as US-ASCII"). Whether a word *is* a
valid term is always asked of the real parser (:func:`is_term`), never of a second grammar.
Pure: no I/O imports.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from spfkit.bounded import SizedLRU
from spfkit.errors import RecordSyntaxError
from spfkit.record.parse import parse_record
from spfkit.record.terms import MECHANISMS

__all__ = [
    "INVISIBLE",
    "LOOKALIKES",
    "MECHANISM_NAMES",
    "MODIFIER_NAMES",
    "QUOTES",
    "SPACES",
    "ascii_for",
    "char_name",
    "is_term",
    "looks_like_spf",
    "meant_name",
]

MECHANISM_NAMES: Final = frozenset(MECHANISMS)
MODIFIER_NAMES: Final = frozenset({"redirect", "exp"})

#: quotation marks that end up around (or inside) records pasted from documents and zone files
QUOTES: Final = frozenset('"\'“”‘’„‟«»‹›″`´＂＇')

#: characters people paste instead of the ASCII ones SPF needs (NFKC covers the full-width
#: forms U+FF01–U+FF5E; these are the ones it does not map, or maps to something else)
LOOKALIKES: Final[dict[str, str]] = {
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-", "\ufe63": "-", "\u2043": "-",
    "\u301c": "~", "\u223c": "~", "\u02dc": "~", "\u2053": "~", "\uff5e": "~",
    "\uff0b": "+", "\ufe62": "+", "\u2795": "+",
    "\u3002": ".", "\uff61": ".", "\u2024": ".",
    "\u2044": "/", "\u2215": "/", "\u29f8": "/",
    "\uff1a": ":", "\u2236": ":", "\ua789": ":",
    "\u2260": "=",
    # Cyrillic and Greek letters that look like Latin ones
    "\u0430": "a", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0445": "x",
    "\u0456": "i", "\u0455": "s", "\u0458": "j", "\u03bf": "o", "\u0410": "A", "\u0412": "B",
}

#: characters that stand where one ASCII space should (§4.6.1: terms are separated by SP)
SPACES: Final = frozenset(
    "\t\n\r\x0b\x0c\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)
#: characters that take no room at all and must simply go
INVISIBLE: Final = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")

#: misspellings seen in published records, beyond what :func:`_distance` catches
_TYPOS: Final[dict[str, str]] = {
    "ipv4": "ip4", "ip4v": "ip4", "ipv": "ip4", "i4": "ip4", "ipaddr": "ip4",
    "ipv6": "ip6", "ip6v": "ip6", "i6": "ip6",
    "prt": "ptr", "al": "all", "alll": "all", "mxs": "mx", "exist": "exists",
    "redir": "redirect", "redirection": "redirect", "explanation": "exp", "explain": "exp",
    "includes": "include", "incl": "include",
}
#: names long enough that one slip (a transposition, a missing or an extra letter) is safe
_LONG_NAMES: Final = ("include", "exists", "redirect")


#: the start of something meant as an SPF record: quotes or spaces, then "v=spf" or "spf1"
_SPF_LIKE: Final = re.compile(
    r"[\s\"'“”‘’„«»`]*(v\s*[=:\-]?\s*(spf|sfp|psf)|spf\s*[12])", re.IGNORECASE
)


def looks_like_spf(text: str) -> bool:
    """Is this TXT text meant as an SPF or Sender ID record, even a broken one (§4.5)?"""
    return _SPF_LIKE.match("".join(ascii_for(ch) or ch for ch in text[:40])) is not None


def ascii_for(ch: str) -> str | None:
    """The ASCII text a look-alike or full-width character stands for, or None."""
    if ch in LOOKALIKES:
        return LOOKALIKES[ch]
    mapped = unicodedata.normalize("NFKC", ch)
    if mapped != ch and mapped.isascii() and mapped.isprintable() and mapped.strip():
        return mapped
    return None


def char_name(ch: str) -> str:
    """``'＋' (U+FF0B FULLWIDTH PLUS SIGN)`` for messages."""
    name = _CONTROL_NAMES.get(ch) or unicodedata.name(ch, "unnamed character")
    return f"{ch!r} (U+{ord(ch):04X} {name})"


_CONTROL_NAMES: Final = {
    "\t": "TAB", "\n": "LINE FEED", "\r": "CARRIAGE RETURN", "\x0b": "LINE TABULATION",
    "\x0c": "FORM FEED",
}


def meant_name(name: str, *, address: str = "") -> str | None:
    """The mechanism or modifier a misspelt ``name`` most likely stands for, or None.

    ``address`` (the text after ``:``) decides between ``ip4`` and ``ip6`` for a bare ``ip``.
    Exact names return None: they are not misspelt.
    """
    key = name.lower()
    if key in MECHANISM_NAMES or key in MODIFIER_NAMES:
        return None
    if key in ("ip", "ipaddress", "addr"):
        return "ip6" if ":" in address else "ip4"
    if key in _TYPOS:
        return _TYPOS[key]
    if len(key) >= 4:
        close = [n for n in _LONG_NAMES if _distance(key, n) == 1]
        if len(close) == 1:
            return close[0]
    return None


def _distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Damerau–Levenshtein with adjacent transpositions)."""
    if abs(len(a) - len(b)) > 1:
        return 2
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1]


#: answers by word, bounded in bytes (the words are what a domain publishes)
_TERMS: Final[SizedLRU[str, bool]] = SizedLRU(4 * 1024 * 1024, max_entry_bytes=1200)


def is_term(word: str) -> bool:
    """Does ``word`` (no spaces) parse as exactly one SPF term? Asked of the real parser."""
    if not word or " " in word:
        return False
    known = _TERMS.get(word)
    if known is None:
        try:
            known = len(parse_record("v=spf1 " + word).terms) == 1
        except RecordSyntaxError:
            known = False
        _TERMS.put(word, known, 100 + len(word))
    return known
