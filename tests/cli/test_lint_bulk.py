"""``spfkit lint`` over several domains: arguments, ``--from-file``, one line per domain.

Over real DNS on loopback (a UDP/TCP server answering the zone below) and the bundled example
zone; the domains are the shapes issue 15 found in published records, so the bulk output is
also the end-to-end test of those rules (in this process, see ``tests/cli/conftest.py``).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spfkit.cli.lint_bulk import lint_domains
from spfkit.lint.summary import COLUMNS
from spfkit.lookup import MemoryResolver
from spfkit.lookup.protocol import Lookup, RRType
from tests.cli.conftest import spfkit
from tests.fixtures.dnsserver import ZoneDataServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ZONE = ROOT / "examples" / "example.zone"

ZONE = {
    "clean.example.net": [{"TXT": "v=spf1 ip4:192.0.2.0/24 -all"}],
    "after-all.example.net": [{"TXT": "v=spf1 -all include:_spf.example.net"}],
    "_spf.example.net": [{"TXT": "v=spf1 ip4:198.51.100.0/24 ?all"}],
    "neutral.example.net": [{"TXT": "v=spf1 ip4:192.0.2.1 ?all"}],
    "bare.example.net": [{"TXT": "v=spf1 _spf.example.net ~all"}],
    "copied.example.net": [{"TXT": "v=spf1 ip4:192.0.2.1 ~allCOPY"}],
    "token.example.net": [{"TXT": "v=spf1 ip4:192.0.2.1 MS=ms12345678 -all"},
                          {"TXT": "google-site-verification=abc123"}],
    "wide.example.net": [{"TXT": "ｖ＝ｓｐｆ１　ｉｐ４：１９２．０．２．１　～ａｌｌ"}],
}

#: domain → (exit status, codes) as the rules define them (docs/lint-codes.md)
EXPECTED = {
    "clean.example.net": (0, []),
    "after-all.example.net": (1, ["SPF-W330"]),
    "_spf.example.net": (0, ["SPF-I331"]),
    "neutral.example.net": (1, ["SPF-W305"]),
    "bare.example.net": (2, ["SPF-E222"]),
    "copied.example.net": (2, ["SPF-E223"]),
    "token.example.net": (1, ["SPF-W333"]),
    "wide.example.net": (2, ["SPF-E101", "SPF-E202"]),
}


@pytest.fixture(scope="module")
def dns() -> Iterator[ZoneDataServer]:
    with ZoneDataServer(ZONE) as server:
        yield server


def lint_dns(dns: ZoneDataServer, *args: str, stdin: str | None = None
             ) -> subprocess.CompletedProcess[str]:
    return spfkit("lint", "--nameserver", f"127.0.0.1:{dns.port}", "--timeout", "2", *args,
                  stdin=stdin)


def rows(proc: subprocess.CompletedProcess[str]) -> list[dict[str, str]]:
    lines = proc.stdout.splitlines()
    assert lines[0] == ",".join(COLUMNS)
    return list(csv.DictReader(io.StringIO(proc.stdout)))


def test_csv_has_a_header_and_one_line_per_domain_in_order(dns: ZoneDataServer) -> None:
    proc = lint_dns(dns, "--format", "csv", *EXPECTED)
    assert proc.stderr == ""
    assert proc.stdout.count("\n") == len(EXPECTED) + 1
    got = rows(proc)
    assert [r["domain"] for r in got] == list(EXPECTED)
    assert {r["domain"]: (int(r["exit_status"]), r["codes"].split()) for r in got} == EXPECTED
    assert proc.returncode == 2  # the worst of all


def test_csv_columns_carry_counts_and_the_fix(dns: ZoneDataServer) -> None:
    got = {r["domain"]: r for r in rows(lint_dns(dns, "--format", "csv", *EXPECTED))}
    moved = got["after-all.example.net"]
    assert (moved["status"], moved["errors"], moved["warnings"], moved["info"]) == \
        ("warnings", "0", "1", "0")
    assert moved["fixed_record"] == "v=spf1 include:_spf.example.net -all"
    # receivers never reach the include after '-all', so it costs no lookup (§5.1)
    assert (moved["lookups_ipv4"], moved["lookups_ipv6"]) == ("0", "0")
    assert (moved["void_ipv4"], moved["void_ipv6"]) == ("0", "0")
    assert got["bare.example.net"]["fixed_record"] == "v=spf1 include:_spf.example.net ~all"
    assert got["copied.example.net"]["fixed_record"] == "v=spf1 ip4:192.0.2.1 ~all"
    # no v=spf1 record (only a full-width one): no tree, so no counts
    assert got["wide.example.net"]["lookups_ipv4"] == ""
    assert got["clean.example.net"]["status"] == "clean"


def test_json_is_one_object_per_line(dns: ZoneDataServer) -> None:
    proc = lint_dns(dns, "--format", "json", *EXPECTED)
    objects = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["domain"] for o in objects] == list(EXPECTED)
    assert all(list(o) == list(COLUMNS) for o in objects)
    assert {o["domain"]: (o["exit_status"], o["codes"]) for o in objects} == EXPECTED
    wide = objects[-1]
    assert wide["lookups_ipv4"] is None and wide["status"] == "errors"
    assert proc.returncode == 2


@pytest.mark.parametrize(("domains", "status"), [
    (["clean.example.net"], 0), (["clean.example.net", "_spf.example.net"], 0),
    (["clean.example.net", "neutral.example.net"], 1),
    (["neutral.example.net", "bare.example.net", "clean.example.net"], 2),
])
def test_exit_status_is_the_worst_of_all(dns: ZoneDataServer, domains: list[str],
                                         status: int) -> None:
    for fmt in ("text", "csv", "json"):
        assert lint_dns(dns, "--format", fmt, *domains).returncode == status, fmt


def test_from_file_and_standard_input(dns: ZoneDataServer, tmp_path: Path) -> None:
    listing = ("# the domains we run\n\nclean.example.net\n  neutral.example.net.  # trailing dot\n"
               "CLEAN.example.net\n")
    path = tmp_path / "domains.txt"
    path.write_text(listing)
    from_path = lint_dns(dns, "--format", "csv", "--from-file", str(path), "bare.example.net")
    from_stdin = lint_dns(dns, "--format", "csv", "--from-file", "-", "bare.example.net",
                          stdin=listing)
    assert from_path.stdout == from_stdin.stdout
    # arguments first, then the file; each domain once
    assert [r["domain"] for r in rows(from_path)] == ["bare.example.net", "clean.example.net",
                                                      "neutral.example.net"]
    assert from_path.returncode == from_stdin.returncode == 2


def test_text_prints_every_report_in_full_and_a_total(dns: ZoneDataServer) -> None:
    proc = lint_dns(dns, "clean.example.net", "after-all.example.net")
    out = proc.stdout
    assert out.index("clean.example.net") < out.index("after-all.example.net")
    assert "SPF-W330" in out and "corrected record: v=spf1 include:_spf.example.net -all" in out
    assert "2 domains linted, 1 with warnings or errors" in out
    assert proc.returncode == 1


def test_json_flag_gives_the_full_reports_as_a_list(dns: ZoneDataServer) -> None:
    one = json.loads(lint_dns(dns, "--json", "clean.example.net").stdout)
    assert isinstance(one, dict) and one["domain"] == "clean.example.net"
    many = json.loads(lint_dns(dns, "--json", "clean.example.net", "token.example.net").stdout)
    assert [r["domain"] for r in many] == ["clean.example.net", "token.example.net"]
    assert many[1]["findings"][0]["code"] == "SPF-W333"


def test_concurrency_is_bounded_but_the_order_is_kept(dns: ZoneDataServer) -> None:
    serial = lint_dns(dns, "--format", "json", "--jobs", "1", *EXPECTED)
    wide = lint_dns(dns, "--format", "json", "--jobs", "64", *EXPECTED)
    assert serial.stdout == wide.stdout


def test_a_dns_failure_is_that_domain_s_error_only() -> None:
    # nothing listens on this port: every query times out; each domain says so
    from tests.fixtures.ports import free_port

    port = free_port()
    proc = spfkit("lint", "--nameserver", f"127.0.0.1:{port}", "--timeout", "0.2", "--format",
                  "csv", "a.example.net", "b.example.net")
    got = rows(proc)
    assert [(r["domain"], r["codes"]) for r in got] == [("a.example.net", "SPF-E103"),
                                                         ("b.example.net", "SPF-E103")]
    assert proc.returncode == 2


def test_the_bundled_zone_as_csv() -> None:
    proc = spfkit("lint", "--zone", str(EXAMPLE_ZONE), "--format", "csv")
    got = {r["domain"]: r for r in rows(proc)}
    assert got["legacy.example.com"]["codes"] == "SPF-E211"
    assert got["news.example.com"]["lookups_ipv4"] == "3"
    assert proc.returncode == 2


@pytest.mark.parametrize(("listing", "message"), [
    ("clean.example.net\nnot a domain\n", "line 2: 'not a domain' is not a domain name"),
    ("# nothing\n\n", "no domains in it"),
    (b"\xff\xfe\x00".decode("latin-1"), "is not a domain name"),
])
def test_a_bad_file_is_a_usage_error(dns: ZoneDataServer, listing: str, message: str) -> None:
    proc = lint_dns(dns, "--format", "csv", "--from-file", "-", stdin=listing)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr


def test_help_documents_bulk_use() -> None:
    text = spfkit("lint", "--help").stdout
    for part in ("[DOMAIN]...", "--from-file FILE", "--format [text|csv|json]", "--jobs N",
                 "one line per domain", "the worst status", "of all the domains"):
        assert part in text, part


class _Watching(MemoryResolver):
    """A resolver that notes how many domains of the run have a lookup in flight at once."""

    def __init__(self, zone: dict[str, object]) -> None:
        super().__init__(zone)
        self.busy: dict[str, int] = {}
        self.most = 0

    async def lookup(self, rrtype: RRType, name: str) -> Lookup[Any]:
        domain = name.rstrip(".").split(".", 1)[-1] if name.startswith("_") else name
        self.busy[domain] = self.busy.get(domain, 0) + 1
        self.most = max(self.most, sum(1 for n in self.busy.values() if n))
        for _ in range(3):  # let every other task that can start a lookup do so
            await asyncio.sleep(0)
        self.busy[domain] -= 1
        return await super().lookup(rrtype, name)


@pytest.mark.parametrize("jobs", [1, 2, 5])
def test_at_most_jobs_domains_are_linted_at_once(jobs: int) -> None:
    zone: dict[str, object] = {f"d{n}.example": {"TXT": "v=spf1 ip4:192.0.2.1 -all"}
                               for n in range(12)}
    resolver = _Watching(zone)
    reports = asyncio.run(lint_domains(list(zone), resolver, jobs))
    assert [r.domain for r in reports] == list(zone)
    assert resolver.most == jobs  # reached, never passed


def test_without_a_bound_every_domain_would_start_at_once() -> None:
    """The check above can fail: with room for all, all twelve are in flight together."""
    zone: dict[str, object] = {f"d{n}.example": {"TXT": "v=spf1 -all"} for n in range(12)}
    resolver = _Watching(zone)
    asyncio.run(lint_domains(list(zone), resolver, 64))
    assert resolver.most == 12
