"""Interrupted runs resume to the same file; a local Dask cluster gives the same per-domain results."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spfkit.survey.writers import read_results
from tests.survey.conftest import SRC, FullRun, World, run_survey, survey_args

SUBSET = 12_000


def _subset(world: World, tmp_path: Path) -> tuple[Path, list[str]]:
    names = list(world.truth)[:SUBSET]
    path = tmp_path / "subset.txt"
    path.write_text("".join(f"{d}\n" for d in names))
    return path, names


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _interrupt(world: World, domains: Path, out: Path, sig: int) -> int:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    # SIGINT as a terminal's Ctrl-C sends it (a job started in the background inherits it ignored)
    proc = subprocess.Popen([sys.executable, "-m", "spfkit", "survey", str(domains),
                             *survey_args(world, "--out", str(out))], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 600
    while _lines(out) < SUBSET // 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, "finished before it could be interrupted"
    proc.send_signal(sig)
    proc.wait(60)
    return proc.returncode


@pytest.mark.timeout(900)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL],
                         ids=["ctrl-c", "sigterm", "kill-9"])
def test_kill_halfway_then_resume_gives_the_same_file(world: World, full_run: FullRun, tmp_path: Path,
                                                      sig: int) -> None:
    domains, names = _subset(world, tmp_path)
    out = tmp_path / "resumable.jsonl"
    status = _interrupt(world, domains, out, sig)
    half = _lines(out)
    assert 0 < half < SUBSET
    if sig != signal.SIGKILL:
        assert status == 130
        for line in out.read_text().splitlines():  # Ctrl-C leaves whole rows only
            json.loads(line)
    proc = run_survey(str(domains), *survey_args(world, "--out", str(out), "--resume", "--json"))
    summary = json.loads(proc.stdout)
    assert summary["input"]["skipped"] >= half - 1  # a cut last line (kill -9) is surveyed again
    rows = list(read_results(out))
    assert sorted(r.domain for r in rows) == sorted(names)  # each domain exactly once
    assert {r.domain: r for r in rows} == {d: full_run.results[d] for d in names}
    assert summary["domains"] == SUBSET  # the summary covers the whole file, both runs


@pytest.mark.timeout(900)
def test_dask_local_two_workers_gives_identical_results(world: World, full_run: FullRun,
                                                        tmp_path: Path) -> None:
    domains, names = _subset(world, tmp_path)
    out = tmp_path / "parts"
    proc = run_survey(str(domains), *survey_args(world, "--out", str(out), "--dask-local", "2",
                                                 "--partition", "2000", "--json"))
    parts = sorted(out.glob("part-*.parquet"))
    assert len(parts) == SUBSET // 2000
    rows = {r.domain: r for r in read_results(out)}
    assert len(rows) == SUBSET
    assert rows == {d: full_run.results[d] for d in names}
    assert json.loads(proc.stdout)["domains"] == SUBSET
