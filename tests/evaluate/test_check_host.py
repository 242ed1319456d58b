"""``check_host()`` semantics (RFC 7208 §4–§6) and the identity checks of §2.3–§2.4.

Zones live in ``lookup.memory``. Every test runs twice (the ``run`` fixture): sequentially,
and with prefetch over a resolver with some latency, so prefetched lookups really happen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spfkit.evaluate import DEFAULT_EXPLANATION, CheckOptions, check, check_host
from spfkit.identity import Identity
from spfkit.lookup.memory import MemoryResolver
from spfkit.lookup.protocol import RRType
from spfkit.record import Scope
from spfkit.results import CheckResult, Result, TraceKind
from tests.evaluate.latency import Latency
from tests.record.test_parse import records

IP = "192.0.2.1"
OTHER = "198.51.100.7"


def _check(
    zone: dict[str, Any],
    prefetch: bool,
    *,
    ip: str = IP,
    domain: str = "example.com",
    sender: str = "user@example.com",
    helo: str = "mail.example.org",
    receiver: str | None = None,
    options: CheckOptions | None = None,
) -> tuple[CheckResult, Any]:
    resolver: Any = Latency(zone) if prefetch else MemoryResolver(zone)
    opts = replace(options or CheckOptions(), prefetch=prefetch)
    result = asyncio.run(
        check_host(ip, domain, sender, resolver=resolver, helo=helo, receiver=receiver, options=opts)
    )
    return result, resolver


Run = Callable[..., tuple[CheckResult, Any]]


@pytest.fixture(params=["sequential", "prefetch"])
def run(request: pytest.FixtureRequest) -> Run:
    prefetch = request.param == "prefetch"
    return lambda zone, **kwargs: _check(zone, prefetch, **kwargs)


def spf(text: str, **more: object) -> dict[str, object]:
    return {"TXT": text, **more}


def result_of(run: Run, record: str, extra: dict[str, Any] | None = None, **kwargs: Any) -> Result:
    zone: dict[str, Any] = {"example.com": spf(record)}
    zone.update(extra or {})
    return run(zone, **kwargs)[0].result


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

INCLUDED = {
    "pass.example": spf("v=spf1 +all"),
    "fail.example": spf("v=spf1 -all"),
    "softfail.example": spf("v=spf1 ~all"),
    "neutral.example": spf("v=spf1 ?all"),
    "default.example": spf("v=spf1 ip4:203.0.113.1"),
    "temperror.example": "TIMEOUT",
    "servfail.example": {"TXT": "SERVFAIL"},
    "permerror.example": spf("v=spf1 moo"),
    "none.example": {"TXT": "not an spf record"},
    "nxdomain.example": "NXDOMAIN",
    "two.example": {"TXT": ["v=spf1 +all", "v=spf1 -all"]},
}


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


# --- §6.1 redirect ---------------------------------------------------------------------


def test_redirect(run: Run) -> None:
    zone = {
        "example.com": spf("v=spf1 ip4:203.0.113.1 redirect=_spf.example.net"),
        "_spf.example.net": spf(f"v=spf1 ip4:{IP} -all"),
    }
    result, _ = run(zone)
    assert result.result is Result.PASS
    assert result.domain == "_spf.example.net"
    assert result.mechanism == f"ip4:{IP}"
    assert result.lookups == 1


def test_redirect_changes_the_domain(run: Run) -> None:
    # openspf redirect-implicit: "a" in the target means the target
    zone = {
        "e24.example.com": spf("v=spf1 redirect=testimplicit.example.com", A="192.0.2.1"),
        "testimplicit.example.com": spf("v=spf1 a -all", A="192.0.2.2"),
    }
    assert run(zone, domain="e24.example.com", ip="192.0.2.2")[0].result is Result.PASS
    assert run(zone, domain="e24.example.com", ip="192.0.2.1")[0].result is Result.FAIL


def test_redirect_with_a_macro(run: Run) -> None:
    zone = {
        "example.com": spf("v=spf1 redirect=%{d}.d.spf.example.com."),
        "example.com.d.spf.example.com": spf("v=spf1 ip4:192.0.2.1"),
    }
    assert run(zone)[0].result is Result.PASS


@pytest.mark.parametrize(
    "target",
    ["none.example", "nxdomain.example", "a..b.example"],
)
def test_redirect_to_no_record_is_permerror(run: Run, target: str) -> None:
    # §6.1: no record, or a malformed target-name → permerror (openspf redirect-none)
    zone: dict[str, Any] = {"example.com": spf(f"v=spf1 redirect={target}"), **INCLUDED}
    result, _ = run(zone)
    assert result.result is Result.PERMERROR
    assert result.mechanism == f"redirect={target}"


def test_redirect_is_ignored_when_all_is_present(run: Run) -> None:
    # openspf redirect-after-mechanisms1: the redirect would loop, but "all" matches first
    zone = {"example.com": spf("v=spf1 redirect=example.com ~all")}
    result, resolver = run(zone)
    assert result.result is Result.SOFTFAIL
    assert result.lookups == 0
    assert len(resolver.queries) == 1


@pytest.mark.parametrize(
    ("target", "want"),
    [("fail.example", Result.FAIL), ("temperror.example", Result.TEMPERROR),
     ("permerror.example", Result.PERMERROR), ("neutral.example", Result.NEUTRAL)],
)
def test_redirect_returns_the_target_result(run: Run, target: str, want: Result) -> None:
    zone: dict[str, Any] = {"example.com": spf(f"v=spf1 redirect={target}"), **INCLUDED}
    assert run(zone)[0].result is want


# --- §6.2 exp --------------------------------------------------------------------------


def _exp_zone(record: str, exp: Any) -> dict[str, Any]:
    return {"example.com": spf(record), "explain.example.com": exp}


DEFAULT = "example.com does not designate 192.0.2.1 as permitted sender"


def test_default_explanation_text() -> None:
    assert DEFAULT_EXPLANATION == "%{o} does not designate %{c} as permitted sender"


def test_exp_on_fail(run: Run) -> None:
    exp = {"TXT": "%{i} is not one of %{d}'s designated mail servers (%{s})."}
    result, _ = run(_exp_zone("v=spf1 -all exp=explain.example.com", exp))
    assert result.result is Result.FAIL
    assert result.explanation == (
        "192.0.2.1 is not one of example.com's designated mail servers (user@example.com)."
    )


def test_exp_strings_are_joined_and_keep_their_trailing_dot(run: Run) -> None:
    # openspf trailing-dot-exp; §6.2: strings are concatenated with no spaces
    exp = {"TXT": ("This is ", "a test.")}
    result, _ = run(_exp_zone("v=spf1 exp=explain.example.com. -all", exp))
    assert result.explanation == "This is a test."


def test_exp_may_use_c_r_t(run: Run) -> None:
    exp = {"TXT": "%{c} via %{r} at %{t} %{v} %{h} %{p}"}
    started = int(time.time())
    result, _ = run(_exp_zone("v=spf1 -all exp=explain.example.com", exp),
                    ip="::ffff:192.0.2.1", receiver="mx.receiver.example")
    c, _via, r, _at, t, v, h, p = result.explanation.split(" ")  # type: ignore[union-attr]
    assert (c, r, v, h, p) == ("192.0.2.1", "mx.receiver.example", "in-addr", "mail.example.org", "unknown")
    assert started <= int(t) <= int(time.time()) + 1


def test_exp_url_escapes_upper_case_macros(run: Run) -> None:
    # openspf upper-macro
    zone = {
        "e8.example.com": spf("v=spf1 -all exp=msg8.%{D2}"),
        "msg8.example.com": {"TXT": "http://example.com/why.html?l=%{L}"},
    }
    result, _ = run(zone, domain="e8.example.com", sender="~jack&jill=up-a_b3.c@e8.example.com")
    assert result.explanation == "http://example.com/why.html?l=~jack%26jill%3Dup-a_b3.c"


@pytest.mark.parametrize("record", ["v=spf1 ~all exp=explain.example.com",
                                    "v=spf1 ?all exp=explain.example.com",
                                    "v=spf1 +all exp=explain.example.com",
                                    "v=spf1 exp=explain.example.com"])
def test_exp_only_on_fail(run: Run, record: str) -> None:
    result, resolver = run(_exp_zone(record, {"TXT": "nope"}))
    assert result.explanation is None
    assert "explain.example.com" not in [n for _, n in resolver.queries]


@pytest.mark.parametrize(
    ("exp", "why"),
    [
        ("NXDOMAIN", "exp-no-txt"),
        ({"A": "192.0.2.9"}, "no TXT (NODATA)"),
        ({"TXT": ["one", "two"]}, "exp-multiple-txt / two-exp-records"),
        ("TIMEOUT", "exp-dns-error"),
        ({"TXT": "SERVFAIL"}, "SERVFAIL"),
        ({"TXT": "The %{x}-files."}, "explanation-syntax-error"),
        ({"TXT": "100%"}, "a lone %"),
        ({"TXT": [b"\xef\xbb\xbfExplanation"]}, "non-ascii-exp"),
        ({"TXT": [b"bad\x00char"]}, "control character"),
    ],
)
def test_exp_problems_give_the_default_explanation(run: Run, exp: Any, why: str) -> None:
    # §6.2: any DNS error, no record, several records or a syntax error → as if no exp
    result, resolver = run(_exp_zone("v=spf1 -all exp=explain.example.com", exp))
    assert result.result is Result.FAIL, why
    assert result.explanation == DEFAULT, why
    assert result.problem is None
    assert result.void_lookups == 0  # openspf exp-void: exp is never a void lookup
    assert [n for t, n in resolver.queries if t is RRType.TXT].count("explain.example.com") == 1


def test_exp_target_that_cannot_exist_gives_the_default(run: Run) -> None:
    # a 70-octet label cannot be asked for; the lookup fails and exp is ignored (§6.2)
    result, _ = run({"example.com": spf("v=spf1 -all exp=%{l}.example.com")},
                    sender=("x" * 70) + "@example.com")
    assert result.result is Result.FAIL
    assert result.explanation == "example.com does not designate 192.0.2.1 as permitted sender"


def test_exp_target_with_an_empty_label_gives_the_default(run: Run) -> None:
    result, _ = run({"example.com": spf("v=spf1 -all exp=%{h}.example.com")}, helo="")
    assert result.result is Result.FAIL
    assert result.explanation == DEFAULT


def test_custom_default_explanation(run: Run) -> None:
    opts = CheckOptions(default_explanation="See https://example.net/why?ip=%{i}&s=%{S}")
    result, _ = run({"example.com": spf("v=spf1 -all")}, options=opts)
    assert result.explanation == "See https://example.net/why?ip=192.0.2.1&s=user%40example.com"


def test_exp_is_not_taken_from_an_include(run: Run) -> None:
    # openspf include-ignores-exp
    zone = {
        "example.com": spf("v=spf1 include:inc.example -all exp=exp3.example.com"),
        "inc.example": spf("v=spf1 -all exp=exp1.example.com"),
        "exp1.example.com": {"TXT": "No-see-um"},
        "exp3.example.com": {"TXT": "Correct!"},
    }
    result, _ = run(zone)
    assert (result.result, result.explanation) == (Result.FAIL, "Correct!")


def test_redirect_cancels_the_original_exp(run: Run) -> None:
    # openspf redirect-cancels-exp and redirect-cancels-prior-exp
    zone = {
        "example.com": spf("v=spf1 exp=exp1.example.com redirect=target.example"),
        "target.example": spf("v=spf1 -all"),
        "exp1.example.com": {"TXT": "No-see-um"},
    }
    result, _ = run(zone)
    assert result.result is Result.FAIL
    assert result.explanation == DEFAULT
    zone["target.example"] = spf("v=spf1 -all exp=exp2.example.com")
    zone["exp2.example.com"] = {"TXT": "See me at %{d}."}
    result, _ = run(zone)
    assert result.explanation == "See me at target.example."


@pytest.mark.parametrize(
    "record",
    ["v=spf1 include:temperror.example -all exp=explain.example.com",
     "v=spf1 moo -all exp=explain.example.com",
     "v=spf1 include:none.example -all exp=explain.example.com"],
)
def test_no_explanation_on_errors(run: Run, record: str) -> None:
    zone: dict[str, Any] = {**_exp_zone(record, {"TXT": "nope"}), **INCLUDED}
    result, resolver = run(zone)
    assert result.result in (Result.TEMPERROR, Result.PERMERROR)
    assert result.explanation is None
    assert "explain.example.com" not in [n for _, n in resolver.queries]


def test_postmaster_in_explanation_for_a_sender_without_local_part(run: Run) -> None:
    # openspf nolocalpart
    zone = {"example.net": spf("v=spf1 -all exp=exp.example.net"), "exp.example.net": {"TXT": "%{l}"}}
    result, _ = run(zone, domain="example.net", sender="@example.net")
    assert (result.result, result.explanation) == (Result.FAIL, "postmaster")


# --- §4.3 initial processing ----------------------------------------------------------


@pytest.mark.parametrize(
    "domain",
    ["com", "[192.0.2.1]", "a..example.com", "", "x" * 64 + ".example.com", ("a" * 60 + ".") * 5 + "com"],
)
def test_invalid_domain_is_none_without_a_query(run: Run, domain: str) -> None:
    result, resolver = run({}, domain=domain)
    assert result.result is Result.NONE
    assert resolver.queries == []


def test_no_record_is_none(run: Run) -> None:
    for zone in ({}, {"example.com": {"TXT": "hello"}}, {"example.com": "NXDOMAIN"}):
        result, _ = run(zone)
        assert result.result is Result.NONE
        assert result.void_lookups == 0  # the top-level record lookup is not a "term"


def test_two_records_is_permerror(run: Run) -> None:
    result, _ = run({"example.com": {"TXT": ["v=spf1 -all", "v=spf1 +all"]}})
    assert result.result is Result.PERMERROR


def test_trailing_dot_domain(run: Run) -> None:
    result, _ = run({"example.com": spf(f"v=spf1 ip4:{IP}")}, domain="example.com.")
    assert result.result is Result.PASS


def test_not_an_ip_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        asyncio.run(check_host("not-an-ip", "example.com", "a@example.com", resolver=MemoryResolver({})))


# --- IPv4-mapped IPv6 client (§5) -------------------------------------------------------


def test_ipv4_mapped_client_is_ipv4_everywhere(run: Run) -> None:
    zone = {
        "example.com": spf("v=spf1 exists:%{ir}.%{v}.list.example a -all", A=OTHER),
        "1.2.0.192.in-addr.list.example": {"A": "127.0.0.2"},
    }
    result, resolver = run(zone, ip="::ffff:192.0.2.1")
    assert result.result is Result.PASS
    assert (RRType.A, "1.2.0.192.in-addr.list.example") in resolver.queries
    result, resolver = run({"example.com": spf("v=spf1 a -all", A=IP)}, ip="::FFFF:192.0.2.1")
    assert result.result is Result.PASS
    assert (RRType.AAAA, "example.com") not in resolver.queries


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


# --- Sender ID scope ------------------------------------------------------------------


def test_scope_selects_spf2_records(run: Run) -> None:
    zone = {"example.com": {"TXT": ["v=spf1 +all", "spf2.0/pra -all"]}}
    assert run(zone, options=CheckOptions(scope=Scope.PRA))[0].result is Result.FAIL
    assert run(zone, options=CheckOptions(scope=Scope.MFROM))[0].result is Result.PASS
    assert run(zone)[0].result is Result.PASS


# --- CheckResult fields ---------------------------------------------------------------


def test_counts_on_pass(run: Run) -> None:
    zone = {
        "example.com": spf(
            f"v=spf1 a:nx1.example.com mx include:inc.example ip4:{IP} -all",
            MX=(10, "mx.example.com"),
        ),
        "mx.example.com": {"A": OTHER},
        "inc.example": spf("v=spf1 a:nx2.example.com ?all"),
    }
    result, _ = run(zone)
    assert result.result is Result.PASS
    assert result.mechanism == f"ip4:{IP}"
    assert result.domain == "example.com"
    assert result.lookups == 4  # a, mx, include, inner a
    assert result.void_lookups == 2  # nx1 and nx2
    assert result.problem is None
    assert result.explanation is None


def test_counts_on_permerror(run: Run) -> None:
    zone = {
        "example.com": spf("v=spf1 a:nx1.example.com include:inc.example -all"),
        "inc.example": spf("v=spf1 a:nx2.example.com exists:nx3.example.com ?all"),
    }
    result, _ = run(zone)
    assert result.result is Result.PERMERROR
    # the error is reported where it sits: the record that holds the offending term
    assert result.domain == "inc.example"
    assert result.mechanism == "exists:nx3.example.com"
    assert result.lookups == 4
    assert result.void_lookups == 3
    assert result.problem is not None and "void" in result.problem


# --- the trace --------------------------------------------------------------------------


def test_trace_has_the_record_the_terms_and_each_query(run: Run) -> None:
    zone = {
        "example.com": spf(f"v=spf1 a:nx.example.com mx ip4:{IP} exists:to.example -all",
                           MX=(10, "mx.example.com")),
        "mx.example.com": {"A": OTHER},
        "to.example": "TIMEOUT",  # after the match: never evaluated
    }
    result, _ = run(zone)
    assert result.result is Result.PASS
    trace = result.trace
    records = [e.text for e in trace if e.kind is TraceKind.RECORD]
    assert records == [f"v=spf1 a:nx.example.com mx ip4:{IP} exists:to.example -all"]
    terms = [(e.text, e.detail) for e in trace if e.kind is TraceKind.TERM]
    assert terms == [("a:nx.example.com", "no match"), ("mx", "no match"), (f"ip4:{IP}", "match")]
    queries = {e.text: e.detail for e in trace if e.kind is TraceKind.QUERY}
    assert queries["TXT example.com"].startswith("NOERROR")
    assert queries["A nx.example.com"] == "NXDOMAIN"
    assert queries["MX example.com"] == "NOERROR: 10 mx.example.com"
    assert queries["A mx.example.com"] == f"NOERROR: {OTHER}"
    results = [e for e in trace if e.kind is TraceKind.RESULT]
    assert results[-1].text == "pass"


def test_trace_answer_codes(run: Run) -> None:
    zone = {
        "example.com": spf("v=spf1 a:nodata.example a:nx.example ?exists:sf.example -all"),
        "nodata.example": {"TXT": "x"},
        "sf.example": {"A": "SERVFAIL"},
    }
    result, _ = run(zone)
    assert result.result is Result.TEMPERROR
    queries = {e.text: e.detail for e in result.trace if e.kind is TraceKind.QUERY}
    assert queries["A nodata.example"] == "NODATA"
    assert queries["A nx.example"] == "NXDOMAIN"
    assert queries["A sf.example"] == "SERVFAIL"
    last = result.trace[-1]
    assert (last.kind, last.text) == (TraceKind.RESULT, "temperror")


def test_trace_of_an_include_is_nested(run: Run) -> None:
    zone = {"example.com": spf("v=spf1 include:inc.example -all"), "inc.example": spf(f"v=spf1 ip4:{IP}")}
    result, _ = run(zone)
    depths = {(e.kind, e.domain): e.depth for e in result.trace if e.kind is TraceKind.RECORD}
    assert depths == {(TraceKind.RECORD, "example.com"): 0, (TraceKind.RECORD, "inc.example"): 1}


# --- prefetch changes nothing but the order of the trace -------------------------------

PREFETCH_ZONES: list[tuple[dict[str, Any], str, str]] = [
    ({"example.com": spf(f"v=spf1 a mx include:inc.example ptr exists:%{{i}}.x.example ip4:{IP} -all",
                         A=OTHER, MX=(10, "mx.example.com")),
      "mx.example.com": {"A": OTHER},
      "inc.example": spf("v=spf1 a:nx.example ?all"),
      "1.2.0.192.in-addr.arpa": {"PTR": "h.example.net"},
      "h.example.net": {"A": IP}}, IP, "example.com"),
    ({"example.com": spf("v=spf1 a:h1.example.com a:h2.example.com mx:m.example.com -all exp=e.example.com"),
      "h1.example.com": {"A": OTHER}, "h2.example.com": {"A": OTHER},
      "m.example.com": {"MX": [(1, "a.m.example.com"), (2, "b.m.example.com")]},
      "a.m.example.com": {"A": OTHER}, "b.m.example.com": {"A": OTHER},
      "e.example.com": {"TXT": "no %{i}"}}, IP, "example.com"),
    ({"example.com": spf("v=spf1 a:h1.example.com mx:m.example.com ip4:192.0.2.1"),
      "h1.example.com": {"A": OTHER},
      "m.example.com": {"MX": [(1, "a.m.example.com"), (2, "b.m.example.com")]},
      "a.m.example.com": {"A": OTHER}, "b.m.example.com": "TIMEOUT"}, IP, "example.com"),
    ({"example.com": spf("v=spf1 include:a.example redirect=b.example"),
      "a.example": spf("v=spf1 include:c.example ~all"), "c.example": spf("v=spf1 a:nx.c.example"),
      "b.example": spf("v=spf1 mx:d.example -all exp=e.example"),
      "d.example": {"MX": (5, "mx.d.example")}, "mx.d.example": {"AAAA": "2001:db8::5"},
      "e.example": {"TXT": "%{d} says no"}}, "2001:db8::5", "example.com"),
    ({"example.com": spf("v=spf1 " + " ".join(f"a:n{i}.example" for i in range(8)) + " -all")},
     IP, "example.com"),
    ({"example.com": spf("v=spf1 " + " ".join(f"a:h{i}.example" for i in range(12)) + " -all"),
      **{f"h{i}.example": {"A": OTHER} for i in range(12)}}, IP, "example.com"),
]


@pytest.mark.parametrize(("zone", "ip", "domain"), PREFETCH_ZONES)
def test_prefetch_gives_the_same_result(zone: dict[str, Any], ip: str, domain: str) -> None:
    sequential, _ = _check(zone, False, ip=ip, domain=domain)
    prefetched, _ = _check(zone, True, ip=ip, domain=domain)
    assert replace(prefetched, trace=()) == replace(sequential, trace=())
    assert sorted(map(repr, prefetched.trace)) == sorted(map(repr, sequential.trace))


# --- Hypothesis: the evaluator never raises ---------------------------------------------

_FUZZ_ZONE: dict[str, Any] = {
    "*.example.com": {"A": [IP, OTHER], "AAAA": "2001:db8::1", "MX": [(10, "mx.example.com")],
                      "TXT": "v=spf1 a mx ?all"},
    "mx.example.com": {"A": IP},
    "slow.example.com": "TIMEOUT",
    "1.2.0.192.in-addr.arpa": {"PTR": ["mail.example.com", "x.example.net"]},
}
_TEXTISH = "v=spf1 ailmxptr46cdeos:/.-+~?%{}=_0123456789"


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None, max_examples=150)
@given(
    text=st.one_of(records().map(str), st.text(alphabet=_TEXTISH, max_size=80).map(lambda t: "v=spf1 " + t)),
    ip=st.sampled_from([IP, OTHER, "2001:db8::1", "::ffff:192.0.2.1"]),
    sender=st.sampled_from(["user@example.com", "", "a.b-c@sub.example.com", "x" * 70 + "@example.com"]),
)
def test_check_host_never_raises(text: str, ip: str, sender: str) -> None:
    """§4: whatever is published, check_host() returns a result; limits always hold."""
    zone = dict(_FUZZ_ZONE, **{"example.com": {"TXT": [text], "A": IP}})
    result, resolver = _check(zone, False, ip=ip, sender=sender)
    assert isinstance(result.result, Result)
    assert result.lookups <= 10
    assert result.void_lookups <= 3
    assert (result.problem is not None) == (result.result in (Result.PERMERROR, Result.TEMPERROR))
    assert all(len(name.encode()) <= 253 or "." not in name for _, name in resolver.queries)
