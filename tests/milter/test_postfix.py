"""``spfkit milter`` inside a real Postfix (Debian's), resolving through a real BIND on loopback.

Most tests run twice: Postfix talking to the milter over ``inet:`` and over ``unix:``
(conftest.py). swaks connects from 127.0.0.x; ``milter.zone`` says what each domain
authorises. Each test asserts what an operator sees: the SMTP reply, the headers of the
delivered message, the milter's log line (and Postfix's, where Postfix says something).
Messages are told apart by a unique Subject.
"""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.harness import unfold, wait_for_log_lines
from tests.milter.conftest import PASSWORD, RECEIVER, USER, Mta

CLIENT = "127.0.0.2"  # prapass.example's one address; every HELO and MAIL FROM passes for it
SENDER = "bounce@mfrom.example"


def subject(name: str, mta: Mta) -> str:
    return f"{name}-{mta.mode}-{uuid.uuid4().hex[:10]}"


def message(subj: str, *header_lines: str, body: str = "hello\n") -> str:
    return "\n".join([*header_lines, "To: rcpt@example.org", f"Subject: {subj}", "", body])


def ar_values(msg) -> list[str]:
    return [unfold(v) for v in msg.get_all("Authentication-Results", [])]


def spf_values(msg) -> list[str]:
    return [unfold(v) for v in msg.get_all("Received-SPF", [])]


def milter_line(mta: Mta, subj_sender: str) -> str:
    return mta.milter.wait_lines(subj_sender)[-1]


def accepted(mta: Mta, subj: str, sent, count: int = 1):
    assert sent.returncode == 0, sent.transcript
    return mta.postfix.delivered(subj, count)


# --------------------------------------------------------------------------- PRA results


@pytest.mark.parametrize(("domain", "result"), [
    ("prapass.example", "pass"),  # "v=spf1 ip4:127.0.0.2 -all", read as spf2.0/mfrom,pra
    ("prasoft.example", "softfail"),  # "~all": marked, pra_reject = Fail does not refuse it
    ("pranone.example", "none"),  # no SPF record at all
    ("praperm.example", "permerror"),  # ip4:127.0.0.300
])
def test_pra_result_is_marked(mta: Mta, domain: str, result: str) -> None:
    subj = subject(f"pra-{result}", mta)
    pra = f"author-{subj}@{domain}"
    sent = mta.send(CLIENT, SENDER, message(subj, f"From: Author <{pra}>"))
    (msg,) = accepted(mta, subj, sent)
    ars = ar_values(msg)
    assert f"{RECEIVER}; spf=pass smtp.mailfrom={SENDER}" in ars
    (sid,) = [v for v in ars if "sender-id=" in v]
    assert sid.startswith(f"{RECEIVER}; sender-id={result}")
    assert sid.endswith(f"header.from={pra}")
    if result == "permerror":
        assert "reason=" in sid and "127.0.0.300" in sid
    spf = spf_values(msg)
    assert any(v.startswith(f"{result} ") and "identity=pra;" in v for v in spf), spf
    assert any(v.startswith("pass ") and "identity=mailfrom;" in v for v in spf), spf
    line = milter_line(mta, pra)
    assert f'sender-id={result} pra="{pra}" (header From)' in line
    assert "helo=pass mailfrom=pass" in line and line.endswith("action=accept")


def test_pra_fail_is_refused(mta: Mta) -> None:
    subj = subject("pra-fail", mta)
    pra = f"author-{subj}@prafail.example"
    sent = mta.send(CLIENT, SENDER, message(subj, f"From: {pra}"))
    assert sent.returncode != 0
    (reply,) = [r for r in sent.replies() if r.startswith("550")]
    assert reply.startswith("550 5.7.1 Sender ID fail for PRA") and pra in reply
    assert wait_for_log_lines(mta.postfix.log, f"milter-reject: END-OF-MESSAGE from unknown[{CLIENT}]: 5.7.1")
    line = milter_line(mta, pra)
    assert "sender-id=fail" in line and "action=end of header" in line and "550 5.7.1" in line


def test_sender_differs_from_from(mta: Mta) -> None:
    """RFC 4407 §2 step 3: one Sender: is the PRA, whatever From: says."""
    subj = subject("sender", mta)
    pra = f"secretary-{subj}@prapass.example"
    sent = mta.send(CLIENT, SENDER, message(subj, "From: Boss <boss@prafail.example>",
                                            f"Sender: {pra}"))
    (msg,) = accepted(mta, subj, sent)
    assert f"{RECEIVER}; sender-id=pass header.sender={pra}" in ar_values(msg)
    assert "(header Sender)" in milter_line(mta, pra)


