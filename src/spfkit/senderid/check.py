"""Sender ID checks (RFC 4406 §4): ``check_host()`` with the ``pra`` or ``mfrom`` scope.

RFC 4406 §3 gives Sender ID records a scope (``spf2.0/pra``, ``spf2.0/mfrom,pra``); §4.4
chooses, for the scope being checked, the ``spf2.0`` record that lists it, else the
``v=spf1`` record (§3.4: a ``v=spf1`` record is read as ``spf2.0/mfrom,pra``).  That choice
is :func:`spfkit.record.select_record`'s; here the identity becomes ``check_host()``
arguments.  Reaches DNS only through the resolver it is given.
"""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address, IPv6Address

from spfkit.evaluate import CheckOptions, check, check_host
from spfkit.identity import Identity
from spfkit.lookup.protocol import Resolver
from spfkit.record.model import Scope
from spfkit.results import CheckResult, Result
from spfkit.senderid.pra import PRAResult

__all__ = ["check_mfrom_senderid", "check_pra", "no_pra_result"]

_DEFAULT_OPTIONS = CheckOptions()


def no_pra_result(pra: PRAResult) -> CheckResult:
    """RFC 4407 §2 step 6: "the message is ill-formed" — reported as ``permerror``.

    Nothing can be checked without a PRA; like a record that cannot be interpreted, the
    fault is permanent and lies with the sender, which is what ``permerror`` says
    (RFC 7208 §2.6.7).  ``problem`` carries the step-6 reason.
    """
    reason = pra.reason or "no Purported Responsible Address"
    return CheckResult(Result.PERMERROR, domain="", problem=f"no PRA: {reason}")


async def check_pra(
    ip: str | IPv4Address | IPv6Address,
    pra: PRAResult | str,
    helo: str = "",
    *,
    resolver: Resolver,
    receiver: str | None = None,
    options: CheckOptions = _DEFAULT_OPTIONS,
) -> CheckResult:
    """RFC 4406 §4: check_host(<ip>, <domain of the PRA>, <PRA>) with the ``pra`` scope.

    ``pra`` is what :func:`~spfkit.senderid.find_pra` found, or an address.  Without a PRA
    the result is :func:`no_pra_result`'s ``permerror``; no DNS is asked.
    """
    address = pra if isinstance(pra, str) else pra.address
    if not address:
        return no_pra_result(pra if isinstance(pra, PRAResult) else PRAResult())
    domain = address.rpartition("@")[2]
    return await check_host(
        ip,
        domain,
        address,
        resolver=resolver,
        helo=helo,
        receiver=receiver,
        options=replace(options, scope=Scope.PRA),
    )


async def check_mfrom_senderid(
    ip: str | IPv4Address | IPv6Address,
    mail_from: str,
    helo: str,
    *,
    resolver: Resolver,
    receiver: str | None = None,
    options: CheckOptions = _DEFAULT_OPTIONS,
    trace: bool = False,
) -> CheckResult:
    """RFC 4406 §4 with the ``mfrom`` scope: the MAIL FROM identity of RFC 4408 §2.2.

    As in SPF, a null reverse-path checks ``postmaster@<helo>`` (RFC 7208 §2.4);
    ``trace`` as for :func:`spfkit.evaluate.check`.
    """
    return await check(
        ip,
        mail_from,
        helo,
        resolver=resolver,
        identity=Identity.MAILFROM,
        receiver=receiver,
        options=replace(options, scope=Scope.MFROM),
        trace=trace,
    )
