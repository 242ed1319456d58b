"""The network rules (RFC 7208 §4.6.2, §5.6) against a brute-force reference, and at scale.

The linter finds nested networks in one pass (``spfkit.lint.nesting``) and builds each fixed
record by joining the record's words (``spfkit.lint.fixes``). The reference here is the
obvious version: every pair of networks compared in record order, every fixed record parsed
again. They must agree on every finding, in order; then a 3,000-term record (which took
minutes and gigabytes before) must lint.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_network

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from spfkit.errors import RecordSyntaxError
from spfkit.lint.findings import Finding
from spfkit.lint.record_rules import record_findings
from spfkit.lint.runner import lint_record, lint_text
from spfkit.record import parse_record
from spfkit.record.model import Record
from spfkit.record.terms import IP4, IP6, Mechanism, Qualifier

NETWORK_CODES = {"SPF-E304", "SPF-I309", "SPF-W308", "SPF-I310"}


def parsed_or_none(text: str) -> str | None:
    try:
        parse_record(text)
    except RecordSyntaxError:
        return None
    return text


def reference(record: Record) -> list[tuple[str, str, str | None, str | None]]:
    """(code, term, the other term named, fixed record): every pair, in record order.

    Records here have no "all", so every mechanism is tested (§5.1).
    """
    live = record.mechanisms
    ips = [(i, m) for i, m in enumerate(live) if isinstance(m, (IP4, IP6))]

    def without(term: Mechanism) -> str | None:
        words = [record.version_text, *(str(t) for t in record.terms if t is not term)]
        return parsed_or_none(" ".join(words))

    out: list[tuple[str, str, str | None, str | None]] = []
    used: set[int] = set()
    for j, later in ips:
        net: IPv4Network | IPv6Network = later.network
        if net.prefixlen == 0 and later.qualifier is Qualifier.PASS:
            out.append(("SPF-E304", str(later), None, without(later)))
        for i, earlier in ips:
            other = earlier.network
            if i >= j or other.version != net.version:
                continue
            if net.subnet_of(other):  # type: ignore[arg-type]
                same = earlier.qualifier is later.qualifier
                out.append(("SPF-I309" if same else "SPF-W308", str(later), str(earlier),
                            without(later)))
                used.add(j)
                break
            if other.subnet_of(net) and i not in used:  # type: ignore[arg-type]
                used.add(i)
                if earlier.qualifier is not later.qualifier:
                    out.append(("SPF-I310", str(earlier), str(later), None))
                elif all(isinstance(m, (IP4, IP6)) and m.qualifier is earlier.qualifier
                         for m in live[i + 1 : j]):
                    out.append(("SPF-I309", str(earlier), str(later), without(earlier)))
    return out


def network_findings(record: Record) -> list[Finding]:
    return [f for f in record_findings(record, domain="example.com") if f.code in NETWORK_CODES]


# a few networks that nest in every way: equal, inside, around, beside; both families
_NETS = [
    "10.0.0.0/8", "10.0.0.0/16", "10.0.0.0/24", "10.0.0.0/25", "10.0.0.128/25", "10.0.1.0/24",
    "10.1.0.0/16", "10.0.0.7", "10.0.0.7/32", "0.0.0.0/0", "192.0.2.0/24", "10.0.0.9/24",
    "2001:db8::/32", "2001:db8::/48", "2001:db8:1::/48", "2001:db8::1", "::/0",
]
_terms = st.one_of(
    st.builds(lambda q, n: f"{q}ip{ip_network(n, strict=False).version}:{n}",
              st.sampled_from(["", "+", "-", "~", "?"]), st.sampled_from(_NETS)),
    st.sampled_from(["a", "mx", "include:_spf.example.net", "-exists:%{i}.x.example",
                     "exp=why.example.com", "redirect=_spf.example.org"]),
)
_records = st.lists(_terms, max_size=24).map(lambda terms: "v=spf1 " + " ".join(terms))


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None, max_examples=300)
@given(text=_records)
@example(text="v=spf1 ip4:10.0.0.0/25 ip4:10.0.0.128/25 ip4:10.0.0.0/24 ip4:10.0.0.0/8")
@example(text="v=spf1 -ip4:10.0.0.7 ip4:10.0.0.0/24 ip4:10.0.0.0/16 ip4:10.0.0.0/24")
@example(text="v=spf1 ip4:10.0.0.0/24 a ip4:10.0.0.0/16 ip6:::/0 ip6:2001:db8::1")
def test_network_findings_are_the_pairwise_reference(text: str) -> None:
    try:
        record = parse_record(text)
    except RecordSyntaxError:  # two redirect= or exp=: not a record
        return
    got = network_findings(record)
    want = reference(record)
    assert [(f.code, f.term, f.fixed_record) for f in got] == [(c, t, x) for c, t, _, x in want]
    for f, (_, _, other, _) in zip(got, want):
        assert other is None or f"'{other}'" in f.message


# --- 3,000 ip4 terms ------------------------------------------------------------------------


def _big_record() -> tuple[str, dict[str, int]]:
    """3,000 ip4 terms: 1,200 disjoint /24s, 600 repeated, 600 /28s inside them with another
    qualifier, 300 /26s later widened by a /22 each (300 /22s), and what each should give."""
    terms: list[str] = []
    for k in range(1_200):
        terms.append(f"ip4:10.{k // 256}.{k % 256}.0/24")
    for k in range(0, 1_200, 2):
        terms.append(f"ip4:10.{k // 256}.{k % 256}.0/24")  # duplicate: redundant
    for k in range(1, 1_200, 2):
        terms.append(f"-ip4:10.{k // 256}.{k % 256}.16/28")  # inside, other result: shadowed
    for k in range(300):
        wide = IPv4Network((0xAC10_0000 + 1024 * k, 22))  # 172.16.0.0/22, 172.16.4.0/22, ...
        terms.append(f"~ip4:{wide.network_address + 64}/26")  # an exception ...
        terms.append(f"ip4:{wide}")  # ... carved out of this wider network
    assert len(terms) == 3_000
    return "v=spf1 " + " ".join(terms) + " -all", {
        "SPF-I309": 600, "SPF-W308": 600, "SPF-I310": 300}


@pytest.mark.timeout(20)
def test_3000_ip4_terms_lint() -> None:
    """Issue 10: lint was quadratic in the networks and parsed every fixed record again
    (this record: minutes); now the rules and the report take a fraction of a second. A
    record this long (no real one is) gets no per-finding fixed copies: thousands of them
    made the output hundreds of megabytes; each finding still says what to remove."""
    text, want = _big_record()
    assert len(text) > 4096
    found = lint_text(text)
    counts = {code: sum(1 for f in found if f.code == code) for code in want}
    assert counts == want
    fixed = [f for f in found if f.code in ("SPF-I309", "SPF-W308")]
    assert all(f.fixed_record is None and f.term and f.term in f.fix for f in fixed)
    report = lint_record(text)
    assert report.fixed_record is None
    assert len(report.findings) == len(found)


def test_3000_networks_agree_with_the_reference_on_a_sample() -> None:
    """The first 300 terms of the big record, checked pair by pair."""
    text, _ = _big_record()
    words = text.split(" ")
    for start in (1, 1_150, 2_700):
        sample = parse_record(" ".join(["v=spf1", *words[start : start + 300]]))
        got = network_findings(sample)
        assert [(f.code, f.term, f.fixed_record) for f in got] == [
            (c, t, x) for c, t, _, x in reference(sample)]
