"""``lint_domain`` / ``lint_zone`` (RFC 7208 §3.2, §4.4–§4.5, §4.6.4; RFC 4406 §4.4).

The record-set rules over :class:`MemoryResolver` and a real DNS server on loopback, the
counts against ``check_host()``'s own for the same data (the linter and ``spfkit check``
never disagree), and the bundled example zone.
"""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path

import pytest

from spfkit.evaluate import check_host
from spfkit.evaluate.options import CheckOptions
from spfkit.lint import LintReport, lint_domain, lint_record, lint_text, lint_zone
from spfkit.lint.findings import Severity
from spfkit.lookup import DnsResolver, MemoryResolver, Resolver, ZoneResolver
from spfkit.record import parse_record
from spfkit.tree import SAMPLE_IPV4, SAMPLE_IPV6
from spfkit.tree.needs import lifted
from tests.fixtures.dnsserver import ZoneDataServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ZONE = ROOT / "examples" / "example.zone"

#: the record-set codes this module triggers (test_record_rules checks that every code is tested)
RECORD_SET_CODES = ("SPF-E101", "SPF-E102", "SPF-E103", "SPF-E104", "SPF-W105")


def lint(zone: dict[str, object], domain: str = "example.com") -> LintReport:
    return asyncio.run(lint_domain(domain, MemoryResolver(zone)))


def codes(report: LintReport) -> list[str]:
    return sorted(f.code for f in report.findings)


# -- the record set ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "wanted"),
    [
        ({}, "does not exist (NXDOMAIN)"),
        ({"example.com": {"A": "192.0.2.1"}}, "publishes no SPF record"),
        ({"example.com": {"TXT": "google-site-verification=abc"}}, "publishes no SPF record"),
        ({"example.com": {"TXT": "google-site-verification=abc"}},
         "its TXT records hold a Google site-verification token, which are not SPF records"),
        ({"example.com": {"TXT": "v=DKIM1; k=rsa; p=MIGf"}},
         "hold a DKIM public key (v=DKIM1, RFC 6376)"),
        ({"example.com": {"TXT": "spf2.0/pra mx -all"}}, "only a Sender ID"),
        ({"example.com": {"TXT": "spf1 mx -all"}}, "looks like one but receivers ignore it"),
    ],
)
def test_no_record(zone: dict[str, object], wanted: str) -> None:
    report = lint(zone)
    no_record = [f for f in report.findings if f.code == "SPF-E101"]
    assert len(no_record) == 1 and wanted in no_record[0].message
    assert report.exit_status == 2
    assert report.lookups_v4 is None  # no tree without a v=spf1 record


def test_a_record_is_not_no_record() -> None:
    report = lint({"example.com": {"TXT": ["v=spf1 -all", "other text"]}})
    assert report.findings == () and report.exit_status == 0
    assert report.records == ("v=spf1 -all",)


def test_broken_record_alone_is_linted_and_fixed() -> None:
    report = lint({"example.com": {"TXT": "”v=spf1 mx ~all”"}})
    assert codes(report) == ["SPF-E101", "SPF-E201"]
    assert report.fixed_record == "v=spf1 mx ~all"
    e201 = next(f for f, t in zip(report.findings, report.finding_records) if f.code == "SPF-E201")
    assert e201.column == 0


def test_more_than_one_spf_record() -> None:
    report = lint({
        "example.com": {"TXT": ["v=spf1 mx -all", "v=spf1 include:_spf.example.net ~all"],
                        "MX": (10, "mail.example.com")},
        "mail.example.com": {"A": "192.0.2.1"},
        "_spf.example.net": {"TXT": "v=spf1 ip4:198.51.100.0/24 -all"},
    })
    e102 = [f for f in report.findings if f.code == "SPF-E102"]
    assert len(e102) == 1 and "2 TXT records" in e102[0].message
    assert e102[0].fixed_record is not None
    merged = parse_record(e102[0].fixed_record)
    assert [str(t) for t in merged.terms] == ["mx", "include:_spf.example.net", "-all"]
    assert len(report.records) == 2
    assert report.fixed_record is None  # which of them to correct is for the merge to say


def test_one_record_is_quiet_about_multiple_records() -> None:
    assert "SPF-E102" not in codes(lint({"example.com": {"TXT": ["v=spf1 -all", "v=DKIM1; p="]}}))


def test_dns_error() -> None:
    report = lint({"example.com": {"TXT": "TIMEOUT"}})
    assert codes(report) == ["SPF-E103"] and "TIMEOUT" in report.findings[0].message
    assert report.exit_status == 2
    assert "SPF-E103" not in codes(lint({"example.com": {"TXT": "v=spf1 -all"}}))


