"""Which incoming ``Authentication-Results:`` fields are forged (RFC 8601 §5), sans I/O.

RFC 8601 §5: "a border MTA MUST delete or otherwise obscure any instance of this header field
that claims, by virtue of its authentication service identifier, to have been added within its
trust boundary but that did not come directly from another trusted MTA". Only fields carrying
*our* authserv-id are removed; every other one is kept (§5 leaves them to local policy).

The authserv-id is the field's first item (§2.2): ``authserv-id = value`` (an RFC 2045
token or quoted-string), possibly after CFWS. Compared without regard to case (it is a
domain name in practice, §2.5).

Pure: imports no asyncio, socket or dnspython.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

__all__ = ["AUTHENTICATION_RESULTS", "authserv_id_of", "forged_indices"]

AUTHENTICATION_RESULTS: Final = "authentication-results"
_TSPECIALS: Final = frozenset('()<>@,;:\\"/[]?=')


def _skip_cfws(text: str, at: int) -> int:
    """RFC 5322 §3.2.2: white space and (nested) comments, skipped; unbalanced ends them."""
    depth = 0
    while at < len(text):
        char = text[at]
        if depth and char == "\\":
            at += 2
            continue
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif not depth and char not in " \t\r\n":
            break
        at += 1
    return at


def authserv_id_of(value: str) -> str | None:
    """The authserv-id of one ``Authentication-Results:`` value (§2.2), or None if absent."""
    at = _skip_cfws(value, 0)
    if at >= len(value):
        return None
    if value[at] == '"':  # quoted-string
        out: list[str] = []
        at += 1
        while at < len(value) and value[at] != '"':
            if value[at] == "\\" and at + 1 < len(value):
                at += 1
            out.append(value[at])
            at += 1
        return "".join(out) if at < len(value) else None
    end = at
    while end < len(value) and value[end] not in _TSPECIALS and not value[end].isspace() \
            and ord(value[end]) > 31:
        end += 1
    return value[at:end] or None


def forged_indices(fields: Iterable[tuple[str, str]], our_ids: Sequence[str]) -> tuple[int, ...]:
    """1-based indices, among the ``Authentication-Results`` fields of ``fields`` (in order),
    of those whose authserv-id is one of ``our_ids`` — highest first, so that deleting them
    in that order never renumbers one still to be deleted (smfi_chgheader)."""
    ours = {name.lower().rstrip(".") for name in our_ids if name}
    found: list[int] = []
    index = 0
    for name, value in fields:
        if name.lower() != AUTHENTICATION_RESULTS:
            continue
        index += 1
        claimed = authserv_id_of(value)
        if claimed is not None and claimed.lower().rstrip(".") in ours:
            found.append(index)
    return tuple(reversed(found))
