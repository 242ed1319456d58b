"""Rules on one record's text and strings (RFC 7208 §3.1–§3.4, §4.5, §4.6.1, §5, §12).

Every rule has a record that triggers it and one that does not. Repairs are checked by the
real parser: ``fixed_record`` must parse, and it must mean what the author meant (compared
as parsed records, so spacing and case do not matter).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from spfkit.lint.codes import CODES
from spfkit.lint.findings import Finding, Severity
from spfkit.lint.runner import lint_text
from spfkit.lint.strings import zone_strings
from spfkit.lint.text_rules import check_text
from spfkit.record import parse_record


def codes(findings: list[Finding] | tuple[Finding, ...]) -> set[str]:
    return {f.code for f in findings}


def only(findings: list[Finding] | tuple[Finding, ...], code: str) -> Finding:
    matching = [f for f in findings if f.code == code]
    assert len(matching) == 1, findings
    return matching[0]


def means(text: str | None, intended: str) -> bool:
    """Does ``text`` parse into the same record as ``intended``?"""
    assert text is not None
    return parse_record(text) == parse_record(intended)


# (code, published text, the record that was meant, column of the problem in the published text)
REPAIRS = [
    ("SPF-E201", "”v=spf1 mx ~all”", "v=spf1 mx ~all", 0),
    ("SPF-I220", '"v=spf1 mx -all"', "v=spf1 mx -all", 0),
    ("SPF-I220", '"v=spf1 mx " "-all"', "v=spf1 mx -all", 0),
    ("SPF-I220", '"v=spf1 ip4:192.0.2.1 " "ip4:192.0.2.2 -all"',
     "v=spf1 ip4:192.0.2.1 ip4:192.0.2.2 -all", 0),
    ("SPF-E201", '"v=spf1 mx -all', "v=spf1 mx -all", 0),
    ("SPF-E201", "'v=spf1 mx -all'", "v=spf1 mx -all", 0),
    ("SPF-E201", "v=spf1 mx -all'", "v=spf1 mx -all", 14),
    ("SPF-E202", "v=spf1 ＋mx ~all", "v=spf1 +mx ~all", 7),
    ("SPF-E202", "v=spf1 mx 〜all", "v=spf1 mx ~all", 10),
    ("SPF-E202", "v=spf1 mx ～all", "v=spf1 mx ~all", 10),
    ("SPF-E202", "v=spf1 mx –all", "v=spf1 mx -all", 10),
    ("SPF-E202", "v=spf1 mx —all", "v=spf1 mx -all", 10),
    ("SPF-E202", "v=spf1 mx −all", "v=spf1 mx -all", 10),
    ("SPF-E202", "v=spf1 ｍｘ -all", "v=spf1 mx -all", 7),
    ("SPF-E203", "v=spf1\tmx -all", "v=spf1 mx -all", 6),
    ("SPF-E203", "v=spf1 mx\u00a0-all", "v=spf1 mx -all", 9),
    ("SPF-E203", "v=spf1 mx\u3000-all", "v=spf1 mx -all", 9),
    ("SPF-E203", "v=spf1 mx -all\u200b", "v=spf1 mx -all", 14),
    ("SPF-E203", "v=spf1 mx\r\n-all", "v=spf1 mx -all", 9),
    ("SPF-E204", " v=spf1 mx -all", "v=spf1 mx -all", 0),
    ("SPF-I205", "v=spf1 mx -all  ", "v=spf1 mx -all", 14),
    ("SPF-I206", "v=spf1 mx  a   -all", "v=spf1 mx a -all", 9),
    ("SPF-E207", "v=spf1.0 mx -all", "v=spf1 mx -all", 0),
    ("SPF-E207", "v=spf2 mx -all", "v=spf1 mx -all", 0),
    ("SPF-E207", "spf1 mx -all", "v=spf1 mx -all", 0),
    ("SPF-E207", "v=spf 1 mx -all", "v=spf1 mx -all", 0),
    ("SPF-E207", "v = spf1 mx -all", "v=spf1 mx -all", 0),
    ("SPF-E207", "v=spf10 mx -all", "v=spf1 mx -all", 0),
    ("SPF-E207", "v=spf1; mx -all", "v=spf1 mx -all", 0),
    ("SPF-E207", "v=spf1mx -all", "v=spf1 mx -all", 6),
    ("SPF-E207", "mx -all", "v=spf1 mx -all", 0),
    ("SPF-E208", "v=spf1 ipv4:192.0.2.1 -all", "v=spf1 ip4:192.0.2.1 -all", 7),
    ("SPF-E208", "v=spf1 ipv6:2001:db8::/32 -all", "v=spf1 ip6:2001:db8::/32 -all", 7),
    ("SPF-E208", "v=spf1 ip:2001:db8::1 -all", "v=spf1 ip6:2001:db8::1 -all", 7),
    ("SPF-E208", "v=spf1 inlcude:_spf.example.net -all", "v=spf1 include:_spf.example.net -all", 7),
    ("SPF-E208", "v=spf1 incude:_spf.example.net -all", "v=spf1 include:_spf.example.net -all", 7),
    ("SPF-E208", "v=spf1 exist:%{i}.x.example -all", "v=spf1 exists:%{i}.x.example -all", 7),
    ("SPF-E208", "v=spf1 prt -all", "v=spf1 ptr -all", 7),
    ("SPF-E208", "v=spf1 mx redirct:_spf.example.net", "v=spf1 mx redirect=_spf.example.net", 10),
    ("SPF-E209", "v=spf1 mx -include=_spf.example.net -all",
     "v=spf1 mx -include:_spf.example.net -all", 10),
    ("SPF-E210", "v=spf1 mx redirect:_spf.example.net", "v=spf1 mx redirect=_spf.example.net", 10),
    ("SPF-E210", "v=spf1 mx -all exp:why.example.net", "v=spf1 mx -all exp=why.example.net", 15),
    ("SPF-E212", "v=spf1 ip4:192.0.2.0/33 -all", "v=spf1 ip4:192.0.2.0 -all", 7),
    ("SPF-E212", "v=spf1 ip6:2001:db8::/129 -all", "v=spf1 ip6:2001:db8:: -all", 7),
    ("SPF-E212", "v=spf1 a/33 -all", "v=spf1 a -all", 7),
    ("SPF-E212", "v=spf1 mx/24//129 -all", "v=spf1 mx/24 -all", 7),
    ("SPF-E213", "v=spf1 ip6:192.0.2.1 -all", "v=spf1 ip4:192.0.2.1 -all", 7),
    ("SPF-E213", "v=spf1 ip4:2001:db8::/32 -all", "v=spf1 ip6:2001:db8::/32 -all", 7),
    ("SPF-E214", "v=spf1 ip4:192.0.2.1,192.0.2.2 -all",
     "v=spf1 ip4:192.0.2.1 ip4:192.0.2.2 -all", 7),
    ("SPF-E214", "v=spf1 mx, a, -all", "v=spf1 mx a -all", 7),
    ("SPF-E214", "v=spf1 mx,a,-all", "v=spf1 mx a -all", 7),
    ("SPF-E214", "v=spf1 mx; -all", "v=spf1 mx -all", 7),
    ("SPF-E215", "v=spf1 a: -all", "v=spf1 a -all", 7),
    ("SPF-E215", "v=spf1 mx:/24 -all", "v=spf1 mx/24 -all", 7),
    ("SPF-E215", "v=spf1 a:", "v=spf1 a", 7),
    ("SPF-E216", "v=spf1 ip4: 192.0.2.1 -all", "v=spf1 ip4:192.0.2.1 -all", 11),
    ("SPF-E216", "v=spf1 include: _spf.example.net -all", "v=spf1 include:_spf.example.net -all", 15),
    ("SPF-E217", "v=spf1 mx - all", "v=spf1 mx -all", 10),
    ("SPF-E217", "v=spf1 mx ~ all", "v=spf1 mx ~all", 10),
    ("SPF-E218", "v=spf1 mxinclude:_spf.example.net -all", "v=spf1 mx include:_spf.example.net -all", 9),
    ("SPF-E218", "v=spf1 mx-all", "v=spf1 mx -all", 9),
    ("SPF-E219", "v=spf1 ip4:192.0.2.010 -all", "v=spf1 ip4:192.0.2.10 -all", 7),
    ("SPF-E222", "v=spf1 _spf.google.com ~all", "v=spf1 include:_spf.google.com ~all", 7),
    ("SPF-E222", "v=spf1 mx -mail.example.net. -all", "v=spf1 mx -a:mail.example.net. -all",
     10),
    ("SPF-E222", "v=spf1 _spf.mailgun.org ~all", "v=spf1 include:_spf.mailgun.org ~all", 7),
    ("SPF-E222", "v=spf1 mailgun.org ~all", "v=spf1 include:mailgun.org ~all", 7),
    ("SPF-E222", "v=spf1 192.0.2.1 ~all", "v=spf1 ip4:192.0.2.1 ~all", 7),
    ("SPF-E222", "v=spf1 mail.example.com ~all", "v=spf1 a:mail.example.com ~all", 7),
    ("SPF-E222", "v=spf1 smtp-out2.example.com ~all", "v=spf1 a:smtp-out2.example.com ~all", 7),
    ("SPF-E222", "v=spf1 spf.protection.outlook.com -all",
     "v=spf1 include:spf.protection.outlook.com -all", 7),
    ("SPF-E222", "v=spf1 2001:db8::/32 ~all", "v=spf1 ip6:2001:db8::/32 ~all", 7),
    ("SPF-E223", "v=spf1 mx ~allCOPY", "v=spf1 mx ~all", 14),
    ("SPF-E223", "v=spf1 mx -all.", "v=spf1 mx -all", 14),
    ("SPF-E223", "v=spf1 mx allCopied!", "v=spf1 mx all", 13),
    ("SPF-E202", "ｖ＝ｓｐｆ１　ｍｘ　～ａｌｌ", "v=spf1 mx ~all", 0),
]


@pytest.mark.parametrize(("code", "text", "meant", "column"), REPAIRS,
                         ids=[f"{c}:{t!r}" for c, t, _, _ in REPAIRS])
def test_each_repair_is_found_where_it_is_and_fixed(code: str, text: str, meant: str,
                                                    column: int) -> None:
    found = [f for f in lint_text(text) if f.code == code]
    assert found, lint_text(text)
    f = found[0]
    assert f.column == column
    assert f.severity is CODES[code].severity
    assert f.rfc.startswith(("7208 §", "4406 §")) and f.message and f.fix
    assert means(f.fixed_record, meant)


# a clean record for every repair above: none of the text codes fire
CLEAN = [
    "v=spf1 mx ~all",
    "V=SPF1 MX -ALL",
    "v=spf1 ip4:192.0.2.1 ip6:2001:db8::/32 include:_spf.example.net -all",
    "v=spf1 a:mail.example.com mx/24 -all",
    "v=spf1 exists:%{i}.x.example redirect=_spf.example.net",
    "v=spf1 -all exp=why.example.net",
    "spf2.0/pra,mfrom mx -all",
    "v=spf1",
]


@pytest.mark.parametrize("text", CLEAN)
def test_clean_records_need_no_repair(text: str) -> None:
    check = check_text(text)
    assert not check.findings
    assert check.record is not None and check.record.text == text


@pytest.mark.parametrize(
    ("text", "code", "wanted"),
    [
        ("v=spf1 ip4:300.1.1.1 -all", "SPF-E211", "not an IPv4 address"),
        ("v=spf1 ip4:192.0.2.300 ~all", "SPF-E211", "0–255"),
        ("v=spf1 ip6:2001:db8::g -all", "SPF-E211", "not an IPv6 address"),
        ("v=spf1 include:foo -all", "SPF-E299", "not a valid domain name"),
        ("v=spf1 exists:%{z}.example.com -all", "SPF-E299", "macro"),
        ("v=spf1 include: -all", "SPF-E299", "missing domain name"),
        ("", "SPF-E299", "empty record"),
        ("spf2.0/ mx", "SPF-E299", "not an SPF record"),
    ],
)
def test_problems_without_a_safe_fix_say_so(text: str, code: str, wanted: str) -> None:
    findings = lint_text(text)
    f = only(findings, code)
    assert wanted in f.message
    assert f.fixed_record is None
    assert "no" in f.fix and "automatic fix" in f.fix
    assert all(g.fixed_record is None for g in findings)  # nothing claims to fix it


@pytest.mark.parametrize(
    ("text", "term", "says"),
    [
        ("v=spf1 ip4:10.0.0.0/33 -all", "ip4:10.0.0.0", "only that one address (/32)"),
        ("v=spf1 ip6:2001:db8::/129 -all", "ip6:2001:db8::", "only that one address (/128)"),
        ("v=spf1 a/33 -all", "a", "only the hosts' own IPv4 addresses (/32)"),
        ("v=spf1 mx/24//129 -all", "mx/24", "only the hosts' own IPv6 addresses (/128)"),
    ],
)
def test_a_too_long_prefix_fix_says_it_authorises_only_the_address(text: str, term: str,
                                                                   says: str) -> None:
    """§5.6: "/33" may be a mistyped network's length ("/23"): the fix reads it as one
    address, and the message must say so, so the corrected record never narrows silently."""
    [found] = [f for f in lint_text(text) if f.code == "SPF-E212"]
    assert f"The corrected record has '{term}', which authorises {says}" in found.message
    assert "if a network was, its real prefix length instead" in found.fix
    assert found.fixed_record == text.replace(text.split()[1], term)


def test_unfixable_problem_after_repairs_keeps_the_repairs_but_no_fixed_record() -> None:
    findings = lint_text("v=spf1 ＋mx ip4:300.1.1.1 -all")
    assert codes(findings) == {"SPF-E202", "SPF-E211"}
    assert only(findings, "SPF-E211").column == 11
    assert all(f.fixed_record is None for f in findings)


def test_generic_syntax_error_cites_the_parsers_section() -> None:
    f = only(lint_text("v=spf1 include:foo -all"), "SPF-E299")
    assert f.rfc == "7208 §7.1" and f.column == 15 and f.term == "include:foo"


def test_several_repairs_each_report_their_own_original_column() -> None:
    text = "”v=spf1 ＋mx ipv4:192.0.2.0/33 include: _spf.example.net ~all”"
    found = {f.code: f.column for f in lint_text(text)}
    assert found == {"SPF-E201": 0, "SPF-E202": 8, "SPF-E208": 12, "SPF-E212": 12,
                     "SPF-E216": 38}
    fixed = {f.fixed_record for f in lint_text(text) if f.code.startswith("SPF-E2")}
    assert fixed == {"v=spf1 +mx ip4:192.0.2.0 include:_spf.example.net ~all"}


def test_a_modifier_in_the_version_position_is_not_mistaken_for_a_version() -> None:
    assert "SPF-E207" not in codes(lint_text("v=spf1 mx -all"))
    assert "SPF-E207" not in codes(lint_text("spf2.0/mfrom mx -all"))


# -- §3.3 character-strings ---------------------------------------------------------------------


def test_split_that_loses_the_space_between_terms() -> None:
    strings = (b"v=spf1 mx", b"include:_spf.example.net -all")
    findings = lint_text("v=spf1 mxinclude:_spf.example.net -all", strings=strings)
    f = only(findings, "SPF-E112")
    assert f.column == 9 and f.term == "mxinclude:_spf.example.net"
    assert '"v=spf1 mx " "include:_spf.example.net -all"' in f.fix
    assert means(f.fixed_record, "v=spf1 mx include:_spf.example.net -all")
    assert "SPF-E218" not in codes(findings)  # the split explains it, once


def test_split_that_adds_a_space_inside_a_term() -> None:
    strings = (b"v=spf1 include:_spf.goo ", b"gle.example -all")
    f = only(lint_text("v=spf1 include:_spf.goo gle.example -all", strings=strings), "SPF-E112")
    assert f.column == 23
    assert '"v=spf1 include:_spf.goo" "gle.example -all"' in f.fix
    assert means(f.fixed_record, "v=spf1 include:_spf.google.example -all")


def test_split_inside_a_term_is_fine() -> None:
    strings = (b"v=spf1 ip4:192.0.2.1", b"0 include:_spf.exa", b"mple.net -all")
    assert lint_text("v=spf1 ip4:192.0.2.10 include:_spf.example.net -all", strings=strings) == []


def test_split_after_a_term_that_may_have_lost_a_space_is_a_warning() -> None:
    text = "v=spf1 include:_spf.example.commx -all"
    f = only(lint_text(text, strings=(b"v=spf1 include:_spf.example.com", b"mx -all")), "SPF-W113")
    assert f.severity is Severity.WARNING and f.column == 31
    assert means(f.fixed_record, "v=spf1 include:_spf.example.com mx -all")


def test_split_of_an_ipv6_address_is_not_taken_for_a_lost_space() -> None:
    text = "v=spf1 ip6:2001:db8::a -all"
    assert lint_text(text, strings=(b"v=spf1 ip6:2001:db8::", b"a -all")) == []


def test_string_over_255_octets() -> None:
    text = "v=spf1 " + " ".join(f"ip4:192.0.2.{i}" for i in range(1, 26)) + " -all"
    assert len(text) > 255
    f = only(lint_text(text, strings=(text.encode(),)), "SPF-E110")
    assert f.column == 0 and f.severity is Severity.ERROR
    ok = (text[:200].encode(), text[200:].encode())
    assert "SPF-E110" not in codes(lint_text(text, strings=ok))


def test_record_over_255_octets_as_text_must_be_split() -> None:
    text = "v=spf1 " + " ".join(f"ip4:192.0.2.{i}" for i in range(1, 26)) + " -all"
    f = only(lint_text(text), "SPF-I111")
    assert f.fix.count('"') == 4  # two strings
    assert "SPF-I111" not in codes(lint_text("v=spf1 mx -all"))


def test_zone_strings_splits_after_spaces_and_keeps_the_text() -> None:
    text = "v=spf1 " + " ".join(f"include:_spf{i}.example.net" for i in range(20)) + " -all"
    rendered = zone_strings(text)
    chunks = [c for c in rendered[1:-1].split('" "')]
    assert "".join(chunks) == text and all(len(c) <= 255 for c in chunks)
    assert all(c.endswith(" ") for c in chunks[:-1])


def test_answer_over_450_octets() -> None:
    text = "v=spf1 " + " ".join(f"ip4:198.51.100.{i}" for i in range(1, 25)) + " -all"
    assert 400 < len(text) < 450
    f = only(lint_text(text, domain="a-long-name-for-a-domain.example.com"), "SPF-W114")
    assert "450" in f.message and "512" not in f.message
    assert "SPF-W114" not in codes(lint_text(text))
    big = text + " " + " ".join(f"ip4:203.0.113.{i}" for i in range(1, 10))
    assert "512" in only(lint_text(big), "SPF-W114").message
    assert "SPF-W114" in codes(check_text("v=spf1 -all", rrset_octets=500).findings)


# -- the whole: never raises, every fix parses ---------------------------------------------------

_PIECES = st.sampled_from(
    list("v=spf1 -~+?:./,;\"'”“＋〜–\u00a0\t") + [
        "v=spf1 ", "spf1 ", "include:", "ip4:", "ip6:", "a:", "mx", " -all", "redirect=",
        "exp:", "ipv4:", "192.0.2.1", "2001:db8::", "/33", "/24", "spf2.0/pra ", "%{i}",
        "example.com", " ", "  ", "all", "ptr", "default=deny", "inlcude:",
    ]
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.lists(_PIECES, max_size=25).map("".join) | st.text(max_size=80))
@example(text="v=spf1 " + "x" * 5000)
@example(text="\u200b" * 50)
def test_lint_text_never_raises_and_every_fixed_record_parses(text: str) -> None:
    findings = lint_text(text)
    for f in findings:
        assert f.code in CODES
        assert f.column is None or 0 <= f.column <= len(text)
        if f.fixed_record is not None:
            parse_record(f.fixed_record)


#: (text pasted where the SPF record belongs, what the finding must call it, where it belongs)
PASTED = [
    ("MS=ms12345678", "Microsoft 365 domain-verification token", "TXT record of its own"),
    ("v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC", "DKIM public key",
     "._domainkey."),
    ("v=DKIM1;p=MIGfMA0", "DKIM public key", "._domainkey."),
    ("google-site-verification=rXOxyZounnZasA8Z7oaD3c14JdjS9aKSWvsR1EbUSIQ",
     "Google site-verification token", "TXT record of its own"),
    ('"google-site-verification=abc"', "Google site-verification token", "of its own"),
    ("v=DMARC1; p=none; rua=mailto:d@example.com", "DMARC policy", "_dmarc."),
    ("facebook-domain-verification=abc123", "Facebook domain-verification token", "own"),
    ("acme-site-verification=abc", "domain-verification token (acme-site-verification=…)",
     "own"),
]


@pytest.mark.parametrize(("text", "what", "where"), PASTED, ids=[t[:20] for t, _, _ in PASTED])
def test_another_record_pasted_is_named_once(text: str, what: str, where: str) -> None:
    findings = lint_text(text, domain="example.com")
    assert [f.code for f in findings] == ["SPF-E221"], findings
    (f,) = findings
    assert what in f.message and where in f.fix and f.fixed_record is None
    assert f.severity is Severity.ERROR and f.rfc == "7208 §4.5"


@pytest.mark.parametrize("text", ["v=spf1 mx -all", "ms mx -all", "v=spf1 MS=ms1 -all",
                                  "verification=1", "spf2.0/pra mx -all"])
def test_spf_records_and_lookalikes_are_not_taken_for_other_records(text: str) -> None:
    assert "SPF-E221" not in codes(lint_text(text))


def test_a_full_width_record_is_one_finding_with_the_fix() -> None:
    text = "ｖ＝ｓｐｆ１　ｉｐ４：１９２．０．２．１　ｍｘ　～ａｌｌ"
    (f,) = lint_text(text)
    assert f.code == "SPF-E202" and f.column == 0
    assert "full-width" in f.message and f"{len(text)} of them" in f.message
    assert means(f.fixed_record, "v=spf1 ip4:192.0.2.1 mx ~all")


def test_one_full_width_letter_among_others_still_names_the_character() -> None:
    (f,) = lint_text("v=spf1 mx ～all")
    assert "U+FF5E" in f.message


def test_dig_quotes_are_a_note_when_pasted_but_an_error_when_published() -> None:
    pasted = lint_text('"v=spf1 mx -all"')
    assert [(f.code, f.severity) for f in pasted] == [("SPF-I220", Severity.INFO)]
    published = lint_text('"v=spf1 mx -all"', strings=(b'"v=spf1 mx -all"',))
    assert "SPF-E201" in codes(published) and "SPF-I220" not in codes(published)
