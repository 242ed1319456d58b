"""The probe in its two modes: the same counts and results; --tree adds the tree rules' codes."""

from __future__ import annotations

import asyncio

import pytest

from spfkit.lookup import MemoryResolver
from spfkit.survey.probe import answer_octets, probe_domain

ZONE = {
    "over.example": {"TXT": "v=spf1 " + " ".join(f"a:h{i}.over.example" for i in range(12)) + " -all"},
    **{f"h{i}.over.example": {"A": "192.0.2.1", "AAAA": "2001:db8::1"} for i in range(12)},
    "ptr.example": {"TXT": "v=spf1 ptr include:none.example ~all"},
    "none.example": {"A": "192.0.2.9"},
    "_dmarc.ptr.example": {"TXT": "v=DMARC1; p=quarantine; pct=50; rua=mailto:r@ptr.example"},
    # 256 + 65,536 from the provider (its ?all passes nobody), two MX hosts, one of them dual-stack
    "wide.example": {"TXT": "v=spf1 ip4:198.51.100.0/24 include:_spf.host.example mx -all",
                     "MX": [(10, "mx1.wide.example"), (20, "mx2.wide.example")]},
    "_spf.host.example": {"TXT": "v=spf1 ip4:10.20.0.0/16 ip6:2001:db8::/48 ?all"},
    "mx1.wide.example": {"A": "192.0.2.25", "AAAA": "2001:db8:ffff::25"},
    "mx2.wide.example": {"A": "192.0.2.26"},
}


@pytest.mark.parametrize("domain", ["over.example", "ptr.example"])
def test_both_modes_agree_on_counts_and_results(domain: str) -> None:
    fast = asyncio.run(probe_domain(domain, MemoryResolver(ZONE)))
    deep = asyncio.run(probe_domain(domain, MemoryResolver(ZONE), deep=True))
    for name in ("spf", "result_v4", "result_v6", "lookups_v4", "lookups_v6", "void_v4", "void_v6",
                 "dmarc", "dmarc_p", "dmarc_pct", "includes", "all"):
        assert getattr(fast, name) == getattr(deep, name), name
    assert set(fast.lint) <= set(deep.lint)


def test_counts_past_the_limit_are_what_the_record_needs() -> None:
    r = asyncio.run(probe_domain("over.example", MemoryResolver(ZONE)))
    assert (r.result_v4, r.lookups_v4, r.lookups_v6) == ("permerror", 12, 12)
    p = asyncio.run(probe_domain("ptr.example", MemoryResolver(ZONE)))
    assert p.result_v4 == "permerror" and (p.dmarc, p.dmarc_p, p.dmarc_pct, p.dmarc_rua) == (
        "record", "quarantine", 50, True)


def test_authorised_addresses_are_counted_per_family() -> None:
    r = asyncio.run(probe_domain("wide.example", MemoryResolver(ZONE)))
    assert (r.pass_ipv4, r.pass_ipv6) == (256 + 65_536 + 2, (1 << 80) + 1)
    # over the limit: the a: terms before the 11th lookup still pass their one address
    over = asyncio.run(probe_domain("over.example", MemoryResolver(ZONE)))
    assert (over.pass_ipv4, over.pass_ipv6) == (1, 1)


def test_answer_octets_is_the_rfc_1035_message_size() -> None:
    # header 12 + question (1+3 "foo" 1+7 "example" root 1 = 13, + 4) + RR (2 + 10 + 1 + 11)
    assert answer_octets("foo.example", ((b"v=spf1 -all",),)) == 12 + 17 + 24


def test_summary_counts_records_that_authorise_over_100k_ipv4_addresses() -> None:
    from spfkit.survey.result import DomainResult
    from spfkit.survey.summary import summarise

    rows = [DomainResult(f"d{i}.example", "NOERROR", "record", pass_ipv4=n, pass_ipv6=0)
            for i, n in enumerate((256, 100_000, 100_001, 1 << 24))]
    spf = summarise(rows).as_dict()["spf"]
    assert (spf["over_100k_ipv4"], spf["over_100k_ipv4_pct"]) == (2, 50.0)
