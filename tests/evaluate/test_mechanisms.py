"""The mechanisms (RFC 7208 §5.1–§5.7): what each matches, what it asks, its DNS errors.
"""


from __future__ import annotations

from typing import Any

import pytest

from spfkit.lookup.protocol import RRType
from spfkit.results import Result
from tests.evaluate.common import INCLUDED, IP, OTHER, Run, result_of, spf

# --- §5.1 all and qualifiers (§4.6.2) ---------------------------------------------------


@pytest.mark.parametrize(
    ("record", "want"),
    [
        ("v=spf1 all", Result.PASS),
        ("v=spf1 +all", Result.PASS),
        ("v=spf1 -all", Result.FAIL),
        ("v=spf1 ~all", Result.SOFTFAIL),
        ("v=spf1 ?all", Result.NEUTRAL),
        ("v=spf1 all -all", Result.PASS),  # openspf all-double: the first match wins
        ("v=spf1", Result.NEUTRAL),  # §4.7: no match, no redirect → neutral
        ("v=spf1 ip4:198.51.100.0/24", Result.NEUTRAL),
    ],
)
def test_all_and_qualifiers(run: Run, record: str, want: Result) -> None:
    assert result_of(run, record) is want


def test_default_result_is_neutral_with_mechanism_default(run: Run) -> None:
    result, _ = run({"example.com": spf("v=spf1 ip4:198.51.100.1")})
    assert result.result is Result.NEUTRAL
    assert result.mechanism == "default"
    assert result.explanation is None


def test_mechanisms_after_a_match_are_not_evaluated(run: Run) -> None:
    # §4.6.2: evaluation stops at the first match; a later broken term is never reached
    result, _ = run({"example.com": spf("v=spf1 +all include:slow.example"), "slow.example": "TIMEOUT"})
    assert result.result is Result.PASS


# --- §5.6 ip4 / ip6 --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "ip", "want"),
    [
        ("v=spf1 ip4:192.0.2.1 -all", "192.0.2.1", Result.PASS),
        ("v=spf1 ip4:192.0.2.2 -all", "192.0.2.1", Result.FAIL),
        ("v=spf1 ip4:192.0.2.0/24 -all", "192.0.2.200", Result.PASS),
        ("v=spf1 ip4:192.0.2.77/24 -all", "192.0.2.200", Result.PASS),  # host bits ignored
        ("v=spf1 ip4:192.0.2.0/25 -all", "192.0.2.200", Result.FAIL),
        ("v=spf1 ip4:1.1.1.1/0 -all", "203.0.113.9", Result.PASS),  # openspf cidr4-0
        ("v=spf1 ip4:0.0.0.0/0 -all", "2001:db8::1", Result.FAIL),  # IPv6 never matches ip4
        ("v=spf1 ip4:192.0.2.1 -all", "::ffff:192.0.2.1", Result.PASS),  # §5: mapped is IPv4
        ("v=spf1 ip6:2001:db8::1 -all", "2001:db8::1", Result.PASS),
        ("v=spf1 ip6:2001:db8::/32 -all", "2001:db8:ffff::9", Result.PASS),
        ("v=spf1 ip6:2001:db8::/33 -all", "2001:db8:8000::9", Result.FAIL),
        ("v=spf1 ip6:Cafe:Babe:8000::/33 -all", "CAFE:BABE:8000::1", Result.PASS),  # cidr6-33
        ("v=spf1 ip6:::/0 -all", "192.0.2.1", Result.FAIL),  # openspf cidr6-0-ip4
        ("v=spf1 ip6:::1.1.1.1/0", "1.1.1.1", Result.NEUTRAL),
        ("v=spf1 ip6:::FFFF:192.0.2.1 -all", "::ffff:192.0.2.1", Result.FAIL),  # cidr6-ip4
        ("v=spf1 -ip4:192.0.2.1 ip6:::FFFF:192.0.2.1", "::FFFF:192.0.2.1", Result.FAIL),  # ip4-mapped-ip6
    ],
)
def test_ip4_ip6(run: Run, record: str, ip: str, want: Result) -> None:
    result, resolver = run({"example.com": spf(record)}, ip=ip)
    assert result.result is want
    assert result.lookups == 0  # §4.6.4: ip4/ip6/all cause no DNS query
    assert len(resolver.queries) == 1


