"""A TXT record as BIND master-file and tinydns-data lines (RFC 1035 §3.3.14, §5.1; RFC 7208 §3.3).

**Splitting.** One character-string holds at most 255 octets (RFC 1035 §3.3.14); a longer
SPF record is published as several strings of one TXT record, which receivers join "without
adding spaces" (RFC 7208 §3.3). :func:`split_strings` cuts right *after* a space where it can,
so every string but the last ends with the space between two terms: the join gives back the
exact record, and even a receiver that wrongly joins with a space only doubles a space, which
SPF's term syntax (§4.6.1, ``1*SP``) allows. A term longer than 255 octets (only possible
with huge macros) is cut at 255 octets.

**BIND** (:func:`bind_lines`): ``example.net. 3600 IN TXT "v=spf1 mx ~all"``; the owner fully
qualified with its trailing dot; inside the quotes ``"`` and ``\\`` are escaped with a
backslash and every octet outside printable ASCII is written ``\\DDD`` (decimal, RFC 1035
§5.1). Owner labels keep letters, digits, ``-``, ``_`` and a lone ``*``; anything else is
``\\DDD`` too.

**tinydns** (:func:`tinydns_lines`): ``'example.net:v=spf1 mx ~all:3600``. tinydns-data splits
a line at every ``:`` *before* it reads escapes, so an unescaped colon silently cuts the text
and turns the rest into the TTL; ``:``, ``\\``, and every octet outside printable ASCII
(newline included, which would end the line) are written ``\\NNN`` in octal, always three
digits so that a digit after them is not read as part of the escape. tinydns-data cuts ``'``
text into strings of 127 octets (it still joins to the same record). With ``generic=True``
the line is ``:example.net:16:\\016v=spf1 mx ~all:3600`` instead: the raw RDATA with explicit
length octets, so the strings are exactly :func:`split_strings`' (the same as BIND's).

Pure: strings in, strings out; no I/O.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "MAX_STRING",
    "MAX_TTL",
    "TINYDNS_STRING",
    "answer_size",
    "bind_lines",
    "bind_owner",
    "split_strings",
    "tinydns_lines",
    "tinydns_strings",
]

#: RFC 1035 §3.3.14: a character-string is a length octet and at most 255 octets.
MAX_STRING: Final = 255
#: the string length tinydns-data uses for ``'`` lines
TINYDNS_STRING: Final = 127
#: RFC 2181 §8: a TTL is an unsigned 31-bit number of seconds.
MAX_TTL: Final = 2**31 - 1
#: RFC 1035 §3.2.2: TYPE 16 is TXT
_TXT: Final = 16

_OWNER_LABEL_OCTETS: Final = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)


def split_strings(text: str | bytes, limit: int = MAX_STRING) -> tuple[bytes, ...]:
    """RFC 7208 §3.3: character-strings of at most ``limit`` octets whose join is ``text``.

    Cuts after the last space that keeps a string within the limit; a stretch of more than
    ``limit`` octets without a space is cut at ``limit``. An empty text is one empty string
    (a TXT RDATA holds at least one character-string).
    """
    if not 1 <= limit <= MAX_STRING:
        raise ValueError(f"limit must be 1..{MAX_STRING}")
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    strings: list[bytes] = []
    start = 0
    while len(data) - start > limit:
        cut = data.rfind(b" ", start, start + limit) + 1
        if cut <= start:
            cut = start + limit
        strings.append(data[start:cut])
        start = cut
    strings.append(data[start:])
    return tuple(strings)


def tinydns_strings(text: str | bytes) -> tuple[bytes, ...]:
    """The character-strings tinydns-data makes of a ``'`` line: 127-octet pieces, in order."""
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    if not data:
        return ()  # tinydns-data writes no string at all for empty text
    return tuple(data[i : i + TINYDNS_STRING] for i in range(0, len(data), TINYDNS_STRING))