def test_most_recent_resent_block_decides(mta: Mta) -> None:
    """Steps 1–2: the first (topmost, most recent) resent block's Resent-From is the PRA."""
    subj = subject("resent-from", mta)
    pra = f"forwarder-{subj}@prapass.example"
    sent = mta.send(CLIENT, SENDER, message(
        subj, f"Resent-From: {pra}", "Received: from older.example by mx.example; Mon, 1 Dec 2026",
        "Resent-From: first@prafail.example", "Resent-Sender: first-sender@prafail.example",
        "From: author@prafail.example"))
    (msg,) = accepted(mta, subj, sent)
    assert f"{RECEIVER}; sender-id=pass header.resent-from={pra}" in ar_values(msg)


def test_resent_sender_of_the_top_block_decides(mta: Mta) -> None:
    subj = subject("resent-sender", mta)
    pra = f"resender-{subj}@prafail.example"
    sent = mta.send(CLIENT, SENDER, message(
        subj, f"Resent-Sender: {pra}", "Resent-From: ok@prapass.example",
        "From: author@prapass.example"))
    assert sent.returncode != 0
    assert any(r.startswith("550 5.7.1 Sender ID fail") and pra in r for r in sent.replies())
    assert "(header Resent-Sender)" in milter_line(mta, pra)


@pytest.mark.parametrize("how", ["one-field", "two-fields"])
def test_two_from_mailboxes_and_no_sender_give_no_pra(mta: Mta, how: str) -> None:
    """Steps 4–6: no single mailbox, no PRA: the message is marked (no_pra = accept)."""
    subj = subject(f"no-pra-{how}", mta)
    first, second = f"a-{subj}@prapass.example", f"b-{subj}@prapass.example"
    froms = [f"From: {first}, {second}"] if how == "one-field" else [f"From: {first}",
                                                                       f"From: {second}"]
    sent = mta.send(CLIENT, SENDER, message(subj, *froms))
    (msg,) = accepted(mta, subj, sent)
    (sid,) = [v for v in ar_values(msg) if "sender-id=" in v]
    assert sid.startswith(f"{RECEIVER}; sender-id=permerror reason=")
    assert "no PRA" in sid
    line = milter_line(mta, subj if how == "one-field" else SENDER)
    assert "sender-id=permerror pra=none" in line and "no PRA" in line


# --------------------------------------------------------------------------- RFC 4406 §4.4


def test_spf2_pra_record_overrides_v_spf1(mta: Mta) -> None:
    """override.example: v=spf1 passes 127.0.0.0/24, spf2.0/pra does not: the PRA fails."""
    subj = subject("override", mta)
    pra = f"x-{subj}@override.example"
    sent = mta.send(CLIENT, SENDER, message(subj, f"From: {pra}"))
    assert any(r.startswith("550 5.7.1 Sender ID fail") for r in sent.replies()), sent.transcript
    subj2 = subject("sidpass", mta)
    pra2 = f"y-{subj2}@sidpass.example"  # v=spf1 -all, but spf2.0/pra passes
    sent = mta.send(CLIENT, SENDER, message(subj2, f"From: {pra2}"))
    (msg,) = accepted(mta, subj2, sent)
    assert f"{RECEIVER}; sender-id=pass header.from={pra2}" in ar_values(msg)


# --------------------------------------------------------------------------- headers


def test_forged_authentication_results_removed_foreign_kept(mta: Mta) -> None:
    """RFC 8601 §5: ours (authserv-id mx.spfkit.test, any case) removed; others stay."""
    subj = subject("forged", mta)
    sent = mta.send(CLIENT, SENDER, message(
        subj, "Authentication-Results: MX.spfkit.test; spf=pass smtp.mailfrom=forged@evil.example",
        "Authentication-Results: other.example; spf=fail smtp.mailfrom=kept@other.example",
        'Authentication-Results: (comment) "mx.spfkit.test"; dkim=pass header.d=evil.example',
        f"From: author-{subj}@prapass.example"))
    (msg,) = accepted(mta, subj, sent)
    ars = ar_values(msg)
    assert not [v for v in ars if "evil.example" in v], ars
    assert "other.example; spf=fail smtp.mailfrom=kept@other.example" in ars
    assert f"{RECEIVER}; spf=pass smtp.mailfrom={SENDER}" in ars
    assert len(ars) == 3  # the foreign one and our two
    assert milter_line(mta, f"author-{subj}").endswith(
        "action=accept removed=2 forged Authentication-Results")