# --- §5.3 a ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "ip", "want"),
    [
        ("v=spf1 a -all", IP, Result.PASS),
        ("v=spf1 a -all", OTHER, Result.FAIL),
        ("v=spf1 a:mail.example.com -all", "192.0.2.25", Result.PASS),
        ("v=spf1 a:mail.example.com/24 -all", "192.0.2.200", Result.PASS),
        ("v=spf1 a:mail.example.com/25 -all", "192.0.2.200", Result.FAIL),
        ("v=spf1 a/0 -all", "203.0.113.1", Result.PASS),  # openspf a-cidr4-0: any A record
        ("v=spf1 a:nx.example.com/0 -all", "203.0.113.1", Result.FAIL),  # a-nxdomain
        ("v=spf1 a -all", "2001:db8::1", Result.PASS),  # IPv6 client: AAAA
        ("v=spf1 a//64 -all", "2001:db8::ffff", Result.PASS),
        ("v=spf1 a/32//127 -all", "2001:db8::ffff", Result.FAIL),
        ("v=spf1 a//0 -all", "203.0.113.5", Result.FAIL),  # openspf a-cidr6-0-ip4: //0 is IPv6 only
        ("v=spf1 a//0 -all", "::ffff:203.0.113.5", Result.FAIL),  # a-cidr6-0-ip4mapped
        ("v=spf1 a//0 -all", "2001:db8:ffff::1", Result.PASS),  # a-cidr6-0-ip6
        ("v=spf1 a/24//64 -all", "192.0.2.99", Result.PASS),  # a-dual-cidr-ip4-match
        ("v=spf1 a/24//64 -all", "2001:db8::abcd", Result.PASS),  # a-dual-cidr-ip6-match
        ("v=spf1 a -all", "::ffff:192.0.2.1", Result.PASS),  # mapped: A, not AAAA
    ],
)
def test_a(run: Run, record: str, ip: str, want: Result) -> None:
    zone = {
        "example.com": spf(record, A=[IP, "192.0.2.2"], AAAA="2001:db8::1"),
        "mail.example.com": {"A": "192.0.2.25"},
    }
    result, _resolver = run(zone, ip=ip)
    assert result.result is want
    assert result.lookups == 1


def test_a_asks_aaaa_for_an_ipv6_client(run: Run) -> None:
    _, resolver = run({"example.com": spf("v=spf1 a -all", AAAA="2001:db8::1")}, ip="2001:db8::2")
    assert (RRType.AAAA, "example.com") in resolver.queries
    assert (RRType.A, "example.com") not in resolver.queries


def test_a_matches_any_of_many_addresses(run: Run) -> None:
    # openspf false-a-limit: there is no limit on the addresses of one name
    zone = {"example.com": spf("v=spf1 a -all", A=[f"192.0.2.{i}" for i in range(1, 40)])}
    assert run(zone, ip="192.0.2.39")[0].result is Result.PASS


# --- §5.4 mx ---------------------------------------------------------------------------


def _mx_zone(record: str) -> dict[str, Any]:
    return {
        "example.com": spf(record, MX=[(10, "mx1.example.com"), (20, "mx2.example.com")]),
        "mx1.example.com": {"A": "192.0.2.10", "AAAA": "2001:db8::10"},
        "mx2.example.com": {"A": "192.0.2.20"},
        "other.example": spf("v=spf1 -all", MX=(0, "mx2.example.com")),
        "nomx.example": {"A": IP, "TXT": "v=spf1 mx"},
        "nullmx.example": {"MX": (0, "."), "A": IP},
    }


