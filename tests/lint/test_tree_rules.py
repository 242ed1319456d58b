"""The tree rules (``SPF-x4xx``): each with a zone that triggers it and one that does not.

Zones are ``MemoryResolver`` dicts; the trees come from ``build_tree`` (the evaluator's counts).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from spfkit.evaluate import check_host
from spfkit.lint.codes import CODES, CodeInfo
from spfkit.lint.findings import Finding, Severity
from spfkit.lint.runner import lint_domain
from spfkit.lint.tree_rules import TREE_CODES, tree_findings
from spfkit.lookup import MemoryResolver
from spfkit.tree import RecordTree, build_tree

DOCS = Path(__file__).resolve().parents[2] / "docs"


def hosts(prefix: str, n: int, *, v6: bool = True, body: str = "v=spf1 a -all") -> dict[str, Any]:
    """n include targets ``{prefix}{k}.example``, each "a" (1 lookup) with an A (and AAAA)."""
    zone: dict[str, Any] = {}
    for k in range(n):
        spec: dict[str, Any] = {"TXT": body, "A": f"192.0.2.{k + 1}"}
        if v6:
            spec["AAAA"] = f"2001:db8::{k + 1}"
        zone[f"{prefix}{k}.example"] = spec
    return zone


def includes(n: int, tail: str = "-all") -> str:
    return "v=spf1 " + " ".join(f"include:c{k}.example" for k in range(n)) + f" {tail}"


def zone_with(record: str, **more: Any) -> dict[str, Any]:
    return {"example.com": {"TXT": record}, **hosts("c", 6), **more}


def tree(zone: dict[str, Any], domain: str = "example.com", **kw: Any) -> RecordTree:
    return asyncio.run(build_tree(domain, MemoryResolver(zone), **kw))


def codes(zone: dict[str, Any], **kw: Any) -> list[str]:
    return [f.code for f in tree_findings(tree(zone, **kw))]


def only(zone: dict[str, Any], code: str, **kw: Any) -> Finding:
    [found] = [f for f in tree_findings(tree(zone, **kw)) if f.code == code]
    return found


#: code → (a zone for example.com that triggers it, one that does not)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # 6 includes × 2 = 12 lookups; 3 includes + a = 7
    "SPF-E401": (zone_with(includes(6)), zone_with(includes(3, "a -all"))),
    "SPF-W402": (zone_with(includes(4)), zone_with(includes(3, "a -all"))),
    "SPF-E403": (zone_with("v=spf1 a:no1.example a:no2.example a:no3.example -all"),
                 zone_with("v=spf1 a:no1.example a:no2.example -all")),
    "SPF-E404": (zone_with("v=spf1 include:nothere.example -all"), zone_with(includes(1))),
    "SPF-E405": (zone_with("v=spf1 include:bad.example -all",
                           **{"bad.example": {"TXT": "v=spf1 ipv4:192.0.2.1 -all"}}),
                 zone_with(includes(1))),
    "SPF-E406": (zone_with("v=spf1 include:a.example -all",
                           **{"a.example": {"TXT": "v=spf1 include:example.com -all"}}),
                 zone_with("v=spf1 include:c0.example include:c0.example -all")),
    "SPF-E407": (zone_with("v=spf1 redirect=gone.example"), zone_with("v=spf1 redirect=c0.example")),
    "SPF-E408": (zone_with("v=spf1 mx -all", **{"example.com": {
        "TXT": "v=spf1 mx -all", "MX": [(k, f"m{k}.example") for k in range(11)]}}),
                 zone_with("v=spf1 mx -all", **{"example.com": {
        "TXT": "v=spf1 mx -all", "MX": [(k, f"m{k}.example") for k in range(10)]}})),
    "SPF-W409": (zone_with("v=spf1 -all exp=why.example"),
                 zone_with("v=spf1 -all exp=why.example", **{"why.example": {"TXT": "go away"}})),
    "SPF-W410": (zone_with("v=spf1 -all exp=why.example", **{"why.example": {"TXT": ["a", "b"]}}),
                 zone_with("v=spf1 -all exp=why.example", **{"why.example": {"TXT": "go away"}})),
    "SPF-W411": (zone_with("v=spf1 -all exp=why.example", **{"why.example": {"TXT": "100% wrong"}}),
                 zone_with("v=spf1 -all exp=why.example", **{"why.example": {"TXT": "100%% %{i}"}})),
    "SPF-W412": (zone_with("v=spf1 include:slow.example -all", **{"slow.example": "TIMEOUT"}),
                 zone_with(includes(1))),
    "SPF-I413": (zone_with("v=spf1 exists:%{ir}.%{l1r+-}._spf.example.com -all"),
                 zone_with("v=spf1 exists:%{d}.example.net -all")),
}


def test_every_code_has_a_case() -> None:
    assert set(CASES) == set(TREE_CODES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_triggers(code: str) -> None:
    found = only(CASES[code][0], code)
    info = TREE_CODES[code]
    assert (found.severity, found.rfc) == (info.severity, info.rfc)
    assert found.message and found.fix
    assert found.domain


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_stays_quiet(code: str) -> None:
    assert code not in codes(CASES[code][1])


def test_a_clean_tree_has_no_findings() -> None:
    assert tree_findings(tree(zone_with(includes(2)))) == []
    assert tree_findings(tree({"example.com": {"A": "192.0.2.1"}})) == []  # no record: not ours


# -- the codes table -----------------------------------------------------------------------


def test_codes_are_in_the_reserved_range_and_consistent() -> None:
    for code, info in TREE_CODES.items():
        assert re.fullmatch(r"SPF-[EWI]4\d\d", code)
        assert {"E": Severity.ERROR, "W": Severity.WARNING, "I": Severity.INFO}[code[4]] is info.severity
        assert isinstance(info, CodeInfo) and info.rfc.startswith("7208 §")
    assert not set(TREE_CODES) & set(CODES)  # lint/codes.py keeps 4xx for the tree rules
    assert not any(code[5] == "4" for code in CODES)


def test_the_docs_table_matches() -> None:
    rows = re.findall(r"^\| `(SPF-[EWI]4\d\d)` \| (\w+) \| (.+?) \| (.+?) \|$",
                      (DOCS / "lint-tree-codes.md").read_text(encoding="utf-8"), re.MULTILINE)
    assert {code: (sev, title, rfc) for code, sev, title, rfc in rows} == {
        code: (info.severity.value, info.title, info.rfc) for code, info in TREE_CODES.items()}


# -- what the findings say and fix -----------------------------------------------------------


def linted(zone: dict[str, Any], code: str, domain: str = "example.com") -> Finding:
    """``lint_domain``'s one finding ``code`` (it adds the flattening to SPF-E401)."""
    report = asyncio.run(lint_domain(domain, MemoryResolver(zone)))
    [found] = [f for f in report.findings if f.code == code]
    return found


