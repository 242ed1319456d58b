"""Run the three checks of one message and lint the records involved (the I/O half).

``spfkit verify`` and the SMTP verifier both call :func:`verify_message`: it runs the
MAIL FROM (Sender ID ``mfrom`` scope, RFC 4406 §4, and plain RFC 7208 §2.4 beside it, for
the header fields and for when an spf2.0 record makes them differ), HELO (RFC 7208 §2.3)
and PRA (RFC 4407 §2, scope ``pra``) checks concurrently through one resolver, lints each domain
whose record was involved, and hands everything to the pure
:func:`~spfkit.responder.report.build_report`.  DNS is reached only through the resolver.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from spfkit.evaluate import CheckOptions, check
from spfkit.identity import Identity, is_valid_domain
from spfkit.lint.findings import Finding
from spfkit.lookup.protocol import Resolver
from spfkit.responder.received import Origin
from spfkit.responder.report import Report, ReportInputs, build_report
from spfkit.senderid.check import check_mfrom_senderid, check_pra
from spfkit.senderid.pra import pra_from_fields

__all__ = ["Linter", "lint_findings", "verify_message"]

#: How findings are obtained for one domain (``spfkit.lint`` by default; tests pass others).
Linter = Callable[[str, Resolver], Awaitable[Sequence[Finding]]]

_DEFAULT_OPTIONS = CheckOptions()


async def lint_findings(domain: str, resolver: Resolver) -> Sequence[Finding]:
    """The linter's findings for the record of ``domain`` (:func:`spfkit.lint.lint_domain`)."""
    from spfkit.lint import (
        lint_domain,  # the linter is optional for the checks themselves
    )

    return (await lint_domain(domain, resolver)).findings


def _domains(names: Sequence[str]) -> list[str]:
    """The domains whose records were involved, in order, once each, valid names only."""
    seen: dict[str, str] = {}
    for name in names:
        key = name.rstrip(".").lower()
        if key and key not in seen and is_valid_domain(key):
            seen[key] = name.rstrip(".")
    return list(seen.values())


async def verify_message(
    fields: Sequence[tuple[str, str]],
    *,
    ip: Origin,
    helo: Origin,
    mail_from: Origin,
    resolver: Resolver,
    receiver: str,
    options: CheckOptions = _DEFAULT_OPTIONS,
    linter: Linter | None = lint_findings,
) -> Report:
    """The report for a message (its header ``fields``) sent by ``ip`` with ``helo`` and
    ``mail_from``.  ``ValueError`` when ``ip.value`` is not an IP address."""
    pra = pra_from_fields(fields)
    mfrom_result, spf_result, helo_result, pra_result = await asyncio.gather(
        check_mfrom_senderid(ip.value, mail_from.value, helo.value, resolver=resolver,
                             receiver=receiver, options=options, trace=True),
        check(ip.value, mail_from.value, helo.value, resolver=resolver, identity=Identity.MAILFROM,
              receiver=receiver, options=replace(options, scope=None), trace=True),
        check(ip.value, mail_from.value, helo.value, resolver=resolver, identity=Identity.HELO,
              receiver=receiver, options=options, trace=True),
        check_pra(ip.value, pra, helo.value, resolver=resolver, receiver=receiver,
                  options=options),
    )
    mfrom_domain = mail_from.value.rpartition("@")[2] or helo.value
    domains = _domains([mfrom_domain, helo.value, pra.domain or ""])
    findings: dict[str, Sequence[Finding]] = {}
    errors: dict[str, str] = {}
    if linter is not None:
        outcomes = await asyncio.gather(*(linter(d, resolver) for d in domains),
                                        return_exceptions=True)
        for domain, outcome in zip(domains, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, Exception):
                    raise outcome
                errors[domain] = f"{type(outcome).__name__}: {outcome}"
            else:
                findings[domain] = outcome
    return build_report(ReportInputs(
        ip=ip, helo=helo, mail_from=mail_from, receiver=receiver, pra=pra,
        mfrom_result=mfrom_result, helo_result=helo_result, pra_result=pra_result,
        spf_mfrom_result=spf_result,
        findings=findings, lint_errors=errors,
    ))
