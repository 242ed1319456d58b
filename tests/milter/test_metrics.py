"""``spfkit milter --metrics``: a real scrape after real messages, and ``--stats`` agreeing.

The milter runs as a real process on a UNIX socket, asks a real DNS server on loopback
(``tests/fixtures/dnsserver.py``, which counts the queries it gets) and is driven by
``miltertest`` through six messages whose fate the zone below decides. The counters scraped
over HTTP must equal what was sent, what that server saw, and what ``--stats`` says.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import spfkit
from tests.e2e.harness import wait_for
from tests.fixtures.dnsserver import ZoneDataServer
from tests.metrics.test_services import scrape, value
from tests.milter.harness import MilterProcess

ZONEDATA: dict[str, Any] = {
    "client.milter.example": [{"TXT": "v=spf1 ip4:127.0.0.0/24 -all"}],
    "mfrom.example": [{"TXT": "v=spf1 ip4:127.0.0.0/24 -all"}],
    "mfail.example": [{"TXT": "v=spf1 ip4:192.0.2.0/24 -all"}],
    "prapass.example": [{"TXT": "v=spf1 ip4:127.0.0.2 -all"}],
    "prafail.example": [{"TXT": "v=spf1 ip4:192.0.2.1 -all"}],
    "slow.example": ["TIMEOUT"],
}

SCRIPT = r"""
local function open()
  local conn = mt.connect(os.getenv("MILTER"), 20, 0.2)
  if conn == nil then error("cannot connect") end
  mt.set_timeout(30)
  assert(mt.conninfo(conn, "client.milter.example", "127.0.0.2") == nil)
  assert(mt.helo(conn, "client.milter.example") == nil)
  return conn
end

local function message(conn, sender, from)
  assert(mt.mailfrom(conn, sender) == nil)
  assert(mt.getreply(conn) == SMFIR_CONTINUE)
  assert(mt.rcptto(conn, "<r@example.org>") == nil)
  if mt.getreply(conn) ~= SMFIR_CONTINUE then return "rcpt" end
  assert(mt.header(conn, "From", from) == nil)
  assert(mt.eoh(conn) == nil)
  if mt.getreply(conn) ~= SMFIR_CONTINUE then return "eoh" end
  assert(mt.eom(conn) == nil)
  assert(mt.getreply(conn) == SMFIR_CONTINUE)
  return "eom"
end

-- 1. everything passes; 2. MAIL FROM fails (refused at RCPT); 3. the PRA fails (at the end
-- of the header); all three on one connection, as a client sending several messages would
local conn = open()
assert(message(conn, "<a@mfrom.example>", "ann@prapass.example") == "eom")
assert(message(conn, "<b@mfail.example>", "ann@prapass.example") == "rcpt")
assert(mt.abort(conn) == nil)
assert(message(conn, "<c@mfrom.example>", "c@prafail.example") == "eoh")
mt.disconnect(conn)

-- 4. authenticated: not checked
conn = open()
mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "alice")
assert(message(conn, "<d@mfail.example>", "d@prafail.example") == "eom")
mt.disconnect(conn)

-- 5. the client gives up after RCPT TO (RSET)
conn = open()
assert(mt.mailfrom(conn, "<e@mfrom.example>") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.rcptto(conn, "<r@example.org>") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.abort(conn) == nil)
mt.disconnect(conn)

