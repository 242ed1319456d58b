"""``check_host()`` (RFC 7208 §4, §6.1): initial processing, record selection, redirect,
the result's fields and trace, and that it never raises.
"""


from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spfkit.evaluate import CheckOptions, check_host
from spfkit.lookup.memory import MemoryResolver
from spfkit.lookup.protocol import RRType
from spfkit.record import Scope
from spfkit.results import Result, TraceKind
from tests.evaluate.common import INCLUDED, IP, OTHER, Run, check_zone, spf
from tests.record.test_parse import records

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
    result, resolver = check_zone(zone, False, ip=ip, sender=sender)
    assert isinstance(result.result, Result)
    assert result.lookups <= 10
    assert result.void_lookups <= 3
    assert (result.problem is not None) == (result.result in (Result.PERMERROR, Result.TEMPERROR))
    assert all(len(name.encode()) <= 253 or "." not in name for _, name in resolver.queries)


@pytest.mark.parametrize("record", ["v=spf1 ptr -all", "v=spf1 exists:%{i}.%{ir}.x.example -all",
                                    "v=spf1 a:%{p}.example.com -all"])
def test_a_scoped_ipv6_client_is_checked_as_its_address(run: Run, record: str) -> None:
    scoped, _ = run({"example.com": spf(record)}, ip="fe80::1%eth0")
    plain, _ = run({"example.com": spf(record)}, ip="fe80::1")
    assert scoped.result is plain.result is Result.FAIL
    assert scoped.problem is None


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_evaluate_check_reports_what_its_answer_depends_on() -> None:
    """The answer (equal to check_host()'s), the record that decided, the macro letters of
    the records read (not those of "exp") and the smallest TTL of the answers read."""
    from spfkit.evaluate.check_host import evaluate_check
    from spfkit.lookup import CachingResolver

    zone = {"a.test": {"TXT": "v=spf1 include:%{l}.u.test exists:%{h}.x.test -all exp=e.%{d}"},
            "bob.u.test": {"TXT": "v=spf1 ip4:198.51.100.0/24 -all"},
            "e.a.test": {"TXT": "no %{i}"}}
    clock = _Clock()
    resolver = CachingResolver(MemoryResolver(zone, ttl=300), clock=clock)
    asyncio.run(resolver.txt("bob.u.test"))  # cached at 0, the rest at 100: 200 s left
    clock.now = 100
    got = asyncio.run(evaluate_check("192.0.2.1", "a.test", "bob@a.test", resolver=resolver,
                                     helo="mx.test"))
    want = asyncio.run(check_host("192.0.2.1", "a.test", "bob@a.test", resolver=resolver,
                                  helo="mx.test"))
    assert got.answer.result is Result.FAIL and got.answer.explanation == "no 192.0.2.1"
    assert (got.answer.result, got.answer.mechanism, got.answer.lookups, got.answer.explanation) == (
        want.result, want.mechanism, want.lookups, want.explanation)
    assert got.record is not None and str(got.record).startswith("v=spf1 include:%{l}.u.test")
    assert got.letters() == {"l", "h"}
    assert got.ttl() == 200
    failed = MemoryResolver({"a.test": {"TXT": "v=spf1 a:down.test -all"}, "down.test": "TIMEOUT"})
    err = asyncio.run(evaluate_check("192.0.2.1", "a.test", "", resolver=failed))
    assert err.answer.result is Result.TEMPERROR and err.ttl() == 0 and err.record is None


def test_u_labels_are_evaluated_as_a_labels(run: Run) -> None:
    """RFC 8616 §3: <domain>, the sender's domain and the HELO name are looked up, and
    expanded by %{d} %{o} %{h}, in A-label form; the local-part stays as sent (§4)."""
    zone = {
        "xn--bcher-kva.example": spf("v=spf1 exists:%{l}.%{o}.%{h}.%{d}.x.test -all"),
        "j\u00fcrgen.xn--bcher-kva.example.xn--strae-oqa.example.xn--bcher-kva.example.x.test":
            {"A": "127.0.0.2"},
    }
    result, _ = run(zone, domain="B\u00fccher.example", sender="j\u00fcrgen@b\u00fccher.example",
                    helo="stra\u00dfe.example")
    assert result.result is Result.PASS, result
    assert result.domain == "xn--bcher-kva.example"
    # a name that is no IDN (U+2603 is not allowed by IDNA 2008) cannot exist: none
    result, _ = run(zone, domain="\u2603.example", sender="a@\u2603.example")
    assert result.result is Result.NONE
