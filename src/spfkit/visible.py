"""Text from DNS, a message or a client, made safe to show to people and to write as JSON.

Every record is attacker-controlled: shown on a terminal or a page, a control character
(``ESC [2J``) would act instead of being read. :func:`visible_text` writes each control,
format, surrogate or separator character as its escape (``\\x1b``, ``\\u202e``);
:func:`json_text` writes JSON that is valid UTF-8 (RFC 8259 §8.1) although the text may
hold octets that were not UTF-8 (kept as lone surrogates by ``surrogateescape``): each such
octet becomes the escape :func:`visible_text` shows. ``spfkit.headers`` applies the same
escapes inside header values, with its quoting and length caps.

Pure: imports no asyncio, socket or dnspython.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = ["HIDDEN", "escape_char", "json_safe", "json_text", "visible_text"]

#: Unicode categories never shown as they are: controls, format characters, surrogates and
#: the line/paragraph separators.
HIDDEN: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_SURROGATE: Final = re.compile("[\ud800-\udfff]")  # Cs: octets that were not UTF-8


def escape_char(c: str) -> str:
    """``\\xNN``, ``\\uNNNN`` or ``\\UNNNNNNNN`` for one character."""
    o = ord(c)
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}"


def visible_text(s: str) -> str:
    """``s`` with each :data:`HIDDEN` character as its escape; the rest as it is."""
    if s.isprintable():
        return s
    return "".join(escape_char(c) if unicodedata.category(c) in HIDDEN else c for c in s)


def json_safe(value: object) -> object:
    """``value`` (str, dict, list or tuple, nested; anything else as it is) with each lone
    surrogate in keys and values written as its escape (``\\udcff``)."""
    if isinstance(value, str):
        return value if value.isascii() or not _SURROGATE.search(value) else \
            _SURROGATE.sub(lambda m: escape_char(m.group()), value)
    if isinstance(value, dict):
        return {json_safe(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def json_text(value: object, *, indent: int | None = 2, compact: bool = False) -> str:
    """``value`` as JSON text, non-ASCII as it is, valid UTF-8 (:func:`json_safe`), with a
    final newline; ``compact``: one line without spaces (a JSON Lines row)."""
    import json  # here: headers import this module on the spawn path, which writes no JSON

    separators = (",", ":") if compact else None
    return json.dumps(json_safe(value), indent=None if compact else indent, ensure_ascii=False,
                      separators=separators) + "\n"
