"""The identities SPF and Sender ID check, and the rules that name them
(RFC 7208 §2.3–§2.4, §4.1, §4.3, §5, §9.1; RFC 4406 §3).

One home for every rule about *what* is checked: the client address as the evaluator sees it,
whether a name can be a <domain>, and which <domain> and <sender> an SMTP identity gives.
Pure: imports nothing from asyncio, sockets or dnspython, and nothing of the evaluator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Final

__all__ = [
    "IPAddress",
    "Identity",
    "a_labels",
    "idn_arguments",
    "Subject",
    "is_valid_domain",
    "normalize_ip",
    "sender_with_local_part",
    "written_ip",
    "strip_reverse_path",
    "subject_for",
]

IPAddress = IPv4Address | IPv6Address


class Identity(StrEnum):
    """RFC 7208 §9.1 ``identity``; the value is the token written into ``identity=``.

    ``identity = "mailfrom" / "helo" / name`` — ``pra`` is the ``name`` for the
    Purported Responsible Address that Sender ID checks (RFC 4406 §3, RFC 4407).
    """

    MAILFROM = "mailfrom"  # §2.4: the SMTP "MAIL FROM" reverse-path
    HELO = "helo"  # §2.3: the SMTP "HELO"/"EHLO" domain
    PRA = "pra"  # RFC 4406 §3: the Purported Responsible Address of the message


@lru_cache(maxsize=4096)
def normalize_ip(ip: str | IPAddress) -> IPAddress:
    """§5 / §4.1: the client address; an IPv4-mapped IPv6 one (``::ffff:a.b.c.d``) is IPv4.

    An RFC 4007 zone index (``fe80::1%eth0``) names an interface of the receiving host and
    means nothing to a sender's records: it is dropped (§7.3 ``%{i}`` and the reverse name
    of "ptr" are those of the address alone). Raises ``ValueError`` for text that is not an
    IP address.
    """
    addr = ip_address(ip.strip()) if isinstance(ip, str) else ip
    if isinstance(addr, IPv6Address):
        if addr.scope_id is not None:
            addr = IPv6Address(addr.packed)
        if addr.ipv4_mapped is not None:
            return addr.ipv4_mapped
    return addr


def written_ip(text: str) -> str:
    """A client address as a person writes it (``check``, the web checker): IPv4 or IPv6,
    stripped; ``ValueError`` otherwise. An RFC 4007 zone index (``fe80::1%eth0``) is refused
    here: it names an interface of this host, so the check would be of another address than
    the one written (:func:`normalize_ip` drops it from what an MTA reports)."""
    value = text.strip()
    if "%" in value:
        raise ValueError(f"{value[:64]!r} has a zone index ({value.partition('%')[2][:16]!r}), "
                         "which names an interface of this host: give the address alone")
    try:
        ip_address(value)
    except ValueError:
        raise ValueError(f"{value[:64]!r} is not an IPv4 or IPv6 address") from None
    return value


def is_valid_domain(domain: str) -> bool:
    """§4.3: a multi-label domain name, no empty label, labels <= 63 octets, name <= 253."""
    # longer is never valid; and only short names are cached (senders choose HELO names)
    return len(domain) <= 254 and _is_valid_domain(domain)


@lru_cache(maxsize=16384)
def _is_valid_domain(domain: str) -> bool:
    name = domain[:-1] if domain.endswith(".") else domain
    if not name or name.startswith("["):
        return False
    labels = name.split(".")
    if len(labels) < 2:
        return False
    if any(not label or len(label.encode("utf-8", "surrogateescape")) > 63 for label in labels):
        return False
    return len(name.encode("utf-8", "surrogateescape")) <= 253


def a_labels(domain: str) -> str:
    """RFC 8616 §3 (updating RFC 7208 §4.3): a domain name with U-labels is evaluated in its
    A-label form (IDNA 2008 with the UTS 46 mapping: ``bücher.example`` →
    ``xn--bcher-kva.example``). An ASCII name, or one that is no IDN (it then cannot exist
    in DNS, and the lookup says so), is returned as it is."""
    if domain.isascii():
        return domain
    import idna  # only for the rare non-ASCII name

    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return domain


def idn_arguments(domain: str, sender: str, helo: str) -> tuple[str, str, str]:
    """check_host()'s <domain>, <sender> (its domain part) and the HELO name with every
    U-label made an A-label (RFC 8616 §3); the local-part stays as it was sent (§4)."""
    if domain.isascii() and sender.isascii() and helo.isascii():
        return domain, sender, helo
    local, at, host = sender.rpartition("@")
    return a_labels(domain), f"{local}{at}{a_labels(host)}" if at else a_labels(sender), \
        a_labels(helo)


def sender_with_local_part(sender: str, domain: str) -> str:
    """§4.3: a sender without local-part gets "postmaster"; no sender at all, postmaster@domain."""
    if "@" not in sender:
        return f"postmaster@{sender or domain}"
    local, _, dom = sender.rpartition("@")
    return sender if local else f"postmaster@{dom}"


def strip_reverse_path(mail_from: str) -> str:
    """``<user@example.com>`` → ``user@example.com``; ``<>`` → "" (the null reverse-path).

    RFC 5321 §4.1.2: a source route before the mailbox (``<@relay.example:user@example.com>``,
    the obsolete A-d-l) is dropped; §3.3 and Appendix C: receivers ignore it, and SPF checks
    the mailbox (RFC 7208 §2.4, its local-part is ``%{l}``)."""
    value = mail_from.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    if value.startswith("@") and (route := _SOURCE_ROUTE.match(value)):
        value = value[route.end():]
    return value


# RFC 5321 §4.1.2: A-d-l = At-domain *( "," At-domain ) ":"; an At-domain may be an address
# literal ("@[IPv6:2001:db8::1]"), whose colons do not end the route
_SOURCE_ROUTE: Final = re.compile(r"@(?:\[[^\]]*\]|[^,:\[\]@]+)(?:,@(?:\[[^\]]*\]|[^,:\[\]@]+))*:")


@dataclass(frozen=True, slots=True)
class Subject:
    """The <domain> and <sender> that one identity check evaluates."""

    identity: Identity
    domain: str
    sender: str


def subject_for(identity: Identity, mail_from: str, helo: str) -> Subject:
    """§2.3 / §2.4: the HELO identity checks ``postmaster@<helo>``; MAIL FROM checks the
    reverse-path, or — for the null reverse-path — the HELO identity's ``postmaster@<helo>``.

    A MAIL FROM without ``@`` is taken as a bare domain (``postmaster@`` that domain).
    """
    helo = helo.strip()
    mail_from = strip_reverse_path(mail_from)
    if identity is Identity.HELO or not mail_from:
        return Subject(identity, helo, f"postmaster@{helo}")
    domain = mail_from.rpartition("@")[2]
    return Subject(identity, domain, sender_with_local_part(mail_from, domain))
