"""The spfkit exception tree.

::

    SpfkitError
     ├── RecordSyntaxError      a record does not follow RFC 7208 §12 (term, column, reason)
     ├── MacroSyntaxError       a macro-string does not follow §7.1 (column, reason)
     ├── InputError             an input file that cannot be read as what it claims to be
     └── EvaluationError        raised *inside* check_host() only, never seen by callers
          ├── PermError         §2.6.7: the published records cannot be interpreted
          └── TempError         §2.6.6: a transient (DNS) error

``check_host()`` turns ``PermError`` and ``TempError`` into a :class:`~spfkit.results.CheckResult`
in one place; a caller only ever sees ``RecordSyntaxError`` / ``MacroSyntaxError`` from the
parsers and ``ValueError`` for arguments that are not what they claim to be (a bad IP).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager


def shorten(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters for messages (a hostile term can be 64 KB)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


class SpfkitError(Exception):
    """Base of every exception spfkit raises on purpose."""


class InputError(SpfkitError, ValueError):
    """An input file that cannot be read (a truncated or damaged gzip file, a zone file that
    does not parse): the CLI says so in one line, exit status 2."""


@contextmanager
def reading(path: object) -> Iterator[None]:
    """Inside: the errors of reading ``path`` become one :class:`InputError` naming it (a
    truncated gzip stream raises ``EOFError``, which click would take for Ctrl-D)."""
    try:
        yield
    except EOFError:
        raise InputError(f"{path}: the file is truncated (its compressed data ends early)") \
            from None
    except zlib.error as exc:
        raise InputError(f"{path}: damaged compressed data ({exc})") from None
    except OSError as exc:  # gzip.BadGzipFile included
        raise InputError(f"{path}: {exc.strerror or exc}") from None


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
