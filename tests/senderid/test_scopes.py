"""Sender ID scopes (RFC 4406 §3, §4.4): which record a pra / mfrom check uses.

RFC 4406 §3.4: a ``v=spf1`` record is read as ``spf2.0/mfrom,pra``; §4.4: an ``spf2.0``
record that lists the scope wins over it; two records of the winning kind are a permerror.
RFC 7208 receivers (no scope) never see ``spf2.0`` records.
"""

from __future__ import annotations

import asyncio

import pytest

from spfkit import Identity, Result, check
from spfkit.lookup import MemoryResolver
from spfkit.senderid import PRAResult, check_mfrom_senderid, check_pra, find_pra

IP = "192.0.2.1"
OTHER = "198.51.100.7"

ZONE = {
    # only a Sender ID PRA record: the PRA scope uses it; mfrom and SPF find nothing
    "pra-only.example": {"TXT": "spf2.0/pra ip4:192.0.2.1 -all"},
    # spf2.0/mfrom,pra beside v=spf1: Sender ID uses spf2.0, SPF uses v=spf1
    "both.example": {"TXT": ["v=spf1 ip4:198.51.100.7 -all",
                             "spf2.0/mfrom,pra ip4:192.0.2.1 -all"]},
    # only v=spf1: used for both Sender ID scopes (RFC 4406 §3.4)
    "spf1-only.example": {"TXT": "v=spf1 ip4:192.0.2.1 -all"},
    # spf2.0/mfrom only: covers mfrom; pra falls back to v=spf1
    "mfrom-only.example": {"TXT": ["v=spf1 -all", "spf2.0/mfrom ip4:192.0.2.1 -all"]},
    # conflicting: two records that both cover pra
    "conflict.example": {"TXT": ["spf2.0/pra ip4:192.0.2.1 -all", "spf2.0/mfrom,pra -all"]},
    # two v=spf1 records, but one spf2.0/pra: the pra scope never looks at v=spf1
    "spf1-twice.example": {"TXT": ["v=spf1 -all", "v=spf1 +all", "spf2.0/pra ip4:192.0.2.1 -all"]},
    # opting out of the PRA check, as RFC 4406 §3.4 suggests
    "opt-out.example": {"TXT": ["v=spf1 ip4:192.0.2.1 -all", "spf2.0/pra ?all"]},
    # scope names are case-insensitive; an unknown scope beside them is harmless
    "case.example": {"TXT": "SPF2.0/PRA,future ip4:192.0.2.1 -all"},
    # the scope holds across include: the included domain is read with the pra scope too
    "incl.example": {"TXT": "spf2.0/pra include:inner.example -all"},
    "inner.example": {"TXT": ["v=spf1 -all", "spf2.0/pra ip4:192.0.2.1 -all"]},
    "none.example": {"A": "192.0.2.80"},
}


def resolver() -> MemoryResolver:
    return MemoryResolver(ZONE)


def pra(domain: str, ip: str = IP) -> Result:
    return asyncio.run(check_pra(ip, f"someone@{domain}", resolver=resolver())).result


def mfrom(domain: str, ip: str = IP) -> Result:
    return asyncio.run(check_mfrom_senderid(ip, f"someone@{domain}", "helo.example",
                                            resolver=resolver())).result


def spf(domain: str, ip: str = IP) -> Result:
    return asyncio.run(check(ip, f"someone@{domain}", "helo.example", resolver=resolver())).result


def test_spf2_pra_record_is_used_for_pra_only() -> None:
    assert pra("pra-only.example") is Result.PASS
    assert pra("pra-only.example", OTHER) is Result.FAIL
    assert mfrom("pra-only.example") is Result.NONE
    assert spf("pra-only.example") is Result.NONE


def test_spf2_mfrom_pra_beside_spf1() -> None:
    assert pra("both.example") is Result.PASS
    assert mfrom("both.example") is Result.PASS
    # RFC 7208 ignores spf2.0: the v=spf1 record lists only 198.51.100.7
    assert spf("both.example") is Result.FAIL
    assert spf("both.example", OTHER) is Result.PASS
    assert pra("both.example", OTHER) is Result.FAIL


def test_spf1_is_used_where_no_spf2_record_exists() -> None:
    assert pra("spf1-only.example") is Result.PASS
    assert mfrom("spf1-only.example") is Result.PASS
    assert pra("spf1-only.example", OTHER) is Result.FAIL


def test_spf2_mfrom_does_not_cover_pra() -> None:
    assert mfrom("mfrom-only.example") is Result.PASS
    assert pra("mfrom-only.example") is Result.FAIL  # from v=spf1 -all
    assert spf("mfrom-only.example") is Result.FAIL


def test_conflicting_records_are_permerror() -> None:
    result = asyncio.run(check_pra(IP, "x@conflict.example", resolver=resolver()))
    assert result.result is Result.PERMERROR
    assert result.problem is not None and "spf2.0/pra" in result.problem
    # mfrom: exactly one record covers it (spf2.0/mfrom,pra), no conflict
    assert mfrom("conflict.example") is Result.FAIL


def test_spf2_wins_even_over_a_broken_spf1_pair() -> None:
    assert pra("spf1-twice.example") is Result.PASS
    assert spf("spf1-twice.example") is Result.PERMERROR


def test_opt_out_of_pra() -> None:
    assert pra("opt-out.example", OTHER) is Result.NEUTRAL
    assert mfrom("opt-out.example", OTHER) is Result.FAIL


def test_scope_names_are_case_insensitive() -> None:
    assert pra("case.example") is Result.PASS


def test_scope_holds_through_include() -> None:
    assert pra("incl.example") is Result.PASS


def test_no_record_is_none() -> None:
    assert pra("none.example") is Result.NONE
    assert mfrom("none.example") is Result.NONE


def test_the_pra_of_a_message_is_checked() -> None:
    found = find_pra("Sender: list@both.example\r\nFrom: a@spf1-only.example\r\n\r\n")
    result = asyncio.run(check_pra(IP, found, "helo.example", resolver=resolver()))
    assert (result.result, result.domain) == (Result.PASS, "both.example")


def test_no_pra_is_permerror_without_dns() -> None:
    r = resolver()
    found = find_pra("To: x@example.org\r\n\r\n")
    result = asyncio.run(check_pra(IP, found, resolver=r))
    assert result.result is Result.PERMERROR
    assert result.problem is not None and result.problem.startswith("no PRA: ")
    assert "no From:" in result.problem
    assert r.queries == []
    assert asyncio.run(check_pra(IP, PRAResult(), resolver=r)).result is Result.PERMERROR


def test_null_mail_from_checks_postmaster_at_helo() -> None:
    result = asyncio.run(check_mfrom_senderid(IP, "", "spf1-only.example", resolver=resolver()))
    assert (result.result, result.domain) == (Result.PASS, "spf1-only.example")


@pytest.mark.parametrize("identity", [Identity.MAILFROM, Identity.HELO])
def test_plain_spf_never_uses_spf2(identity: Identity) -> None:
    result = asyncio.run(check(IP, "a@pra-only.example", "pra-only.example",
                               resolver=resolver(), identity=identity))
    assert result.result is Result.NONE
