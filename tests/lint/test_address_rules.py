"""The rules over the compiled pass set: SPF-W350 for more than 100,000 IPv4 addresses, with
the terms that contribute them (quiet below the limit); SPF-E304 when every IPv4 or every
IPv6 address passes, wherever that comes from (an include, a redirect, networks that add up),
reported once beside the record rules' SPF-E304 for a literal "+all" or "/0"."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from spfkit.compile import AddressCounts, Contributor
from spfkit.lint import Finding, LintReport, lint_domain
from spfkit.lint.address_rules import EVERY_IPV4, EVERY_IPV6, address_findings
from spfkit.lookup import ZoneResolver

ZONE = """$ORIGIN test.
$TTL 300
big      IN TXT "v=spf1 include:_spf.provider.test mx:big.test a:mail.big.test -all"
big      IN MX  10 mail.big.test.
mail.big IN A   192.0.2.25
_spf.provider IN TXT "v=spf1 ip4:10.0.0.0/15 include:_more.provider.test ?all"
_more.provider IN TXT "v=spf1 ip4:172.16.0.0/24 ptr ~all"
small    IN TXT "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 ~all"
open     IN TXT "v=spf1 +all"
incall   IN TXT "v=spf1 include:pall.test -all"
pall     IN TXT "v=spf1 +all"
inczero  IN TXT "v=spf1 ip4:192.0.2.0/24 include:pzero.test -all"
pzero    IN TXT "v=spf1 ip4:0.0.0.0/0 -all"
halves   IN TXT "v=spf1 ip4:0.0.0.0/1 ip4:128.0.0.0/1 -all"
halves6  IN TXT "v=spf1 ip4:192.0.2.0/24 ip6:::/1 ip6:8000::/1 -all"
inc6     IN TXT "v=spf1 include:p6.test -all"
p6       IN TXT "v=spf1 ip6:::/0 -all"
nomapped IN TXT "v=spf1 -ip6:::ffff:0:0/96 ip6:::/1 ip6:8000::/2 ip6:c000::/2 -all"
redir    IN TXT "v=spf1 redirect=pall.test"
literal  IN TXT "v=spf1 mx +all"
literal  IN MX  10 mail.big.test.
zero4    IN TXT "v=spf1 ip4:0.0.0.0/0 ip6:::/1 ip6:8000::/1 -all"
both     IN TXT "v=spf1 include:pall.test ~all"
"""


def _lint(domain: str, tmp_path: Path) -> LintReport:
    path = tmp_path / "test.zone"
    path.write_text(ZONE)
    return asyncio.run(lint_domain(domain, ZoneResolver(str(path))))


def _codes(domain: str, tmp_path: Path, code: str = "SPF-W350") -> list[str]:
    return [f.message for f in _lint(domain, tmp_path).findings if f.code == code]


def _anyone(domain: str, tmp_path: Path) -> list[Finding]:
    return [f for f in _lint(domain, tmp_path).findings if f.code == "SPF-E304"]


def test_a_big_include_is_named(tmp_path: Path) -> None:
    [message] = _codes("big.test", tmp_path)
    # 2^17 from the provider, 256 from its include; every other client reaches its "ptr"
    # (the answer depends on the client), so "mx" and "a" are never counted: "at least"
    assert message == ("big.test authorises at least 131,328 IPv4 addresses; most come from "
                       "include:_spf.provider.test (131,328)")


def test_quiet_for_a_small_policy_and_for_plus_all(tmp_path: Path) -> None:
    assert _codes("small.test", tmp_path) == []
    assert _codes("open.test", tmp_path) == []


def test_the_limit_is_more_than_100000() -> None:
    def counts(n: int) -> AddressCounts:
        return AddressCounts("d.test", n, 0, True, (Contributor("d.test", "ip4:x", n, 0),))
    assert address_findings(counts(100_000)) == []
    [found] = address_findings(counts(100_001))
    assert found.term == "ip4:x" and found.domain == "d.test" and found.severity.value == "warning"


# -- SPF-E304 from the compiled pass set ---------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "every", "through", "fix"),
    [
        ("incall.test", "every IPv4 and every IPv6 address", "'include:pall.test'",
         "remove 'include:pall.test'"),
        ("inczero.test", "every IPv4 address", "'include:pzero.test'",
         "remove 'include:pzero.test'"),
        ("halves.test", "every IPv4 address", "'ip4:0.0.0.0/1' and 'ip4:128.0.0.0/1'",
         "list only your own networks"),
        ("halves6.test", "every IPv6 address", "'ip6:8000::/1' and 'ip6:::/1'",
         "list only your own networks"),
        ("inc6.test", "every IPv6 address", "'include:p6.test'", "remove 'include:p6.test'"),
        # all of ::/0 but the IPv4-mapped range, whose clients are checked as IPv4 (§5)
        ("nomapped.test", "every IPv6 address", "'ip6:::/1', 'ip6:8000::/2' and 'ip6:c000::/2'",
         "list only your own networks"),
        ("redir.test", "every IPv4 and every IPv6 address", "'+all' in pall.test",
         "correct the record of pall.test"),
    ],
)
def test_anyone_may_send_wherever_it_comes_from(tmp_path: Path, domain: str, every: str,
                                                through: str, fix: str) -> None:
    report = _lint(domain, tmp_path)
    [found] = [f for f in report.findings if f.code == "SPF-E304"]
    assert found.message.startswith(f"{domain} passes SPF for {every}, through {through}")
    assert "anyone can send mail in its name" in found.message
    assert fix in found.fix and found.domain == domain and found.severity.value == "error"
    assert found.fixed_record is None  # no safe edit: the provider's record is not ours
    assert "SPF-W350" not in [f.code for f in report.findings]
    assert report.exit_status == 2


def test_a_literal_plus_all_is_reported_once_with_its_fix(tmp_path: Path) -> None:
    """The record rules' SPF-E304, at its column with its corrected record; no second one."""
    for domain, term, column, fixed in (("literal.test", "+all", 10, "v=spf1 mx ~all"),
                                        ("open.test", "+all", 7, "v=spf1 ~all"),
                                        ("pall.test", "+all", 7, "v=spf1 ~all"),
                                        ("pzero.test", "ip4:0.0.0.0/0", 7, "v=spf1 -all")):
        [found] = _anyone(domain, tmp_path)
        assert (found.term, found.column, found.fixed_record) == (term, column, fixed), domain