def test_multi_recipient_message_is_checked_once(mta: Mta) -> None:
    subj = subject("multi", mta)
    sender = f"multi-{subj}@mfrom.example"
    rcpts = ["one@example.org", "two@example.org", "three@example.org"]
    sent = mta.send(CLIENT, sender, message(subj, "From: author@prapass.example"), rcpts=rcpts)
    messages = accepted(mta, subj, sent, count=3)
    for msg in messages:  # one header of each kind per identity, not one per recipient
        assert len([v for v in spf_values(msg) if "identity=mailfrom" in v]) == 1
        assert len([v for v in ar_values(msg) if "spf=pass" in v]) == 1
    (line,) = mta.milter.wait_lines(sender)
    assert "recipients=3" in line


def test_multi_recipient_reject_logged_once(mta: Mta) -> None:
    subj = subject("multi-reject", mta)
    sender = f"fail-{subj}@mfail.example"
    sent = mta.send(CLIENT, sender, message(subj, "From: a@prapass.example"),
                    rcpts=["one@example.org", "two@example.org"])
    assert sent.returncode == 24  # no recipient accepted
    replies = [r for r in sent.replies() if r.startswith("550")]
    assert len(replies) == 2 and all(r.startswith("550 5.7.23 SPF fail for MAIL FROM")
                                     for r in replies)
    (line,) = mta.milter.wait_lines(sender)
    assert "mailfrom=fail" in line and "action=RCPT TO 550 5.7.23" in line


def test_authenticated_submission_is_skipped(mta: Mta) -> None:
    subj = subject("auth", mta)
    sender = f"user-{subj}@mfail.example"  # would be refused if it were checked
    sent = mta.send(CLIENT, sender, message(subj, "From: user@prafail.example"),
                    auth=(USER, PASSWORD))
    (msg,) = accepted(mta, subj, sent)
    assert spf_values(msg) == [] and ar_values(msg) == []
    line = milter_line(mta, sender)
    assert f"skipped (client authenticated with SMTP AUTH as {USER})" in line


def test_mail_from_fail_rejected_at_rcpt(mta: Mta) -> None:
    subj = subject("mfail", mta)
    sender = f"x-{subj}@mfail.example"
    sent = mta.send(CLIENT, sender, message(subj, "From: a@prapass.example"))
    assert sent.returncode == 24
    assert any(r.startswith("550 5.7.23 SPF fail for MAIL FROM mfail.example") for r in sent.replies())
    assert wait_for_log_lines(mta.postfix.log, f"milter-reject: RCPT from unknown[{CLIENT}]: 550 5.7.23")


def test_reject_at_mail_from_when_configured(mail_stage_mta: Mta) -> None:
    mta = mail_stage_mta
    subj = subject("mailstage", mta)
    sender = f"x-{subj}@mfail.example"
    sent = mta.send(CLIENT, sender, message(subj, "From: a@prapass.example"))
    assert sent.returncode != 0
    assert any(r.startswith("550 5.7.23 SPF fail for MAIL FROM mfail.example") for r in sent.replies())
    assert wait_for_log_lines(mta.postfix.log, f"milter-reject: MAIL from unknown[{CLIENT}]: 550 5.7.23")
    assert "action=MAIL FROM 550 5.7.23" in mta.milter.wait_lines(sender)[-1]


# --------------------------------------------------------------------------- test-only


def test_test_only_marks_but_never_refuses(test_only_mta: Mta) -> None:
    mta = test_only_mta
    subj = subject("testonly-mfail", mta)
    sender = f"x-{subj}@mfail.example"
    sent = mta.send(CLIENT, sender, message(subj, f"From: a-{subj}@prafail.example"))
    (msg,) = accepted(mta, subj, sent)
    assert any(v.startswith("fail ") and "identity=mailfrom" in v for v in spf_values(msg))
    assert any("sender-id=fail" in v for v in ar_values(msg))
    lines = mta.milter.wait_lines(sender, "test-only: would be", count=2)
    assert any("test-only: would be" in line and "550 5.7.23" in line for line in lines), lines
    assert any("test-only: would be" in line and "550 5.7.1" in line for line in lines), lines


# --------------------------------------------------------------------------- hostile input


def _still_serving(mta: Mta) -> None:
    subj = subject("after", mta)
    sent = mta.send(CLIENT, SENDER, message(subj, "From: a@prapass.example"))
    (msg,) = accepted(mta, subj, sent)
    assert any("sender-id=pass" in v for v in ar_values(msg))


def _no_trouble(mta: Mta) -> None:
    text = mta.milter.text()
    assert "Traceback" not in text and "internal error" not in text, text[-3000:]
    assert not mta.postfix.log_lines("milter") or not [
        line for line in mta.postfix.log_lines("milter") if "protocol" in line or "unreasonable" in line]