def test_sender_id_records_are_noted_and_linted() -> None:
    report = lint({"example.com": {"TXT": ["v=spf1 -all", "spf2.0/mfrom,pra ptr -all"]}})
    assert codes(report) == ["SPF-I315", "SPF-W306"]
    assert report.records == ("v=spf1 -all", "spf2.0/mfrom,pra ptr -all")
    assert report.exit_status == 1


def test_more_than_one_sender_id_record_for_a_scope() -> None:
    two = lint({"example.com": {"TXT": ["v=spf1 -all", "spf2.0/pra -all", "spf2.0/pra,mfrom -all"]}})
    e104 = [f for f in two.findings if f.code == "SPF-E104"]
    assert len(e104) == 1 and "'pra'" in e104[0].message
    one_each = lint({"example.com": {"TXT": ["v=spf1 -all", "spf2.0/pra -all", "spf2.0/mfrom -all"]}})
    assert "SPF-E104" not in codes(one_each)


def test_broken_copy_beside_a_record() -> None:
    report = lint({"example.com": {"TXT": ["v=spf1 -all", "v=spf1.0 mx -all"]}})
    assert codes(report) == ["SPF-W105"]
    assert "do not fix it" in report.findings[0].fix
    assert "SPF-W105" not in codes(lint({"example.com": {"TXT": ["v=spf1 -all", "v=DMARC1"]}}))


def test_strings_of_the_published_record_are_checked() -> None:
    report = lint({"example.com": {"TXT": ("v=spf1 mx", "include:_spf.example.net -all")}})
    assert "SPF-E112" in codes(report)
    fixed = report.fixed_record
    assert fixed is not None and parse_record(fixed).canonical() == \
        "v=spf1 mx include:_spf.example.net -all"


def test_size_counts_every_txt_record_of_the_name_once() -> None:
    filler = "x" * 240
    report = lint({"example.com": {"TXT": ["v=spf1 -all", filler, (filler, "y")]}})
    assert codes(report) == ["SPF-W114"]


def test_findings_are_sorted_and_point_into_their_record() -> None:
    report = lint({"example.com": {"TXT": ["v=spf1 ptr ip4:192.0.2.0/24 -ip4:192.0.2.1 ?all",
                                           "spf2.0/pra +all"]}})
    ranks = [f.severity.rank for f in report.findings]
    assert ranks == sorted(ranks, reverse=True)
    assert len(report.finding_records) == len(report.findings)
    for f, text in zip(report.findings, report.finding_records):
        if f.column is not None and f.term and text is not None:
            assert text[f.column:].startswith(f.term), (f, text)
    assert {t for f, t in zip(report.findings, report.finding_records) if f.code == "SPF-E304"} == {
        "spf2.0/pra +all"}


# -- counts: the tree is the evaluator's ----------------------------------------------------------

COUNTED = {
    "example.com": {"TXT": "v=spf1 mx a:www.example.com a:ftp.example.com "
                           "include:_spf.example.net ~all",
                    "MX": [(10, "mx1.example.com"), (20, "mx2.example.com")]},
    "mx1.example.com": {"A": "192.0.2.1", "AAAA": "2001:db8::1"},
    "mx2.example.com": {"A": "192.0.2.2"},
    "www.example.com": {"A": "192.0.2.80"},  # no AAAA: a void lookup for an IPv6 client
    "ftp.example.com": {"A": "192.0.2.81"},  # nor here
    "_spf.example.net": {"TXT": "v=spf1 include:_a.example.net include:_b.example.net -all"},
    "_a.example.net": {"TXT": "v=spf1 a:gone.example.net ip4:198.51.100.0/24 -all"},
    "_b.example.net": {"TXT": "v=spf1 ip6:2001:db8:b::/48 -all"},
}


async def _check_counts(resolver: Resolver, domain: str) -> tuple[int, int, int, int]:
    """check_host()'s own counts with the §4.6.4 limits lifted: the real totals (11/10)."""
    sender = f"postmaster@{domain}"
    options = lifted(CheckOptions())
    v4 = await check_host(SAMPLE_IPV4, domain, sender, resolver=resolver, helo=domain,
                          options=options)
    v6 = await check_host(SAMPLE_IPV6, domain, sender, resolver=resolver, helo=domain,
                          options=options)
    return v4.lookups, v6.lookups, v4.void_lookups, v6.void_lookups


