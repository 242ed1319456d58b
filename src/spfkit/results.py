"""SPF results (RFC 7208 §2.6, §8) and the outcome of one ``check_host()``.

Pure data: imports nothing from asyncio, sockets or dnspython.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from spfkit.lookup.protocol import Lookup


class Result(StrEnum):
    """RFC 7208 §2.6; the value is the token written into headers (§9)."""

    NONE = "none"
    NEUTRAL = "neutral"
    PASS = "pass"
    FAIL = "fail"
    SOFTFAIL = "softfail"
    TEMPERROR = "temperror"
    PERMERROR = "permerror"

    @property
    def meaning(self) -> str:
        """One sentence on what the result means, after RFC 7208 §8."""
        return _MEANINGS[self]


_MEANINGS: dict[Result, str] = {
    Result.NONE: "The domain publishes no SPF record (or no domain could be checked), "
    "so nothing can be said about the sender.",
    Result.NEUTRAL: "The domain owner explicitly makes no assertion about whether the "
    "client is authorised; treat it like no policy at all.",
    Result.PASS: "The client is authorised to send mail with this identity.",
    Result.FAIL: "The domain owner states that the client is NOT authorised to use this "
    "identity; receivers commonly reject such mail.",
    Result.SOFTFAIL: "The domain owner believes the client is probably not authorised, but "
    "asks receivers not to reject outright; such mail is usually accepted and marked.",
    Result.TEMPERROR: "A transient (usually DNS) error stopped the check; a later retry "
    "may succeed, so receivers typically defer the mail.",
    Result.PERMERROR: "The domain's published records could not be interpreted correctly; "
    "the domain owner must fix them.",
}


class TraceKind(StrEnum):
    """What a :class:`TraceEvent` reports."""

    CHECK = "check"  # check_host() entered for a domain (top level, include, redirect)
    QUERY = "query"  # one DNS query and its answer code
    RECORD = "record"  # the SPF record selected for a domain
    TERM = "term"  # one term tried, and whether it matched
    RESULT = "result"  # check_host() for a domain returned
    NOTE = "note"  # anything else worth showing (limits, ignored exp, ...)


class TraceEvent(NamedTuple):
    """One step of an evaluation; ``depth`` is the include/redirect nesting level.

    ``lookups`` and ``void_lookups`` are the §4.6.4 counts of the whole evaluation right
    after this step, so a tree view can show each node's cost and the running total. A
    query event keeps its DNS ``answer``; its ``detail`` text is made only when read.
    (A named tuple rather than a dataclass: an evaluation makes a score of these.)
    """

    kind: TraceKind
    depth: int
    domain: str
    text: str
    note: str = ""
    lookups: int = 0
    void_lookups: int = 0
    answer: Lookup[Any] | None = None

    @property
    def detail(self) -> str:
        """What happened: "match", an answer code and records, a reason."""
        if self.answer is not None and not self.note:
            return self.answer.summary()
        return self.note

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "depth": self.depth,
            "domain": self.domain,
            "text": self.text,
            "detail": self.detail,
            "lookups": self.lookups,
            "void_lookups": self.void_lookups,
        }


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of ``check_host()`` (RFC 7208 §4), with how it was reached.

    ``domain`` and ``mechanism`` name the record and the term that decided the result
    (``mechanism`` is ``"default"`` when no term matched, §4.7); ``problem`` is set for
    temperror/permerror; ``lookups`` counts the DNS-querying terms of §4.6.4 and
    ``void_lookups`` the void lookups. ``no_such_domain`` (§4.3–§4.4): the checked domain
    does not exist (its own TXT lookup was NXDOMAIN), so ``none`` means a misspelt or expired
    name rather than a domain without a record; set by the evaluator, and by a compiled answer.
    """

    result: Result
    domain: str
    mechanism: str | None = None
    explanation: str | None = None
    problem: str | None = None
    lookups: int = 0
    void_lookups: int = 0
    trace: tuple[TraceEvent, ...] = field(default=(), repr=False)
    no_such_domain: bool = False

    @property
    def comment(self) -> str:
        """A short human sentence for header comments and logs."""
        return self.result.meaning

