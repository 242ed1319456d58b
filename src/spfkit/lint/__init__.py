"""``spfkit lint``: findings about published SPF records, each with a stable code and a fix.

* :func:`lint_text` — the static rules on one record text (no DNS);
* :func:`lint_domain` / :func:`lint_zone` — a domain's TXT records and the include/redirect
  tree they reach, through a :class:`~spfkit.lookup.Resolver`;
* :data:`CODES` — every code with its severity, title and RFC section (``docs/lint-codes.md``).
"""

from spfkit.lint.codes import CODES, CodeInfo
from spfkit.lint.findings import Finding, Severity, worst
from spfkit.lint.runner import (
    LintReport,
    corrected_record,
    lint_domain,
    lint_record,
    lint_text,
    lint_zone,
)

__all__ = [
    "CODES",
    "CodeInfo",
    "Finding",
    "LintReport",
    "Severity",
    "corrected_record",
    "lint_domain",
    "lint_record",
    "lint_text",
    "lint_zone",
    "worst",
]
