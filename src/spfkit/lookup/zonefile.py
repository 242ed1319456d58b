"""An offline resolver over BIND master files (RFC 1035 §5), answering like their server would.

``ZoneResolver("example.zone", "other.zone")`` parses each file with dnspython's zone reader
(``$ORIGIN``, ``$TTL``, ``$INCLUDE``, relative names, ``@``) and indexes every record once;
a lookup is then a few dict hits. The answers follow :mod:`spfkit.lookup._answer`: NODATA
for a name with other records or with names below it, NXDOMAIN otherwise, CNAMEs followed
within the loaded data, ``*`` wildcards (RFC 4592), negative TTLs from the zone's SOA.

**Origin.** A master file does not always say which zone it is. Unless ``origin=`` is given:

1. a file with an SOA record is the zone of that SOA's owner (``@`` or a relative owner is
   read against the ``$ORIGIN`` in effect on that line);
2. a file without SOA is read against the root: ``example.com`` and ``example.com.`` are then
   the same name, and any number of domains (and ``$ORIGIN`` sections) can share the file.

One file holds one zone (one SOA); several files merge into one answer table. A record
outside the file's zone is an error (BIND and dnspython would silently ignore it). Names are
not IDNA-encoded: a non-ASCII label is its UTF-8 octets, as the resolvers send it.

Loading touches the file system; answering does not.
"""

from __future__ import annotations

import os
import re
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import TYPE_CHECKING, Self

from spfkit.errors import SpfkitError
from spfkit.lookup._answer import CNAME, AnswerTable, TableResolver
from spfkit.lookup._names import from_octets, name_key
from spfkit.lookup.protocol import MXHost, RRType

if TYPE_CHECKING:
    import dns.name
    import dns.zone

__all__ = ["ZoneFileError", "ZoneResolver"]

_SOA_LINE = re.compile(r"^(\S*)\s+(?:\S+\s+){0,2}SOA\b", re.IGNORECASE)
_ORIGIN_LINE = re.compile(r"^\$ORIGIN\s+(\S+)", re.IGNORECASE)
_LOCATED = re.compile(r"(\d+): (.*)", re.DOTALL)
_QUOTED = re.compile(r'"(?:\\.|[^"\\])*"')


class ZoneFileError(SpfkitError):
    """A zone file could not be read or parsed: ``filename``, ``line`` (if known), ``reason``.

    ``str()`` is one line, ``"example.zone:3: unknown rdatatype 'FOO'"``, ready for a CLI.
    """

    def __init__(self, filename: str, reason: str, line: int | None = None) -> None:
        self.filename = filename
        self.reason = reason
        self.line = line
        where = filename if line is None else f"{filename}:{line}"
        super().__init__(f"{where}: {reason}")


class ZoneResolver(TableResolver):
    """A :class:`~spfkit.lookup.protocol.Resolver` answering from BIND master files.

    ``queries`` counts the questions asked, like ``MemoryResolver.queries``.
    """

    def __init__(self, *files: str | os.PathLike[str], origin: str | None = None) -> None:
        self._table = AnswerTable()
        self.files: tuple[str, ...] = tuple(os.fspath(f) for f in files)
        self.queries: list[tuple[RRType, str]] = []
        for path in self.files:
            try:
                text = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
            except OSError as exc:
                raise ZoneFileError(path, f"cannot read: {exc.strerror or exc}") from None
            self.add_text(text, origin=origin, filename=path)

    @classmethod
    def from_text(cls, text: str, *, origin: str | None = None, filename: str = "<text>") -> Self:
        """A resolver from master-file text (previews of generated zones, tests)."""
        resolver = cls()
        resolver.add_text(text, origin=origin, filename=filename)
        return resolver

    def add_text(self, text: str, *, origin: str | None = None, filename: str = "<text>") -> None:
        """Parse one zone's master-file text and merge its records; raise ZoneFileError."""
        _load(self._table, _parse(text, origin, filename))

    def __repr__(self) -> str:
        return f"ZoneResolver({', '.join(map(repr, self.files))}; {self._table.names()} names)"


def infer_origin(text: str) -> str:
    """The zone a master file describes when no origin is given (see the module doc)."""
    return _scan(text, ".")[0] or "."


