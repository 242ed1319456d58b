"""What the linter reports: findings with a stable code, a severity, a place and a fix.

Pure data (no I/O imports). Every rule of ``spfkit lint`` produces :class:`Finding` values;
the CLI, the wizard, ``spfkit show`` and the web UI only display them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How bad a finding is; the order is error > warning > info."""

    ERROR = "error"  # receivers will return permerror, or the record does not do what it says
    WARNING = "warning"  # risky, deprecated, or close to a limit
    INFO = "info"  # worth knowing

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in a published record (or in the tree it points to).

    ``code`` is stable (documented, e.g. ``SPF-E101``); ``domain`` is whose record it is;
    ``column`` the 0-based offset in that record's text (None when it concerns the whole
    record or tree); ``term`` the offending term as written; ``rfc`` the section, e.g.
    ``"7208 §4.6.4"``; ``fix`` says what to do, and ``fixed_record`` is the corrected record
    text when it can be computed; ``extra_records`` the other records the fix needs published
    with it, ``(name, text)`` (the chained ``_spf{n}`` records of a flattening).
    """

    code: str
    severity: Severity
    message: str
    rfc: str
    fix: str
    domain: str | None = None
    column: int | None = None
    term: str | None = None
    fixed_record: str | None = None
    extra_records: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "rfc": self.rfc,
            "fix": self.fix,
            "domain": self.domain,
            "column": self.column,
            "term": self.term,
            "fixed_record": self.fixed_record,
            "extra_records": [{"name": n, "text": t} for n, t in self.extra_records],
        }


def worst(findings: list[Finding] | tuple[Finding, ...]) -> Severity | None:
    """The most severe severity among ``findings`` (None when there are none)."""
    return max((f.severity for f in findings), key=lambda s: s.rank, default=None)
