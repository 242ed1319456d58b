"""``spfkit stats`` counts what was sent: a real ``spfkit policyd`` run's log, and a Maildir."""

from __future__ import annotations

import json
import mailbox
import os
import subprocess
import sys
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spfkit.headers import authentication_results, received_spf
from spfkit.identity import Identity
from spfkit.results import CheckResult, Result
from spfkit.stats import from_headers, from_log_line, parse_time

SRC = Path(__file__).resolve().parents[2] / "src"
ZONE = """$ORIGIN test.
$TTL 300
@        IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300
pass     IN TXT "v=spf1 ip4:192.0.2.10 -all"
fail     IN TXT "v=spf1 ip4:198.51.100.99 -all"
soft     IN TXT "v=spf1 ip4:198.51.100.99 ~all"
neutral  IN TXT "v=spf1 ?all"
broken   IN TXT "v=spf1 ip4:300.1.1.1 -all"
nospf    IN A 192.0.2.200
helo     IN A 192.0.2.10
"""
#: sender domain → (result policyd decides for client 192.0.2.10, messages sent)
PLAN = {"pass.test": ("pass", 7), "fail.test": ("fail", 4), "soft.test": ("softfail", 5),
        "neutral.test": ("neutral", 3), "broken.test": ("permerror", 2), "nospf.test": ("none", 6)}


