"""The 100,000-domain world, served by a real loopback DNS server, and one full survey of it.

The world and the full run are made once per session: the tests of per-domain truth,
summary percentages, resume and Dask all compare against them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from spfkit.survey.result import DomainResult
from spfkit.survey.writers import read_results
from tests.fixtures.fastdns import FastDNSServer
from tests.survey.world import Truth, build

#: the issue asks for at least 100,000; a smaller size (env) is for working on the tests only
WORLD_SIZE = int(os.environ.get("SPFKIT_SURVEY_WORLD", "100000"))
SRC = Path(__file__).resolve().parents[2] / "src"


@dataclass
class World:
    data: dict[str, Any]
    truth: dict[str, Truth]
    server: FastDNSServer
    domains_file: Path

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.server.port}"


def run_survey(*args: str, check: bool = True, **kw: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.run([sys.executable, "-m", "spfkit", "survey", *args], capture_output=True,
                          text=True, env=env, **kw)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def survey_args(world: World, *more: str) -> list[str]:
    # one retry: on a box shared by many jobs a TCP fallback (RFC 7766) was seen to miss 5 s
    # now and then; every timeout name costs (1 + retries) × timeout
    return ["--nameserver", world.nameserver, "--timeout", "3", "--retries", "1",
            "--concurrency", "300", "--no-progress", *more]


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data, truth = build(WORLD_SIZE)
    path = tmp_path_factory.mktemp("world") / "domains.txt"
    path.write_text("".join(f"{d}\n" for d in truth), encoding="utf-8")
    with FastDNSServer(data) as server:
        yield World(data, truth, server, path)


@dataclass
class FullRun:
    out: Path
    summary: dict[str, Any]
    results: dict[str, DomainResult]
    tcp_names: set[str]


@pytest.fixture(scope="session")
def full_run(world: World, tmp_path_factory: pytest.TempPathFactory) -> FullRun:
    out = tmp_path_factory.mktemp("full") / "survey.jsonl"
    before = set(world.server.tcp_names)
    proc = run_survey(str(world.domains_file), *survey_args(world, "--out", str(out), "--json"))
    results = {r.domain: r for r in read_results(out)}
    return FullRun(out, json.loads(proc.stdout), results, world.server.tcp_names - before)
