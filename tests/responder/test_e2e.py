"""End to end: swaks → ``spfkit verifier`` (a real process) → an aiosmtpd relay "mailbox".

DNS comes from a loopback server (``ZoneDataServer``); swaks sends empty mails from
127.0.0.x (Linux routes all of 127/8 to lo); the verifier checks the session's real client
IP, HELO and MAIL FROM and the message's PRA, and relays the report to the sender's mailbox.
Abusive cases must leave every mailbox empty.  Nothing is skipped: a missing swaks fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage

import pytest

from tests.fixtures.dnsserver import ZoneDataServer
from tests.fixtures.pipe_lines import PipeLines
from tests.fixtures.ports import free_port

from .sink import MailSink

HOST = "verifier.example"
VERIFIER = f"check-auth@{HOST}"

ZONE = {
    # 127.0.0.2 is authorised for pass.example, and is its HELO name's address
    "pass.example": [{"TXT": "v=spf1 ip4:127.0.0.2 -all"}],
    "client.pass.example": [{"A": "127.0.0.2"}, {"TXT": "v=spf1 a -all"}],
    # fail.example authorises nobody
    "fail.example": [{"TXT": "v=spf1 -all"}],
    "client.fail.example": [{"A": "127.0.0.3"}, {"TXT": "v=spf1 -all"}],
    # none.example and its host publish nothing
    "none.example": [{"A": "127.0.0.4"}],
    "host.none.example": [{"A": "127.0.0.4"}],
    # Sender ID: v=spf1 refuses everyone, spf2.0/pra authorises 127.0.0.2 for header addresses
    "senderid.example": [{"TXT": "v=spf1 -all"}, {"TXT": "spf2.0/pra ip4:127.0.0.2 -all"}],
    # Sender ID mfrom,pra beside v=spf1 (which lists another address)
    "both.example": [{"TXT": "v=spf1 ip4:192.0.2.1 -all"},
                     {"TXT": "spf2.0/mfrom,pra ip4:127.0.0.2 -all"}],
    # the other way round: v=spf1 lists 127.0.0.2, an old spf2.0/mfrom record refuses everyone
    "stale.example": [{"TXT": "v=spf1 ip4:127.0.0.2 -all"}, {"TXT": "spf2.0/mfrom -all"}],
    "carol.example": [{"TXT": "v=spf1 ip4:127.0.0.2 -all"}],
    "busy.example": [{"TXT": "v=spf1 ip4:127.0.0.2 -all"}],
}


@dataclass
class World:
    dns: ZoneDataServer
    sink: MailSink
    port: int
    process: subprocess.Popen[str]


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    assert shutil.which("swaks"), "swaks is needed (Debian package swaks)"
    with ZoneDataServer(ZONE) as dns, MailSink() as sink:
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "spfkit", "verifier", "--listen", f"127.0.0.1:{port}",
             "--hostname", HOST, "--relay", f"127.0.0.1:{sink.port}",
             "--nameserver", f"127.0.0.1:{dns.port}", "--timeout", "2", "--rate", "2/1h"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert process.stderr is not None
        output = PipeLines(process.stderr)
        try:
            listening = re.compile(rf"spfkit verifier: listening on 127\.0\.0\.1:{port} ")
            if output.wait_for(listening, timeout=20) is None:
                raise AssertionError(f"spfkit verifier exited: {output.text()}")
            yield World(dns, sink, port, process)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
            err = output.text()
            # SIGTERM is a clean stop: exit status 0 and a last word
            assert process.returncode == 0, err
            assert "spfkit verifier: stopped" in err


def swaks(world: World, ip: str, mail_from: str, helo: str, *extra: str,
          to: str = VERIFIER) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{world.port}", "--local-interface", ip,
         "--from", mail_from, "--to", to, "--helo", helo, "--body", "\n", "--timeout", "30",
         *extra],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)


def report(world: World, mailbox: str) -> tuple[EmailMessage, dict[str, object], str]:
    [delivered] = world.sink.wait_for(mailbox)
    msg = delivered.message
    text, _headers, data = (part.get_content() for part in msg.iter_parts())
    return msg, json.loads(data), text


def results(data: dict[str, object]) -> dict[str, str]:
    return {key: data[key]["result"] for key in ("mfrom", "helo", "pra")}  # type: ignore[index]


def test_authorised_sender_gets_pass(world: World) -> None:
    proc = swaks(world, "127.0.0.2", "alice@pass.example", "client.pass.example")
    assert proc.returncode == 0, proc.stdout
    assert "report sent to <alice@pass.example>" in proc.stdout
    msg, data, text = report(world, "alice@pass.example")
    assert results(data) == {"mfrom": "pass", "helo": "pass", "pra": "pass"}
    assert data["ip"] == {"value": "127.0.0.2", "source": "session"}
    assert data["pra"]["identity"] == "alice@pass.example"  # type: ignore[index]
    assert msg["Auto-Submitted"] == "auto-replied" and msg["To"] == "alice@pass.example"
    assert "Received-SPF: pass" in text and "sender-id=pass" in text


@pytest.mark.parametrize(("ip", "mail_from", "helo", "result"), [
    ("127.0.0.3", "mallory@fail.example", "client.fail.example", "fail"),
    ("127.0.0.4", "bob@none.example", "host.none.example", "none"),
])
def test_a_sender_spf_does_not_pass_gets_no_report(world: World, ip: str, mail_from: str,
                                                   helo: str, result: str) -> None:
    # anyone can forge an envelope sender: only a pass proves the report goes back to its author
    proc = swaks(world, ip, mail_from, helo)
    assert proc.returncode == 0, proc.stdout
    assert f'no report sent: MAIL FROM "{mail_from}" does not pass SPF ({result})' in proc.stdout
    _no_report_for(world, mail_from)


def test_sender_id_pra_record_decides_the_pra(world: World) -> None:
    # Envelope from an authorised domain, header From: a domain whose v=spf1 refuses
    # everyone but whose spf2.0/pra record authorises 127.0.0.2.
    proc = swaks(world, "127.0.0.2", "carol@carol.example", "client.pass.example",
                 "--header", "From: News <news@senderid.example>")
    assert proc.returncode == 0, proc.stdout
    _, data, _ = report(world, "carol@carol.example")
    assert results(data) == {"mfrom": "pass", "helo": "pass", "pra": "pass"}
    assert data["pra"]["identity"] == "news@senderid.example"  # type: ignore[index]
    assert [r["record"] for r in data["pra"]["records"]] == [  # type: ignore[index]
        "spf2.0/pra ip4:127.0.0.2 -all"]


def test_an_spf2_mfrom_record_does_not_make_the_sender_pass_spf(world: World) -> None:
    # both.example: spf2.0/mfrom,pra lists 127.0.0.2, v=spf1 does not.  SPF (RFC 7208) reads
    # v=spf1 only: fail, so the sender is not authenticated and gets no report.
    proc = swaks(world, "127.0.0.2", "carol@both.example", "client.pass.example")
    assert proc.returncode == 0, proc.stdout
    assert 'no report sent: MAIL FROM "carol@both.example" does not pass SPF (fail)' in proc.stdout
    _no_report_for(world, "carol@both.example")


def test_the_report_gives_the_rfc7208_result_and_sender_id_mfrom_beside_it(world: World) -> None:
    proc = swaks(world, "127.0.0.2", "erin@stale.example", "client.pass.example")
    assert proc.returncode == 0, proc.stdout
    assert "report sent to <erin@stale.example>" in proc.stdout
    msg, data, text = report(world, "erin@stale.example")
    mfrom = data["mfrom"]
    assert mfrom["result"] == "pass"  # type: ignore[index]
    assert [r["record"] for r in mfrom["records"]] == [  # type: ignore[index]
        "v=spf1 ip4:127.0.0.2 -all"]
    assert mfrom["headers"][0].startswith("Received-SPF: pass")  # type: ignore[index]
    senderid = mfrom["senderid"]  # type: ignore[index]
    assert (senderid["result"], senderid["same"]) == ("fail", False)
    assert [r["record"] for r in senderid["records"]] == ["spf2.0/mfrom -all"]
    assert msg["Subject"] == "Authentication report: mfrom=pass, helo=pass, pra=pass"
    text = text.replace("\r\n", "\n")
    assert "\nmfrom: pass\n" in text and "Sender ID:  fail for receivers" in text


def test_report_to_check_auth_user_equals_domain(world: World) -> None:
    proc = swaks(world, "127.0.0.2", "dave@pass.example", "client.pass.example",
                 to=f"check-auth-postmaster=pass.example@{HOST}")
    assert proc.returncode == 0, proc.stdout
    _, data, _ = report(world, "postmaster@pass.example")
    assert data["mfrom"]["identity"] == "dave@pass.example"  # type: ignore[index]
    assert world.sink.box("dave@pass.example") == []


def test_check_auth_user_at_another_domain_is_refused(world: World) -> None:
    proc = swaks(world, "127.0.0.2", "erin@pass.example", "client.pass.example",
                 to=f"check-auth-victim=other.example@{HOST}")
    assert proc.returncode == 24, proc.stdout  # swaks: no RCPTs accepted
    assert "550 5.7.1 reports go only to the sender's own domain" in proc.stdout
    _no_report_for(world, "victim@other.example")
    assert world.sink.box("erin@pass.example") == []


# -- abuse: no report ---------------------------------------------------------------------------


def _no_report_for(world: World, mailbox: str) -> None:
    """Called once swaks has exited, that is once the verifier has answered: it relays a
    report before it answers DATA (``handle_DATA`` awaits the relay, which the sink accepts
    only once it has stored the message; ``tests/responder/test_handler.py`` reads the sink
    right after ``sendmail`` returns), so a report, if any, would be in the box by now."""
    assert world.sink.box(mailbox) == []


def test_null_sender_gets_no_report(world: World) -> None:
    proc = swaks(world, "127.0.0.2", "<>", "client.pass.example")
    assert proc.returncode == 0, proc.stdout
    assert "no report sent" in proc.stdout
    _no_report_for(world, "postmaster@client.pass.example")
    assert world.sink.box("") == [] and world.sink.box("<>") == []


def test_auto_submitted_mail_gets_no_report(world: World) -> None:
    proc = swaks(world, "127.0.0.2", "robot@auto.pass.example", "client.pass.example",
                 "--add-header", "Auto-Submitted: auto-generated")
    assert proc.returncode == 0, proc.stdout
    assert "no report sent" in proc.stdout and "Auto-Submitted" in proc.stdout
    _no_report_for(world, "robot@auto.pass.example")


def test_list_mail_gets_no_report(world: World) -> None:
    proc = swaks(world, "127.0.0.2", "list@lists.pass.example", "client.pass.example",
                 "--add-header", "List-Id: <announce.pass.example>")
    assert proc.returncode == 0, proc.stdout
    _no_report_for(world, "list@lists.pass.example")


def test_over_the_rate_limit_gets_no_report(world: World) -> None:
    for user in ("one", "two"):
        proc = swaks(world, "127.0.0.2", f"{user}@busy.example", "client.pass.example")
        assert proc.returncode == 0, proc.stdout
        world.sink.wait_for(f"{user}@busy.example")
    proc = swaks(world, "127.0.0.2", "three@busy.example", "client.pass.example")
    assert proc.returncode == 24, proc.stdout  # swaks: no RCPTs accepted
    assert "450 4.7.1" in proc.stdout
    _no_report_for(world, "three@busy.example")


def test_wrong_address_is_refused_at_rcpt(world: World) -> None:
    proc = swaks(world, "127.0.0.2", "alice@wrong.pass.example", "client.pass.example",
                 to=f"postmaster@{HOST}")
    assert proc.returncode == 24, proc.stdout
    assert "550 5.1.1" in proc.stdout
    _no_report_for(world, "alice@wrong.pass.example")
