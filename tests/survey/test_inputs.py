"""Survey inputs: lists, CSV, .gz, zone delegations; duplicates and invalid names counted; streamed."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from spfkit.survey.inputs import InputStats, read_domains
from tests.fixtures.fastdns import FastDNSServer
from tests.survey.conftest import SRC


def _read(path: Path, **kw: bool) -> tuple[list[str], InputStats]:
    stats = InputStats()
    return list(read_domains(path, stats, **kw)), stats


def test_list_with_comments_case_duplicates_and_junk(tmp_path: Path) -> None:
    path = tmp_path / "d.txt"
    path.write_bytes(b"# header\nExample.COM.\nexample.com\n\nfoo..bar\nnot a name\n"
                     b"b.example # note\n\xff\xfe.example\nlocalhost\nb.example\n")
    names, stats = _read(path)
    assert names == ["example.com", "b.example"]
    assert (stats.read, stats.valid, stats.duplicates, stats.invalid) == (8, 2, 2, 4)


def test_csv_by_its_domain_column_and_gzip(tmp_path: Path) -> None:
    path = tmp_path / "top.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write("rank,Domain,other\n1,a.example,x\n2,b.example,y\n3,,z\n4,a.example,w\n")
    names, stats = _read(path)
    assert names == ["a.example", "b.example"] and stats.invalid == 1 and stats.duplicates == 1
    plain = tmp_path / "plain.csv"
    plain.write_text("c.example,1\nd.example,2\n")  # no header: the first column
    assert _read(plain)[0] == ["c.example", "d.example"]


def test_zone_file_delegations(tmp_path: Path) -> None:
    zone = tmp_path / "jp.zone"
    zone.write_text("$ORIGIN jp.\n$TTL 86400\n@ IN SOA a.dns.jp. root.dns.jp. 1 3600 900 604800 900\n"
                    "@ IN NS a.dns.jp.\nexample IN NS ns1.example.jp.\nexample IN NS ns2.example.jp.\n"
                    "ns1.example IN A 192.0.2.1\nfoo.co IN NS ns.foo.co.jp.\nbar IN A 192.0.2.2\n"
                    "Example IN NS ns3.example.jp.\n")
    names, stats = _read(zone, zone=True)
    assert names == ["example.jp", "foo.co.jp"] and stats.duplicates == 1
    assert stats.invalid == 0  # the apex's own NS set is no delegation, nor an invalid input


@given(st.lists(st.text(alphabet="abc.-_ xé#\t,", max_size=20), max_size=30))
def test_any_lines_give_distinct_valid_names(lines: list[str]) -> None:
    import io

    from spfkit.survey.inputs import domain_lines

    stats = InputStats()
    names = list(domain_lines(io.StringIO("\n".join(lines)), stats))
    assert len(names) == len(set(names)) == stats.valid
    assert stats.valid + stats.duplicates + stats.invalid == stats.read
    assert all(n == n.lower().strip() and "." in n for n in names)


def test_ten_million_lines_stream_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    block = b"dup.example\nDUP.example.\n!!bad!!\n" * 1000
    with open(path, "wb") as f:
        f.write(b"one.example\ntwo.example\n")
        for _ in range(10_000_000 // 3000 + 1):
            f.write(block)
    lines = path.read_bytes().count(b"\n")
    assert lines >= 10_000_000 and path.stat().st_size > 100_000_000
    with FastDNSServer({"one.example": {"TXT": [("v=spf1 -all",)]}}) as srv:
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        # VmHWM: the peak RSS of this process image (ru_maxrss would carry pytest's over exec)
        code = ("import sys; from spfkit.cli import main; rc = main(sys.argv[1:]); "
                "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0], "
                "file=sys.stderr); sys.exit(rc)")
        proc = subprocess.run([sys.executable, "-c", code, "survey", str(path), "--nameserver",
                               f"127.0.0.1:{srv.port}", "--timeout", "2", "--json", "--no-progress"],
                              capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["input"]["read"] == lines and summary["input"]["valid"] == 3
    assert summary["input"]["invalid"] == (lines - 2) // 3  # every "!!bad!!" line
    maxrss_kb = int(proc.stderr.strip().splitlines()[-1])
    assert maxrss_kb < 90_000, maxrss_kb  # below the 120 MB file and flat: it was streamed


def test_a_resolver_that_dies_midway(tmp_path: Path) -> None:
    names = [f"d{i}.example" for i in range(300)]
    data = {n: {"TXT": [("v=spf1 -all",)]} for n in names}
    domains = tmp_path / "d.txt"
    domains.write_text("\n".join(names))
    with FastDNSServer(data, die_after=200) as srv:
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        proc = subprocess.run([sys.executable, "-m", "spfkit", "survey", str(domains), "--nameserver",
                               f"127.0.0.1:{srv.port}", "--timeout", "0.3", "--retries", "1",
                               "--concurrency", "20", "--out", str(tmp_path / "o.jsonl"), "--json",
                               "--no-progress"], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert sorted(r["domain"] for r in rows) == sorted(names)  # the run went on to the end
    dead = [r for r in rows if r["spf"] == "dns-error"]
    assert dead and all(r["dns"] == "TIMEOUT" for r in dead)
    assert sum(r["spf"] == "record" for r in rows) + len(dead) == 300
    summary = json.loads(proc.stdout)
    assert summary["dns"]["timeouts"] == len(dead) and summary["run"]["retried"] >= len(dead)


def _damaged_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Input files a measurer meets: a download cut short, a file named .gz that is not,
    a zone file that does not parse, bytes where a zone should be."""
    names = "\n".join(f"d{i}.example" for i in range(2000)).encode()
    whole = gzip.compress(names)
    cut = tmp_path / "cut.txt.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    fake = tmp_path / "fake.txt.gz"
    fake.write_bytes(b"d1.example\n")
    zone = tmp_path / "bad.zone"
    zone.write_text("$ORIGIN example.\n@ 3600 IN SOA ns h 1 2 3 4 5\nsub 3600 IN NS ns.sub\n"
                    "garbage !!! $$\n")
    binary = tmp_path / "bin.zone"
    binary.write_bytes(b"\xff\xfe\x00bin\n")
    return {"cut": (cut, "truncated"), "fake": (fake, "gzip"), "zone": (zone, "bad.zone:4"),
            "binary": (binary, "bin.zone")}


def test_damaged_input_files_are_a_one_line_error_with_exit_2(tmp_path: Path) -> None:
    """Never "interrupted" (130, which says: run again with --resume) and never a traceback;
    what was surveyed before the damage is kept in --out."""
    data = {f"d{i}.example": {"TXT": [("v=spf1 -all",)]} for i in range(2000)}
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    with FastDNSServer(data) as srv:
        for kind, (path, says) in _damaged_inputs(tmp_path).items():
            out = tmp_path / f"{kind}.jsonl"
            source = ["--zone-file", str(path)] if path.suffix == ".zone" else [str(path)]
            proc = subprocess.run(
                [sys.executable, "-m", "spfkit", "survey", *source, "--nameserver",
                 f"127.0.0.1:{srv.port}", "--out", str(out), "--no-progress"],
                capture_output=True, text=True, env=env, timeout=300)
            assert proc.returncode == 2, (kind, proc.returncode, proc.stderr)
            [line] = proc.stderr.strip().splitlines()
            assert line.startswith("spfkit: error: ") and says in line, (kind, line)
            if kind == "cut":  # the whole lines before the cut were surveyed and kept
                rows = [json.loads(row) for row in out.read_text().splitlines()]
                assert rows and all(r["spf"] == "record" for r in rows)