@pytest.mark.parametrize(
    ("record", "ip", "want"),
    [
        ("v=spf1 mx -all", "192.0.2.20", Result.PASS),
        ("v=spf1 mx -all", "192.0.2.30", Result.FAIL),
        ("v=spf1 mx/24 -all", "192.0.2.99", Result.PASS),
        ("v=spf1 mx -all", "2001:db8::10", Result.PASS),
        ("v=spf1 mx//120 -all", "2001:db8::ff", Result.PASS),
        ("v=spf1 mx:other.example -all", "192.0.2.20", Result.PASS),
        ("v=spf1 mx:other.example -all", "192.0.2.10", Result.FAIL),
        # §5.4: no MX records → no implicit MX, no A lookup on the target (openspf mx-implicit)
        ("v=spf1 mx:nomx.example -all", IP, Result.FAIL),
        ("v=spf1 mx:nullmx.example -all", IP, Result.FAIL),  # RFC 7505 null MX names no host
    ],
)
def test_mx(run: Run, record: str, ip: str, want: Result) -> None:
    result, _resolver = run(_mx_zone(record), ip=ip)
    assert result.result is want
    assert result.lookups == 1


def test_mx_without_records_asks_no_address(run: Run) -> None:
    result, resolver = run(_mx_zone("v=spf1 mx:nomx.example -all"))
    assert result.void_lookups == 1
    assert (RRType.A, "nomx.example") not in resolver.queries


# --- §5.5 ptr --------------------------------------------------------------------------


def _ptr_zone(record: str) -> dict[str, Any]:
    return {
        "example.com": spf(record),
        "1.2.0.192.in-addr.arpa": {"PTR": ["mail.example.com", "evil.example.net"]},
        "mail.example.com": {"A": IP},
        "evil.example.net": {"A": IP},
        "2.2.0.192.in-addr.arpa": {"PTR": "liar.example.com"},  # does not validate
        "liar.example.com": {"A": OTHER},
        "3.2.0.192.in-addr.arpa": "TIMEOUT",
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa": {
            "PTR": "v6.Example.COM"},
        "v6.example.com": {"AAAA": "2001:db8::1"},
    }


@pytest.mark.parametrize(
    ("record", "ip", "want"),
    [
        ("v=spf1 ptr -all", IP, Result.PASS),  # a validated name within <domain>
        ("v=spf1 ptr:example.net -all", IP, Result.PASS),
        ("v=spf1 ptr:example.org -all", IP, Result.FAIL),
        ("v=spf1 ptr -all", "192.0.2.2", Result.FAIL),  # ptr-nomatch-invalid
        ("v=spf1 ptr -all", "192.0.2.3", Result.FAIL),  # §5.5: a PTR DNS error is no match
        ("v=spf1 ptr -all", "192.0.2.4", Result.FAIL),  # no PTR at all
        ("v=spf1 ptr:EXAMPLE.com -all", "2001:db8::1", Result.PASS),  # ptr-case-change, IPv6
    ],
)
def test_ptr(run: Run, record: str, ip: str, want: Result) -> None:
    result, _ = run(_ptr_zone(record), ip=ip)
    assert result.result is want
    assert result.lookups == 1


def test_ptr_skips_names_outside_the_target(run: Run) -> None:
    _, resolver = run(_ptr_zone("v=spf1 ptr:example.org -all"))
    assert [n for t, n in resolver.queries if t is RRType.A] == []


# --- §5.7 exists -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "ip", "want"),
    [
        ("v=spf1 exists:%{ir}.list.example -all", IP, Result.PASS),
        ("v=spf1 exists:%{ir}.list.example -all", OTHER, Result.FAIL),
        ("v=spf1 exists:a.list.example -all", "2001:db8::1", Result.PASS),  # A even for IPv6
        ("v=spf1 exists:v6only.list.example -all", "2001:db8::1", Result.FAIL),  # exists-ip6only
        ("v=spf1 exists:%{l}.users.example -all", IP, Result.PASS),
    ],
)
def test_exists(run: Run, record: str, ip: str, want: Result) -> None:
    zone = {
        "example.com": spf(record),
        "1.2.0.192.list.example": {"A": "127.0.0.2"},
        "a.list.example": {"A": "127.0.0.2"},
        "v6only.list.example": {"AAAA": "2001:db8::2"},
        "user.users.example": {"A": "127.0.0.2"},
    }
    result, resolver = run(zone, ip=ip)
    assert result.result is want
    assert all(t is RRType.A for t, n in resolver.queries if n != "example.com")


