"""SPF-W350: a domain whose compiled policy passes more than 100,000 IPv4 addresses, with
the terms that contribute them; quiet below the limit and for "+all" (SPF-E304's case)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from spfkit.compile import AddressCounts, Contributor
from spfkit.lint import lint_domain
from spfkit.lint.address_rules import address_findings
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
"""


def _codes(domain: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "test.zone"
    path.write_text(ZONE)
    report = asyncio.run(lint_domain(domain, ZoneResolver(str(path))))
    return [f.message for f in report.findings if f.code == "SPF-W350"]


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
