"""The identity checks (RFC 7208 §2.3 HELO, §2.4 MAIL FROM) through ``check()``.
"""


from __future__ import annotations

import asyncio
from typing import Any

import pytest

from spfkit.evaluate import check
from spfkit.identity import Identity
from spfkit.lookup.memory import MemoryResolver
from spfkit.results import CheckResult, Result
from tests.evaluate.common import IP, spf

# --- identities (§2.3, §2.4) ------------------------------------------------------------


def _identity(zone: dict[str, Any], mail_from: str, helo: str, identity: Identity) -> tuple[CheckResult, MemoryResolver]:
    resolver = MemoryResolver(zone)
    result = asyncio.run(check(IP, mail_from, helo, resolver=resolver, identity=identity))
    return result, resolver


IDENTITY_ZONE = {
    "mail.example.org": spf("v=spf1 a -all exp=why.example.org", A=IP),
    "why.example.org": {"TXT": "%{s} %{l} %{o} %{d} %{h}"},
    "example.com": spf("v=spf1 -all exp=why.example.com"),
    "why.example.com": {"TXT": "%{s} %{l} %{o} %{d} %{h}"},
}


def test_helo_identity_checks_the_helo_domain() -> None:
    result, resolver = _identity(IDENTITY_ZONE, "user@example.com", "mail.example.org", Identity.HELO)
    assert result.result is Result.PASS
    assert result.domain == "mail.example.org"
    assert "example.com" not in [n for _, n in resolver.queries]


def test_helo_identity_sender_is_postmaster_at_helo() -> None:
    zone = dict(IDENTITY_ZONE, **{"mail.example.org": spf("v=spf1 -all exp=why.example.org")})
    result, _ = _identity(zone, "user@example.com", "mail.example.org", Identity.HELO)
    assert result.explanation == (
        "postmaster@mail.example.org postmaster mail.example.org mail.example.org mail.example.org"
    )


@pytest.mark.parametrize("mail_from", ["", "<>", " <> "])
def test_null_mail_from_uses_postmaster_at_helo(mail_from: str) -> None:
    # §2.4: with a null reverse-path, the MAIL FROM check uses postmaster@<HELO domain>
    zone = dict(IDENTITY_ZONE, **{"mail.example.org": spf("v=spf1 -all exp=why.example.org")})
    result, _ = _identity(zone, mail_from, "mail.example.org", Identity.MAILFROM)
    assert result.result is Result.FAIL
    assert result.domain == "mail.example.org"
    assert result.explanation is not None
    assert result.explanation.startswith("postmaster@mail.example.org postmaster mail.example.org")


def test_mail_from_identity() -> None:
    result, _ = _identity(IDENTITY_ZONE, "<strong-bad@example.com>", "mail.example.org", Identity.MAILFROM)
    assert result.result is Result.FAIL
    assert result.domain == "example.com"
    assert result.explanation == "strong-bad@example.com strong-bad example.com example.com mail.example.org"


@pytest.mark.parametrize("helo", ["A2345678", "[192.0.2.1]", "localhost"])
def test_helo_that_is_not_a_domain_is_none(helo: str) -> None:
    # openspf helo-not-fqdn, helo-domain-literal
    result, resolver = _identity({}, "", helo, Identity.HELO)
    assert result.result is Result.NONE
    assert resolver.queries == []