def test_exists_dns_error_is_temperror(run: Run) -> None:
    # openspf exists-dnserr
    zone = {"example.com": spf("v=spf1 exists:err.example -all"), "err.example": "TIMEOUT"}
    result, _ = run(zone)
    assert result.result is Result.TEMPERROR
    assert result.problem is not None and "TIMEOUT" in result.problem


@pytest.mark.parametrize("status", ["TIMEOUT", "SERVFAIL"])
def test_a_and_mx_dns_errors_are_temperror(run: Run, status: str) -> None:
    for record in ("v=spf1 a:bad.example -all", "v=spf1 mx:bad.example -all"):
        result, _ = run({"example.com": spf(record), "bad.example": status})
        assert result.result is Result.TEMPERROR, record


# --- §5.2 include: the table ------------------------------------------------------------
#
#   +---------------------------------+---------------------------------+
#   | A recursive check_host() result | Causes the "include" mechanism  |
#   | of:                             | to:                             |
#   +---------------------------------+---------------------------------+
#   | pass                            | match                           |
#   | fail                            | not match                       |
#   | softfail                        | not match                       |
#   | neutral                         | not match                       |
#   | temperror                       | return temperror                |
#   | permerror                       | return permerror                |
#   | none                            | return permerror                |
#   +---------------------------------+---------------------------------+



@pytest.mark.parametrize(
    ("target", "want", "matched"),
    [
        ("pass.example", Result.PASS, True),
        ("fail.example", Result.SOFTFAIL, False),
        ("softfail.example", Result.SOFTFAIL, False),
        ("neutral.example", Result.SOFTFAIL, False),
        ("default.example", Result.SOFTFAIL, False),
        ("temperror.example", Result.TEMPERROR, None),
        ("servfail.example", Result.TEMPERROR, None),
        ("permerror.example", Result.PERMERROR, None),
        ("two.example", Result.PERMERROR, None),
        ("none.example", Result.PERMERROR, None),
        ("nxdomain.example", Result.PERMERROR, None),
        ("a..b.example", Result.PERMERROR, None),  # not a valid domain: none → permerror
    ],
)
def test_include_result_table(run: Run, target: str, want: Result, matched: bool | None) -> None:
    zone: dict[str, Any] = {"example.com": spf(f"v=spf1 include:{target} ~all"), **INCLUDED}
    result, _ = run(zone)
    assert result.result is want
    if matched is True:
        assert result.mechanism == f"include:{target}"
    elif matched is False:
        assert result.mechanism == "~all"
    else:
        assert result.problem
    if want is Result.PERMERROR and target in ("none.example", "nxdomain.example"):
        assert result.mechanism == f"include:{target}"


def test_include_uses_the_target_as_domain(run: Run) -> None:
    zone = {
        "example.com": spf("v=spf1 include:inc.example -all"),
        "inc.example": spf("v=spf1 a exists:%{d}.%{o}.check.example"),
        "inc.example.example.com.check.example": {"A": "127.0.0.2"},
    }
    result, resolver = run(zone, ip=OTHER)
    assert result.result is Result.PASS
    assert (RRType.A, "inc.example") in resolver.queries  # "a" means the included domain


def test_include_of_a_redirecting_record(run: Run) -> None:
    zone = {
        "example.com": spf("v=spf1 include:inc.example -all"),
        "inc.example": spf("v=spf1 redirect=final.example"),
        "final.example": spf(f"v=spf1 ip4:{IP} -all"),
    }
    result, _ = run(zone)
    assert result.result is Result.PASS
    assert result.lookups == 2


