"""A parsed SPF record: its version and ordered terms (RFC 7208 §4.5–§4.6, RFC 4406 §3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from spfkit.record.terms import Explanation, Mechanism, Modifier, Redirect, Term


class Version(StrEnum):
    """The record's version section: SPF (RFC 7208 §4.5) or Sender ID (RFC 4406 §3)."""

    SPF1 = "v=spf1"
    SPF2 = "spf2.0"


class Scope(StrEnum):
    """RFC 4406 §3 scopes of an ``spf2.0`` record (RFC 7208 records cover MAIL FROM and HELO)."""

    MFROM = "mfrom"
    PRA = "pra"


@dataclass(frozen=True, slots=True)
class Record:
    """One SPF or Sender ID record, parsed once and shared by every consumer."""

    version: Version
    terms: tuple[Term, ...]
    #: for ``spf2.0`` records, the scopes as written (lower-cased), e.g. ``("pra", "mfrom")``
    scopes: tuple[str, ...] = ()
    #: the record as published (set by the parser); empty for records built in code
    text: str = field(default="", compare=False, repr=False, kw_only=True)
    mechanisms: tuple[Mechanism, ...] = field(init=False, compare=False, repr=False)
    redirect: Redirect | None = field(init=False, compare=False, repr=False)
    explanation: Explanation | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # §4.6.3 / §6: modifiers act after all mechanisms, wherever they stand
        object.__setattr__(
            self, "mechanisms", tuple(t for t in self.terms if isinstance(t, Mechanism))
        )
        redirect = next((t for t in self.terms if isinstance(t, Redirect)), None)
        exp = next((t for t in self.terms if isinstance(t, Explanation)), None)
        object.__setattr__(self, "redirect", redirect)
        object.__setattr__(self, "explanation", exp)

    @property
    def modifiers(self) -> tuple[Modifier, ...]:
        return tuple(t for t in self.terms if isinstance(t, Modifier))

    def covers(self, scope: Scope) -> bool:
        """RFC 4406 §4.4: does this record apply to ``scope``? ``v=spf1`` covers mfrom and pra."""
        return self.version is Version.SPF1 or scope.value in self.scopes

    @property
    def version_text(self) -> str:
        if self.version is Version.SPF1:
            return "v=spf1"
        return "spf2.0/" + ",".join(self.scopes)

    def canonical(self) -> str:
        """The record in canonical form: single spaces, canonical terms."""
        return " ".join([self.version_text, *(t.canonical() for t in self.terms)])

    def __str__(self) -> str:
        """The record as published, or its canonical form when built in code."""
        return self.text or self.canonical()
