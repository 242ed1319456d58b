"""The corrected record a finding offers: its record with terms removed, replaced or added.

§4.6.1: a record is its version followed by terms separated by spaces, so a fix is the same
words joined again with one changed. A fixed record is offered only when the parser accepts
it, but parsing the whole record again for every finding made ``lint`` quadratic in the
number of terms (and filled the parser's cache with near-copies of a large record). The
parser checks each term on its own (§4.6.1, §5, §6) and only one thing across terms —
"redirect" and "exp" at most once each (§6) — so when the record's own words parse, any
subset of them in any order parses too, and a text with new words parses exactly when a short
probe does: the version, the new words and the kept "redirect"/"exp" terms. A record whose
words do not parse back as themselves (built in code) is checked in full, as before.

A record longer than any real one needs (over 4,096 characters) gets no per-finding fixed
record: each would be another full copy of it, and thousands of findings times tens of
kilobytes made ``lint`` print hundreds of megabytes. Its findings still say what to fix.
Pure: no I/O imports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from spfkit.errors import RecordSyntaxError
from spfkit.record.model import Record
from spfkit.record.parse import parse_record
from spfkit.record.terms import Explanation, Mechanism, Redirect, Term

__all__ = ["RecordFixes"]

#: §6: the modifiers the parser counts across the whole record
_COUNTED: Final = (Redirect, Explanation)
#: characters of record text past which no fixed copies are made (evaluate.budget.LARGE_RECORD)
MAX_FIXED_RECORD: Final = 4096


class RecordFixes:
    """Fixed texts of one record; each costs one join of its words (see the module doc)."""

    __slots__ = ("_at", "_counted", "_large", "_mechanisms", "_sound", "_words")

    def __init__(self, record: Record) -> None:
        self._words = [record.version_text, *(str(t) for t in record.terms)]
        self._large = sum(len(w) + 1 for w in self._words) > MAX_FIXED_RECORD
        #: where each term object stands (``_words[k + 1]`` is ``record.terms[k]``)
        self._at: dict[int, list[int]] = {}
        for k, term in enumerate(record.terms):
            self._at.setdefault(id(term), []).append(k)
        self._counted = [k for k, t in enumerate(record.terms) if isinstance(t, _COUNTED)]
        self._mechanisms = [k for k, t in enumerate(record.terms) if isinstance(t, Mechanism)]
        parsed = None if self._large else _parses(" ".join(self._words))
        self._sound = parsed is not None and len(parsed.terms) == len(record.terms)

    def without(self, *drop: Term) -> str | None:
        """The record without the terms ``drop``."""
        gone = self._positions(drop)
        return self._checked(self._kept(gone), (), gone)

    def replacing(self, old: Term, new: str) -> str | None:
        """The record with ``old`` written as ``new``."""
        gone = self._positions((old,))
        words = list(self._words)
        for k in gone:
            words[k + 1] = new
        return self._checked(words, (new,) if gone else (), gone)

    def adding_mechanism(self, text: str, *, drop: Term | None = None) -> str | None:
        """``text`` added after the last mechanism (modifiers stay after it), ``drop`` removed."""
        gone = self._positions(() if drop is None else (drop,))
        removed = set(gone)
        last = next((k for k in reversed(self._mechanisms) if k not in removed), -1)
        words = self._kept(gone)
        at = last + 1 - sum(1 for k in gone if k < last) + 1  # + 1: the version word
        words.insert(at, text)
        return self._checked(words, (text,), gone)

    def render(self, terms: Sequence[Term]) -> str | None:
        """The record with its own ``terms`` in this order (a subset, or all moved)."""
        if self._large:
            return None
        words = [self._words[0], *(str(t) for t in terms)]
        ids = {id(t) for t in terms}
        if len(ids) == len(terms) and all(i in self._at for i in ids):
            return self._checked(words, (), [])
        text = " ".join(words)
        return text if _parses(text) is not None else None

    def _positions(self, terms: Sequence[Term]) -> list[int]:
        return sorted({k for t in terms for k in self._at.get(id(t), ())})

    def _kept(self, gone: list[int]) -> list[str]:
        words: list[str] = []
        start = 0
        for k in gone:
            words += self._words[start : k + 1]
            start = k + 2
        words += self._words[start:]
        return words

    def _checked(self, words: list[str], new: Sequence[str], gone: list[int]) -> str | None:
        if self._large:
            return None
        text = " ".join(words)
        if not self._sound:
            return text if _parses(text) is not None else None
        if not new:
            return text
        removed = set(gone)
        kept = [self._words[k + 1] for k in self._counted if k not in removed]
        return text if _parses(" ".join([self._words[0], *new, *kept])) is not None else None


def _parses(text: str) -> Record | None:
    try:
        return parse_record(text)
    except RecordSyntaxError:
        return None
