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
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("example.com: unchanged (14 lookups"), proc.stdout
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


@pytest.mark.parametrize("field, value", [
    ("sources", []), ("records", 5), ("lookups", "x"), ("source_record", None),
    ("sources", {"_spf.p1.example": {"networks": ["300.1.2.0/24"]}}),
    ("sources", {"_spf.p1.example": {"networks": "10.0.0.0/8"}}), ("errors", [1]),
    ("flattened", "yes"),
])
def test_a_damaged_state_file_is_an_error_never_a_change(
        dns: ZoneDataServer, tmp_path: Path, field: str, value: object) -> None:
    """Exit 1 means "a provider changed": a hand-edited or damaged file must not say so."""
    state = tmp_path / "state.json"
    assert spfkit("flatten", *_ns(dns), "--state", str(state), "example.com").returncode == 0
    data = json.loads(state.read_text())
    data["domains"]["example.com"][field] = value
    state.write_text(json.dumps(data))
    proc = _watch(dns, state, "example.com")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert "not an spfkit state file" in line and field in line or "source" in line, line
    assert "Traceback" not in proc.stderr


def test_a_state_file_nested_too_deeply_is_refused(dns: ZoneDataServer, tmp_path: Path) -> None:
    state = tmp_path / "deep.json"
    state.write_text("[" * 100_000 + "]" * 100_000)
    proc = _watch(dns, state, "example.com")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def _provider(n: int, head: str = "") -> dict[str, list[object]]:
    """example.net includes a provider with ``n`` includes of its own (over the limit at 10)."""
    data: dict[str, list[object]] = {
        "example.net": [{"TXT": "v=spf1 include:prov.example -all"}],
        "prov.example": [{"TXT": " ".join(["v=spf1", head, *(f"include:n{i}.prov.example"
                                                             for i in range(n)), "-all"]).replace("  ", " ")}],
    }
    for i in range(n):
        data[f"n{i}.prov.example"] = [{"TXT": f"v=spf1 ip4:10.1.{i}.0/24 -all"}]
    return data


def test_watch_without_flattening_reports_lookups_and_errors_of_the_tree(
        dns: ZoneDataServer, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    dns.load(_provider(4))
    proc = _watch(dns, state, "--format", "json", "example.net")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["example.net"]["status"] == "recorded"
    assert json.loads(state.read_text())["domains"]["example.net"]["source_lookups"] == 5
    # the provider grows by two includes: two more lookups, new networks
    dns.load(_provider(6))
    proc = _watch(dns, state, "--format", "json", "--update", "example.net")
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)["example.net"]
    assert out["tree"]["lookups"] == {"before": 5, "now": 7}
    assert out["changes"] == [{"source": "prov.example", "added": ["10.1.4.0/23"], "removed": []}]
    assert "records" not in out  # never flattened: nothing to publish
    assert _watch(dns, state, "example.net").returncode == 0  # --update took it in
    # one of its includes loses its record: a new error in the tree, not "networks removed"
    broken = _provider(6)
    broken["n5.prov.example"] = [{"TXT": "v=spf1 ip4:10.1.5.0/33 -all"}]
    dns.load(broken)
    proc = _watch(dns, state, "example.net")
    assert proc.returncode == 1, proc.stdout
    assert "new error: n5.prov.example:" in proc.stdout and "/33" in proc.stdout
    assert "- 10.1.5.0/24" not in proc.stdout


def test_watch_follows_the_source_once_the_flattened_records_are_published(
        dns: ZoneDataServer, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    dns.load(_provider(12))
    proc = spfkit("flatten", *_ns(dns), "--format", "json", "--state", str(state), "example.net")
    assert proc.returncode == 0, proc.stderr
    first = [(r["name"], r["text"]) for r in json.loads(proc.stdout)["records"]]
    published = _provider(12)
    published.update({name: [{"TXT": text}] for name, text in first})
    dns.load(published)  # the owner publishes the flattened records
    proc = _watch(dns, state, "--format", "json", "example.net")
    assert proc.returncode == 0, proc.stdout
    assert json.loads(proc.stdout)["example.net"]["published"] == "flattened"
    # the provider drops one network: found through the remembered source record
    changed = _provider(12)
    changed["n3.prov.example"] = [{"TXT": "v=spf1 -all"}]
    changed.update({name: [{"TXT": text}] for name, text in first})
    dns.load(changed)
    proc = _watch(dns, state, "--format", "json", "--update", "example.net")
    assert proc.returncode == 1, proc.stdout
    out = json.loads(proc.stdout)["example.net"]
    assert out["changes"] == [{"source": "prov.example", "added": [], "removed": ["10.1.3.0/24"]}]
    top = dict(map(tuple, out["records"]))["example.net"]  # type: ignore[arg-type]
    assert "10.1.3.0" not in top and "ip4:10.1.0.0/23" in top.split()
    # until the new records are published the old ones are still recognised, and after
    assert _watch(dns, state, "example.net").returncode == 0
    changed.update({name: [{"TXT": text}] for name, text in out["records"]})
    dns.load(changed)
    proc = _watch(dns, state, "example.net")
    assert proc.returncode == 0 and "flattened records published" in proc.stdout, proc.stdout


def test_a_change_that_cannot_be_flattened_is_a_change_with_the_reason(
        dns: ZoneDataServer, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    dns.load(_provider(11))
    assert spfkit("flatten", *_ns(dns), "--state", str(state), "example.net").returncode == 0
    # a ptr in the provider: it must be kept as written, with its 12 lookups
    dns.load(_provider(11, head="ptr:prov.example"))
    proc = _watch(dns, state, "--format", "json", "--update", "example.net")
    assert proc.returncode == 1, proc.stdout
    out = json.loads(proc.stdout)["example.net"]
    assert out["tree"]["lookups"]["now"] == 13
    assert "cannot flatten below the limit" in out["flatten_error"] and "records" not in out
    # nothing to switch to: the state keeps the records in use, the change is reported again
    assert _watch(dns, state, "example.net").returncode == 1
