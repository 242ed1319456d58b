"""Where the domains come from: a list, a CSV, a gzip file, or the delegations of a zone file.

Every source is **streamed** (one line, one row or one record at a time; a 10 M-line file is
never held in memory) and yields each valid domain once, lower-cased without the trailing
dot. :class:`InputStats` counts what was read, skipped as a duplicate, or skipped as invalid
(not a domain name, RFC 7208 §4.3 / RFC 1035 §2.3.4, or a line that is not text).

Duplicates are found with a set of the names already yielded, so memory grows with the
number of *distinct valid* names (about 100 bytes each), never with the file's size.
"""

from __future__ import annotations

import csv
import gzip
import io
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

from spfkit.errors import InputError, reading
from spfkit.identity import is_valid_domain

__all__ = ["InputStats", "domain_lines", "open_text", "read_domains", "zone_delegations"]

_COLUMN_NAMES: Final = ("domain", "domain_name", "domainname", "name", "fqdn", "host")


@dataclass(slots=True)
class InputStats:
    """What reading the input met (mutable: the reader counts as it goes)."""

    read: int = 0  # lines / rows / delegations seen (blank lines and comments not counted)
    valid: int = 0  # distinct valid names yielded
    duplicates: int = 0
    invalid: int = 0
    skipped: int = 0  # already in the output (--resume)

    def as_dict(self) -> dict[str, int]:
        return {"read": self.read, "valid": self.valid, "duplicates": self.duplicates,
                "invalid": self.invalid, "skipped": self.skipped}


def open_text(path: str | Path) -> IO[str]:
    """``path`` as text ("-" is stdin); ``.gz`` is decompressed as it is read. Bytes that are
    not UTF-8 become U+FFFD, so such a line is counted invalid instead of stopping the run."""
    if str(path) == "-":
        import sys
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    if str(path).endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="")
    return open(path, encoding="utf-8", errors="replace", newline="")


def _normal(name: str) -> str | None:
    name = name.strip().lower()
    if name.endswith("."):
        name = name[:-1]
    if not name or not name.isascii() or not is_valid_domain(name) or ".." in name:
        return None
    return name


def _unique(names: Iterable[str | None], stats: InputStats, seen: set[str]) -> Iterator[str]:
    for raw in names:
        stats.read += 1
        if raw is not None and raw in seen:  # the common fast path for a repeated line
            stats.duplicates += 1
            continue
        name = _normal(raw) if raw is not None else None
        if name is None:
            stats.invalid += 1
        elif name in seen:
            stats.duplicates += 1
        else:
            seen.add(name)
            stats.valid += 1
            yield name


def _lines(stream: IO[str]) -> Iterator[str]:
    for line in stream:
        text = line.split("#", 1)[0].strip()
        if text:
            yield text


def _csv_rows(stream: IO[str]) -> Iterator[str | None]:
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None:
        return
    lowered = [h.strip().lower() for h in header]
    column = next((lowered.index(n) for n in _COLUMN_NAMES if n in lowered), None)
    if column is None:  # no header: the first column of every row, this one included
        column = 0
        yield header[0] if header else None
    for row in reader:
        if not row or not any(cell.strip() for cell in row):
            continue
        yield row[column] if column < len(row) else None


def domain_lines(stream: IO[str], stats: InputStats, *, csv_format: bool = False,
                 seen: set[str] | None = None) -> Iterator[str]:
    """The distinct valid domains of a list (one per line, ``#`` comments) or a CSV."""
    raw = _csv_rows(stream) if csv_format else _lines(stream)
    return _unique(raw, stats, seen if seen is not None else set())


class _Delegations:
    """A stand-in for a dnspython transaction that only notes the owners of NS records."""

    def __init__(self, origin: Any, out: queue.Queue[str | BaseException | None]) -> None:
        self._origin = origin
        self._apex: Any = origin
        self._out = out
        self._last: str | None = None
        self.manager = self

    def origin_information(self) -> tuple[Any, bool, Any]:
        return self._origin, False, self._origin

    def _set_origin(self, origin: Any) -> None:
        self._origin = origin

    def check_put_rdataset(self, check: Any) -> None:
        pass

    def get_node(self, name: Any) -> None:
        return None

    def add(self, name: Any, ttl: int, rdata: Any) -> None:
        import dns.rdatatype
        if rdata.rdtype == dns.rdatatype.SOA:
            self._apex = name  # RFC 1035 §5.2: the SOA's owner is the zone's apex
        if rdata.rdtype != dns.rdatatype.NS or name in (self._origin, self._apex):
            return  # the zone's own NS set is not a delegation
        owner = name.to_text(omit_final_dot=True)
        if owner != self._last:  # one put per name, not per NS record
            self._last = owner
            self._out.put(owner)

    add_unicode = add


def zone_delegations(path: str | Path, stats: InputStats) -> Iterator[str]:
    """The delegated names of a BIND master file (RFC 1035 §5): owners of NS records below the
    origin, read with dnspython's zone-file reader in a thread as the file streams by."""
    import dns.name
    import dns.rdataclass
    import dns.tokenizer
    import dns.zonefile

    out: queue.Queue[str | BaseException | None] = queue.Queue(maxsize=10_000)

    def read() -> None:
        try:
            with open_text(path) as stream:
                tok = dns.tokenizer.Tokenizer(stream, filename=str(path))
                sink = _Delegations(dns.name.root, out)
                reader = dns.zonefile.Reader(tok, dns.rdataclass.IN, sink)  # type: ignore[arg-type]
                reader.read()
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            out.put(exc)
        out.put(None)

    thread = threading.Thread(target=read, name="zone-reader", daemon=True)
    thread.start()

    def names() -> Iterator[str]:
        while (item := out.get()) is not None:
            if isinstance(item, BaseException):
                with reading(path):
                    if isinstance(item, OSError | EOFError):
                        raise item
                message = str(item)  # dnspython's messages name the file and the line
                raise InputError(message if str(path) in message else f"{path}: {message}") \
                    from None
            yield item

    return _unique(names(), stats, set())


def read_domains(path: str | Path, stats: InputStats, *, zone: bool = False) -> Iterator[str]:
    """The distinct valid domains of ``path``: a zone file (``zone``), a CSV (``.csv``,
    ``.csv.gz``) or a list; ``-`` is stdin."""
    if zone:
        yield from zone_delegations(path, stats)
        return
    name = str(path).lower().removesuffix(".gz")
    with reading(path), open_text(path) as stream:
        yield from domain_lines(stream, stats, csv_format=name.endswith(".csv"))
