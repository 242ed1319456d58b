"""Rules on a parsed record (RFC 7208 §4.6–§8; RFC 4406 §3): one that triggers, one that does not.

``fixed_record`` is checked by the real parser and compared as a parsed record.
"""

from __future__ import annotations

import pytest

from spfkit.lint.codes import CODES
from spfkit.lint.findings import Finding
from spfkit.lint.record_rules import record_findings
from spfkit.lint.runner import corrected_record, lint_text
from spfkit.record import parse_record


def findings(text: str, domain: str | None = "example.com") -> list[Finding]:
    return record_findings(parse_record(text), domain=domain)


def codes(text: str, domain: str | None = "example.com") -> list[str]:
    return sorted(f.code for f in findings(text, domain))


# (code, record that triggers it, column, record meant by the fix or None when none is computed)
TRIGGERS = [
    ("SPF-W301", "v=spf1 mx", None, "v=spf1 mx ~all"),
    ("SPF-W301", "v=spf1 mx exp=why.example.com", None, "v=spf1 mx ~all exp=why.example.com"),
    ("SPF-W301", "v=spf1", None, "v=spf1 ~all"),
    ("SPF-W330", "v=spf1 -all mx", 12, "v=spf1 mx -all"),
    ("SPF-W330", "v=spf1 ~all -all", 12, "v=spf1 ~all"),
    ("SPF-W330", "v=spf1 ip4:192.0.2.1 -all include:_spf.example.net exp=why.example.com", 26,
     "v=spf1 ip4:192.0.2.1 include:_spf.example.net -all exp=why.example.com"),
    ("SPF-W330", "v=spf1 ~all mx -all a", 12, "v=spf1 mx a ~all"),
    ("SPF-E303", "v=spf1 mx redirect=_spf.example.net -all", 36, "v=spf1 mx redirect=_spf.example.net"),
    ("SPF-E304", "v=spf1 mx +all", 10, "v=spf1 mx ~all"),
    ("SPF-E304", "v=spf1 mx all", 10, "v=spf1 mx ~all"),
    ("SPF-E304", "v=spf1 ip4:0.0.0.0/0 -all", 7, "v=spf1 -all"),
    ("SPF-E304", "v=spf1 ip6:::/0 -all", 7, "v=spf1 -all"),
    ("SPF-W305", "v=spf1 mx ?all", 10, "v=spf1 mx ~all"),
    ("SPF-W306", "v=spf1 ptr -all", 7, None),
    ("SPF-W306", "v=spf1 ptr:example.net -all", 7, None),
    ("SPF-W307", "v=spf1 mx mx -all", 10, "v=spf1 mx -all"),
    ("SPF-W307", "v=spf1 include:x.example -include:X.example. -all", 25,
     "v=spf1 include:x.example -all"),
    ("SPF-W307", "v=spf1 a a:example.com -all", 9, "v=spf1 a -all"),
    ("SPF-W308", "v=spf1 ip4:192.0.2.0/24 -ip4:192.0.2.1 ~all", 24, "v=spf1 ip4:192.0.2.0/24 ~all"),
    ("SPF-W308", "v=spf1 ip6:2001:db8::/32 ~ip6:2001:db8:1::/48 -all", 25,
     "v=spf1 ip6:2001:db8::/32 -all"),
    ("SPF-I309", "v=spf1 ip4:192.0.2.0/24 ip4:192.0.2.5 -all", 24, "v=spf1 ip4:192.0.2.0/24 -all"),
    ("SPF-I309", "v=spf1 ip4:192.0.2.5 ip4:192.0.2.0/24 -all", 7, "v=spf1 ip4:192.0.2.0/24 -all"),
    ("SPF-I309", "v=spf1 ip4:192.0.2.5 ip4:192.0.2.5 -all", 21, "v=spf1 ip4:192.0.2.5 -all"),
    ("SPF-I310", "v=spf1 -ip4:192.0.2.5 ip4:192.0.2.0/24 -all", 7, None),
    ("SPF-I311", "v=spf1 mx ~all exp=why.example.com", 15, "v=spf1 mx ~all"),
    ("SPF-I312", "v=spf1 mx foo=bar -all", 10, None),
    ("SPF-W333", "v=spf1 mx MS=ms12345678 -all", 10, "v=spf1 mx -all"),
    ("SPF-W333", "v=spf1 google-site-verification=Ab-12_x ~all", 7, "v=spf1 ~all"),
    ("SPF-W333", "v=spf1 mx acme-domain-verification=123 -all", 10, "v=spf1 mx -all"),
    ("SPF-E209", "v=spf1 include=_spf.example.net -all", 7, "v=spf1 include:_spf.example.net -all"),
    ("SPF-E209", "v=spf1 a=mail.example.com -all", 7, "v=spf1 a:mail.example.com -all"),
    ("SPF-E209", "v=spf1 inlcude=_spf.example.net -all", 7, "v=spf1 include:_spf.example.net -all"),
    ("SPF-E313", "v=spf1 mx redirct=_spf.example.net", 10, "v=spf1 mx redirect=_spf.example.net"),
    ("SPF-E313", "v=spf1 -all explanation=why.example.com", 12, "v=spf1 -all exp=why.example.com"),
    ("SPF-W314", "v=spf1 mx default=deny", 10, "v=spf1 mx -all"),
    ("SPF-W314", "v=spf1 mx default=softdeny", 10, "v=spf1 mx ~all"),
    ("SPF-W314", "v=spf1 mx -all default=deny", 15, "v=spf1 mx -all"),
    ("SPF-I315", "spf2.0/pra,mfrom mx -all", 0, None),
    ("SPF-I316", "v=spf1 redirect=_spf.example.net mx", 7, "v=spf1 mx redirect=_spf.example.net"),
    ("SPF-I317", "v=spf1 ip4:192.0.2.1/24 -all", 7, "v=spf1 ip4:192.0.2.0/24 -all"),
    ("SPF-I317", "v=spf1 -ip6:2001:db8::1/32 ~all", 7, "v=spf1 -ip6:2001:db8::/32 ~all"),
    ("SPF-W318", "v=spf1 ip6:::ffff:192.0.2.1 -all", 7, "v=spf1 ip4:192.0.2.1 -all"),
    ("SPF-W318", "v=spf1 mx -ip6:::ffff:c633:6400/120 ~all", 10, "v=spf1 mx -ip4:198.51.100.0/24 ~all"),
]


