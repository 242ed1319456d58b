"""DMARC policy records (RFC 7489 §6): parse one record, find a domain's record in DNS.

:func:`parse_dmarc` is pure: the text of one TXT record → a frozen :class:`DmarcRecord`, or a
:class:`DmarcSyntaxError` that names the tag and the reason. :func:`lookup_dmarc` asks a
spfkit :class:`~spfkit.lookup.protocol.Resolver` for the TXT RRset at ``_dmarc.DOMAIN``
(§6.1) and applies the discovery rules of §6.6.3: records that do not start with
``v=DMARC1`` are discarded, several records mean no policy, DNS trouble is kept apart from
"no record". The fallback to the Organizational Domain (§6.6.3 step 3) needs the Public
Suffix List and is not done here: the result is about the domain asked for.

Imports nothing from the world but the Resolver protocol (no asyncio, socket or dnspython).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from spfkit.errors import SpfkitError, shorten
from spfkit.lookup.protocol import LookupStatus, Resolver, TXTRecord

__all__ = [
    "Alignment",
    "DmarcLookup",
    "DmarcRecord",
    "DmarcStatus",
    "DmarcSyntaxError",
    "Policy",
    "is_dmarc_text",
    "lookup_dmarc",
    "parse_dmarc",
]

#: §6.3 "ri": a 32-bit unsigned integer; "pct": 0 to 100
_MAX_RI: Final = 2**32 - 1
#: §6.4 dmarc-version = "v" *WSP "=" *WSP %x44 %x4d %x41 %x52 %x43 %x31 — "DMARC1" is case-sensitive
_VERSION: Final = re.compile(r"[vV][ \t]*=[ \t]*DMARC1[ \t]*(?:;|\Z)")
_HEAD: Final = re.compile(rb"[vV][ \t]*=[ \t]*DMARC1[ \t]*(?:;|\Z)")
#: §6.3 / RFC 6376 §3.2 tag-name = ALPHA *ALNUMPUNC
_TAG_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
#: §6.4 dmarc-uri = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ]; a URI has a scheme (RFC 3986 §3.1)
_URI: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s,!;]+(?:![0-9]+[kmgtKMGT]?)?\Z")
_KEYWORD: Final = re.compile(r"[A-Za-z0-9]+\Z")
_FO_OPTIONS: Final = frozenset({"0", "1", "d", "s"})


class Policy(StrEnum):
    """§6.3 "p" / "sp": what the Domain Owner asks receivers to do with failing mail."""

    NONE = "none"
    QUARANTINE = "quarantine"
    REJECT = "reject"


class Alignment(StrEnum):
    """§6.3 "adkim" / "aspf": relaxed or strict identifier alignment (§3.1)."""

    RELAXED = "r"
    STRICT = "s"


class DmarcSyntaxError(SpfkitError, ValueError):
    """A DMARC record breaks RFC 7489 §6.3–§6.4; ``tag`` is the offending tag-spec as written."""

    def __init__(self, reason: str, tag: str = "", rfc: str = "6.3") -> None:
        self.reason = reason
        self.tag = tag
        self.rfc = rfc
        where = f" in {shorten(tag)!r}" if tag else ""
        super().__init__(f"{reason}{where}")


@dataclass(frozen=True, slots=True)
class DmarcRecord:
    """One parsed DMARC record (§6.3), defaults filled in where a tag is absent.

    ``notes`` lists what the parser tolerated as the RFC says it should: unknown tags are
    ignored (§6.3), a missing or invalid ``p`` with a usable ``rua`` is read as ``p=none``
    (§6.6.3).
    """

    p: Policy
    sp: Policy | None = None  # None: subdomains get ``p`` (§6.3 "sp")
    pct: int = 100
    rua: tuple[str, ...] = ()
    ruf: tuple[str, ...] = ()
    adkim: Alignment = Alignment.RELAXED
    aspf: Alignment = Alignment.RELAXED
    fo: tuple[str, ...] = ("0",)
    rf: tuple[str, ...] = ("afrf",)
    ri: int = 86400
    notes: tuple[str, ...] = ()

    @property
    def subdomain_policy(self) -> Policy:
        """§6.3 "sp": the policy for subdomains (``p`` when ``sp`` is absent)."""
        return self.sp if self.sp is not None else self.p


def is_dmarc_text(data: bytes) -> bool:
    """§6.6.3: does this TXT record start with the ``v=DMARC1`` tag (else it is discarded)?"""
    return _HEAD.match(data) is not None


def _split_tags(text: str) -> list[tuple[str, str, str]]:
    """§6.4 / RFC 6376 §3.2 tag-list: ``(name, value, as written)``; empty specs are skipped."""
    tags: list[tuple[str, str, str]] = []
    for spec in text.split(";"):
        if not spec.strip(" \t\r\n"):
            continue  # "v=DMARC1; p=none;" — a trailing ";" is allowed
        name, eq, value = spec.partition("=")
        name = name.strip(" \t\r\n")
        if not eq:
            raise DmarcSyntaxError("a tag-spec without '='", spec.strip())
        if not _TAG_NAME.match(name):
            raise DmarcSyntaxError("not a tag name", spec.strip())
        tags.append((name.lower(), value.strip(" \t\r\n"), spec.strip()))
    return tags


def _policy(value: str, spec: str) -> Policy:
    try:
        return Policy(value.lower())
    except ValueError:
        raise DmarcSyntaxError("the policy is none of none, quarantine, reject", spec) from None


def _alignment(value: str, spec: str) -> Alignment:
    try:
        return Alignment(value.lower())
    except ValueError:
        raise DmarcSyntaxError("the alignment mode is neither r nor s", spec) from None


def _number(value: str, spec: str, top: int) -> int:
    if not value.isascii() or not value.isdigit():
        raise DmarcSyntaxError("not a decimal number", spec)
    number = int(value) if len(value) <= 12 else top + 1
    if number > top:
        raise DmarcSyntaxError(f"more than {top}", spec)
    return number


def _uris(value: str, spec: str) -> tuple[str, ...]:
    """§6.4 dmarc-uri *(*WSP "," *WSP dmarc-uri); commas and "!" inside a URI are %-encoded."""
    uris = tuple(u.strip(" \t") for u in value.split(","))
    for uri in uris:
        if not _URI.match(uri):
            raise DmarcSyntaxError(f"not a reporting URI: {shorten(uri, 40)!r}", spec)
    return uris


def _colon_list(value: str, spec: str, allowed: frozenset[str] | None) -> tuple[str, ...]:
    items = tuple(i.strip(" \t") for i in value.split(":"))
    for item in items:
        ok = item.lower() in allowed if allowed is not None else bool(_KEYWORD.match(item))
        if not ok:
            raise DmarcSyntaxError(f"not a valid option: {shorten(item, 20)!r}", spec)
    return tuple(i.lower() for i in items)


def parse_dmarc(text: str) -> DmarcRecord:
    """§6.3: the text of one DMARC record → :class:`DmarcRecord`; raises :class:`DmarcSyntaxError`.

    ``v=DMARC1`` must be the first tag; a tag given twice is an error; unknown tags are
    ignored (noted). Without a valid ``p`` the record is usable only when ``rua`` holds a
    reporting URI (§6.6.3), and then reads as ``p=none``.
    """
    if not _VERSION.match(text):
        raise DmarcSyntaxError("the record does not start with v=DMARC1", shorten(text, 20), "6.4")
    fields: dict[str, object] = {}
    notes: list[str] = []
    policy_problem: DmarcSyntaxError | None = None
    for name, value, spec in _split_tags(text)[1:]:
        if name in fields or (name == "p" and policy_problem is not None):
            raise DmarcSyntaxError("a tag given twice", spec)
        if name == "v":
            raise DmarcSyntaxError("v= is allowed only as the first tag", spec, "6.4")
        if name == "p":
            try:
                fields["p"] = _policy(value, spec)
            except DmarcSyntaxError as exc:
                policy_problem = exc
        elif name == "sp":
            fields["sp"] = _policy(value, spec)
        elif name in ("adkim", "aspf"):
            fields[name] = _alignment(value, spec)
        elif name == "pct":
            fields["pct"] = _number(value, spec, 100)
        elif name == "ri":
            fields["ri"] = _number(value, spec, _MAX_RI)
        elif name in ("rua", "ruf"):
            fields[name] = _uris(value, spec)
        elif name == "fo":
            fields["fo"] = _colon_list(value, spec, _FO_OPTIONS)
        elif name == "rf":
            fields["rf"] = _colon_list(value, spec, None)
        else:
            notes.append(f"unknown tag {shorten(name, 20)!r} ignored (§6.3)")
    if "p" not in fields:
        if not fields.get("rua"):
            raise policy_problem or DmarcSyntaxError("no p= tag (and no rua= to fall back on)",
                                                     shorten(text, 40), "6.6.3")
        why = "invalid" if policy_problem else "missing"
        notes.append(f"p= {why}; read as p=none because rua= is given (§6.6.3)")
        fields["p"] = Policy.NONE
    return DmarcRecord(**fields, notes=tuple(notes))  # type: ignore[arg-type]


class DmarcStatus(StrEnum):
    """How discovery at ``_dmarc.DOMAIN`` ended (§6.6.3); the value is the JSON token."""

    RECORD = "record"  # exactly one v=DMARC1 record, valid
    NONE = "none"  # no v=DMARC1 record (NODATA, NXDOMAIN, or only other TXT records)
    SEVERAL = "several"  # more than one v=DMARC1 record: "policy discovery terminates"
    INVALID = "invalid"  # one record that does not parse
    DNS_ERROR = "dns-error"  # timeout or SERVFAIL: nothing is known


@dataclass(frozen=True, slots=True)
class DmarcLookup:
    """The outcome of :func:`lookup_dmarc` for one domain."""

    domain: str
    status: DmarcStatus
    dns: LookupStatus  # how the TXT query at _dmarc.DOMAIN ended
    record: DmarcRecord | None = None
    text: str | None = None  # the record as published (one record), else None
    error: str = ""  # why INVALID / SEVERAL / DNS_ERROR, in words


def _decode(strings: TXTRecord) -> str:
    """§6.4: a record's character-strings are joined; not UTF-8 → U+FFFD (then it fails to parse)."""
    return b"".join(strings).decode("utf-8", "replace")


async def lookup_dmarc(resolver: Resolver, domain: str) -> DmarcLookup:
    """§6.1, §6.6.3: the DMARC record published at ``_dmarc.<domain>``, as a :class:`DmarcLookup`."""
    name = "_dmarc." + domain.rstrip(".")
    answer = await resolver.txt(name)
    if answer.status.is_error:
        return DmarcLookup(domain, DmarcStatus.DNS_ERROR, answer.status, error=answer.outcome)
    found = [r for r in answer.records if is_dmarc_text(b"".join(r))]
    if not found:
        return DmarcLookup(domain, DmarcStatus.NONE, answer.status)
    if len(found) > 1:
        return DmarcLookup(domain, DmarcStatus.SEVERAL, answer.status,
                           error=f"{len(found)} v=DMARC1 records (§6.6.3)")
    text = _decode(found[0])
    try:
        record = parse_dmarc(text)
    except DmarcSyntaxError as exc:
        return DmarcLookup(domain, DmarcStatus.INVALID, answer.status, text=text, error=str(exc))
    return DmarcLookup(domain, DmarcStatus.RECORD, answer.status, record=record, text=text)
