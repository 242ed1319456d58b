"""Answers → record (RFC 7208 §5, §4.6.2), HELO records (§2.3), and the answer checks."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network

import pytest
from hypothesis import given
from hypothesis import strategies as st

import spfkit.wizard as wizard
from spfkit.record import IP4, IP6, MX, PTR, A, All, Include, Qualifier, parse_record
from spfkit.wizard import (
    ALL_EXPLANATIONS,
    QUESTIONS,
    RECOMMENDATION,
    RECOMMENDED_ALL,
    AllPolicy,
    WizardAnswers,
    build_record,
    mail_host_records,
    parse_all_policy,
    parse_domain,
    parse_domain_spec,
    parse_ip4,
    parse_ip6,
)


def text(**answers: object) -> str:
    return build_record(WizardAnswers(**answers)).canonical()  # type: ignore[arg-type]


def test_all_matches_the_public_names() -> None:
    public = {
        n for n, v in vars(wizard).items() if not n.startswith("_") and type(v).__name__ != "module"
    }
    assert set(wizard.__all__) == public


def test_the_defaults_are_the_classic_record() -> None:
    assert text() == "v=spf1 mx ~all"
    assert RECOMMENDED_ALL is AllPolicy.SOFTFAIL


def test_everything_in_matching_order() -> None:
    record = build_record(
        WizardAnswers(
            mx=True,
            a=True,
            ip4=(IPv4Network("192.0.2.0/24"), IPv4Network("198.51.100.7/32")),
            ip6=(IPv6Network("2001:db8::/48"),),
            a_hosts=("smtp.other.example",),
            mx_domains=("other.example",),
            includes=("_spf.provider.example", "%{i}._spf.example.net"),
            ptr=True,
            all_policy=AllPolicy.FAIL,
        )
    )
    assert record.canonical() == (
        "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.7 ip6:2001:db8::/48 mx a a:smtp.other.example "
        "mx:other.example include:_spf.provider.example include:%{i}._spf.example.net ptr -all"
    )
    kinds = [type(t) for t in record.terms]
    assert kinds == [IP4, IP4, IP6, MX, A, A, MX, Include, Include, PTR, All]
    assert record.terms[-1].qualifier is Qualifier.FAIL
    assert parse_record(record.canonical()) == record


@pytest.mark.parametrize(
    ("policy", "end"),
    [(AllPolicy.FAIL, "-all"), (AllPolicy.SOFTFAIL, "~all"), (AllPolicy.NEUTRAL, "?all")],
)
def test_all_policies(policy: AllPolicy, end: str) -> None:
    assert text(mx=False, all_policy=policy) == f"v=spf1 {end}"
    assert policy.term == end


def test_duplicates_are_dropped() -> None:
    assert (
        text(
            mx=False,
            ip4=(IPv4Network("192.0.2.1/32"),) * 2,
            includes=("_spf.p.example", "_SPF.P.example."),
        )
        == "v=spf1 ip4:192.0.2.1 include:_spf.p.example ~all"
    )


def test_dns_terms() -> None:
    """§4.6.4: mx, a, a:, mx:, include and ptr each cost a lookup; ip4/ip6/all do not."""
    answers = WizardAnswers(
        mx=True,
        a=True,
        ip4=(IPv4Network("192.0.2.0/24"),),
        a_hosts=("x.example",),
        includes=("p.example", "P.example"),
        ptr=True,
    )
    assert answers.dns_terms == 5


def test_a_bad_domain_spec_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not a domain name"):
        build_record(WizardAnswers(includes=("foo",)))


ip4s = st.builds(
    lambda a, p: IPv4Network((a, p), strict=False), st.integers(0, 2**32 - 1), st.integers(1, 32)
)
ip6s = st.builds(
    lambda a, p: IPv6Network((a, p), strict=False), st.integers(0, 2**128 - 1), st.integers(1, 128)
)
labels = st.from_regex(r"[a-z0-9_]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
domains = st.builds(
    lambda ls, top: ".".join([*ls, top]),
    st.lists(labels, min_size=1, max_size=3),
    st.from_regex(r"[a-z]{2,6}", fullmatch=True),
)


@given(
    st.builds(
        WizardAnswers,
        mx=st.booleans(),
        a=st.booleans(),
        ip4=st.lists(ip4s, max_size=4).map(tuple),
        ip6=st.lists(ip6s, max_size=3).map(tuple),
        a_hosts=st.lists(domains, max_size=3).map(tuple),
        mx_domains=st.lists(domains, max_size=2).map(tuple),
        includes=st.lists(domains, max_size=3).map(tuple),
        ptr=st.booleans(),
        all_policy=st.sampled_from(AllPolicy),
    )
)
def test_every_draft_parses_back_to_an_equal_record(answers: WizardAnswers) -> None:
    record = build_record(answers)
    assert parse_record(record.canonical()) == record
    assert isinstance(record.terms[-1], All)
    assert sum(t.queries_dns for t in record.terms) == answers.dns_terms


def test_mail_host_records() -> None:
    drafted = mail_host_records(
        "example.net", ["mail.example.net.", "MAIL.example.net", "example.net", "mx2.example.net"]
    )
    assert [h.name for h in drafted] == ["mail.example.net", "mx2.example.net"]
    assert all(h.record.canonical() == "v=spf1 a -all" for h in drafted)
    with pytest.raises(ValueError):
        mail_host_records("example.net", ["bad name"])


@pytest.mark.parametrize(
    ("answer", "network"),
    [
        ("192.0.2.25", "192.0.2.25/32"),
        (" 192.0.2.0/24 ", "192.0.2.0/24"),
        ("10.0.0.0/8", "10.0.0.0/8"),
    ],
)
def test_ip4_answers(answer: str, network: str) -> None:
    assert parse_ip4(answer) == IPv4Network(network)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("300.1.1.1", "not an IPv4 address"),
        ("192.0.2", "not an IPv4 address"),
        ("010.0.0.1", "not an IPv4 address"),
        ("192.0.2.1/24", "host bits set: write 192.0.2.0/24 for the whole network or 192.0.2.1"),
        ("192.0.2.0/33", "prefix length"),
        ("192.0.2.0/024", "prefix length"),
        ("0.0.0.0/0", "every address"),
        ("2001:db8::1", "give it as ip6"),
        ("", "not an IPv4"),
    ],
)
def test_bad_ip4_answers_say_why(answer: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace(".", r"\.")):
        parse_ip4(answer)


def test_ip6_answers() -> None:
    assert parse_ip6("2001:DB8::25") == IPv6Network("2001:db8::25/128")
    assert parse_ip6("2001:db8::/48") == IPv6Network("2001:db8::/48")
    for answer, reason in [
        ("192.0.2.1", "give it as ip4"),
        ("2001:db8::1/48", "host bits"),
        ("fe80::1%eth0", "not an IPv6"),
        ("2001:db8::/129", "prefix"),
        ("::/0", "every address"),
        ("gggg::1", "not an IPv6"),
        # RFC 7208 §5: a mapped client is checked as IPv4; such an ip6 term never matches
        ("::ffff:1.2.3.4", r"IPv4-mapped .* ip4 \(1\.2\.3\.4\)"),
        ("::ffff:10.0.0.0/104", r"ip4 \(10\.0\.0\.0/8\)"),
    ]:
        with pytest.raises(ValueError, match=reason):
            parse_ip6(answer)


def test_domains() -> None:
    assert parse_domain("Example.NET.") == "Example.NET"
    assert parse_domain("_spf.example.net") == "_spf.example.net"
    for bad in [
        "foo",
        "",
        "a..b",
        "-a.example",
        "1.2.3.4",
        "x" * 64 + ".net",
        "ex ample.net",
        "example.n_t",
        "a:b.example",
    ]:
        with pytest.raises(ValueError):
            parse_domain(bad)


def test_domain_specs_go_through_the_record_parser() -> None:
    assert str(parse_domain_spec("_spf.provider.example.")) == "_spf.provider.example"
    assert str(parse_domain_spec("%{i}._spf.example.net")) == "%{i}._spf.example.net"
    with pytest.raises(ValueError, match="unknown macro letter"):
        parse_domain_spec("%{z}.example.net")
    with pytest.raises(ValueError, match="not a domain name"):
        parse_domain_spec("foo")
    with pytest.raises(ValueError, match="not a domain name"):
        parse_domain_spec("a.example b.example")
    with pytest.raises(ValueError):
        parse_domain_spec("%{d}.example.123")


def test_all_answers() -> None:
    assert parse_all_policy("FAIL") is AllPolicy.FAIL
    assert parse_all_policy("~all") is AllPolicy.SOFTFAIL
    assert parse_all_policy("?") is AllPolicy.NEUTRAL
    with pytest.raises(ValueError, match="softfail"):
        parse_all_policy("reject")


def test_explanations_are_one_sentence_each_with_their_section() -> None:
    for policy, sentence in ALL_EXPLANATIONS.items():
        assert sentence.startswith(policy.term) and sentence.count(". ") == 0
        assert sentence.endswith(").")
    assert "§8.4" in ALL_EXPLANATIONS[AllPolicy.FAIL]
    assert "§8.5" in ALL_EXPLANATIONS[AllPolicy.SOFTFAIL]
    assert "§8.5" in RECOMMENDATION and "§8.4" in RECOMMENDATION
    assert "§5.5" in QUESTIONS["ptr"] and "SHOULD NOT" in QUESTIONS["ptr"]
    fields = set(WizardAnswers.__dataclass_fields__)
    assert set(QUESTIONS) == fields | {"mail_hosts"}


def test_the_wizard_package_touches_no_world() -> None:
    """style.md §1: wizard/ imports no asyncio, socket, dnspython or subprocess.

    ``survey.py`` is the exception that reaches DNS, through the resolver it is given.
    """
    import ast
    from pathlib import Path

    world = {"asyncio", "socket", "dns", "selectors", "ssl", "subprocess"}
    for path in Path(wizard.__file__).parent.glob("*.py"):
        if path.name == "survey.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            assert not {n.split(".")[0] for n in names} & world, (path.name, names)
            assert not any(n.startswith("spfkit.lookup") for n in names), (path.name, names)