@pytest.mark.parametrize(
    "zone",
    [
        COUNTED,
        {"example.com": {"TXT": "v=spf1 " + " ".join(f"include:i{n}.example.com" for n in range(12))
                         + " -all"},
         **{f"i{n}.example.com": {"TXT": "v=spf1 -all"} for n in range(12)}},
        {"example.com": {"TXT": "v=spf1 a:n1.example.com a:n2.example.com a:n3.example.com -all"}},
    ],
    ids=["ipv6-costs-more-voids", "over-the-lookup-limit", "over-the-void-limit"],
)
def test_counts_are_the_evaluators_own(zone: dict[str, object]) -> None:
    report = lint(zone)
    expected = asyncio.run(_check_counts(MemoryResolver(zone), "example.com"))
    assert (report.lookups_v4, report.lookups_v6, report.void_v4, report.void_v6) == expected


def test_ipv4_and_ipv6_counts_differ_when_targets_lack_aaaa() -> None:
    report = lint(COUNTED)
    # IPv6: www, ftp and gone have no AAAA; a receiver stops at the 3rd void lookup, after
    # 6 lookups, but the tree needs all 7 (the counts are the real totals, as show's)
    assert (report.void_v4, report.void_v6) == (1, 3)
    assert (report.lookups_v4, report.lookups_v6) == (7, 7)
    assert "SPF-E403" in codes(report)  # the tree rules: 3 void lookups for an IPv6 client


def test_tree_findings_come_with_the_record_they_point_into() -> None:
    zone = {"example.com": {"TXT": "v=spf1 include:_spf.example.net -all"},
            "_spf.example.net": {"TXT": "v=spf1 include:nothing.example.net -all"}}
    report = lint(zone)
    pairs = [(f, t) for f, t in zip(report.findings, report.finding_records) if f.code == "SPF-E404"]
    assert len(pairs) == 1
    f, text = pairs[0]
    assert f.domain == "_spf.example.net" and text == "v=spf1 include:nothing.example.net -all"
    assert f.column is not None and f.term is not None and text[f.column:].startswith(f.term)


# -- zones and real DNS -------------------------------------------------------------------------


def test_example_zone_finds_the_broken_legacy_record() -> None:
    reports = asyncio.run(lint_zone(EXAMPLE_ZONE))
    by_domain = {r.domain: r for r in reports}
    assert set(by_domain) == {
        "example.com", "mail.example.com", "news.example.com", "_spf.mailprovider.example",
        "_spf2.mailprovider.example", "legacy.example.com", "parked.example.com",
    }
    legacy = by_domain["legacy.example.com"]
    (f,) = [f for f in legacy.findings if f.code == "SPF-E211"]
    assert f.column == 10 and f.term == "ip4:192.0.2.300" and f.fixed_record is None
    assert legacy.exit_status == 2
    assert all(r.exit_status == 0 for d, r in by_domain.items() if d != "legacy.example.com")
    assert by_domain["news.example.com"].lookups_v4 == 3


def test_zone_lint_of_a_file_with_typos(tmp_path: Path) -> None:
    path = tmp_path / "typos.zone"
    path.write_text(
        "$TTL 300\n"
        'typo.example.  IN TXT "spf1 mx -all"\n'
        'quoted.example. IN TXT "\\"v=spf1 -all\\""\n'
        'other.example.  IN TXT "v=DKIM1; p=abc"\n'
        'ok.example.     IN TXT "v=spf1 -all"\n'
        'sid.example.    IN TXT "spf2.0/pra -all"\n'
    )
    reports = {r.domain: r for r in asyncio.run(lint_zone(str(path)))}
    assert set(reports) == {"typo.example", "quoted.example", "ok.example", "sid.example"}
    assert codes(reports["typo.example"]) == ["SPF-E101", "SPF-E207"]
    assert codes(reports["quoted.example"]) == ["SPF-E101", "SPF-E201"]
    assert reports["quoted.example"].fixed_record == "v=spf1 -all"
    assert codes(reports["sid.example"]) == ["SPF-E101", "SPF-I315"]


ZONEDATA = {
    "example.org": [{"TXT": "v=spf1 mx include:_spf.example.org ptr ?all"},
                    {"MX": [10, "mail.example.org"]}],
    "mail.example.org": [{"A": "192.0.2.10"}],
    "_spf.example.org": [{"TXT": ["v=spf1 ip4:198.51.100.0/24 ", "ip6:2001:db8::/32 -all"]}],
    "split.example.org": [{"TXT": ["v=spf1 a", "mx -all"]}, {"A": "192.0.2.20"}],
    "two.example.org": [{"TXT": "v=spf1 -all"}, {"TXT": "v=spf1 mx -all"}],
    "slow.example.org": ["TIMEOUT"],
}