@pytest.mark.parametrize(("code", "text", "column", "meant"), TRIGGERS,
                         ids=[f"{c}:{t}" for c, t, _, _ in TRIGGERS])
def test_rule_triggers_with_position_and_fix(code: str, text: str, column: int | None,
                                             meant: str | None) -> None:
    found = [f for f in findings(text) if f.code == code]
    assert len(found) == 1, findings(text)
    f = found[0]
    assert f.severity is CODES[code].severity and f.rfc == CODES[code].rfc
    assert f.column == column and f.domain == "example.com"
    assert f.message and f.fix
    if meant is None:
        assert f.fixed_record is None
    else:
        assert f.fixed_record is not None
        assert parse_record(f.fixed_record) == parse_record(meant)


# (code, a record close to the trigger that must not set it off)
QUIET = [
    ("SPF-W301", "v=spf1 mx -all"),
    ("SPF-W301", "v=spf1 mx redirect=_spf.example.net"),
    ("SPF-W301", "v=spf1 mx default=deny"),  # W314 says what to do instead
    ("SPF-W330", "v=spf1 mx -all exp=why.example.com"),
    ("SPF-E303", "v=spf1 mx redirect=_spf.example.net"),
    ("SPF-E304", "v=spf1 mx -all"),
    ("SPF-E304", "v=spf1 -ip4:0.0.0.0/0 ~all"),
    ("SPF-W305", "v=spf1 mx ~all"),
    ("SPF-W306", "v=spf1 a mx -all"),
    ("SPF-W307", "v=spf1 a a:other.example.com a/24 mx mx:example.net -all"),
    ("SPF-W307", "v=spf1 -all mx mx"),  # after all: W330 says it
    ("SPF-W308", "v=spf1 -ip4:192.0.2.1 ip4:192.0.2.0/24 ~all"),
    ("SPF-W308", "v=spf1 ip4:192.0.2.0/24 ip6:::ffff:192.0.2.1 -all"),
    ("SPF-I309", "v=spf1 ip4:192.0.2.5 a ip4:192.0.2.0/24 -all"),
    ("SPF-I309", "v=spf1 ip4:192.0.2.0/25 ip4:192.0.2.128/25 -all"),
    ("SPF-I310", "v=spf1 ip4:192.0.2.0/24 -ip4:192.0.2.5 -all"),
    ("SPF-I311", "v=spf1 mx -all exp=why.example.com"),
    ("SPF-I312", "v=spf1 mx -all ra=postmaster rp=100 rr=all"),
    ("SPF-I312", "v=spf1 mx MS=ms12345678 -all"),  # W333 says what it is
    ("SPF-W333", "v=spf1 mx verification=123 foo=bar -all"),
    ("SPF-E209", "v=spf1 include:_spf.example.net -all"),
    ("SPF-E313", "v=spf1 mx redirect=_spf.example.net"),
    ("SPF-W314", "v=spf1 mx -all"),
    ("SPF-I315", "v=spf1 mx -all"),
    ("SPF-I316", "v=spf1 mx redirect=_spf.example.net"),
    ("SPF-I316", "v=spf1 redirect=_spf.example.net -all"),  # E303 says it
    ("SPF-I317", "v=spf1 ip4:192.0.2.0/24 ip4:192.0.2.1 ip6:2001:db8::/32 -all"),
    ("SPF-W318", "v=spf1 ip6:2001:db8::/32 ip6:::ffff:0:0/95 ip6:64:ff9b::c000:201 -all"),
]


