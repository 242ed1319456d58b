"""``--metrics``: real scrapes of /metrics after real requests (policyd over TCP, web over HTTP).

Both services run as real processes on loopback ports and ask a real DNS server
(``tests/fixtures/dnsserver.py``) that counts the queries it gets; the counters scraped must
equal what the test sent and what that server saw.
"""

from __future__ import annotations

import re
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.cli.conftest import PYTHON_M
from tests.fixtures.dnsserver import ZoneDataServer
from tests.fixtures.pipe_lines import PipeLines
from tests.fixtures.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
ZONEDATA: dict[str, Any] = {
    "example.net": [{"TXT": "v=spf1 ip4:192.0.2.10 -all"}],
    "slow.example": ["TIMEOUT"],
}
METRICS_AT = re.compile(r".*metrics on (http://127\.0\.0\.1:\d+/metrics)$")


def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the endpoint: (name, labels) → value."""
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        text = response.read().decode()
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
          **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def policy_request(client: str, sender: str, instance: str) -> bytes:
    attrs = {"request": "smtpd_access_policy", "protocol_state": "RCPT", "client_address": client,
             "helo_name": "mail.example.net", "sender": sender, "recipient": "bob@example.org",
             "instance": instance}
    return b"".join(f"{k}={v}\n".encode() for k, v in attrs.items()) + b"\n"


def ask(port: int, requests: list[bytes]) -> list[str]:
    """Send each request on one connection, one at a time; the actions answered."""
    actions = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        stream = conn.makefile("rb")
        for data in requests:
            conn.sendall(data)
            line = stream.readline()
            assert stream.readline() == b"\n"
            actions.append(line.decode().removeprefix("action=").strip())
    return actions


def started(args: list[str]) -> tuple[subprocess.Popen[str], PipeLines, str]:
    process = subprocess.Popen([*PYTHON_M, *args], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               cwd=ROOT)
    assert process.stderr is not None
    output = PipeLines(process.stderr)
    match = output.wait_for(METRICS_AT)
    if match is None:
        raise AssertionError(f"exited {process.wait()}: {output.text()}")
    return process, output, match.group(1)


@pytest.fixture
def dns() -> Iterator[ZoneDataServer]:
    with ZoneDataServer(ZONEDATA) as server:
        yield server


def stop(process: subprocess.Popen[str]) -> int:
    process.terminate()
    return process.wait(timeout=30)


def test_policyd_counts_requests_decisions_results_and_dns(dns: ZoneDataServer, tmp_path: Path) -> None:
    config = tmp_path / "policyd.toml"
    config.write_text('HELO_reject = "No_Check"\n')  # only MAIL FROM: the counts are exact
    port = free_port()
    process, output, url = started([
        "policyd", "--config", str(config), "--listen", f"127.0.0.1:{port}",
        "--nameserver", f"127.0.0.1:{dns.port}", "--timeout", "1.5", "--log", "stderr",
        "--log-level", "info", "--metrics", "127.0.0.1:0"])
    try:
        output.wait_for(re.compile(r".*listening on 127\.0\.0\.1:\d+$"))
        before = scrape(url)
        assert value(before, "spfkit_requests_in_flight", service="policyd") == 0
        passes = ask(port, [policy_request("192.0.2.10", "a@example.net", "p1"),
                            policy_request("192.0.2.10", "a@example.net", "p1"),  # 2nd RCPT
                            policy_request("192.0.2.10", "b@example.net", "p2"),
                            policy_request("192.0.2.10", "c@example.net", "p3")])
        fails = ask(port, [policy_request("192.0.2.99", "a@example.net", "f1"),
                           policy_request("192.0.2.98", "a@example.net", "f2")])
        slow = ask(port, [policy_request("192.0.2.10", "a@slow.example", "t1")])
        garbage = ask(port, [b"bad line\n\n"])  # malformed: the error action, a fallback
        samples = scrape(url)
    finally:
        assert stop(process) == 0
    assert [a.split()[0] for a in passes] == ["PREPEND", "DUNNO", "PREPEND", "PREPEND"]
    assert [a.split()[0] for a in fails] == ["550", "550"]
    assert slow[0].startswith("451")
    assert garbage == ["DUNNO"]

    def got(name: str, **labels: str) -> float:
        return value(samples, name, service="policyd", **labels)

    assert got("spfkit_request_duration_seconds_count") == 8
    assert got("spfkit_requests_total", outcome="prepend") == 3
    assert got("spfkit_requests_total", outcome="dunno") == 2
    assert got("spfkit_requests_total", outcome="reject") == 2
    assert got("spfkit_requests_total", outcome="defer") == 1
    assert got("spfkit_requests_in_flight") == 0
    assert got("spfkit_decisions_total", outcome="accept") == 3
    assert got("spfkit_decisions_total", outcome="reject") == 2
    assert got("spfkit_decisions_total", outcome="defer") == 1
    assert got("spfkit_decisions_total", outcome="fallback") == 1  # the malformed request
    assert got("spfkit_checks_total", identity="mailfrom", result="pass") == 3
    assert got("spfkit_checks_total", identity="mailfrom", result="fail") == 2
    assert got("spfkit_checks_total", identity="mailfrom", result="temperror") == 1
    assert not [key for key in samples if key[0] == "spfkit_checks_total"
                and ("identity", "helo") in key[1]]
    # one TXT lookup per check; the DNS server saw one query for example.net (then the cache)
    assert got("spfkit_dns_lookups_total", rrtype="TXT", status="NOERROR") == 5
    assert got("spfkit_dns_lookups_total", rrtype="TXT", status="TIMEOUT") == 1
    assert got("spfkit_dns_timeouts_total") == 1
    assert dns.count("example.net", "TXT") == 1
    assert got("spfkit_cache_hits_total", cache="dns") == 4
    assert got("spfkit_cache_misses_total", cache="dns") == 2
    assert got("spfkit_cache_entries", cache="dns") >= 1
    assert ("spfkit_cache_hits_total", frozenset({("service", "policyd"), ("cache", "records")})) \
        in samples
    assert got("spfkit_log_records_dropped_total") == 0


def test_web_counts_requests_by_status_and_its_dns(dns: ZoneDataServer) -> None:
    process, output, url = started([
        "web", "--listen", "127.0.0.1:0", "--nameserver", f"127.0.0.1:{dns.port}",
        "--rate-limit", "0", "--metrics", "127.0.0.1:0"])
    try:
        site = output.wait_for(re.compile(r".*listening on (http://127\.0\.0\.1:\d+/)$"))
        assert site is not None
        statuses = []
        for path in ("/", "/api/test?ip=192.0.2.10&sender=a%40example.net",
                     "/api/test?ip=192.0.2.99&sender=a%40example.net", "/no-such-page"):
            try:
                with urllib.request.urlopen(site.group(1) + path.lstrip("/"), timeout=30) as r:
                    statuses.append(r.status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
        samples = scrape(url)
    finally:
        assert stop(process) == 0
    assert statuses == [200, 200, 200, 404]

    def got(name: str, **labels: str) -> float:
        return value(samples, name, service="web", **labels)

    assert got("spfkit_request_duration_seconds_count") == 4
    assert got("spfkit_requests_total", outcome="200") == 3
    assert got("spfkit_requests_total", outcome="404") == 1
    assert got("spfkit_dns_lookups_total", rrtype="TXT", status="NOERROR") == 2
    assert dns.count("example.net", "TXT") == 1
    assert got("spfkit_cache_hits_total", cache="dns") == 1
    assert got("spfkit_cache_misses_total", cache="dns") == 1
    assert got("spfkit_log_records_dropped_total") == 0
