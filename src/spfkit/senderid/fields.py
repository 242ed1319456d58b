"""A message's header as ``(name, value)`` fields (RFC 5322 §2.2, §3.6, §4.5).

    field      = field-name ":" unstructured CRLF                ; §2.2
    field-name = 1*ftext ; printable US-ASCII except ":"          ; §3.6.8
    obs-field  = field-name *WSP ":" unstructured CRLF           ; §4.5 (obs-from, obs-sender, …)

RFC 5322 §4: "a conforming implementation ... MUST accept and parse" the obsolete syntax, so
``Sender : x`` is a ``Sender`` field, as MTAs hand it to a milter (the name without the
white space before the colon: :func:`field_name`, the one rule both readers share).  The
stdlib's compat32 parser instead ends the header at such a line and loses what follows.

The header ends at the first empty line, or at a line that is neither a field nor a
continuation (white space first, §2.2.3); an mbox ``From `` line on top is not a field
(``From : x`` is: obs-from).
Bytes are read as UTF-8 (RFC 6532), undecodable octets kept as surrogate escapes.

Pure: imports no asyncio, socket or dnspython.
"""

from __future__ import annotations

import re
from email.message import Message
from typing import Final

__all__ = ["Field", "field_name", "header_fields"]

Field = tuple[str, str]

# §3.6.8 field-name, then §4.5 obs: *WSP before the colon.
_FIELD: Final = re.compile(r"([\x21-\x39\x3b-\x7e]+)[ \t]*:")
_LINE_END: Final = re.compile(r"\r\n|\r|\n")
_WSP: Final = " \t"


def field_name(name: str) -> str:
    """RFC 5322 §4.5: the name of a field written ``name *WSP ":"``, without that WSP."""
    return name.strip(_WSP)


def header_fields(message: Message | bytes | str) -> list[Field]:
    """The header fields of ``message``, top to bottom, names as written (RFC 5322 §4.5
    white space before the colon dropped), values unfolded (§2.2.3) and left-trimmed."""
    if isinstance(message, Message):
        return [(field_name(name), _unfold(str(value))) for name, value in message.raw_items()]
    if isinstance(message, bytes):
        message = message.decode("utf-8", "surrogateescape")
    fields: list[Field] = []
    lines = _LINE_END.split(message)
    if lines[0].startswith("From ") and not _FIELD.match(lines[0]):
        lines = lines[1:]  # an mbox separator ("From a@b date"), not obs-from ("From :")
    for line in lines:
        if not line:
            break  # §2.1: the empty line that separates header and body
        if line[0] in _WSP:  # §2.2.3 folding: a continuation of the field above
            if fields:
                name, value = fields[-1]
                fields[-1] = (name, value + line)
            continue  # a continuation with no field above it is ignored
        match = _FIELD.match(line)
        if match is None:
            break  # not a field: the body begins (the empty line is missing)
        fields.append((match.group(1), line[match.end():].lstrip(_WSP)))
    return fields


def _unfold(value: str) -> str:
    """RFC 5322 §2.2.3: unfolding removes each CRLF that is followed by white space."""
    return _LINE_END.sub("", value)