def test_one_megabyte_header(mta: Mta) -> None:
    subj = subject("big", mta)
    big = "X-Big: " + "\n ".join("a" * 76 for _ in range(13_500))  # ~1 MB, folded
    sent = mta.send(CLIENT, SENDER, message(subj, big, "From: a@prapass.example"))
    assert sent.returncode == 0, sent.transcript[-2000:]
    _no_trouble(mta)
    _still_serving(mta)


def test_thousand_from_headers(mta: Mta) -> None:
    subj = subject("thousand", mta)
    sender = f"k-{subj}@mfrom.example"
    froms = [f"From: f{i}@prapass.example" for i in range(1000)]
    sent = mta.send(CLIENT, sender, message(subj, *froms))
    (msg,) = accepted(mta, subj, sent)
    assert any("sender-id=permerror" in v and "1000 From: headers" in v for v in ar_values(msg))
    assert "sender-id=permerror pra=none" in milter_line(mta, sender)
    _no_trouble(mta)


@pytest.mark.parametrize(("header", "pra"), [
    ("From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <jm@prapass.example>", "jm@prapass.example"),
    ("From: \"Jörg\" <jörg@prapass.example>", "jörg@prapass.example"),
])
def test_encoded_word_and_non_ascii_addresses(mta: Mta, header: str, pra: str) -> None:
    subj = subject("intl", mta)
    sender = f"i-{subj}@mfrom.example"
    sent = mta.send(CLIENT, sender, message(subj, header))
    (msg,) = accepted(mta, subj, sent)
    assert any(v.startswith(f"{RECEIVER}; sender-id=pass header.from=") for v in ar_values(msg))
    assert "sender-id=pass" in milter_line(mta, sender)
    _no_trouble(mta)


def test_cr_lf_in_mail_from_parameters(mta: Mta) -> None:
    from tests.milter.harness import raw_smtp

    replies = raw_smtp(mta.postfix.port, CLIENT, [
        b"EHLO client.milter.example\r\n",
        b"MAIL FROM:<crlf@mfrom.example> ENVID=a\rInjected: yes\r\n",
        b"RSET\r\n",
        b"MAIL FROM:<crlf2@mfrom.example> X-EVIL=\x01\x7f\xff\r\n",
    ])
    assert all(reply[:1] in b"2345" for reply in replies), replies
    _no_trouble(mta)
    _still_serving(mta)


def test_client_drops_mid_message(mta: Mta) -> None:
    from tests.milter.harness import raw_smtp

    sender = f"drop-{uuid.uuid4().hex[:8]}@mfrom.example"
    raw_smtp(mta.postfix.port, CLIENT, [
        b"EHLO client.milter.example\r\n", f"MAIL FROM:<{sender}>\r\n".encode(),
        b"RCPT TO:<rcpt@example.org>\r\n", b"DATA\r\n", b"<DATA>",
        b"From: a@prapass.example\r\nSubject: dropped\r\n", b"\r\nhalf a bo",
    ], drop=True)
    (line,) = mta.milter.wait_lines(sender, "action=aborted")  # its one line (docs/milter.md)
    assert "mailfrom=" in line and "recipients=1" in line
    _no_trouble(mta)
    _still_serving(mta)


# --------------------------------------------------------------------------- spfkit stats


def test_stats_counts_what_the_milter_logged(mta: Mta, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``spfkit stats`` over the milter's own log gives the counts the test sent (issue 14)."""
    import json
    import subprocess
    import sys

    tag = uuid.uuid4().hex[:10]
    plan = {"prapass.example": ("pass", 3), "prasoft.example": ("softfail", 2),
            "pranone.example": ("none", 1)}
    for domain, (_, count) in plan.items():
        for i in range(count):
            subj = subject(f"stats-{i}", mta)
            sent = mta.send(CLIENT, SENDER, message(subj, f"From: a-{tag}-{i}@{domain}"))
            accepted(mta, subj, sent)
    total = sum(count for _, count in plan.values())
    lines = mta.milter.wait_lines(f"-{tag}-", count=total)
    log = tmp_path / "milter.log"
    log.write_text("\n".join(lines) + "\n")
    proc = subprocess.run([sys.executable, "-m", "spfkit", "stats", str(log), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)["identities"]
    pra = {r: v["count"] for r, v in data["pra"]["results"].items() if v["count"]}
    assert pra == {result: count for result, count in plan.values()}
    # every message: MAIL FROM and HELO passed for 127.0.0.2, counted once each
    assert data["mailfrom"]["total"] == data["helo"]["total"] == total
    assert {r for r, v in data["mailfrom"]["results"].items() if v["count"]} == {"pass"}
