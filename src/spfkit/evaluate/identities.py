"""Which <domain> and <sender> to check for an SMTP identity (RFC 7208 §2.3, §2.4).

``check()`` is what receivers call: it turns (client IP, MAIL FROM, HELO) into the
``check_host()`` arguments for the HELO or MAIL FROM identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from spfkit.evaluate.check_host import check_host
from spfkit.evaluate.options import CheckOptions
from spfkit.identity import Identity
from spfkit.lookup.protocol import Resolver
from spfkit.results import CheckResult

_DEFAULT_OPTIONS = CheckOptions()


@dataclass(frozen=True, slots=True)
class Subject:
    """The <domain> and <sender> that one identity check evaluates."""

    identity: Identity
    domain: str
    sender: str


def strip_reverse_path(mail_from: str) -> str:
    """``<user@example.com>`` → ``user@example.com``; ``<>`` → "" (the null reverse-path)."""
    value = mail_from.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    return value


def subject_for(identity: Identity, mail_from: str, helo: str) -> Subject:
    """§2.3 / §2.4: the HELO identity checks ``postmaster@<helo>``; MAIL FROM checks the
    reverse-path, or — for the null reverse-path — the HELO identity's ``postmaster@<helo>``.

    A MAIL FROM without ``@`` is taken as a bare domain (``postmaster@`` that domain).
    """
    helo = helo.strip()
    mail_from = strip_reverse_path(mail_from)
    if identity is Identity.HELO or not mail_from:
        return Subject(identity, helo, f"postmaster@{helo}")
    if "@" not in mail_from:
        return Subject(identity, mail_from, f"postmaster@{mail_from}")
    local, _, domain = mail_from.rpartition("@")
    return Subject(identity, domain, mail_from if local else f"postmaster@{domain}")


async def check(
    ip: str | IPv4Address | IPv6Address,
    mail_from: str,
    helo: str,
    *,
    resolver: Resolver,
    identity: Identity = Identity.MAILFROM,
    receiver: str | None = None,
    options: CheckOptions = _DEFAULT_OPTIONS,
) -> CheckResult:
    """Check one SMTP identity (§2.3 HELO, §2.4 MAIL FROM) of a client."""
    subject = subject_for(identity, mail_from, helo)
    return await check_host(
        ip,
        subject.domain,
        subject.sender,
        resolver=resolver,
        helo=helo.strip(),
        receiver=receiver,
        options=options,
    )
