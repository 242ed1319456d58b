"""Choosing the record for a domain from its TXT RRset (RFC 7208 §4.5; RFC 4406 §4.4).

Pure: takes the character-strings DNS returned, returns the one record text to parse, or
``None`` when the domain publishes none; raises :class:`PermError` when there is more than one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from spfkit.errors import PermError
from spfkit.record.model import Scope
from spfkit.record.parse import is_spf1_text

_SPF2_HEAD: Final = re.compile(rb"spf2\.0/([^ ]*)(?: |\Z)", re.IGNORECASE)

TXTStrings = tuple[bytes, ...]


def join_strings(strings: TXTStrings) -> bytes:
    """§3.3: the character-strings of one TXT record are concatenated with nothing between."""
    return b"".join(strings)


def decode_record(data: bytes) -> str:
    """Bytes to text for the parser; bytes that are not UTF-8 become U+FFFD (and a PermError)."""
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace")


def select_record(rrset: Iterable[TXTStrings], scope: Scope | None = None) -> str | None:
    """The single record that applies, as text.

    ``scope=None``: RFC 7208 §4.5 — only ``v=spf1`` records count; none → ``None``, more than
    one → PermError. ``scope=Scope.MFROM/PRA``: RFC 4406 §4.4 — ``spf2.0`` records that list
    the scope win over ``v=spf1``; more than one of the winning kind → PermError.
    """
    spf1: list[bytes] = []
    spf2: list[bytes] = []
    for strings in rrset:
        data = join_strings(strings)
        if is_spf1_text(data):
            spf1.append(data)
        elif scope is not None and (match := _SPF2_HEAD.match(data)):
            scopes = {s.lower() for s in match.group(1).split(b",")}
            if scope.value.encode() in scopes:
                spf2.append(data)
    chosen, kind = (spf2, "spf2.0/" + scope.value) if spf2 and scope else (spf1, "v=spf1")
    if len(chosen) > 1:
        raise PermError(f"more than one {kind} record ({len(chosen)} found)")
    return decode_record(chosen[0]) if chosen else None
