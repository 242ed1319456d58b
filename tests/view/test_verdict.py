"""view.verdict: /check's one sentence, fine / some receivers / everyone (issue 15 item 7)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from spfkit.lint import lint_domain
from spfkit.lookup import ZoneResolver
from spfkit.tree import build_tree
from spfkit.view.verdict import AddressCount, Verdict, domain_verdict

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ROOT = Path(__file__).resolve().parents[2]
ZONE = ZoneResolver(FIXTURES / "issue15.zone")
EXAMPLE = ZoneResolver(ROOT / "examples" / "example.zone")


def verdict_of(domain: str, zone: ZoneResolver = ZONE):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        tree = await build_tree(domain, zone)
        report = await lint_domain(domain, zone, tree=tree)
        return domain_verdict(tree, report.findings)
    return asyncio.run(run())


@pytest.mark.parametrize(("domain", "zone", "verdict", "words"), [
    ("over.example", ZONE, Verdict.EVERYONE, "needs 11 DNS lookups (the limit is 10)"),
    ("legacy.example.com", EXAMPLE, Verdict.EVERYONE, "192.0.2.300"),
    ("v6broken.example", ZONE, Verdict.SOME, "all mail from IPv6 clients"),
    ("fine.example", ZONE, Verdict.FINE, "hosts the record does not list are refused"),
    ("full.example", ZONE, Verdict.FINE, "10/10 DNS lookups: one more include breaks it"),
    ("shop.example.com", EXAMPLE, Verdict.NONE, "publishes no SPF record"),
    ("nowhere.example", ZONE, Verdict.NONE, "does not exist (NXDOMAIN)"),
])
def test_verdicts(domain: str, zone: ZoneResolver, verdict: Verdict, words: str) -> None:
    found = verdict_of(domain, zone)
    assert found.verdict is verdict
    assert words in found.why
    assert found.sentence.startswith(verdict.headline + ": ")
    assert found.sentence.endswith(".") and ". " not in found.sentence


def test_headlines() -> None:
    assert [v.headline for v in Verdict] == [
        "Fine", "Will break for some receivers", "Broken for everyone",
        "Anyone may send as this domain", "No SPF protection"]


def test_a_record_that_passes_everyone_says_so(tmp_path: Path) -> None:
    """SPF-E304 through an include of "+all": nothing breaks, everyone passes (§5.1)."""
    zone = tmp_path / "open.zone"
    zone.write_text("$ORIGIN test.\n$TTL 300\n@ IN SOA ns hostmaster 1 1 1 1 1\n"
                    'open IN TXT "v=spf1 +all"\nuses IN TXT "v=spf1 include:open.test -all"\n')
    found = verdict_of("uses.test", ZoneResolver(zone))
    assert found.verdict is Verdict.ANYONE
    assert "include:open.test" in found.why and "SPF-E304" in found.why


def test_address_count_slot() -> None:
    assert verdict_of("fine.example").addresses is None
    count = AddressCount(ipv4=256, ipv6=1 << 80)
    assert count.text == "authorises 256 IPv4 addresses and 2^80 IPv6 addresses"
    assert AddressCount(1, 0).text == "authorises 1 IPv4 address and 0 IPv6 addresses"
    # 5e9 = 2^32.2: beyond a billion, powers of two say more than digits
    assert AddressCount(5_000_000_000, 3).text.startswith("authorises ~2^32.2 IPv4")


def test_as_dict() -> None:
    data = verdict_of("over.example").as_dict()
    assert data["verdict"] == "everyone" and data["headline"] == "Broken for everyone"
    assert data["authorised_addresses"] is None
    assert data["budget"]["lookups"]["text"] == "11/10"  # type: ignore[index]


def test_amounts_never_round_up_to_a_power_they_do_not_reach() -> None:
    from spfkit.view.check import amount

    assert amount((1 << 32) - (1 << 24)) == "4,278,190,080"  # every IPv4 count in digits
    assert amount(1 << 32) == "4,294,967,296"
    assert amount((1 << 128) - (1 << 32)) == "just under 2^128"
    assert amount((1 << 81) + 5) == "just over 2^81"
    assert amount(1 << 64) == "2^64" and amount(3 << 69) == "~2^70.6"