def test_a_literal_for_one_version_and_networks_for_the_other(tmp_path: Path) -> None:
    """ip4:0.0.0.0/0 is the record rules' (with its fix); the IPv6 halves are this rule's."""
    literal, compiled = sorted(_anyone("zero4.test", tmp_path), key=lambda f: f.column is None)
    assert literal.term == "ip4:0.0.0.0/0" and literal.fixed_record is not None
    assert compiled.column is None and "every IPv6 address" in compiled.message
    assert "IPv4" not in compiled.message


def test_an_include_that_passes_everyone_is_named_beside_a_literal_all(tmp_path: Path) -> None:
    [found] = _anyone("both.test", tmp_path)
    assert "'include:pall.test'" in found.message


def test_quiet_for_a_policy_that_passes_less_than_everyone(tmp_path: Path) -> None:
    for domain in ("big.test", "small.test"):
        assert _anyone(domain, tmp_path) == []


def test_every_address_is_not_many_but_anyone() -> None:
    counts = AddressCounts("d.test", EVERY_IPV4, EVERY_IPV6, True,
                           (Contributor("d.test", "ip4:0.0.0.0/1", 1 << 31, 0),
                            Contributor("d.test", "ip4:128.0.0.0/1", 1 << 31, 0),
                            Contributor("d.test", "include:six.test", 0, EVERY_IPV6)))
    [found] = address_findings(counts)
    assert found.code == "SPF-E304" and found.term == "ip4:0.0.0.0/1"
    assert "every IPv4 and every IPv6 address" in found.message
    assert "'include:six.test'" in found.message and "remove 'include:six.test'" in found.fix
    # a term the record rules already report silences only the versions it passes
    [six] = address_findings(counts, reported=["ip4:0.0.0.0/1"])
    assert "every IPv6 address" in six.message and "IPv4" not in six.message
    assert address_findings(counts, reported=["ip4:0.0.0.0/1", "include:six.test"]) == []
    # one address short of everything is only "many"
    short = AddressCounts("d.test", EVERY_IPV4 - 1, EVERY_IPV6 - 1, True,
                          (Contributor("d.test", "ip4:x", EVERY_IPV4 - 1, EVERY_IPV6 - 1),))
    assert [f.code for f in address_findings(short)] == ["SPF-W350"]
