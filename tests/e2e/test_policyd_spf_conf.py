"""A real Postfix asking ``spfkit policyd --config policyd-spf.conf``: policyd-spf's own file.

The file is Debian's shipped ``policyd-spf.conf`` (``tests/fixtures/``) with two changes an
operator migrating would have: ``skip_addresses`` without 127.0.0.0/8 (swaks connects from
127.0.0.x) and ``Reject_Not_Pass_Domains = soft.example``. policyd-spf.conf(5): "if mail from
a domain in this list has a Neutral/Softfail result, it will be rejected (as if it had a Fail
result)". So at the SMTP level a softfail from soft.example — accepted with a header in
test_postfix.py — is refused at RCPT, while pass and fail keep their meaning.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import (
    Named,
    PolicyProcess,
    Postfix,
    free_port,
    send,
    unfold,
    wait_for,
)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "policyd-spf.conf"
HELO = "client.e2e.example"  # authorises all of 127.0.0.0/24 (e2e.zone): MAIL FROM decides
RCPT = "rcpt@example.org"


def migrated_conf() -> str:
    lines = []
    for line in FIXTURE.read_text().splitlines():
        if line.startswith("skip_addresses"):
            line = "skip_addresses = 192.0.2.1/32"
        lines.append(line)
    lines.append("Reject_Not_Pass_Domains = soft.example")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def postfix(e2e_base: Path, named: Named) -> Iterator[tuple[Postfix, Path]]:
    work = e2e_base / "policyd-spf-conf"
    work.mkdir(mode=0o755)
    config = work / "policyd-spf.conf"
    config.write_text(migrated_conf())
    port = free_port()
    log = work / "policyd.log"
    policy = PolicyProcess(
        [sys.executable, "-m", "spfkit", "policyd", "--listen", f"127.0.0.1:{port}", "--config",
         str(config), "--log", "stderr", "--nameserver", f"127.0.0.1:{named.port}", "--timeout", "2"],
        port, log,
    ).start()
    try:
        server = Postfix(e2e_base / "postfix-policyd-spf-conf", f"inet:127.0.0.1:{port}").start()
    except BaseException:
        policy.stop()
        raise
    yield server, log
    server.stop()
    policy.stop()


def test_a_listed_domains_softfail_is_rejected_at_rcpt(postfix: tuple[Postfix, Path]) -> None:
    server, log = postfix
    nonce = uuid.uuid4().hex[:8]
    sent = send(server.port, "127.0.0.4", HELO, f"soft-{nonce}@soft.example", [RCPT], f"soft {nonce}")
    assert sent.returncode != 0, sent.transcript
    replies = sent.replies()
    assert any(reply.startswith("550 5.7.23") and "softfail" in reply.lower() for reply in replies), \
        sent.transcript

    def logged() -> bool:  # the log sink writes from a queue: poll, do not race it
        return any(f"soft-{nonce}@soft.example" in line and "action=550 5.7.23" in line
                   for line in log.read_text(errors="replace").splitlines())

    wait_for(f"the decision for soft-{nonce} in {log}", logged)


def assert_pass_delivered_and_fail_rejected(server: Postfix) -> str:
    """pass.example from 127.0.0.2 is delivered with its header; fail.example from 127.0.0.3
    gets 550 5.7.23 at RCPT (e2e.zone). Returns the nonce in both senders."""
    nonce = uuid.uuid4().hex[:8]
    passed = send(server.port, "127.0.0.2", HELO, f"pass-{nonce}@pass.example", [RCPT], f"pass {nonce}")
    assert passed.returncode == 0, passed.transcript
    [message] = server.delivered(f"pass {nonce}")
    assert unfold(message["Received-SPF"]).startswith("pass ")
    failed = send(server.port, "127.0.0.3", HELO, f"fail-{nonce}@fail.example", [RCPT], f"fail {nonce}")
    assert failed.returncode != 0
    assert any(reply.startswith("550 5.7.23") for reply in failed.replies()), failed.transcript
    return nonce


def test_pass_is_delivered_and_fail_rejected_as_before(postfix: tuple[Postfix, Path]) -> None:
    assert_pass_delivered_and_fail_rejected(postfix[0])