def test_over_real_dns_the_same_as_in_memory() -> None:
    memory = MemoryResolver({
        "example.org": {"TXT": "v=spf1 mx include:_spf.example.org ptr ?all",
                        "MX": (10, "mail.example.org")},
        "mail.example.org": {"A": "192.0.2.10"},
        "_spf.example.org": {"TXT": ("v=spf1 ip4:198.51.100.0/24 ", "ip6:2001:db8::/32 -all")},
        "split.example.org": {"TXT": ("v=spf1 a", "mx -all"), "A": "192.0.2.20"},
        "two.example.org": {"TXT": ["v=spf1 -all", "v=spf1 mx -all"]},
    })
    with ZoneDataServer(ZONEDATA) as server:
        dns = DnsResolver(["127.0.0.1"], port=server.port, timeout=1.0)
        for domain in ("example.org", "_spf.example.org", "split.example.org", "two.example.org"):
            real = asyncio.run(lint_domain(domain, dns))
            assert real == asyncio.run(lint_domain(domain, memory)), domain
        slow = asyncio.run(lint_domain("slow.example.org", dns))
        assert server.errors == []
    assert codes(asyncio.run(lint_domain("example.org", memory))) == ["SPF-W305", "SPF-W306"]
    assert "SPF-E112" in codes(asyncio.run(lint_domain("split.example.org", memory)))
    assert "SPF-E102" in codes(asyncio.run(lint_domain("two.example.org", memory)))
    assert [f.code for f in slow.findings] == ["SPF-E103"]


# -- the public surface -------------------------------------------------------------------------


def test_lint_text_is_the_static_part_of_lint_record() -> None:
    text = "v=spf1 ptr ip4:192.0.2.1/24 +all"
    report = lint_record(text)
    assert list(report.findings) == lint_text(text)
    assert report.records == (text,) and report.domain is None
    assert report.lookups_v4 is None and report.exit_status == 2
    assert report.fixed_record is not None
    assert parse_record(report.fixed_record) == parse_record("v=spf1 ptr ip4:192.0.2.1/24 ~all")


def test_report_as_dict_shape() -> None:
    data = lint(COUNTED).as_dict()
    assert set(data) == {"domain", "records", "findings", "lookups", "void_lookups",
                         "fixed_record", "exit_status"}
    report = lint(COUNTED)  # the real totals (the IPv6 receiver stops after 6 of 7)
    assert data["lookups"] == {"ipv4": report.lookups_v4, "ipv6": report.lookups_v6} \
        == {"ipv4": 7, "ipv6": 7}
    assert data["void_lookups"] == {"ipv4": 1, "ipv6": 3}
    assert data["exit_status"] == 2


def test_exit_status_convention() -> None:
    assert lint_record("v=spf1 mx -all").exit_status == 0
    assert lint_record("v=spf1 foo=bar -all").exit_status == 0  # info only
    assert lint_record("v=spf1 ptr -all").exit_status == 1
    assert lint_record("v=spf1 +all").exit_status == 2
    assert {f.severity for f in lint_record("v=spf1 foo=bar -all").findings} == {Severity.INFO}


def test_public_namespace_matches_all() -> None:
    mod = importlib.import_module("spfkit.lint")
    public = {n for n, v in vars(mod).items() if not n.startswith("_")
              and type(v).__name__ != "module"}
    assert set(mod.__all__) == public


def test_zone_names_are_linted_in_load_order() -> None:
    zone = ZoneResolver.from_text('b.example. 300 IN TXT "v=spf1 +all"\n'
                                  'a.example. 300 IN TXT "v=spf1 -all"\n'
                                  'www.a.example. 300 IN A 192.0.2.1\n', origin=".")
    reports = asyncio.run(lint_zone(zone))
    assert [r.domain for r in reports] == ["b.example", "a.example"]
    assert [r.exit_status for r in reports] == [2, 0]


def test_zone_without_spf_records(tmp_path: Path) -> None:
    path = tmp_path / "empty.zone"
    path.write_text('$TTL 300\nwww.example. IN A 192.0.2.1\nwww.example. IN TXT "hello"\n')
    assert asyncio.run(lint_zone(path)) == []


def test_the_corrected_record_is_the_broken_spf_record_not_the_sender_id_one() -> None:
    report = lint({"example.com": {"TXT": ["spf2.0/pra ?all", "spf1 mx -all"]}})
    assert report.fixed_record == "v=spf1 mx -all"
