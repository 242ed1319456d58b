"""One domain's survey result: the flat row written to JSONL, CSV and Parquet (same fields).

:class:`DomainResult` is frozen; :data:`FIELDS` is the column order; :meth:`DomainResult.row`
gives the JSON-ready dict and :func:`from_row` reads one back (a JSONL line, a CSV row or a
Parquet row), so resuming and merging never depend on the output format.

SPF (RFC 7208): ``spf`` is the record-set outcome (§4.5) and ``dns`` the TXT query's outcome,
so a timeout or SERVFAIL (§4.4: temperror) is never counted as "no record". DMARC (RFC 7489
§6.6.3) likewise: ``dmarc`` and ``dmarc_dns``. Pure data: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Final

__all__ = ["FIELDS", "LIST_FIELDS", "DomainResult", "SpfStatus", "from_row"]


class SpfStatus(StrEnum):
    """What a domain's TXT RRset holds for SPF (RFC 7208 §4.5); the value is the JSON token."""

    NONE = "none"  # no v=spf1 record (the domain may not exist: see ``dns``)
    RECORD = "record"  # exactly one v=spf1 record, and it parses (§4.6)
    SEVERAL = "several"  # more than one v=spf1 record: permerror (§4.5)
    INVALID = "invalid"  # one v=spf1 record that does not parse: permerror (§4.6)
    DNS_ERROR = "dns-error"  # the TXT query timed out or failed: temperror (§4.4)


@dataclass(frozen=True, slots=True)
class DomainResult:
    """What the survey learned about one domain. ``None`` means "not known / not applicable"."""

    domain: str
    #: the TXT query of the domain: NOERROR NODATA NXDOMAIN TIMEOUT SERVFAIL (LookupStatus)
    dns: str
    spf: str  # SpfStatus
    dns_reason: str | None = None  # what went wrong, where the status alone misleads
    spf_record: str | None = None
    spf_error: str | None = None  # why INVALID / SEVERAL / DNS_ERROR
    all: str | None = None  # qualifier of the top record's "all" (+ ? ~ -), None without one
    redirect: str | None = None  # the top record's redirect= target
    includes: tuple[str, ...] = ()  # include: targets of the top record, in order
    result_v4: str | None = None  # check_host() for the sample IPv4 client (tree.SAMPLE_IPV4)
    result_v6: str | None = None
    lookups_v4: int | None = None  # §4.6.4 DNS-querying terms the tree needs (limits lifted)
    lookups_v6: int | None = None
    void_v4: int | None = None  # §4.6.4 void lookups the tree needs
    void_v6: int | None = None
    lint: tuple[str, ...] = ()  # lint finding codes, sorted
    tcp: bool = False  # the TXT answer exceeds 512 octets: TCP (or EDNS) needed (RFC 1035 §4.2.1)
    #: addresses the record authorises (pass), from the compiled address maps (spfkit.compile)
    pass_ipv4: int | None = None
    pass_ipv6: int | None = None
    dmarc: str = "none"  # DmarcStatus
    dmarc_dns: str | None = None  # the TXT query at _dmarc.DOMAIN
    dmarc_record: str | None = None
    dmarc_error: str | None = None
    dmarc_p: str | None = None
    dmarc_sp: str | None = None
    dmarc_pct: int | None = None
    dmarc_rua: bool | None = None  # rua= present
    dmarc_ruf: bool | None = None
    dmarc_adkim: str | None = None
    dmarc_aspf: str | None = None

    @property
    def lookups(self) -> int | None:
        """The larger of the two families' counts (what the §4.6.4 limit is measured against)."""
        counts = [n for n in (self.lookups_v4, self.lookups_v6) if n is not None]
        return max(counts) if counts else None

    @property
    def void(self) -> int | None:
        counts = [n for n in (self.void_v4, self.void_v6) if n is not None]
        return max(counts) if counts else None

    def row(self) -> dict[str, object]:
        """The JSON-ready row (tuples become lists)."""
        row = asdict(self)
        for name in LIST_FIELDS:
            row[name] = list(row[name])
        return row


FIELDS: Final = tuple(f.name for f in fields(DomainResult))
LIST_FIELDS: Final = ("includes", "lint")
_INT_FIELDS: Final = frozenset({"lookups_v4", "lookups_v6", "void_v4", "void_v6", "pass_ipv4",
                                "pass_ipv6", "dmarc_pct"})
_BOOL_FIELDS: Final = frozenset({"tcp", "dmarc_rua", "dmarc_ruf"})


def _value(name: str, value: object) -> object:
    """A row value back to the field's type; CSV gives strings ("" for None, lists space-joined)."""
    if name in LIST_FIELDS:
        if isinstance(value, str):
            return tuple(value.split())
        return tuple(str(v) for v in value) if value is not None else ()  # type: ignore[attr-defined]
    if value is None or value == "":
        return False if name == "tcp" else None
    if name in _INT_FIELDS:
        return int(value)  # type: ignore[call-overload]
    if name in _BOOL_FIELDS:
        return value if isinstance(value, bool) else str(value).lower() in ("true", "1")
    return str(value)


def from_row(row: Mapping[str, object]) -> DomainResult:
    """A :class:`DomainResult` from a row of any of the outputs; unknown keys are ignored."""
    return DomainResult(**{name: _value(name, row[name]) for name in FIELDS if name in row})  # type: ignore[arg-type]