def _owner_labels(owner: str) -> list[bytes]:
    """RFC 1035 §2.3.4: the labels of a non-root owner name (a trailing dot is optional)."""
    name = owner[:-1] if owner.endswith(".") else owner
    data = name.encode("utf-8")
    labels = data.split(b".")
    if not data or any(not label or len(label) > 63 for label in labels) or len(data) > 253:
        raise ValueError(f"{owner!r} is not a valid owner name (empty label or too long)")
    return labels


def _check_ttl(ttl: int) -> int:
    if not 0 <= ttl <= MAX_TTL:
        raise ValueError(f"TTL {ttl} is outside 0..{MAX_TTL} (RFC 2181 §8)")
    return ttl


def bind_owner(owner: str) -> str:
    """The owner in master-file form: fully qualified, special octets as ``\\DDD`` (§5.1)."""
    return "".join(_bind_label(label) + "." for label in _owner_labels(owner))


def _bind_label(label: bytes) -> str:
    if label == b"*":
        return "*"
    return "".join(chr(b) if b in _OWNER_LABEL_OCTETS else f"\\{b:03d}" for b in label)


def _bind_string(string: bytes) -> str:
    """RFC 1035 §5.1: a quoted <character-string>; ``"`` and ``\\`` escaped, others ``\\DDD``."""
    out: list[str] = []
    for b in string:
        if b in (0x22, 0x5C):
            out.append("\\" + chr(b))
        elif 0x20 <= b <= 0x7E:
            out.append(chr(b))
        else:
            out.append(f"\\{b:03d}")
    return '"' + "".join(out) + '"'


def bind_lines(owner: str, record_text: str, ttl: int = 3600) -> list[str]:
    """``example.net. 3600 IN TXT "v=spf1 mx ~all"``: one line, strings of at most 255 octets.

    Raises :class:`ValueError` for an owner that is not a valid name or a TTL out of range.
    """
    strings = " ".join(_bind_string(s) for s in split_strings(record_text))
    return [f"{bind_owner(owner)} {_check_ttl(ttl)} IN TXT {strings}"]


def _tiny(data: bytes, literal: frozenset[int] | None = None) -> str:
    """tinydns-data escapes: ``\\NNN`` octal for ``:``, ``\\`` and all but printable ASCII."""
    return "".join(
        chr(b)
        if (b in literal if literal is not None else 0x20 <= b <= 0x7E and b not in (0x3A, 0x5C))
        else f"\\{b:03o}"
        for b in data
    )


def _tiny_owner(owner: str) -> str:
    return ".".join(
        "*" if label == b"*" else _tiny(label, _OWNER_LABEL_OCTETS)
        for label in _owner_labels(owner)
    )


def tinydns_lines(
    owner: str, record_text: str, ttl: int = 3600, *, generic: bool = False
) -> list[str]:
    """``'example.net:v=spf1 mx ~all:3600`` (or the generic ``:example.net:16:…:3600`` form).

    See the module doc for the escapes; the lines need a ``.zone`` or ``Z`` line for the
    zone in the same data file, or tinydns drops the queries.
    """
    name = _tiny_owner(owner)
    _check_ttl(ttl)
    if not generic:
        return [f"'{name}:{_tiny(record_text.encode('utf-8'))}:{ttl}"]
    rdata = "".join(f"\\{len(s):03o}" + _tiny(s) for s in split_strings(record_text))
    return [f":{name}:{_TXT}:{rdata}:{ttl}"]


def answer_size(owner: str, strings: tuple[bytes, ...]) -> int:
    """Octets of a DNS response holding just this one TXT record (RFC 1035 §4.1), no EDNS.

    Header (12) + question (name, type, class) + the answer with a compressed owner (2), type,
    class, TTL, RDLENGTH (10) and the strings with their length octets. Servers that add
    authority or additional records send more. RFC 7208 §3.4: keep it within 512 octets.
    """
    name = sum(1 + len(label) for label in _owner_labels(owner)) + 1
    return 12 + name + 4 + 2 + 10 + sum(1 + len(s) for s in strings)