def test_over_the_limit_names_the_11th_and_flattens() -> None:
    zone = zone_with(includes(6))
    found = linted(zone, "SPF-E401")
    assert "needs 12 DNS lookups" in found.message
    assert "include:c5.example in the record of example.com" in found.message
    assert "include:c0.example 2" in found.fix
    assert "proven to give the same result for every IPv4 and IPv6 address" in found.fix
    # the fixed record, published in place of the old one, stays within the limit
    assert found.fixed_record is not None and found.fixed_record.startswith("v=spf1 ")
    assert found.extra_records == ()
    fixed = tree({**zone, "example.com": {"TXT": found.fixed_record}})
    assert fixed.lookups_v4 <= 10 and fixed.lookups_v6 <= 10
    assert fixed.result_v4.result.value == "fail"
    assert "SPF-E401" not in [f.code for f in tree_findings(fixed)]
    # and it authorises what the tree meant: the six include targets' addresses pass
    for k in range(6):
        for ip in (f"192.0.2.{k + 1}", f"2001:db8::{k + 1}"):
            result = asyncio.run(check_host(ip, "example.com", "", resolver=MemoryResolver(
                {**zone, "example.com": {"TXT": found.fixed_record}})))
            assert result.result.value == "pass", ip
    # the tree rules alone (no resolver) name the costs but offer no record
    assert only(zone, "SPF-E401").fixed_record is None


def test_over_the_limit_with_chained_records_and_a_refusal() -> None:
    zone = {"example.com": {"TXT": "v=spf1 " + " ".join(
        f"include:w{k}.example" for k in range(11)) + " -all"}}
    for k in range(11):
        nets = " ".join(f"ip4:10.{k}.{j}.0/24" for j in range(0, 40, 2))
        zone[f"w{k}.example"] = {"TXT": f"v=spf1 {nets} -all"}
    found = linted(zone, "SPF-E401")
    assert found.fixed_record is not None and len(found.extra_records) >= 2
    assert "chained records to publish first" in found.fix
    published = {**zone, "example.com": {"TXT": found.fixed_record},
                 **{name: {"TXT": text} for name, text in found.extra_records}}
    for ip, want in (("10.3.4.9", "pass"), ("10.3.5.9", "fail"), ("10.10.38.1", "pass")):
        result = asyncio.run(check_host(ip, "example.com", "", resolver=MemoryResolver(published)))
        assert result.result.value == want, ip
    # a tree whose ptr keeps the costly include as written: no record, and the reason
    zone["w0.example"] = {"TXT": "v=spf1 ptr " + " ".join(
        f"include:w{k}.example" for k in range(1, 11)) + " -all"}
    zone["example.com"] = {"TXT": "v=spf1 include:w0.example -all"}
    found = linted(zone, "SPF-E401")
    assert found.fixed_record is None and "cannot do it" in found.fix
    assert "cannot flatten below the limit" in found.fix