-- 6. MAIL FROM's nameserver never answers: temperror, deferred at RCPT
conn = open()
assert(message(conn, "<f@slow.example>", "f@prapass.example") == "rcpt")
mt.disconnect(conn)
io.stderr:write("all cases ok\n")
"""

METRICS_AT = re.compile(r"serving metrics on (http://127\.0\.0\.1:\d+/metrics)")


@pytest.fixture
def dns() -> Iterator[ZoneDataServer]:
    with ZoneDataServer(ZONEDATA) as server:
        yield server


def write_config(config: Path, dns: ZoneDataServer, timeout: float) -> None:
    config.write_text(f'skip_addresses = []\nHeader_Type = "AR"\nReceiver = "mx.spfkit.test"\n'
                      f'nameservers = ["127.0.0.1:{dns.port}"]\ndns_timeout = {timeout}\n'
                      f'[milter]\npra_reject = "Fail"\n'
                      f'control_socket = "{config.parent / "ctl.sock"}"\n')


def milter_process(tmp_path: Path, dns: ZoneDataServer) -> MilterProcess:
    config = tmp_path / "milter.toml"
    write_config(config, dns, 1.5)
    return MilterProcess(f"unix:{tmp_path / 'milter.sock'}",
                         ["--config", str(config), "--metrics", "127.0.0.1:0"],
                         tmp_path / "milter.log")


def stats(milter: MilterProcess) -> dict[str, Any]:
    config = milter.args[milter.args.index("--config") + 1]
    done = subprocess.run([sys.executable, "-m", "spfkit", "milter", "--config", config, "--stats"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_metrics_count_messages_results_actions_and_dns(dns: ZoneDataServer, tmp_path: Path) -> None:
    milter = milter_process(tmp_path, dns).start()
    try:
        url = METRICS_AT.search(milter.wait_lines("serving metrics on")[0])
        assert url is not None
        before = scrape(url.group(1))
        assert value(before, "spfkit_requests_in_flight", service="milter") == 0
        script = tmp_path / "cases.lua"
        script.write_text(SCRIPT)
        done = subprocess.run(["miltertest", "-s", str(script)], capture_output=True, text=True,
                              timeout=120, env={**os.environ, "MILTER": milter.listen}, check=False)
        assert done.returncode == 0, f"{done.stdout}{done.stderr}\n--- milter log:\n{milter.text()}"
        # an abort() or close() may reach the milter after miltertest has exited: wait for
        # the sixth message to end (and the fourth connection to close)
        wait_for("six messages counted", lambda: value(
            scrape(url.group(1)), "spfkit_request_duration_seconds_count", service="milter") >= 6)
        counted = stats(milter)
        samples = scrape(url.group(1))
        # SIGHUP with other DNS settings: a new DNS cache, the same counters
        write_config(tmp_path / "milter.toml", dns, 2.0)
        milter.signal(signal.SIGHUP)
        milter.wait_lines("configuration reloaded")
        reloaded, counted_after = scrape(url.group(1)), stats(milter)
    finally:
        assert milter.stop() == 0

    def got(name: str, **labels: str) -> float:
        return value(samples, name, service="milter", **labels)

    # one request per message, by how it ended
    assert got("spfkit_request_duration_seconds_count") == 6
    assert got("spfkit_requests_total", outcome="accept") == 2  # 1 and 4 reached the end
    assert got("spfkit_requests_total", outcome="reject") == 2  # 2 at RCPT, 3 at end of header
    assert got("spfkit_requests_total", outcome="defer") == 1  # 6
    assert got("spfkit_requests_total", outcome="aborted") == 1  # 5
    assert got("spfkit_requests_in_flight") == 0
    assert got("spfkit_decisions_total", outcome="accept") == 2  # 1, 5
    assert got("spfkit_decisions_total", outcome="reject") == 2
    assert got("spfkit_decisions_total", outcome="defer") == 1
    assert got("spfkit_decisions_total", outcome="skip") == 1  # 4
    # HELO passes for the five checked messages; MAIL FROM and PRA as the zone says
    assert got("spfkit_checks_total", identity="helo", result="pass") == 5
    assert got("spfkit_checks_total", identity="mailfrom", result="pass") == 3  # 1, 3, 5
    assert got("spfkit_checks_total", identity="mailfrom", result="fail") == 1  # 2
    assert got("spfkit_checks_total", identity="mailfrom", result="temperror") == 1  # 6
    assert got("spfkit_checks_total", identity="pra", result="pass") == 1  # 1
    assert got("spfkit_checks_total", identity="pra", result="fail") == 1  # 3
    # TXT lookups: 5 HELO + 5 MAIL FROM + 2 PRA; the server saw one query per name
    assert got("spfkit_dns_lookups_total", rrtype="TXT", status="NOERROR") == 11
    assert got("spfkit_dns_lookups_total", rrtype="TXT", status="TIMEOUT") == 1
    assert got("spfkit_dns_timeouts_total") == 1
    assert dns.count("client.milter.example", "TXT") == 1
    assert dns.count("mfrom.example", "TXT") == 1
    assert got("spfkit_cache_misses_total", cache="dns") == dns.count(qtype="TXT") == 6
    assert got("spfkit_cache_hits_total", cache="dns") == 6  # 4 HELO + 2 MAIL FROM repeats
    assert ("spfkit_cache_hits_total", frozenset({("service", "milter"), ("cache", "records")})) \
        in samples
    assert got("spfkit_log_records_dropped_total") == 0
    assert got("spfkit_events_total", event="connections") == 4
    assert got("spfkit_events_total", event="messages") == 6
    assert got("spfkit_events_total", event="rejects") == 2
    assert got("spfkit_events_total", event="defers") == 1
    # --stats reads the same counters
    for identity in ("helo", "mailfrom", "pra"):
        for result, count in counted["results"][identity].items():
            key = ("spfkit_checks_total", frozenset({("service", "milter"), ("identity", identity),
                                                     ("result", result)}))
            assert samples.get(key, 0) == count, (identity, result)
    for event, count in counted["events"].items():
        assert got("spfkit_events_total", event=event) == count, event
    assert counted["dns"] == {"queries": 6, "cache_hits": 6}
    # after the reload: every counter where it was (a new, empty DNS cache), one reload more
    changed = {key: (count, reloaded.get(key)) for key, count in samples.items()
               if key[0].endswith("_total") and reloaded.get(key) != count}
    reload_key = ("spfkit_events_total", frozenset({("service", "milter"), ("event", "reloads")}))
    assert changed == {reload_key: (0, 1)}
    assert value(reloaded, "spfkit_cache_entries", service="milter", cache="dns") == 0
    assert counted_after["dns"] == counted["dns"]
    assert counted_after["results"] == counted["results"]
    assert counted_after["events"] == {**counted["events"], "reloads": 1}


ZONE = str(Path(__file__).resolve().parent / "milter.zone")


@pytest.mark.parametrize(("args", "message"), [
    (["--metrics", "unix:/tmp/m.sock"], "the metrics endpoint is HTTP over TCP"),
    (["--metrics", "localhost:9100"], "'localhost' is not an IP address"),
    (["--metrics", "127.0.0.1:99999"], "the port must be 0-65535"),
    (["--check-config", "--metrics", "127.0.0.1:0"], "cannot be combined with --check-config"),
    (["--stats", "--metrics", "127.0.0.1:0"], "cannot be combined with --check-config or --stats"),
])
def test_a_bad_metrics_option_is_a_usage_error(args: list[str], message: str) -> None:
    proc = spfkit("milter", "--zone", ZONE, *args)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("spfkit: error: ") and message in lines[0]


def test_a_taken_metrics_port_is_a_usage_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = spfkit("milter", "--zone", ZONE, "--listen", f"unix:{tmp_path / 'm.sock'}",
                      "--metrics", f"127.0.0.1:{port}")
    assert proc.returncode == 2
    assert proc.stderr == (f"spfkit: error: --metrics: cannot listen on 127.0.0.1:{port}: "
                           "Address already in use (see 'spfkit milter --help')\n")
    assert not (tmp_path / "m.sock").exists()  # refused before the milter listened


def test_without_prometheus_client_it_names_the_extra(tmp_path: Path) -> None:
    command = ["milter", "--zone", ZONE, "--listen", f"unix:{tmp_path / 'm.sock'}",
               "--metrics", "127.0.0.1:0"]
    code = ("import sys\nsys.modules['prometheus_client'] = None  # as if not installed\n"
            f"from spfkit.cli import main\nsys.exit(main({command!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert out.stderr == ("spfkit: error: --metrics needs the metrics extra (prometheus_client "
                          "is not installed): pip install 'spfkit[metrics]'\n")
    assert not (tmp_path / "m.sock").exists()
