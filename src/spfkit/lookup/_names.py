"""Domain names as SPF hands them to a resolver: text in, DNS labels out (RFC 1035 §2.3.4, §3.1).

Every resolver applies the same rules, so a name that cannot exist in DNS is NXDOMAIN
everywhere, without a query:

* one trailing dot is allowed and ignored; an empty name or an empty label is not a name;
* a label is at most 63 octets, a name at most 253 octets in text form (255 on the wire);
* labels are the UTF-8 octets of the text as given — no IDNA (RFC 7208 §4.3 leaves
  non-ASCII names to fail, and they do, as NXDOMAIN, not as an exception);
* comparison ignores ASCII case only (RFC 4343); "É" and "é" stay different names.

Imports nothing but the standard library.
"""

from __future__ import annotations

from typing import Final

MAX_LABEL: Final = 63  # RFC 1035 §2.3.4
MAX_NAME: Final = 253  # 255 octets on the wire = 253 in dotted text

_ASCII_LOWER: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def to_octets(text: str) -> bytes:
    """UTF-8 octets of ``text``; never raises, even for lone surrogates."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def from_octets(octets: bytes) -> str:
    """Inverse of :func:`to_octets` for names read off the wire."""
    return octets.decode("utf-8", "surrogateescape")


def name_key(name: str) -> str:
    """The comparison key of a name: ASCII-lowercased, without the trailing dot (RFC 4343).

    Cheap enough for a cache's hot path; does not check that the name is valid.
    """
    if name.endswith("."):
        name = name[:-1]
    return name.lower() if name.isascii() else name.translate(_ASCII_LOWER)


def labels_of(name: str) -> tuple[bytes, ...] | None:
    """The labels of ``name`` as octets, or None when no such name can exist in DNS."""
    if name.endswith("."):
        name = name[:-1]
    octets = name.encode("ascii") if name.isascii() else to_octets(name)
    if not octets or len(octets) > MAX_NAME:
        return None
    labels = tuple(octets.split(b"."))
    for label in labels:
        if not label or len(label) > MAX_LABEL:
            return None
    return labels


def checked_key(name: str) -> str | None:
    """:func:`name_key` of a valid name, None for a name that cannot exist (see module doc)."""
    return name_key(name) if labels_of(name) is not None else None


def parent_keys(key: str) -> list[str]:
    """The proper ancestors of a name key, nearest first: ``a.b.c`` → ``["b.c", "c"]``."""
    parents: list[str] = []
    dot = key.find(".")
    while dot >= 0:
        key = key[dot + 1 :]
        parents.append(key)
        dot = key.find(".")
    return parents