def test_near_the_limit_is_a_warning_only() -> None:
    assert codes(zone_with(includes(4))) == ["SPF-W402"]
    assert codes(zone_with(includes(5))) == ["SPF-W402"]  # exactly 10: still allowed


def test_flattening_keeps_includes_that_cannot_be_flattened() -> None:
    """An include whose record has exists depends on the client: it stays as written."""
    zone = zone_with(includes(5, "include:x.example -all"), **{
        "x.example": {"TXT": "v=spf1 exists:%{i}.x.example -all"}})
    found = linted(zone, "SPF-E401")
    assert found.fixed_record is not None and "include:x.example" in found.fixed_record


def test_families_differ_and_say_why() -> None:
    """The issue: "an IPv6 client costs ..." when a targets lack AAAA."""
    zone = zone_with("v=spf1 a:no1.example a:v4a.example a:v4b.example a:v4c.example -all", **{
        "v4a.example": {"A": "192.0.2.10"}, "v4b.example": {"A": "192.0.2.11"},
        "v4c.example": {"A": "192.0.2.12"}})
    found = only(zone, "SPF-E403")
    assert found.message.startswith("An IPv6 client causes 4 void lookups (an IPv4 client 1) because")
    assert "an IPv4 client 1" in found.message and "because" in found.message
    assert "AAAA v4a.example: NODATA" in found.message
    # the fix replaces the a terms by the addresses they have
    assert found.fixed_record is not None
    fixed = tree({**zone, "example.com": {"TXT": found.fixed_record}})
    assert fixed.void_v6 <= 2 and "ip4:192.0.2.10" in found.fixed_record


def test_lookups_differ_by_family() -> None:
    zone = {"example.com": {"TXT": "v=spf1 include:%{v}.example.com -all"},
            "in-addr.example.com": {"TXT": "v=spf1 ip4:192.0.2.0/24 -all"},
            "ip6.example.com": {"TXT": includes(5)}, **hosts("c", 5)}
    found = only(zone, "SPF-E401")
    assert found.message.startswith("An IPv6 client costs 11 DNS lookups (an IPv4 client 1) because")
    assert "ip6.example.com" in found.message and "c4.example" in found.message


def test_missing_include_fix_drops_it() -> None:
    found = only(zone_with("v=spf1 include:nothere.example include:c0.example -all"), "SPF-E404")
    assert found.term == "include:nothere.example" and found.column == 7
    assert found.fixed_record == "v=spf1 include:c0.example -all"


def test_missing_include_found_by_looking_ahead() -> None:
    """After a broken include stops the evaluation, a later missing include is still reported."""
    zone = zone_with("v=spf1 include:bad.example include:nothere.example -all",
                     **{"bad.example": {"TXT": "v=spf1 ipv4:192.0.2.1 -all"}})
    assert codes(zone) == ["SPF-E404", "SPF-E405"]
    assert "looking ahead" in only(zone, "SPF-E404").message


def test_error_in_an_include_sits_there() -> None:
    found = only(CASES["SPF-E405"][0], "SPF-E405")
    assert found.domain == "bad.example" and found.term == "include:bad.example"
    assert found.fixed_record == "v=spf1 -all"


def test_loop_names_the_closing_term() -> None:
    found = only(CASES["SPF-E406"][0], "SPF-E406")
    assert found.domain == "a.example" and found.term == "include:example.com"
    assert "example.com -> a.example -> example.com" in found.message


def test_exp_fix_and_place() -> None:
    found = only(CASES["SPF-W409"][0], "SPF-W409")
    assert found.term == "exp=why.example" and found.fixed_record == "v=spf1 -all"


def test_sender_dependent_names_the_sample() -> None:
    found = only(CASES["SPF-I413"][0], "SPF-I413", sender="bob@example.org")
    assert "bob@example.org" in found.message and "%{ir}" in found.message
    assert found.severity is Severity.INFO
