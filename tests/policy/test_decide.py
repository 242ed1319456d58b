"""Transaction and decide(): every result × identity × policy, reply texts, headers, skips;
one header per transaction (service.reply_for)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spfkit.identity import Identity, is_valid_domain
from spfkit.policy.config import PolicyConfig, parse_config
from spfkit.policy.decide import Relay, RelayTest, Transaction, decide
from spfkit.policy.decision import (
    DUNNO,
    Checks,
    Decision,
    Envelope,
    Outcome,
    fallback,
    skipped,
)
from spfkit.policy.protocol import PolicyReply, PolicyRequest, ProtocolError
from spfkit.policy.service import malformed, reply_for
from spfkit.results import CheckResult, Result

RECEIVER = "mx.example.org"


def req(**attrs: str) -> PolicyRequest:
    base = {"request": "smtpd_access_policy", "protocol_state": "RCPT", "client_address": "192.0.2.99",
            "helo_name": "mail.example.net", "sender": "alice@example.net",
            "recipient": "bob@example.org", "instance": "1.2.3", "queue_id": ""}
    base.update(attrs)
    return PolicyRequest.build(base)


def res(result: Result, domain: str = "example.net", **kw: str) -> CheckResult:
    if result is Result.FAIL:
        kw.setdefault("explanation", f"{domain} does not designate 192.0.2.99 as permitted sender")
    if result in (Result.TEMPERROR, Result.PERMERROR):
        kw.setdefault("problem", "something broke")
    return CheckResult(result=result, domain=domain, mechanism=kw.pop("mechanism", "-all"), **kw)


def run(checks: Checks, config: PolicyConfig | None = None, **attrs: str) -> Decision:
    return decide(req(**attrs), checks, config or PolicyConfig(), receiver=RECEIVER)


# --------------------------------------------------------------------------- the matrix


EXPECTED_DEFAULT = {
    Result.PASS: (Outcome.ACCEPT, DUNNO),
    Result.NONE: (Outcome.ACCEPT, DUNNO),
    Result.NEUTRAL: (Outcome.ACCEPT, DUNNO),
    Result.SOFTFAIL: (Outcome.ACCEPT, DUNNO),
    Result.FAIL: (Outcome.REJECT, "550 5.7.23 "),
    Result.PERMERROR: (Outcome.ACCEPT, DUNNO),
    Result.TEMPERROR: (Outcome.DEFER, "451 4.7.24 "),
}


@pytest.mark.parametrize("result", list(Result))
@pytest.mark.parametrize("identity", [Identity.HELO, Identity.MAILFROM])
def test_default_policy_for_each_result_and_identity(result: Result, identity: Identity) -> None:
    checked = res(result, "mail.example.net" if identity is Identity.HELO else "example.net")
    other = res(Result.NONE, "x.example")
    checks = Checks(helo=checked, mailfrom=other) if identity is Identity.HELO else \
        Checks(helo=res(Result.PASS, "mail.example.net", mechanism="a"), mailfrom=checked)
    decision = run(checks)
    outcome, action = EXPECTED_DEFAULT[result]
    assert decision.outcome is outcome
    assert decision.action.startswith(action)
    if outcome is Outcome.ACCEPT:
        assert len(decision.headers) == 1 and decision.headers[0].name == "Received-SPF"
    else:
        assert decision.identity is identity and decision.headers == ()
        label = "HELO" if identity is Identity.HELO else "MAIL FROM"
        assert f"SPF {result.value} for {label} {checked.domain}" in decision.action


@pytest.mark.parametrize("result", list(Result))
@pytest.mark.parametrize("config", [
    {"Mail_From_reject": "SPF_Not_Pass", "PermError_reject": True},
    {"Mail_From_reject": "Softfail", "TempError_Defer": False},
    {"Mail_From_reject": "False", "PermError_reject": True},
    {"actions": {"mailfrom": {"neutral": "defer", "pass": "reject"}}},
])
def test_configured_policies(result: Result, config: dict[str, object]) -> None:
    cfg = parse_config(config)
    decision = run(Checks(mailfrom=res(result)), cfg)
    verdict = cfg.verdict(Identity.MAILFROM, result)
    assert decision.outcome.value == verdict.value
    if verdict.value == "reject":
        code = "550 5.7.24" if result is Result.PERMERROR else "550 5.7.23"
        assert decision.action.startswith(code)
    elif verdict.value == "defer":
        code = "451 4.7.24" if result is Result.TEMPERROR else "451 4.7.23"
        assert decision.action.startswith(code)
    else:
        assert decision.action == DUNNO and decision.headers


def test_helo_fail_decides_before_mail_from() -> None:
    decision = run(Checks(helo=res(Result.FAIL, "mail.example.net"), mailfrom=res(Result.PASS)))
    assert decision.outcome is Outcome.REJECT and decision.identity is Identity.HELO
    assert "HELO fail: reject (policy Fail)" == decision.why


def test_helo_reject_null_only_counts_for_the_null_sender() -> None:
    config = parse_config({"HELO_reject": "Null"})
    helo = res(Result.FAIL, "mail.example.net")
    assert run(Checks(helo=helo, mailfrom=res(Result.PASS)), config).outcome is Outcome.ACCEPT
    null = run(Checks(helo=helo, mailfrom=helo), config, sender="")
    assert null.outcome is Outcome.REJECT and null.identity is Identity.HELO


def test_helo_false_lets_the_null_sender_mail_from_identity_decide() -> None:
    """§2.4: with a null sender MAIL FROM is postmaster@HELO: the same result, its own policy."""
    config = parse_config({"HELO_reject": "False"})
    helo = res(Result.FAIL, "mail.example.net")
    decision = run(Checks(helo=helo, mailfrom=helo), config, sender="")
    assert decision.outcome is Outcome.REJECT and decision.identity is Identity.MAILFROM


def test_fail_reply_carries_the_sanitised_explanation() -> None:
    hostile = "evil\r\nX-Injected: yes " + "a" * 600
    decision = run(Checks(mailfrom=res(Result.FAIL, explanation=hostile)))
    assert "\r" not in decision.action and "\n" not in decision.action
    assert "x0d" in decision.action and "x0a" in decision.action
    assert len(decision.action) < 400
    PolicyReply(decision.action)  # valid on the wire


def test_permerror_reject_and_temperror_texts_use_the_problem() -> None:
    config = parse_config({"PermError_reject": True})
    decision = run(Checks(mailfrom=res(Result.PERMERROR, problem="bad term 'ip4:1.2.3.300'")), config)
    assert decision.action.startswith("550 5.7.24 SPF permerror for MAIL FROM example.net: ")
    assert "ip4:1.2.3.300" in decision.action
    decision = run(Checks(mailfrom=res(Result.TEMPERROR, problem="DNS timeout")))
    assert decision.action == "451 4.7.24 SPF temperror for MAIL FROM example.net: \"DNS timeout\""


def test_test_only_never_rejects_but_says_what_it_would_do() -> None:
    config = parse_config({"test_only": True})
    decision = run(Checks(mailfrom=res(Result.FAIL)), config)
    assert decision.outcome is Outcome.ACCEPT and decision.action == DUNNO
    assert decision.would is not None and decision.would.startswith("550 5.7.23")
    assert decision.headers and decision.headers[0].value.startswith("fail ")
    assert "test-only: would be 550 5.7.23" in decision.log_line


# --------------------------------------------------------------------------- headers


def test_received_spf_header_for_mail_from() -> None:
    helo = res(Result.PASS, "mail.example.net")
    decision = run(Checks(helo=helo, mailfrom=res(Result.PASS, mechanism="mx")))
    (header,) = decision.headers
    text = str(header)
    assert text.startswith("Received-SPF: pass ")
    assert "identity=mailfrom;" in text and "client-ip=192.0.2.99;" in text
    assert f"receiver={RECEIVER};" in text and "bob@example.org" not in text  # Hide_Receiver


def test_hide_receiver_off_names_the_recipients_domain_only() -> None:
    """As policyd-spf 3.x: the recipient's domain, never the address (a header every
    recipient of the mail sees); a local recipient without a domain as it is."""
    config = parse_config({"Hide_Receiver": False})
    text = str(run(Checks(mailfrom=res(Result.PASS)), config).headers[0])
    assert "receiver=example.org;" in text and "bob@" not in text
    local = run(Checks(mailfrom=res(Result.PASS)), config, recipient="bob")
    assert "receiver=bob;" in str(local.headers[0])


def test_helo_header_when_mail_from_says_none() -> None:
    decision = run(Checks(helo=res(Result.PASS, "mail.example.net"), mailfrom=res(Result.NONE)))
    assert decision.identity is Identity.HELO
    assert "identity=helo;" in str(decision.headers[0])


def test_null_sender_header_is_the_mail_from_identity() -> None:
    helo = res(Result.PASS, "mail.example.net")
    decision = run(Checks(helo=helo, mailfrom=helo), sender="")
    text = str(decision.headers[0])
    assert "identity=mailfrom;" in text and 'envelope-from="";' in text
    assert "postmaster@mail.example.net" in text


def test_authentication_results_and_both_and_none() -> None:
    checks = Checks(mailfrom=res(Result.SOFTFAIL))
    ar = run(checks, parse_config({"Header_Type": "AR", "Authserv_Id": "mx.example.org"}))
    assert [h.name for h in ar.headers] == ["Authentication-Results"]
    assert str(ar.headers[0]) == ("Authentication-Results: mx.example.org; spf=softfail "
                                  "smtp.mailfrom=alice@example.net")
    both = run(checks, parse_config({"Header_Type": "both"}))
    assert [h.name for h in both.headers] == ["Received-SPF", "Authentication-Results"]
    assert str(both.headers[1]).startswith(f"Authentication-Results: {RECEIVER}; ")
    assert run(checks, parse_config({"Header_Type": "none"})).headers == ()


def test_a_hostile_request_cannot_break_the_header_line() -> None:
    decision = run(Checks(mailfrom=res(Result.PASS)), sender="a\u2028b@example.net" + "x" * 2000,
                   helo_name="h\x1b[31m.example")
    (header,) = decision.headers
    text = str(header)
    assert "\u2028" not in text and "\x1b" not in text
    assert len(text.encode()) <= 990
    PolicyReply(f"PREPEND {text}")


# --------------------------------------------------------------------------- one header per transaction


def test_only_the_first_rcpt_of_a_transaction_prepends() -> None:
    decision = run(Checks(mailfrom=res(Result.PASS)))
    given: list[str] = []
    replies = []
    for _ in range(3):
        reply, gave = reply_for(decision, "RCPT", given)
        if gave:
            given.append("RCPT")
        replies.append(reply.action)
    assert replies[0].startswith("PREPEND Received-SPF: pass ")
    assert replies[1:] == [DUNNO, DUNNO]
    reply, gave = reply_for(decision, "DATA", given)  # one header only: nothing left for DATA
    assert reply.action == DUNNO and not gave


def test_both_headers_rcpt_then_data() -> None:
    decision = run(Checks(mailfrom=res(Result.PASS)), parse_config({"Header_Type": "both"}))
    given: list[str] = []
    actions = []
    for state in ("RCPT", "RCPT", "DATA", "END-OF-MESSAGE"):
        reply, gave = reply_for(decision, state, given)
        if gave:
            given.append(state)
        actions.append(reply.action.split(":")[0])
    assert actions == ["PREPEND Received-SPF", DUNNO, "PREPEND Authentication-Results", DUNNO]


def test_no_prepend_outside_mail_rcpt_data() -> None:
    decision = run(Checks(mailfrom=res(Result.PASS)))
    assert reply_for(decision, "END-OF-MESSAGE", [])[0].action == DUNNO
    assert reply_for(decision, "CONNECT", [])[0].action == DUNNO


def test_rejects_repeat_for_every_request() -> None:
    decision = run(Checks(mailfrom=res(Result.FAIL)))
    for state in ("RCPT", "RCPT", "DATA"):
        reply, gave = reply_for(decision, state, [])
        assert reply.action.startswith("550 5.7.23") and not gave


# --------------------------------------------------------------------------- skips, fallbacks, logs


def test_skip_is_dunno_without_header() -> None:
    decision = skipped(req(), "client 127.0.0.1 is in skip_addresses (127.0.0.0/8)")
    assert decision.outcome is Outcome.SKIP and decision.action == DUNNO and not decision.headers
    assert decision.log_line.startswith("SPF skipped: client=192.0.2.99 ")
    assert decision.log_line.endswith("skip_addresses (127.0.0.0/8); action=DUNNO")
    assert run(Checks(skip="why")).outcome is Outcome.SKIP


@pytest.mark.parametrize(("timeout", "option", "value", "action"), [
    (True, "timeout_action", "dunno", DUNNO),
    (True, "timeout_action", "defer", "451 4.7.24 "),
    (False, "error_action", "dunno", DUNNO),
    (False, "error_action", "DEFER", "451 4.3.0 "),
])
def test_fallbacks(timeout: bool, option: str, value: str, action: str) -> None:
    decision = fallback(req(), parse_config({option: value}), "it broke", timeout=timeout)
    assert decision.outcome is Outcome.FALLBACK and decision.action.startswith(action)
    assert "it broke" in decision.log_line


def test_malformed() -> None:
    error = ProtocolError("line 1 is not name=value", {"client_address": "192.0.2.1\n"})
    decision = malformed(error, PolicyConfig())
    assert decision.action == DUNNO
    assert "\n" not in decision.log_line and "\\x0a" in decision.log_line
    assert malformed(error, parse_config({"error_action": "defer"})).action.startswith("451 4.3.0")


def test_log_line_shape() -> None:
    decision = run(Checks(mailfrom=res(Result.FAIL)), queue_id="ABC123")
    assert decision.log_line.startswith(
        "SPF fail: client=192.0.2.99 helo=mail.example.net "
        'envelope-from="alice@example.net" identity=mailfrom queue-id=ABC123 mechanism=-all: '
        "example.net does not designate 192.0.2.99 as permitted sender; action=550 5.7.23 ")


def test_nothing_checked() -> None:
    config = parse_config({"HELO_reject": "No_Check", "Mail_From_reject": "No_Check"})
    decision = run(Checks(), config)
    assert decision.outcome is Outcome.ACCEPT and decision.headers == ()


# --------------------------------------------------------------------------- the transaction


def txn(config: dict[str, object] | None = None, **attrs: str) -> Transaction:
    return Transaction(req(**attrs), parse_config(config or {}), receiver=RECEIVER)


def test_a_transaction_says_what_to_check() -> None:
    plain = txn()
    assert plain.skip is None and plain.relays == ()
    assert plain.check_helo and plain.check_mailfrom
    null = txn(sender="")
    assert null.check_helo and not null.check_mailfrom  # §2.4: postmaster@HELO is the HELO check
    literal = txn(sender="", helo_name="[192.0.2.99]")
    assert not literal.check_helo and literal.check_mailfrom  # §2.3: only a domain is checked
    off = txn({"HELO_reject": "No_Check", "Mail_From_reject": "No_Check"})
    assert not off.check_helo and not off.check_mailfrom


def test_static_skips_need_no_lookup() -> None:
    local = txn(client_address="127.0.0.1")
    assert local.skip is not None and "skip_addresses" in local.skip
    assert not (local.check_helo or local.check_mailfrom or local.relays)
    assert local.decide().outcome is Outcome.SKIP
    assert "SMTP AUTH as alice" in (txn(sasl_username="alice").skip or "")
    assert "Whitelist 192.0.2.0/24" in (txn({"Whitelist": ["192.0.2.0/24"]}).skip or "")


def test_trusted_relays_are_tests_to_run() -> None:
    t = txn({"HELO_Whitelist": ["mail.example.net"], "Domain_Whitelist": ["a.example", "b.example"]},
            helo_name="Mail.Example.Net.")
    assert t.relays == (Relay(RelayTest.HELO_WHITELIST, "mail.example.net"),
                        Relay(RelayTest.DOMAIN_WHITELIST, "a.example"),
                        Relay(RelayTest.DOMAIN_WHITELIST, "b.example"))
    t.trust(t.relays[2])
    decision = t.decide()
    assert decision.outcome is Outcome.SKIP and "trusted domain b.example" in decision.why
    assert t.checks == Checks(skip=decision.why)


def test_a_helo_result_that_decides_needs_no_mail_from() -> None:
    t = txn()
    assert t.add_helo(res(Result.FAIL, "mail.example.net")) is True
    decision = t.decide()
    assert decision.outcome is Outcome.REJECT and decision.identity is Identity.HELO
    assert t.checks.mailfrom is None
    passing = txn()
    assert passing.add_helo(res(Result.PASS, "mail.example.net")) is False
    passing.add_mailfrom(res(Result.FAIL))
    assert passing.decide().identity is Identity.MAILFROM


def test_the_null_sender_reuses_the_helo_result() -> None:
    t = txn(sender="")
    helo = res(Result.PASS, "mail.example.net")
    assert t.add_helo(helo) is False
    assert t.checks == Checks(helo=helo, mailfrom=helo)
    assert t.decide() == run(Checks(helo=helo, mailfrom=helo), sender="")


def test_any_transport_gets_the_same_decision() -> None:
    """Transport-neutral: an Envelope (as a milter would build it) decides as a policy request."""
    request = req(queue_id="Q1")
    envelope = Envelope(request.client_ip, "mail.example.net", "alice@example.net",
                        "bob@example.org", "", "Q1")
    assert Envelope.of(request) == envelope
    for checks in (Checks(mailfrom=res(Result.FAIL)), Checks(mailfrom=res(Result.PASS)),
                   Checks(helo=res(Result.TEMPERROR, "mail.example.net"))):
        config = PolicyConfig()
        assert decide(envelope, checks, config, receiver=RECEIVER) == \
            decide(request, checks, config, receiver=RECEIVER)


_HELO_TEXT = st.text(st.sampled_from("0123456789abcdef.:[]-x%"), max_size=20)


@given(st.one_of(_HELO_TEXT, st.text(max_size=12),
                 st.ip_addresses().map(str), st.ip_addresses().map(lambda ip: f"{ip}.")))
def test_a_helo_name_is_a_domain_unless_it_is_an_address(helo: str) -> None:
    """§2.3 as written: not empty, no address literal, no IP address, a valid domain whose
    last label is not all digits (the name-only shortcut must never change the answer)."""
    name = helo.strip()  # as the request reads it
    try:
        ipaddress.ip_address(name)
        is_ip = True
    except ValueError:
        is_ip = False
    expected = (bool(name) and not name.startswith("[") and not is_ip and is_valid_domain(name)
                and not name.rstrip(".").rsplit(".", 1)[-1].isdigit())
    assert Transaction(
        PolicyRequest.build({"request": "smtpd_access_policy", "client_address": "192.0.2.1",
                             "helo_name": helo, "sender": "a@example.org"}),
        parse_config({}), receiver="mx.example").check_helo == expected


def test_header_values_are_ascii_whatever_the_session_sent() -> None:
    """A policy request cannot say whether the mail is SMTPUTF8 (RFC 6532): a UTF-8 HELO name
    is written in A-labels (RFC 8616 §3, the form checked), other characters (the U+FFFD of
    octets that were not UTF-8) as escapes; no header byte is over 0x7e."""
    config = parse_config({"Header_Type": "both", "Hide_Receiver": False})
    decision = run(Checks(helo=res(Result.PASS, "xn--hllo-bpa.test"),
                          mailfrom=res(Result.SOFTFAIL, "soft.test")), config,
                   helo_name="héllo.test", sender="\ufffd(x@soft.test", recipient="r@bücher.example")
    for header in decision.headers:
        text = str(header)
        assert text.isascii() and text.isprintable(), text
    text = str(decision.headers[0])
    assert "helo=xn--hllo-bpa.test;" in text and "\\ufffd(x@soft.test" in text
    assert "receiver=xn--bcher-kva.example;" in text


def test_a_rejected_error_names_the_identitys_domain() -> None:
    """A temperror met in an include is said of the MAIL FROM domain (the identity); the
    problem text names the include's domain."""
    checked = res(Result.TEMPERROR, "temp.test", problem="DNS TIMEOUT looking up TXT temp.test")
    decision = run(Checks(mailfrom=checked), sender="t@incltemp.test")
    assert decision.action.startswith("451 4.7.24 SPF temperror for MAIL FROM incltemp.test: ")
    assert "temp.test" in decision.action.partition(": ")[2]
