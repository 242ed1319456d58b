"""``spfkit lint --format csv|json`` (``lint/summary.py``) and ``lint --json``: the lookup and
void-lookup counts are the real totals (RFC 7208 §4.6.4), past the limit too (11/10) — the
numbers ``spfkit show --json`` gives for the same zone, never the receivers' counts that stop
at the limit."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from spfkit.lint.summary import COLUMNS
from tests.cli.conftest import spfkit

A_TERMS = " ".join(["a"] * 11)
ZONE = f"""$ORIGIN t.
$TTL 300
lim      IN TXT "v=spf1 {A_TERMS} -all"
lim      IN A   192.0.2.1
ten      IN TXT "v=spf1 {" ".join(["a"] * 10)} -all"
ten      IN A   192.0.2.2
ten      IN AAAA 2001:db8::2
voids    IN TXT "v=spf1 a:n1.t a:n2.t a:n3.t a:n4.t -all"
chain    IN TXT "v=spf1 include:c1.t include:c2.t -all"
c1       IN TXT "v=spf1 {" ".join(["a:ten.t"] * 6)} -all"
c2       IN TXT "v=spf1 {" ".join(["a:ten.t"] * 6)} -all"
small    IN TXT "v=spf1 a -all"
small    IN A   192.0.2.3
"""
DOMAINS = ("lim.t", "ten.t", "voids.t", "chain.t", "small.t")
FIELDS = ("lookups_ipv4", "lookups_ipv6", "void_ipv4", "void_ipv6")


@pytest.fixture(scope="module")
def zone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("summary") / "tt.zone"
    path.write_text(ZONE)
    return path


def _shown(zone: Path, domain: str) -> dict[str, int]:
    """The real totals ``spfkit show --json`` draws its gauges with."""
    budget = json.loads(spfkit("show", "--zone", str(zone), "--json", domain).stdout)["budget"]
    return {f"{what}_ipv{v}": budget[f"ipv{v}"][key]["needed"]
            for v in (4, 6) for what, key in (("lookups", "lookups"), ("void", "void_lookups"))}


@pytest.fixture(scope="module")
def shown(zone: Path) -> dict[str, dict[str, int]]:
    return {d: _shown(zone, d) for d in DOMAINS}


def test_the_zone_goes_past_the_limits(shown: dict[str, dict[str, int]]) -> None:
    """The cases are the ones worth comparing: over 10 lookups, over 2 void lookups, within."""
    assert shown["lim.t"]["lookups_ipv4"] > 10 and shown["lim.t"]["void_ipv6"] > 2
    assert shown["chain.t"]["lookups_ipv4"] > 10 and shown["voids.t"]["void_ipv4"] > 2
    assert shown["small.t"]["lookups_ipv4"] < 10


def test_csv_counts_are_shows(zone: Path, shown: dict[str, dict[str, int]]) -> None:
    proc = spfkit("lint", "--zone", str(zone), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert tuple(rows[0]) == COLUMNS
    got = {r["domain"]: {f: int(r[f]) for f in FIELDS} for r in rows}
    assert {d: got[d] for d in DOMAINS} == shown


def test_json_lines_counts_are_shows(zone: Path, shown: dict[str, dict[str, int]]) -> None:
    proc = spfkit("lint", "--zone", str(zone), "--format", "json")
    got = {d["domain"]: {f: d[f] for f in FIELDS}
           for d in map(json.loads, proc.stdout.splitlines())}
    assert {d: got[d] for d in DOMAINS} == shown


@pytest.mark.parametrize("domain", DOMAINS)
def test_full_json_report_counts_are_shows(zone: Path, shown: dict[str, dict[str, int]],
                                           domain: str) -> None:
    report = json.loads(spfkit("lint", "--zone", str(zone), "--json", domain).stdout)
    got = {f"{what}_ipv{v}": report[key][f"ipv{v}"]
           for v in (4, 6) for what, key in (("lookups", "lookups"), ("void", "void_lookups"))}
    assert got == shown[domain]
