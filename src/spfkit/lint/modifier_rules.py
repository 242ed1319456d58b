"""Rules on the modifiers of a parsed record that receivers ignore (RFC 7208 §6).

§6: "Unrecognized modifiers MUST be ignored", so an unknown ``name=value`` does nothing: a
misspelt ``redirect``/``exp``, a mechanism written with ``=``, the pre-RFC ``default=``, or
another service's token pasted into the record (:mod:`spfkit.lint.pasted`). Each finding
says which, with the record fixed. Part of :func:`spfkit.lint.record_rules.record_findings`.
Pure: no I/O imports.
"""

from __future__ import annotations

from typing import Final

from spfkit.errors import shorten
from spfkit.lint.codes import finding
from spfkit.lint.findings import Finding
from spfkit.lint.fixes import RecordFixes
from spfkit.lint.pasted import identify_key
from spfkit.lint.spelling import MECHANISM_NAMES, MODIFIER_NAMES, meant_name
from spfkit.record.model import Record
from spfkit.record.terms import All, UnknownModifier

__all__ = ["unknown_modifiers"]

#: RFC 6652 §3: the authentication-failure reporting modifiers are known, not typos
_KNOWN_EXTENSIONS: Final = frozenset({"ra", "rp", "rr"})
#: the pre-RFC "default=" values and the "all" each meant
_DEFAULT_VALUES: Final = {"deny": "-all", "softdeny": "~all", "neutral": "?all", "allow": "+all"}


def unknown_modifiers(record: Record, domain: str | None, fixes: RecordFixes) -> list[Finding]:
    """§6: "Unrecognized modifiers MUST be ignored" — so a misspelt one silently does nothing."""
    out: list[Finding] = []
    for m in record.terms:
        if not isinstance(m, UnknownModifier):
            continue
        key = m.key.lower()
        if key in _KNOWN_EXTENSIONS:
            continue
        meant = key if key in MECHANISM_NAMES else meant_name(key)
        if (foreign := identify_key(m.key)) is not None:
            out.append(finding(
                "SPF-W333", f"'{shorten(str(m), 50)}' is {foreign.what}, pasted into the SPF "
                "record: receivers ignore it as an unknown modifier (§6), and the service "
                "that looks for it expects a TXT record of its own, so it will not find it",
                f"publish '{shorten(str(m), 50)}' as its own TXT record at the domain and "
                "remove it from the SPF record", domain=domain, column=m.column, term=str(m),
                fixed_record=fixes.without(m)))
        elif key == "default":
            out.append(_default(record, m, domain, fixes))
        elif meant in MECHANISM_NAMES and meant != "all":
            new = f"{meant}:{m.value}"
            out.append(finding(
                "SPF-E209", f"'{shorten(str(m))}' is a modifier named '{m.key}' ('=' makes "
                f"it one), which receivers ignore (§6): the {meant} mechanism it was meant "
                "to be does nothing", f"write '{shorten(new)}'", domain=domain,
                column=m.column, term=str(m), fixed_record=fixes.replacing(m, new)))
        elif meant in MODIFIER_NAMES:
            new = f"{meant}={m.value}"
            out.append(finding(
                "SPF-E313", f"'{shorten(str(m))}' looks like a misspelt '{meant}='; receivers "
                f"ignore unknown modifiers (§6), so the {meant} does not happen",
                f"write '{shorten(new)}'", domain=domain, column=m.column, term=str(m),
                fixed_record=fixes.replacing(m, new)))
        else:
            out.append(finding(
                "SPF-I312", f"'{shorten(m.key)}' is not a modifier RFC 7208 defines; "
                "receivers ignore it (§6)", "remove it unless a tool of yours reads it "
                "(and check it is not a typo)", domain=domain, column=m.column, term=str(m)))
    return out


def _default(record: Record, m: UnknownModifier, domain: str | None,
             fixes: RecordFixes) -> Finding:
    """The ``default=deny`` of SPF's early drafts: never part of RFC 4408 or RFC 7208."""
    meant = _DEFAULT_VALUES.get(str(m.value).lower())
    has_all = any(isinstance(m, All) for m in record.mechanisms)
    if has_all or meant is None:
        fix, fixed = f"remove '{m}'", fixes.without(m)
    else:
        fix, fixed = f"replace it with '{meant}' after the mechanisms", \
            fixes.adding_mechanism(meant, drop=m)
    return finding(
        "SPF-W314", f"'{shorten(str(m))}' comes from pre-RFC drafts of SPF; receivers ignore "
        "it (§6: unknown modifiers MUST be ignored), so it does not set the default result",
        fix, domain=domain, column=m.column, term=str(m), fixed_record=fixed)
