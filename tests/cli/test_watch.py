"""``spfkit watch`` over real DNS on loopback: unchanged → 0, a provider change → 1 with the
diff and the new records under the alternate names, an outage → 2 (never "removed")."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import spfkit
from tests.fixtures.dnsserver import ZoneDataServer
from tests.flatten.worlds import big_provider, world


@pytest.fixture
def dns() -> Iterator[ZoneDataServer]:
    with ZoneDataServer({**world(), **big_provider(40)}) as server:
        yield server


def _ns(dns: ZoneDataServer) -> list[str]:
    return ["--nameserver", f"127.0.0.1:{dns.port}", "--timeout", "1"]


def _watch(dns: ZoneDataServer, state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return spfkit("watch", *_ns(dns), "--state", str(state), *args)


def test_unchanged_then_a_provider_change_then_an_outage(dns: ZoneDataServer,
                                                         tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    assert spfkit("flatten", *_ns(dns), "--state", str(state), "example.com").returncode == 0
    proc = _watch(dns, state, "example.com")
    assert (proc.returncode, proc.stdout.strip()) == (0, "example.com: unchanged"), proc.stderr
    dns.load({**world(p1_extra="ip4:198.51.100.128/26"), **big_provider(40)})
    proc = _watch(dns, state, "--format", "json", "example.com")
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)["example.com"]
    assert out["status"] == "changed"
    assert out["changes"] == [{"source": "_spf.p1.example", "added": ["198.51.100.128/26"],
                               "removed": []}]
    top = dict(map(tuple, out["records"]))["example.com"]  # type: ignore[arg-type]
    assert "ip4:198.51.100.128/26" in top.split()
    text = _watch(dns, state, "example.com").stdout
    assert "  _spf.p1.example:\n    + 198.51.100.128/26" in text
    # a provider outage is an error, not "all networks removed"
    data = world()
    data["_spf.p2.example"] = ["TIMEOUT"]
    dns.load({**data, **big_provider(40)})
    proc = _watch(dns, state, "example.com")
    assert proc.returncode == 2 and "error" in proc.stdout and "removed" not in proc.stdout
    assert "_spf.p2.example" in proc.stdout


def test_new_records_use_the_alternate_names_and_update_switches_them(
        dns: ZoneDataServer, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    proc = spfkit("flatten", *_ns(dns), "--max-record-bytes", "450", "--state", str(state),
                  "--format", "text", "example.org")
    assert proc.returncode == 0 and "_spf1.example.org" in proc.stdout, proc.stderr
    changed = big_provider(40)
    changed["big.p3.example"] = [{"TXT": changed["big.p3.example"][0]["TXT"].replace(
        "ip4:10.0.0.0/24", "ip4:10.9.0.0/24")}]
    dns.load({**world(), **changed})
    proc = _watch(dns, state, "--format", "json", "--update", "example.org")
    assert proc.returncode == 1
    out = json.loads(proc.stdout)["example.org"]
    assert out["changes"] == [{"source": "big.p3.example", "added": ["10.9.0.0/24"],
                               "removed": ["10.0.0.0/24"]}]
    names = [name for name, _text in out["records"]]
    assert names[0] == "example.org" and names[1] == "_spfb1.example.org"
    assert all(name.startswith("_spfb") for name in names[1:])
    # the state now holds the new networks: the next run is unchanged
    assert _watch(dns, state, "example.org").returncode == 0


def test_a_domain_new_to_the_state_is_recorded_and_a_bad_state_is_a_usage_error(
        dns: ZoneDataServer, tmp_path: Path) -> None:
    state = tmp_path / "new.json"
    proc = _watch(dns, state, "example.com")
    assert proc.returncode == 0 and "recorded" in proc.stdout
    assert "example.com" in json.loads(state.read_text())["domains"]
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    proc = _watch(dns, bad, "example.com")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    proc = _watch(dns, state, "nothing.example")
    assert proc.returncode == 2 and "no SPF record" in proc.stdout
