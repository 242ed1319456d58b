"""The fuzz harness (benchmarks/fuzz.py) works: both modes, a few hundred items each.

The long runs (1,000,000 records, 100,000 policy requests) are done by hand; their figures
are in benchmarks/README-fuzz.md. Here each mode runs as a user runs it, in a child process,
and must end with status 0 (no exception, no broken invariant, no lost reply).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FUZZ = Path(__file__).resolve().parents[1] / "benchmarks" / "fuzz.py"


def _run(*args: str, timeout: float) -> str:
    proc = subprocess.run([sys.executable, str(FUZZ), *args], check=False, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.stdout


def test_records_mode_finds_nothing_in_a_few_hundred_records(tmp_path: Path) -> None:
    out = _run("records", "--count", "400", "--processes", "2", "--seed", "1",
               "--report-every", "0", "--reproducers", str(tmp_path / "r.jsonl"), timeout=60)
    assert "records:        400 " in out
    assert "failures:       0 " in out
    assert not (tmp_path / "r.jsonl").exists()


def test_records_mode_replays_one_case() -> None:
    out = _run("records", "--only", "12", "--seed", "1", timeout=30)
    assert '"index": 12' in out


def test_policy_mode_answers_every_request_in_step() -> None:
    out = _run("policy", "--count", "300", "--connections", "5", "--seed", "1", timeout=60)
    assert "(lost 0)" in out
    assert "out of step 0" in out
    assert "alive at the end: True, exit status 0" in out
    assert "problems:       0" in out