@pytest.mark.parametrize(("code", "text"), QUIET, ids=[f"{c}:{t}" for c, t in QUIET])
def test_rule_stays_quiet(code: str, text: str) -> None:
    assert code not in codes(text)


def test_every_code_has_a_trigger_and_a_quiet_case_somewhere() -> None:
    """Every 1xx–3xx code is tested here, in test_text_rules.py or test_runner.py."""
    from tests.lint import test_runner, test_text_rules

    triggered = {c for c, *_ in TRIGGERS} | {c for c, *_ in test_text_rules.REPAIRS}
    triggered |= set(INCLUDE_TARGET_CODES) | {"SPF-E221"}  # test_text_rules.PASTED
    triggered |= {"SPF-E110", "SPF-I111", "SPF-E112", "SPF-W113", "SPF-W114", "SPF-E211",
                  "SPF-E299", "SPF-W350"} | set(test_runner.RECORD_SET_CODES)  # W350: test_address_rules
    assert triggered == set(CODES)


def test_clean_record_has_no_findings() -> None:
    assert findings("v=spf1 mx include:_spf.example.net ip4:192.0.2.0/24 -all") == []


def test_sender_id_record_is_still_linted_like_spf() -> None:
    assert codes("spf2.0/pra ptr +all") == ["SPF-E304", "SPF-I315", "SPF-W306"]


def test_shadowing_counts_only_mechanisms_before_all() -> None:
    assert codes("v=spf1 ip4:192.0.2.0/24 -all ip4:192.0.2.1") == ["SPF-W330"]


def test_terms_after_all_list_what_is_ignored() -> None:
    f = findings("v=spf1 -all mx a include:x.example ptr ip4:192.0.2.1")[0]
    assert "'mx', 'a', 'include:x.example', 'ptr' and 1 more" in f.message


