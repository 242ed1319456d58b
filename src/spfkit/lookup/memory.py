"""A resolver from a plain dict, for unit tests and previews (no sockets, no files).

::

    MemoryResolver({
        "example.com": {"TXT": "v=spf1 mx -all", "MX": (10, "mail.example.com")},
        "mail.example.com": {"A": ["192.0.2.1", "192.0.2.2"], "AAAA": "2001:db8::1"},
        "www.example.com": {"CNAME": "example.com"},
        "slow.example": "TIMEOUT",            # every question about it times out
        "x.example": {"TXT": "SERVFAIL", "A": "192.0.2.9"},
        "empty.example": {},                  # exists, no records: NODATA
    })

**Names** are case-insensitive, with or without the trailing dot. A value that is one of the
status names ``"TIMEOUT"``, ``"SERVFAIL"``, ``"NXDOMAIN"``, ``"NODATA"`` (or a
:class:`LookupStatus`) forces that status, for the whole name or for one type.

**Types and values** (type names are case-insensitive; one value or a list of values):

* ``A`` / ``AAAA``: address strings or ``ipaddress`` objects;
* ``MX``: ``(preference, exchange)`` pairs, ``MXHost`` objects or ``"10 mail.example.com"``;
* ``PTR``: target names; ``CNAME``: one target name (followed like a server would);
* ``TXT`` — *a list is always a list of records*; inside it, an item is one record: a ``str``
  or ``bytes`` is a record of one character-string, a ``tuple`` or ``list`` a record of
  several. Outside a list, a ``str``/``bytes`` is one record of one string and a ``tuple``
  one record of several strings::

      "TXT": "v=spf1 -all"                        # 1 record, 1 string
      "TXT": ("v=spf1 ", "-all")                  # 1 record, 2 strings
      "TXT": ["v=spf1 -all", "other"]             # 2 records
      "TXT": [["v=spf1 ", "-all"], "other"]       # 2 records, the first of 2 strings

  ``str`` is encoded as UTF-8. To publish a TXT record whose text is a status name, write it
  as bytes or inside a list.
* any other type name (``SPF``, ``NS`` ...) only makes the name exist.

NXDOMAIN / NODATA / empty non-terminals / wildcards follow :mod:`spfkit.lookup._answer`, the
same rules as :class:`~spfkit.lookup.zonefile.ZoneResolver`. Every question is recorded in
``queries`` as ``(RRType, name)``, so tests can assert what was asked and how often.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Address, IPv6Address

from spfkit.lookup._answer import CNAME, AnswerTable, TableResolver
from spfkit.lookup._names import checked_key, name_key, to_octets
from spfkit.lookup.protocol import LookupStatus, MXHost, RRType, TXTRecord

__all__ = ["MemoryResolver"]

_STATUS_NAMES = {s.name: s for s in LookupStatus if s is not LookupStatus.ANSWER}


class MemoryResolver(TableResolver):
    """A :class:`~spfkit.lookup.protocol.Resolver` over a dict (see the module doc).

    Every answer carries ``ttl`` seconds, negative answers included.
    """

    def __init__(self, zone: Mapping[str, object] | None = None, *, ttl: float = 3600.0) -> None:
        self._table = AnswerTable(negative_ttl=ttl)
        self._ttl = ttl
        self.queries: list[tuple[RRType, str]] = []
        for name, spec in (zone or {}).items():
            self.add(name, spec)

    def add(self, name: str, spec: object) -> None:
        """Add one name's entry, in the format of the constructor's dict."""
        key = checked_key(name)
        if key is None:
            raise ValueError(f"{name!r} cannot exist in DNS (empty label or too long)")
        status = _status(spec)
        if status is not None:
            self._table.force(key, None, status)
            return
        if spec is None:
            spec = {}
        if not isinstance(spec, Mapping):
            raise TypeError(f"{name}: expected a dict of types or a status name, got {spec!r}")
        self._table.declare(key)
        for rrtype, value in spec.items():
            self._add_type(key, str(rrtype).upper(), value)

    def _add_type(self, key: str, rrtype: str, value: object) -> None:
        status = _status(value)
        if status is not None:
            self._table.force(key, rrtype, status)
            return
        where = f"{key} {rrtype}"
        records: tuple[object, ...]
        if rrtype == RRType.TXT:
            records = _txt_records(value, where)
        elif rrtype == CNAME:
            if not isinstance(value, str):
                raise TypeError(f"{where}: expected one target name, got {value!r}")
            records = (name_key(value),)
        elif rrtype == RRType.MX:
            records = tuple(_mx(item, where) for item in _mx_items(value))
        elif rrtype in (RRType.A, RRType.AAAA, RRType.PTR):
            items = value if isinstance(value, (list, tuple)) else [value]
            records = tuple(_simple(rrtype, item, where) for item in items)
        else:
            records = ()  # other types only make the name exist
        self._table.add(key, rrtype, records, self._ttl)

    def __repr__(self) -> str:
        return f"MemoryResolver({self._table.names()} names, {len(self.queries)} queries)"


def _status(value: object) -> LookupStatus | None:
    if isinstance(value, LookupStatus):
        return None if value is LookupStatus.ANSWER else value
    if isinstance(value, str):
        return _STATUS_NAMES.get(value)
    return None


def _string(item: object, where: str) -> bytes:
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return to_octets(item)
    raise TypeError(f"{where}: a character-string must be str or bytes, got {item!r}")


def _txt_records(value: object, where: str) -> tuple[TXTRecord, ...]:
    """The TXT rule of the module doc: a list is records; a tuple is one record's strings."""
    if isinstance(value, (str, bytes)):
        return ((_string(value, where),),)
    if isinstance(value, tuple):
        return (tuple(_string(s, where) for s in value),)
    if isinstance(value, list):
        return tuple(
            tuple(_string(s, where) for s in item)
            if isinstance(item, (tuple, list))
            else (_string(item, where),)
            for item in value
        )
    raise TypeError(f"{where}: expected str, bytes, tuple or list, got {value!r}")


def _mx_items(value: object) -> list[object]:
    """A list (or tuple) of MX values, except that one ``(10, "mail")`` pair is one value."""
    if isinstance(value, (list, tuple)) and not (len(value) == 2 and isinstance(value[0], int)):
        return list(value)
    return [value]


def _mx(item: object, where: str) -> MXHost:
    if isinstance(item, MXHost):
        return MXHost(item.preference, item.exchange.removesuffix("."))
    if isinstance(item, str):
        preference, _, exchange = item.strip().partition(" ")
        item = (int(preference), exchange.strip())
    if (
        isinstance(item, (tuple, list))
        and len(item) == 2
        and isinstance(item[0], int)
        and isinstance(item[1], str)
    ):
        return MXHost(item[0], item[1].removesuffix("."))
    raise TypeError(f"{where}: expected (preference, exchange), got {item!r}")


def _simple(rrtype: str, item: object, where: str) -> object:
    if rrtype == RRType.A:
        return item if isinstance(item, IPv4Address) else IPv4Address(_text(item, where))
    if rrtype == RRType.AAAA:
        return item if isinstance(item, IPv6Address) else IPv6Address(_text(item, where))
    return _text(item, where).removesuffix(".")


def _text(item: object, where: str) -> str:
    if not isinstance(item, str):
        raise TypeError(f"{where}: expected a string, got {item!r}")
    return item
