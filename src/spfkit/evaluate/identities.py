"""``check()``: one SMTP identity checked (RFC 7208 §2.3, §2.4).

``check()`` is what receivers call: it turns (client IP, MAIL FROM, HELO) into the
``check_host()`` arguments for the HELO or MAIL FROM identity; which <domain> and <sender>
that gives is :func:`spfkit.identity.subject_for`. It is the one entry point of a check: a
compiled policy answers when one applies (``spfkit.compile``: the same result, term,
domain, counts and explanation, but no trace), the evaluator otherwise and always when the
caller asks for the trace.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from spfkit.compile.dispatch import answer_now, cache_for, check_host_compiled
from spfkit.evaluate.options import CheckOptions
from spfkit.identity import Identity, subject_for
from spfkit.lookup.protocol import Resolver
from spfkit.results import CheckResult

_DEFAULT_OPTIONS = CheckOptions()


async def check(
    ip: str | IPv4Address | IPv6Address,
    mail_from: str,
    helo: str,
    *,
    resolver: Resolver,
    identity: Identity = Identity.MAILFROM,
    receiver: str | None = None,
    options: CheckOptions = _DEFAULT_OPTIONS,
    trace: bool = False,
) -> CheckResult:
    """Check one SMTP identity (§2.3 HELO, §2.4 MAIL FROM) of a client.

    ``trace=True``: the caller shows the evaluation's trace, so the evaluator answers even
    when a compiled policy of the domain is at hand (compiled answers carry no trace).
    """
    subject = subject_for(identity, mail_from, helo)
    return await check_host_compiled(
        ip,
        subject.domain,
        subject.sender,
        resolver=resolver,
        helo=helo.strip(),
        receiver=receiver,
        options=options,
        cache=None if trace else cache_for(resolver),
    )


def check_now(
    ip: str | IPv4Address | IPv6Address,
    mail_from: str,
    helo: str,
    *,
    resolver: Resolver,
    identity: Identity = Identity.MAILFROM,
    receiver: str | None = None,
    options: CheckOptions = _DEFAULT_OPTIONS,
) -> CheckResult | None:
    """:func:`check`'s answer when a compiled policy gives it without waiting (no DNS, no
    evaluation: the warm check), else None — then ``await check(...)``. Same arguments."""
    subject = subject_for(identity, mail_from, helo)
    return answer_now(ip, subject.domain, subject.sender, helo=helo.strip(), receiver=receiver,
                      options=options, cache=cache_for(resolver))
