"""``spfkit flatten`` over real DNS on loopback; its zone lines loaded by named-checkzone and
tinydns-data, and the flattened domain served by real BIND judged like the original.
RFC 7208 §3.3, §4.6.4, §5; RFC 1035 §3.3.14."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

import pytest

from spfkit.compile import compile_policy
from spfkit.evaluate import check_host
from spfkit.flatten.plan import UNLIMITED
from spfkit.lookup import DnsResolver
from spfkit.wizard.zones import split_strings
from tests.cli.conftest import spfkit
from tests.fixtures.dnsserver import ZoneDataServer
from tests.fixtures.named import running_named
from tests.flatten.worlds import big_provider, world
from tests.wizard.test_real_tools import ZONE_HEAD, tinydns_data, tinydns_get, workdir

PYSPF_JUDGE = Path(__file__).resolve().parents[1] / "flatten" / "pyspf_judge.py"
__all__ = ["workdir"]  # the wizard's fixture: a world-searchable directory

@pytest.fixture
def dns() -> Iterator[ZoneDataServer]:
    loop = {"loop.example": [{"TXT": "v=spf1 include:l1.example -all"}],
            "l1.example": [{"TXT": "v=spf1 ip4:192.0.2.0/24 include:loop.example -all"}]}
    with ZoneDataServer({**world(), **big_provider(80), **loop}) as server:
        yield server


def _flatten(dns: ZoneDataServer, *args: str) -> subprocess.CompletedProcess[str]:
    return spfkit("flatten", "--nameserver", f"127.0.0.1:{dns.port}", "--timeout", "2", *args)


def test_json_says_equivalent_and_the_records_fit(dns: ZoneDataServer) -> None:
    proc = _flatten(dns, "--format", "json", "example.com")
    assert proc.returncode == 0, proc.stderr
    assert "equivalent" in proc.stderr
    out = json.loads(proc.stdout)
    assert out["equivalent"] is True and out["lookups"] == 1 and out["source_lookups"] == 14
    assert [k["term"] for k in out["kept"]] == ["exists:%{i}.wl.example.com"]
    proc = _flatten(dns, "--format", "text", "--max-record-bytes", "250", "example.org")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) > 4 and lines[0].startswith("example.org v=spf1 include:_spf1.example.org")
    assert all(len(line.split(" ", 1)[1]) <= 250 for line in lines)


def test_usage_and_refusals_exit_2_in_one_line(dns: ZoneDataServer) -> None:
    for args, message in ((["nothing.example"], "no SPF record"),
                          (["--name-pattern", "_spf.{domain}", "example.com"], "{n}"),
                          (["--format", "text", "--name-pattern", "x" * 64 + "{n}.{domain}",
                            "example.org"], "not a valid owner name"),
                          (["--target-lookups", "2", "--max-record-bytes", "100", "example.org"],
                           "cannot flatten below the limit"),
                          (["--keep", "_spf.p2.example", "--only", "_spf.p2.example",
                            "example.com"], "both --keep and --only"),
                          (["loop.example"], "broken at l1.example"),
                          # the names a --keep may take, walked through a loop
                          (["--keep", "nowhere.example", "loop.example"],
                           "--keep nowhere.example: not an include or redirect target in "
                           "loop.example's tree (what can be kept: l1.example, loop.example)")):
        proc = _flatten(dns, *args)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_state_file_has_the_networks_per_include_with_ttls(dns: ZoneDataServer,
                                                           tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    assert _flatten(dns, "--state", str(state), "example.com").returncode == 0
    entry = json.loads(state.read_text())["domains"]["example.com"]
    sources = entry["sources"]
    assert sources["_spf.p2.example"]["networks"] == [
        "192.0.2.0/25", "192.0.2.200/32", "100.64.0.0/24", "2001:db8:2::/64"] or set(
        sources["_spf.p2.example"]["networks"]) == {
        "192.0.2.0/25", "192.0.2.200/32", "100.64.0.0/24", "2001:db8:2::/64"}
    # the zone's 300 s, or what a cached answer has left of it: never more
    assert 0 < sources["_spf.p1.example"]["ttl"] <= 300 and entry["time"] > 0


def _boundaries(resolver: object, domain: str) -> list[str]:
    out: list[str] = []
    for version, make in ((4, IPv4Address), (6, IPv6Address)):
        policy = asyncio.run(compile_policy(domain, version, resolver=resolver,  # type: ignore[arg-type]
                                            options=UNLIMITED))
        for first, last, _d in policy.ranges():
            out += [str(make(first)), str(make(last))]
    return out


def test_bind_lines_load_in_named_and_bind_serves_the_same_policy(
        dns: ZoneDataServer, workdir: Path) -> None:
    lines: list[str] = []
    for domain, extra in (("example.com", []), ("example.org", ["--max-record-bytes", "300"])):
        proc = _flatten(dns, "--ttl", "300", *extra, domain)
        assert proc.returncode == 0, proc.stderr
        lines += proc.stdout.splitlines()
    # the exists target of the kept term, as in the source world
    lines.append("198.51.100.7.wl.example.com. 300 IN A 127.0.0.2")
    zone = workdir / "flat.zone"
    zone.write_text(ZONE_HEAD + "\n".join(lines) + "\n", encoding="ascii")
    check = subprocess.run(["named-checkzone", ".", str(zone)], capture_output=True, text=True,
                           timeout=60)
    assert check.returncode == 0 and check.stdout.rstrip().endswith("OK"), check.stdout
    source = DnsResolver(["127.0.0.1"], port=dns.port, timeout=3)
    with running_named(workdir / "named", zone) as port:
        bind = DnsResolver(["127.0.0.1"], port=port, timeout=3)
        asked: list[tuple[str, str]] = []
        wanted: list[str] = []
        for domain in ("example.com", "example.org"):
            # also addresses of the part the kept exists decides: ~ip4:10.0.0.0/8 after it
            extra = ["10.0.0.0", "10.255.255.255", "11.0.0.0"] if domain == "example.com" else []
            for ip in _boundaries(source, domain) + extra:
                want = asyncio.run(check_host(ip, domain, "", resolver=source, options=UNLIMITED))
                got = asyncio.run(check_host(ip, domain, "", resolver=bind))
                assert got.result == want.result, (domain, ip)
                assert got.lookups <= 10
                asked.append((ip, domain))
                wanted.append(want.result.value)
        # pyspf, a peer, judges the flattened domain through BIND like spfkit the source
        judge = subprocess.run(["/usr/bin/python3", str(PYSPF_JUDGE), str(port)],
                               input=json.dumps(asked), capture_output=True, text=True,
                               timeout=300)
        assert judge.returncode == 0, judge.stderr
        assert json.loads(judge.stdout) == wanted
        assert len(asked) > 40 and {"pass", "fail", "softfail"} <= set(wanted)


def test_tinydns_lines_load_and_mean_the_records(dns: ZoneDataServer, workdir: Path) -> None:
    text = _flatten(dns, "--format", "text", "--max-record-bytes", "300", "example.org").stdout
    records = [tuple(line.split(" ", 1)) for line in text.splitlines()]
    proc = _flatten(dns, "--format", "tinydns", "--ttl", "300", "--max-record-bytes", "300",
                    "example.org")
    assert proc.returncode == 0, proc.stderr
    data_dir = workdir / "data"
    tinydns_data(data_dir, [".example.org::ns.example.org:300", *proc.stdout.splitlines()])
    for name, record in records:
        strings, ttl = tinydns_get(data_dir, name)
        assert strings == split_strings(record) and ttl == 300, name
