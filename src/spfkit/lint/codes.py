"""The stable finding codes of ``spfkit lint``: one table, code → severity, title, RFC section.

A code never changes meaning once published; new rules get new numbers. The scheme is
``SPF-`` + the severity letter (``E`` error, ``W`` warning, ``I`` info) + three digits whose
first digit is the area:

* ``1xx`` publication — the TXT RRset, its character-strings and sizes (RFC 7208 §3, §4.5);
* ``2xx`` syntax — text that does not parse, or parses into something else (§4.6, §5, §12);
* ``3xx`` record — a record that parses but does not do what its author meant (§4.6–§6);
* ``4xx`` tree — reserved for the rules over the include/redirect tree
  (``lint/tree_rules.py``: lookup counts, void lookups, loops, targets);
* ``5xx``–``9xx`` unused.

``docs/lint-codes.md`` lists the same table (a test keeps them equal). Pure: no I/O imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from spfkit.lint.findings import Finding, Severity

__all__ = ["CODES", "CodeInfo", "finding"]


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """What a code means: its fixed severity, a short title, and the RFC section it cites."""

    severity: Severity
    title: str
    rfc: str


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

#: every code the linter (outside the 4xx tree rules) can report
CODES: Final[dict[str, CodeInfo]] = {
    # -- 1xx publication ---------------------------------------------------------------------
    "SPF-E101": CodeInfo(_E, "no SPF record", "7208 §4.5"),
    "SPF-E102": CodeInfo(_E, "more than one v=spf1 record", "7208 §3.2, §4.5"),
    "SPF-E103": CodeInfo(_E, "the TXT records could not be fetched", "7208 §4.4"),
    "SPF-E104": CodeInfo(_E, "more than one Sender ID record for a scope", "4406 §4.4"),
    "SPF-W105": CodeInfo(_W, "a broken copy of an SPF record (ignored)", "7208 §4.5"),
    "SPF-E110": CodeInfo(_E, "character-string over 255 octets", "7208 §3.3"),
    "SPF-I111": CodeInfo(_I, "record over 255 octets must be split into strings", "7208 §3.3"),
    "SPF-E112": CodeInfo(_E, "string split drops or adds a space", "7208 §3.3"),
    "SPF-W113": CodeInfo(_W, "string split may have dropped a space", "7208 §3.3"),
    "SPF-W114": CodeInfo(_W, "answer may not fit in UDP (over 450 octets)", "7208 §3.4"),
    # -- 2xx syntax --------------------------------------------------------------------------
    "SPF-E201": CodeInfo(_E, "quotes inside the record text", "7208 §4.5"),
    "SPF-E202": CodeInfo(_E, "look-alike or full-width character", "7208 §3.1"),
    "SPF-E203": CodeInfo(_E, "tab, line break or non-ASCII space", "7208 §4.6.1"),
    "SPF-E204": CodeInfo(_E, "space before the version", "7208 §4.5"),
    "SPF-I205": CodeInfo(_I, "space at the end of the record", "7208 §4.5"),
    "SPF-I206": CodeInfo(_I, "more than one space between terms", "7208 §4.6.1"),
    "SPF-E207": CodeInfo(_E, "wrong or missing version", "7208 §4.5"),
    "SPF-E208": CodeInfo(_E, "misspelt mechanism or modifier", "7208 §5"),
    "SPF-E209": CodeInfo(_E, "mechanism written as a modifier (name=)", "7208 §6"),
    "SPF-E210": CodeInfo(_E, "modifier written as a mechanism (name:)", "7208 §6"),
    "SPF-E211": CodeInfo(_E, "not an IP address", "7208 §5.6"),
    "SPF-E212": CodeInfo(_E, "CIDR prefix length too long", "7208 §5.6"),
    "SPF-E213": CodeInfo(_E, "address of the other IP version", "7208 §5.6"),
    "SPF-E214": CodeInfo(_E, "list separator (',' or ';') between terms", "7208 §4.6.1"),
    "SPF-E215": CodeInfo(_E, "':' without a domain", "7208 §5.3, §5.4"),
    "SPF-E216": CodeInfo(_E, "space after ':'", "7208 §4.6.1"),
    "SPF-E217": CodeInfo(_E, "qualifier separated from its mechanism", "7208 §4.6.2"),
    "SPF-E218": CodeInfo(_E, "two terms run together", "7208 §4.6.1"),
    "SPF-E219": CodeInfo(_E, "leading zeros in an IPv4 address", "7208 §5.6"),
    "SPF-I220": CodeInfo(_I, "quotes as dig prints them (removed)", "7208 §3.3"),
    "SPF-E221": CodeInfo(_E, "another kind of TXT record, not SPF", "7208 §4.5"),
    "SPF-E222": CodeInfo(_E, "domain or address without its mechanism", "7208 §5"),
    "SPF-E223": CodeInfo(_E, "text stuck to the end of 'all'", "7208 §5.1"),
    "SPF-E299": CodeInfo(_E, "syntax error", "7208 §12"),
    # -- 3xx record --------------------------------------------------------------------------
    "SPF-W301": CodeInfo(_W, "no 'all' and no 'redirect': the default is neutral", "7208 §4.7"),
    "SPF-E303": CodeInfo(_E, "'redirect' is ignored because of 'all'", "7208 §5.1, §6.1"),
    "SPF-E304": CodeInfo(_E, "anyone may send ('+all' or a pass for every address)", "7208 §5.1"),
    "SPF-W305": CodeInfo(_W, "'?all' asserts nothing", "7208 §8.2"),
    "SPF-W306": CodeInfo(_W, "'ptr' should not be used", "7208 §5.5"),
    "SPF-W307": CodeInfo(_W, "duplicated mechanism", "7208 §4.6.2"),
    "SPF-W308": CodeInfo(_W, "shadowed network: an earlier term always decides first",
                          "7208 §4.6.2"),
    "SPF-I309": CodeInfo(_I, "redundant network", "7208 §5.6"),
    "SPF-I310": CodeInfo(_I, "exception carved out of a later, wider network", "7208 §4.6.2"),
    "SPF-I311": CodeInfo(_I, "'exp' is never used (no fail-producing term)", "7208 §6.2"),
    "SPF-I312": CodeInfo(_I, "unknown modifier (ignored)", "7208 §6"),
    "SPF-E313": CodeInfo(_E, "misspelt 'redirect' or 'exp' (ignored)", "7208 §6"),
    "SPF-W314": CodeInfo(_W, "obsolete 'default=' modifier (ignored)", "7208 §6"),
    "SPF-I315": CodeInfo(_I, "Sender ID (spf2.0) record", "4406 §3"),
    "SPF-I316": CodeInfo(_I, "'redirect' is not the last term", "7208 §6.1"),
    "SPF-I317": CodeInfo(_I, "network written with host bits set", "7208 §5.6"),
    "SPF-W318": CodeInfo(_W, "IPv4-mapped 'ip6' network: never matches", "7208 §5, §5.6"),
    # (SPF-E302 is retired: terms after 'all' are ignored, not invalid — now SPF-W330)
    "SPF-W330": CodeInfo(_W, "mechanisms after 'all' are ignored", "7208 §5.1"),
    "SPF-I331": CodeInfo(_I, "'?all' in a record made to be included", "7208 §5.2, §8.2"),
    "SPF-I332": CodeInfo(_I, "no 'all' in a record made to be included", "7208 §4.7, §5.2"),
    "SPF-W333": CodeInfo(_W, "another service's TXT record inside the SPF record", "7208 §6"),
    # (lint/address_rules.py: what the compiled policy authorises)
    "SPF-W350": CodeInfo(_W, "more than 100,000 IPv4 addresses may send", "7208 §5.2, §5.6"),
}


def finding(
    code: str,
    message: str,
    fix: str,
    *,
    domain: str | None = None,
    column: int | None = None,
    term: str | None = None,
    fixed_record: str | None = None,
    rfc: str | None = None,
) -> Finding:
    """A :class:`Finding` whose severity (and, by default, RFC section) come from :data:`CODES`."""
    info = CODES[code]
    return Finding(
        code=code,
        severity=info.severity,
        message=message,
        rfc=rfc or info.rfc,
        fix=fix,
        domain=domain,
        column=column,
        term=term,
        fixed_record=fixed_record,
    )
