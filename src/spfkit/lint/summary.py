"""One line per domain: what ``spfkit lint`` found, as a row for CSV or a JSON object.

For linting a handful of domains at once (``spfkit lint a.example b.example``,
``--from-file``): the status, counts by severity, the codes, the lookup and void-lookup
counts of the tree (RFC 7208 §4.6.4: the real totals, past the limit too, as ``spfkit show``
gives them) and the corrected record. No I/O of its own (it reads a
:class:`~spfkit.lint.runner.LintReport`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from spfkit.lint.findings import Severity
from spfkit.lint.runner import LintReport

__all__ = ["COLUMNS", "LintSummary", "status_name"]

#: the CSV header, in order (the JSON object has the same keys)
COLUMNS: Final = ("domain", "status", "exit_status", "errors", "warnings", "info", "codes",
                  "lookups_ipv4", "lookups_ipv6", "void_ipv4", "void_ipv6", "fixed_record")

_STATUS: Final = {0: "clean", 1: "warnings", 2: "errors"}


def status_name(exit_status: int) -> str:
    """``clean`` (0: nothing above info), ``warnings`` (1) or ``errors`` (2)."""
    return _STATUS[exit_status]


@dataclass(frozen=True, slots=True)
class LintSummary:
    """The one-line summary of a :class:`LintReport`; ``codes`` in report order, once each."""

    domain: str
    exit_status: int
    errors: int
    warnings: int
    info: int
    codes: tuple[str, ...]
    lookups_v4: int | None
    lookups_v6: int | None
    void_v4: int | None
    void_v6: int | None
    fixed_record: str | None

    @classmethod
    def of(cls, report: LintReport) -> LintSummary:
        count = {s: sum(1 for f in report.findings if f.severity is s) for s in Severity}
        return cls(
            domain=report.domain or "", exit_status=report.exit_status,
            errors=count[Severity.ERROR], warnings=count[Severity.WARNING],
            info=count[Severity.INFO], codes=tuple(dict.fromkeys(f.code for f in report.findings)),
            lookups_v4=report.lookups_v4, lookups_v6=report.lookups_v6,
            void_v4=report.void_v4, void_v6=report.void_v6, fixed_record=report.fixed_record,
        )

    @property
    def status(self) -> str:
        return status_name(self.exit_status)

    def as_dict(self) -> dict[str, object]:
        """The JSON object: the :data:`COLUMNS`, ``codes`` a list, counts ``null`` when unknown."""
        return {
            "domain": self.domain, "status": self.status, "exit_status": self.exit_status,
            "errors": self.errors, "warnings": self.warnings, "info": self.info,
            "codes": list(self.codes), "lookups_ipv4": self.lookups_v4,
            "lookups_ipv6": self.lookups_v6, "void_ipv4": self.void_v4,
            "void_ipv6": self.void_v6, "fixed_record": self.fixed_record,
        }

    def as_row(self) -> list[str]:
        """The CSV row: the :data:`COLUMNS`, codes separated by spaces, "" when unknown."""
        values = self.as_dict()
        values["codes"] = " ".join(self.codes)
        return ["" if values[c] is None else str(values[c]) for c in COLUMNS]