def _scan(text: str, origin: str) -> tuple[str | None, list[tuple[int, str]]]:
    """A light pass over master-file text read against ``origin``: (SOA owner, [(line, owner)]).

    Only what the origin rule and the out-of-zone check need: ``$ORIGIN``, owner names in
    the first column, the first SOA. Quoted strings, comments and the continuation lines of
    parenthesised records are skipped.
    """
    current = origin
    soa_owner: str | None = None
    owners: list[tuple[int, str]] = []
    depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        code = _QUOTED.sub('""', line).split(";", 1)[0]
        continued, depth = depth > 0, max(0, depth + code.count("(") - code.count(")"))
        if continued:
            continue
        directive = _ORIGIN_LINE.match(code)
        if directive:
            current = _absolute(directive.group(1), current)
            continue
        if code.startswith("$"):
            continue
        owner = code.split(None, 1)[0] if code[:1].strip() else ""
        if owner:
            owners.append((number, current if owner == "@" else _absolute(owner, current)))
        if soa_owner is None and _SOA_LINE.match(code):
            soa_owner = owners[-1][1] if owner else current
    return soa_owner, owners


def _inside(name: str, origin: str) -> bool:
    name, origin = name.lower(), origin.lower()
    return origin == "." or name == origin or name.endswith("." + origin)


def _absolute(name: str, origin: str) -> str:
    """A master-file name made absolute against ``origin`` (RFC 1035 §5.1)."""
    if name.endswith("."):
        return name
    return f"{name}." if origin == "." else f"{name}.{origin}"


def _parse(text: str, origin: str | None, filename: str) -> dns.zone.Zone:
    import dns.exception
    import dns.zone

    origin = infer_origin(text) if origin is None else _absolute(origin, ".")
    for line, owner in _scan(text, origin)[1]:
        # dnspython, like BIND, would drop out-of-zone data without a word: say it instead
        if not _inside(owner, origin):
            reason = f"{owner} is outside the zone {origin}; put it in a file of its own"
            raise ZoneFileError(filename, reason, line)
    try:
        return dns.zone.from_text(
            text,
            origin=origin,
            relativize=False,
            check_origin=False,  # test zones need neither SOA nor NS
            filename=filename,
            allow_include=True,
            idna_codec=_utf8_codec(),
        )
    except dns.exception.SyntaxError as exc:
        # dnspython's message reads "FILE:LINE: reason"
        message = str(exc)
        located = (
            _LOCATED.fullmatch(message[len(filename) + 1 :])
            if message.startswith(filename + ":")
            else None
        )
        if located:
            raise ZoneFileError(filename, located.group(2), int(located.group(1))) from None
        raise ZoneFileError(filename, message) from None
    except (dns.exception.DNSException, ValueError, UnicodeError, OSError) as exc:
        reason = str(exc) or type(exc).__name__
        if "non-origin SOA" in reason:
            reason = (
                "more than one zone (SOA) in one file, or an SOA outside the origin; split the file"
            )
        raise ZoneFileError(filename, reason) from None


def _utf8_codec() -> dns.name.IDNACodec:
    """Labels as UTF-8 octets: no IDNA, as the resolvers send them (module doc)."""
    import dns.name

    class _UTF8(dns.name.IDNACodec):
        def __init__(self) -> None:  # IDNACodec.__init__ does nothing (and is untyped)
            pass

        def encode(self, label: str) -> bytes:
            return label.encode("utf-8", "surrogateescape")

    return _UTF8()


def _text(name: dns.name.Name) -> str:
    """An absolute dnspython name as spfkit text: no trailing dot, labels decoded as UTF-8."""
    return ".".join(from_octets(label) for label in name.labels if label)


def _load(table: AnswerTable, zone: dns.zone.Zone) -> None:
    import dns.rdatatype as t

    for owner, node in zone.nodes.items():
        key = name_key(_text(owner))
        table.declare(key)
        for rdataset in node.rdatasets:
            rdtype, ttl = rdataset.rdtype, rdataset.ttl
            if rdtype == t.TXT:
                table.add(key, RRType.TXT, tuple(tuple(rd.strings) for rd in rdataset), ttl)
            elif rdtype == t.A:
                table.add(key, RRType.A, tuple(IPv4Address(rd.address) for rd in rdataset), ttl)
            elif rdtype == t.AAAA:
                table.add(key, RRType.AAAA, tuple(IPv6Address(rd.address) for rd in rdataset), ttl)
            elif rdtype == t.MX:
                hosts = tuple(MXHost(rd.preference, _text(rd.exchange)) for rd in rdataset)
                table.add(key, RRType.MX, hosts, ttl)
            elif rdtype == t.PTR:
                table.add(key, RRType.PTR, tuple(_text(rd.target) for rd in rdataset), ttl)
            elif rdtype == t.CNAME:
                table.add(key, CNAME, tuple(name_key(_text(rd.target)) for rd in rdataset), ttl)
            elif rdtype == t.SOA:
                soa = next(iter(rdataset))
                table.set_apex(key, min(ttl, soa.minimum))  # RFC 2308 §5
