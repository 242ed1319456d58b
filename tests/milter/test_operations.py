"""Operating ``spfkit milter`` behind a real Postfix: DNS down, SIGHUP, --stats, SIGTERM.

``dns_down_mta``'s milter asks a nameserver that never answers: every check is temperror.
With ``TempError_Defer = true`` the mail is deferred (``451 4.7.24``) by the milter itself —
within its deadline, before Postfix's ``milter_command_timeout`` — and after a SIGHUP to a
configuration with ``TempError_Defer = false`` it is marked instead. A configuration that
cannot be used is refused on SIGHUP and the running one kept. SIGTERM lets the message in
flight finish.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import uuid

from tests.e2e.harness import unfold, wait_for, wait_for_log_lines
from tests.milter.conftest import RECEIVER, Mta, config_text
from tests.milter.test_postfix import CLIENT, SENDER, ar_values, message, spf_values


def stats(mta: Mta) -> dict:
    proc = subprocess.run([sys.executable, "-m", "spfkit", "milter", "--stats", "--control-socket",
                           str(mta.config.parent / "control.sock")],
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def reload(mta: Mta, text: str, expect: str) -> None:
    before = len(mta.milter.lines(expect))
    mta.config.write_text(text)
    mta.milter.signal(signal.SIGHUP)
    wait_for(f"{expect!r} in the milter's log",
             lambda: len(mta.milter.lines(expect)) > before, 15)


def test_dns_down_defer_then_reload_to_mark_then_bad_reload_then_drain(dns_down_mta: Mta) -> None:
    mta = dns_down_mta
    # 1. TempError_Defer = true: 451 4.7.24 from the milter (not Postfix's milter failure)
    subj = f"dnsdown-defer-{uuid.uuid4().hex[:8]}"
    sender = f"d-{subj}@mfrom.example"
    sent = mta.send(CLIENT, sender, message(subj, "From: a@prapass.example"))
    assert sent.returncode == 24, sent.transcript
    assert any(r.startswith("451 4.7.24 SPF temperror for HELO client.milter.example")
               for r in sent.replies()), sent.transcript
    assert wait_for_log_lines(mta.postfix.log, "milter-reject: RCPT from unknown[127.0.0.2]: 451 4.7.24")
    assert not mta.postfix.log_lines("timeout")  # answered within the deadline
    assert "helo=temperror" in mta.milter.wait_lines(sender)[-1]

    # 2. SIGHUP to TempError_Defer = false: the mail is marked temperror and delivered
    marking = config_text(control=str(mta.config.parent / "control.sock")).replace(
        "TempError_Defer = true", "TempError_Defer = false")
    reload(mta, marking, "configuration reloaded")
    subj = f"dnsdown-mark-{uuid.uuid4().hex[:8]}"
    sent = mta.send(CLIENT, SENDER, message(subj, f"From: m-{subj}@prapass.example"))
    assert sent.returncode == 0, sent.transcript
    (msg,) = mta.postfix.delivered(subj)
    assert any(v.startswith("temperror ") and "identity=mailfrom" in v for v in spf_values(msg))
    (sid,) = [v for v in ar_values(msg) if "sender-id=" in v]
    assert sid.startswith(f"{RECEIVER}; sender-id=temperror reason=")

    # 3. an invalid configuration on SIGHUP: refused, the running one (marking) kept
    reload(mta, marking.replace('pra_reject = "Fail"', 'pra_reject = "Fial"'), "reload failed, the running configuration is kept")
    assert "milter.pra_reject" in mta.milter.lines("reload failed")[-1]
    subj = f"dnsdown-kept-{uuid.uuid4().hex[:8]}"
    sent = mta.send(CLIENT, SENDER, message(subj, "From: k@prapass.example"))
    assert sent.returncode == 0, sent.transcript
    mta.postfix.delivered(subj)
    counted = stats(mta)
    assert counted["events"]["reloads"] == 1 and counted["events"]["reload_failures"] == 1
    assert counted["results"]["helo"]["temperror"] >= 3

    # 4. SIGTERM while a message waits on DNS: it still gets the milter's answer, then exit 0
    subj = f"dnsdown-drain-{uuid.uuid4().hex[:8]}"
    done: list = []
    messages = counted["events"]["messages"]
    sender_thread = threading.Thread(target=lambda: done.append(
        mta.send(CLIENT, SENDER, message(subj, "From: t@prapass.example"))))
    sender_thread.start()
    wait_for("the message to reach the milter", lambda: stats(mta)["events"]["messages"] > messages)
    mta.milter.signal(signal.SIGTERM)
    sender_thread.join(60)
    assert done and done[0].returncode == 0, done and done[0].transcript
    msg = mta.postfix.delivered(subj)[0]
    assert any("identity=mailfrom" in v and v.startswith("temperror") for v in spf_values(msg))
    assert mta.milter.proc is not None
    assert mta.milter.proc.wait(30) == 0
    assert mta.milter.lines("stopping: no new connections")
    assert mta.milter.lines("stopped")  # the queue is flushed before the process exits
    assert "Traceback" not in mta.milter.text()


def test_stats_counts_results_dns_queries_and_cache_hits(inet_mta: Mta) -> None:
    before = stats(inet_mta)
    for n in range(2):
        subj = f"stats-{n}-{uuid.uuid4().hex[:8]}"
        sent = inet_mta.send(CLIENT, SENDER, message(subj, "From: s@prapass.example"))
        assert sent.returncode == 0
        inet_mta.postfix.delivered(subj)
    after = stats(inet_mta)
    for identity in ("helo", "mailfrom", "pra"):
        assert after["results"][identity]["pass"] - before["results"][identity]["pass"] == 2
    assert after["events"]["messages"] - before["events"]["messages"] == 2
    assert after["dns"]["cache_hits"] > before["dns"]["cache_hits"]  # the second message's
    assert after["dns"]["queries"] >= 1


def test_stats_without_a_running_milter(tmp_path) -> None:
    proc = subprocess.run([sys.executable, "-m", "spfkit", "milter", "--stats", "--control-socket",
                           str(tmp_path / "nothing.sock")],
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "does not answer" in proc.stderr


def test_header_values_are_one_line(inet_mta: Mta) -> None:
    """What the client chose (HELO, MAIL FROM, the From: mailbox) never splits a header."""
    subj = f"oneline-{uuid.uuid4().hex[:8]}"
    sent = inet_mta.send(CLIENT, '"odd\\\\name;x=y"@mfrom.example',
                         message(subj, 'From: "a\\"b" <"we;ird"@prapass.example>'))
    assert sent.returncode == 0, sent.transcript
    (msg,) = inet_mta.postfix.delivered(subj)
    for name in ("Received-SPF", "Authentication-Results"):
        for value in msg.get_all(name, []):
            assert "\r" not in unfold(value) and "\n" not in unfold(value)