def _spfkit(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run([sys.executable, "-m", "spfkit", *args], capture_output=True, text=True,
                          env=env, timeout=120, **kw)  # type: ignore[call-overload]


def _requests() -> str:
    out = []
    n = 0
    for domain, (_, count) in PLAN.items():
        for _ in range(count):
            n += 1
            out.append("request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
                       f"client_address=192.0.2.10\nclient_name=unknown\nhelo_name=helo.test\n"
                       f"sender=user{n}@{domain}\nrecipient=rcpt@example.org\ninstance=t{n}\n"
                       f"queue_id=Q{n}\n\n")
    return "".join(out)


def test_stats_over_a_real_policyd_log(tmp_path: Path) -> None:
    zone = tmp_path / "test.zone"
    zone.write_text(ZONE)
    log = tmp_path / "policyd.log"
    config = tmp_path / "policyd.toml"
    config.write_text('skip_addresses = []\nHELO_reject = "False"\nMail_From_reject = "Fail"\n')
    run = _spfkit("policyd", "--config", str(config), "--zone", str(zone), "--log", str(log),
                  "--log-level", "info", input=_requests())
    assert run.returncode == 0, run.stderr
    assert sum(1 for line in run.stdout.splitlines() if line.startswith("action=")) == sum(
        n for _, n in PLAN.values())
    stats = _spfkit("stats", str(log), "--json")
    assert stats.returncode == 0, stats.stderr
    data = json.loads(stats.stdout)
    mailfrom = data["identities"]["mailfrom"]
    want = Counter()
    for result, count in PLAN.values():
        want[result] += count
    assert mailfrom["total"] == sum(want.values())
    assert {r: v["count"] for r, v in mailfrom["results"].items() if v["count"]} == dict(want)
    assert mailfrom["permerror_pct"] == round(100 * 2 / 27, 2)
    failing = {e["domain"]: e["count"] for e in data["top_failing_domains"]}
    assert failing == {"soft.test": 5, "fail.test": 4, "broken.test": 2}
    assert sum(sum(day.values()) for day in data["per_day"].values()) == 27  # the file sink dates lines


def _check(result: Result, domain: str) -> CheckResult:
    return CheckResult(result, domain, mechanism="default" if result is not Result.PASS else "ip4")


def test_stats_over_a_maildir(tmp_path: Path) -> None:
    box = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    sent: Counter[tuple[str, str]] = Counter()
    for i, (result, identity, header) in enumerate(
            [(Result.PASS, Identity.MAILFROM, "spf")] * 6 + [(Result.FAIL, Identity.MAILFROM, "spf")] * 3
            + [(Result.SOFTFAIL, Identity.MAILFROM, "ar")] * 4 + [(Result.NONE, Identity.HELO, "spf")] * 2
            + [(Result.TEMPERROR, Identity.MAILFROM, "ar")] * 1):
        domain = f"d{i % 3}.example"
        msg = EmailMessage()
        check = _check(result, domain)
        kw = dict(identity=identity, envelope_from=f"u@{domain}" if identity is Identity.MAILFROM else None,
                  helo=domain)
        field = (received_spf(check, client_ip="192.0.2.1", receiver="mx.test", **kw) if header == "spf"
                 else authentication_results(check, authserv_id="mx.test", **kw))
        msg[field.name] = field.value
        msg["Received"] = f"from a by mx.test; Thu, 0{1 + i % 3} Dec 2026 10:00:00 +0000"
        # an earlier hop's fields further down must not be counted
        msg["Received-SPF"] = ("pass (earlier hop) receiver=relay.elsewhere.example; identity=mailfrom; "
                               "envelope-from=x@elsewhere.example;")
        msg["Authentication-Results"] = "relay.elsewhere.example; spf=fail smtp.helo=x.example"
        msg["Received"] = "from b by relay.elsewhere.example; Thu, 01 Dec 2026 09:00:00 +0000"
        msg["Subject"] = f"m{i}"
        msg.set_content("body")
        box.add(msg)
        sent[(identity.value, result.value)] += 1
    stats = _spfkit("stats", "--maildir", str(tmp_path / "Maildir"), "--json")
    assert stats.returncode == 0, stats.stderr
    data = json.loads(stats.stdout)
    got = Counter({(ident, r): v["count"] for ident, block in data["identities"].items()
                   for r, v in block["results"].items() if v["count"]})
    assert got == sent
    assert set(data["per_day"]) == {"2026-12-01", "2026-12-02", "2026-12-03"}
    since = json.loads(_spfkit("stats", "--maildir", str(tmp_path / "Maildir"), "--since",
                               "2026-12-03", "--json").stdout)
    on_the_3rd = sum(1 for i in range(16) if i % 3 == 2)
    assert sum(sum(d.values()) for d in since["per_day"].values()) == on_the_3rd
    assert since["skipped_before_since"] == 16 - on_the_3rd


def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    for args in ([], [str(tmp_path / "missing.log")], ["--maildir", str(tmp_path)]):
        run = _spfkit("stats", *args)
        assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_log_lines_and_times() -> None:
    line = ("2026-12-03 10:11:12,345 spfkit-policyd[7]: SPF softfail: client=192.0.2.1 helo=h.example "
            "envelope-from=a@b.example identity=mailfrom queue-id=Q1: a sentence; action=PREPEND x")
    obs = from_log_line(line)
    assert obs is not None and (obs.identity, obs.result, obs.domain) == ("mailfrom", "softfail", "b.example")
    assert obs.when is not None and obs.when.isoformat() == "2026-12-03T10:11:12"
    assert from_log_line("Dec  3 10:11:12 host spfkit-policyd[7]: SPF skipped: client=1.2.3.4") is None
    assert parse_time("Dec  3 10:11:12 host x", year=2025).isoformat() == "2025-12-03T10:11:12"
    assert parse_time("2026-12-03T10:11:12.5+01:00 x").isoformat() == "2026-12-03T09:11:12"
    assert from_headers([("Authentication-Results", "mx; spf=pass smtp.helo=h.example")])[0].identity == "helo"


@given(st.text(max_size=300))
def test_any_line_parses_or_is_ignored(text: str) -> None:
    obs = from_log_line(text)
    assert obs is None or obs.result in {r.value for r in Result}


@given(st.lists(st.tuples(st.sampled_from(["Received-SPF", "Authentication-Results", "X"]),
                          st.text(max_size=120)), max_size=5))
def test_any_headers_give_at_most_one_result_per_identity(fields: list[tuple[str, str]]) -> None:
    found = from_headers(fields)
    assert len({o.identity for o in found}) == len(found) <= 3


@pytest.mark.parametrize("value", ["pass", "PASS (x) identity=helo; helo=h.example;", "bogus y"])
def test_received_spf_forms(value: str) -> None:
    found = from_headers([("Received-SPF", value)])
    assert all(o.identity == ("helo" if "helo" in value else "mailfrom") for o in found)
    assert [o.result for o in found] == (["pass"] if "bogus" not in value else [])


def test_damaged_logs_and_a_directory_for_mbox_are_one_line_errors(tmp_path: Path) -> None:
    import gzip

    whole = gzip.compress(b"".join(b"Dec  3 10:00:00 mx spfkit-policyd[1]: SPF pass: client=192.0.2.1 "
                                   b"helo=a.test envelope-from=\"x@a.test\" identity=mailfrom: "
                                   b"a.test designates 192.0.2.1 as permitted sender; action=DUNNO\n"
                                   for _ in range(500)))
    cut = tmp_path / "cut.log.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    fake = tmp_path / "fake.log.gz"
    fake.write_text("not gzip\n")
    for args, says in (([str(cut)], "truncated"), ([str(fake)], "gzip"),
                       (["--mbox", str(tmp_path)], "is a directory")):
        proc = _spfkit("stats", *args)
        assert proc.returncode == 2, (args, proc.returncode, proc.stderr)
        [line] = proc.stderr.strip().splitlines()
        assert line.startswith("spfkit: error: ") and says in line, line


def test_a_milter_line_counts_unless_the_client_aborted() -> None:
    """The milter logs an aborted transaction too (what was checked so far); no mail was
    received, so stats counts it not (docs/milter.md)."""
    from spfkit.stats.observe import from_milter_line

    head = ("Dec  3 10:11:12 mx spfkit-milter[9]: client=192.0.2.1 helo=h.example "
            "envelope-from=a@b.example: helo=pass mailfrom=fail recipients=1; action=")
    counted = from_milter_line(head + "RCPT TO 550 5.7.23 SPF fail")
    assert [(o.identity, o.result) for o in counted] == [("helo", "pass"), ("mailfrom", "fail")]
    assert from_milter_line(head + "aborted (the client ended the transaction before the end "
                                   "of the message)") == []