def test_terms_after_all_are_moved_never_dropped() -> None:
    """§5.1: they are ignored, not invalid — a warning, and the fix keeps every include."""
    text = "v=spf1 -all include:_spf.example.net include:mail.example.org"
    (f,) = findings(text)
    assert f.severity.value == "warning" and "move them before 'all'" in f.fix
    assert f.fixed_record is not None
    fixed = parse_record(f.fixed_record)
    assert [str(t) for t in fixed.terms] == ["include:_spf.example.net",
                                             "include:mail.example.org", "-all"]
    assert corrected_record(text) == f.fixed_record


#: (code, include-target name, record): softened findings for records made to be included
INCLUDE_TARGET_CODES = {
    "SPF-I331": ("_spf.mailprovider.example", "v=spf1 ip4:198.51.100.0/24 ?all"),
    "SPF-I332": ("spf.protection.example", "v=spf1 ip4:198.51.100.0/24"),
}


@pytest.mark.parametrize("code", sorted(INCLUDE_TARGET_CODES))
def test_include_targets_get_a_note_instead_of_a_warning(code: str) -> None:
    name, text = INCLUDE_TARGET_CODES[code]
    (f,) = findings(text, name)
    assert f.code == code and f.severity.value == "info" and name in f.message
    assert "§5.2" in f.message and f.fixed_record is not None
    assert parse_record(f.fixed_record).mechanisms[-1].qualifier.value == "~"
    # the same record under a name that is not an include target keeps its warning
    assert codes(text, "example.com") == [{"SPF-I331": "SPF-W305",
                                           "SPF-I332": "SPF-W301"}[code]]
    assert codes(text, None) == codes(text, "example.com")


@pytest.mark.parametrize("name", ["_spf.google.com", "spf.protection.outlook.com",
                                  "_netblocks3.google.com", "spf1.example.net",
                                  "_spf-eu.example.net", "SPF.Example.Net."])
def test_names_providers_give_include_targets(name: str) -> None:
    assert codes("v=spf1 ip4:192.0.2.1 ?all", name) == ["SPF-I331"]


@pytest.mark.parametrize("name", ["example.com", "spfexample.net", "mail.spf.example.net",
                                  "spf", "mail.zendesk.example"])
def test_other_names_keep_the_warning_which_says_when_it_is_harmless(name: str) -> None:
    (f,) = findings("v=spf1 ip4:192.0.2.1 ?all", name)
    assert f.code == "SPF-W305" and "only exists to be included" in f.message


def test_duplicate_with_another_qualifier_names_it() -> None:
    (f,) = findings("v=spf1 mx -mx ~all")
    assert "qualifier '-' never takes effect" in f.message


def test_a_without_domain_equals_a_on_the_domain_only_when_it_is_known() -> None:
    assert codes("v=spf1 a a:example.com -all", domain=None) == []


def test_record_rule_columns_point_into_the_published_text() -> None:
    """After a text repair, record rules still report columns of the text as published."""
    text = "v=spf1  ＋ptr  ~all  ?all"
    found = {f.code: f.column for f in lint_text(text)}
    assert found["SPF-W306"] == 8 and found["SPF-W330"] == 20


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("v=spf1 -all mx redirect=_spf.example.net", "v=spf1 mx redirect=_spf.example.net"),
        ("v=spf1 mx default=deny", "v=spf1 mx -all"),
        ("spf1 ＋mx, a ?all", "v=spf1 +mx a ~all"),
        ("v=spf1 include=_spf.example.net mx mx", "v=spf1 include:_spf.example.net mx ~all"),
        ("v=spf1 mx -all", None),
        ("v=spf1 ip4:300.1.1.1 -all", None),
    ],
)
def test_corrected_record_applies_every_computable_fix(text: str, meant: str | None) -> None:
    fixed = corrected_record(text, domain="example.com")
    if meant is None:
        assert fixed is None
    else:
        assert fixed is not None and parse_record(fixed) == parse_record(meant)
