"""SPF record syntax: terms, parsing, rendering and selection (RFC 7208 §4.5–§4.6, §12)."""

from spfkit.record.model import Record, Scope, Version
from spfkit.record.parse import is_spf1_text, parse_record
from spfkit.record.select import select_record
from spfkit.record.terms import (
    IP4,
    IP6,
    MX,
    PTR,
    A,
    All,
    DNSMechanism,
    Exists,
    Explanation,
    Include,
    LocalMechanism,
    Mechanism,
    Modifier,
    Qualifier,
    Redirect,
    Term,
    UnknownModifier,
)

__all__ = [
    "A",
    "All",
    "DNSMechanism",
    "Exists",
    "Explanation",
    "IP4",
    "IP6",
    "Include",
    "LocalMechanism",
    "MX",
    "Mechanism",
    "Modifier",
    "PTR",
    "Qualifier",
    "Record",
    "Redirect",
    "Scope",
    "Term",
    "UnknownModifier",
    "Version",
    "is_spf1_text",
    "parse_record",
    "select_record",
]
