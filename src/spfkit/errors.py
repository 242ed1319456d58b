"""The spfkit exception tree.

::

    SpfkitError
     ├── RecordSyntaxError      a record does not follow RFC 7208 §12 (term, column, reason)
     ├── MacroSyntaxError       a macro-string does not follow §7.1 (column, reason)
     └── EvaluationError        raised *inside* check_host() only, never seen by callers
          ├── PermError         §2.6.7: the published records cannot be interpreted
          └── TempError         §2.6.6: a transient (DNS) error

``check_host()`` turns ``PermError`` and ``TempError`` into a :class:`~spfkit.results.CheckResult`
in one place; a caller only ever sees ``RecordSyntaxError`` / ``MacroSyntaxError`` from the
parsers and ``ValueError`` for arguments that are not what they claim to be (a bad IP).
"""

from __future__ import annotations


def shorten(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters for messages (a hostile term can be 64 KB)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SpfkitError(Exception):
    """Base of every exception spfkit raises on purpose."""


class MacroSyntaxError(SpfkitError, ValueError):
    """A macro-string breaks RFC 7208 §7.1; ``column`` is 0-based within the string."""

    def __init__(self, text: str, column: int, reason: str) -> None:
        self.text = text
        self.column = column
        self.reason = reason
        super().__init__(f"{reason} at column {column + 1} of {text!r}")


class RecordSyntaxError(SpfkitError, ValueError):
    """A record breaks RFC 7208 §4.6 / §12.

    ``term`` is the offending term as written, ``column`` its 0-based offset in the record
    text, ``reason`` a sentence for people and ``rfc`` the section that the term breaks.
    """

    def __init__(self, reason: str, term: str = "", column: int = 0, rfc: str = "4.6") -> None:
        self.reason = reason
        self.term = term
        self.column = column
        self.rfc = rfc
        where = f" in term {shorten(term)!r} at column {column + 1}" if term else ""
        super().__init__(f"{reason}{where}")


class EvaluationError(SpfkitError):
    """Ends an evaluation early; becomes a result in ``check_host()`` (RFC 7208 §4)."""

    def __init__(self, reason: str, term: str | None = None) -> None:
        self.reason = reason
        self.term = term
        #: the domain whose record was being evaluated, and its nesting depth (set on the way out)
        self.domain: str | None = None
        self.depth = 0
        super().__init__(reason)


class PermError(EvaluationError):
    """§2.6.7: the domain's published records could not be correctly interpreted."""


class TempError(EvaluationError):
    """§2.6.6: a transient error, generally DNS, while performing the check."""
