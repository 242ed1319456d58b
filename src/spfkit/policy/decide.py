"""From check results to a Postfix answer: the local policy of RFC 7208 §8, pure.

:func:`decide` turns one transaction's request, its HELO and MAIL FROM results and the
configuration into a :class:`Decision`; :func:`reply_for` turns the decision into the reply for
one request of that transaction. Nothing here waits, looks up or logs.

* **Order** (as policyd-spf does it). The HELO identity (§2.3) first: if its result is to be
  rejected or deferred, that decides, whatever MAIL FROM says. Then MAIL FROM (§2.4; for the
  null reverse-path it is ``postmaster@<HELO>``, the same check as HELO).
* **Replies** carry RFC 7372 codes: ``550 5.7.23`` for a rejected result (with the domain's
  explanation for ``fail``, §6.2), ``550 5.7.24`` for a rejected permerror, ``451 4.7.24`` for
  a deferred temperror (``451 4.7.23`` for any other deferred result). The explanation and every
  other value from the request or from DNS pass :func:`spfkit.headers.quote_value`.
* **Headers.** An accepted transaction gets a ``Received-SPF`` (§9.1) and/or
  ``Authentication-Results`` (RFC 8601) header through Postfix's ``PREPEND`` action. PREPEND
  does not accept anything: Postfix notes the header and goes on with its next restriction, as
  for ``DUNNO`` (smtpd_check.c returns SMTPD_CHECK_DUNNO). Postfix adds every PREPEND of a
  transaction to the message and forgets them only at the next MAIL FROM — even those of a
  recipient that a later restriction rejects. So for each transaction (Postfix's ``instance``)
  **only the first request of a protocol stage gets a header**, later ones ``DUNNO``: a
  mail to three recipients gets one header, not three. One reply holds one action, so one
  header: with both header types, the first request (normally at RCPT) carries
  ``Received-SPF`` and the second stage's first request (``check_policy_service`` also listed
  in ``smtpd_data_restrictions``) carries ``Authentication-Results``.
* **Rejects and defers** are the same for every request of the transaction, at any stage.
* **Test-only mode** decides and logs as usual, but every would-be reject or defer is sent as
  an accept (with its header); the log line says what would have been sent.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from spfkit.headers import HeaderField, authentication_results, quote_value, received_spf
from spfkit.identity import Identity
from spfkit.policy.config import Fallback, HeaderKind, PolicyConfig, RejectPolicy, Verdict
from spfkit.policy.protocol import PolicyReply, PolicyRequest, ProtocolError
from spfkit.results import CheckResult, Result

__all__ = [
    "DUNNO",
    "PREPEND_STATES",
    "Checks",
    "Decision",
    "Outcome",
    "decide",
    "fallback",
    "helo_verdict",
    "malformed",
    "reply_for",
    "skipped",
]

DUNNO: Final = "DUNNO"
#: access(5): PREPEND works from MAIL FROM until DATA; never at CONNECT/HELO, nor after the data.
PREPEND_STATES: Final = frozenset({"MAIL", "RCPT", "DATA"})
#: Longest header line we aim for (RFC 5322 §2.1.1: 998 octets); a PREPEND cannot be folded.
_HEADER_OCTETS: Final = 990
_TEXT_CHARS: Final = 200  # of an explanation or problem quoted in a reply (SMTP lines: 512)
_LABEL: Final = {Identity.HELO: "HELO", Identity.MAILFROM: "MAIL FROM"}


class Outcome(StrEnum):
    """How a transaction was decided."""

    ACCEPT = "accept"  # checked; may pass (with headers)
    REJECT = "reject"
    DEFER = "defer"
    SKIP = "skip"  # not checked: a local, trusted or authenticated client
    FALLBACK = "fallback"  # no verdict: deadline passed, internal error or malformed request


@dataclass(frozen=True, slots=True)
class Checks:
    """What was found out about one transaction: the results, or why nothing was checked.

    ``helo`` is None when the HELO identity was not checked (turned off, or the HELO name is
    not a domain); ``mailfrom`` is None when MAIL FROM was not checked. For the null sender
    ``mailfrom`` is the HELO check (RFC 7208 §2.4).
    """

    helo: CheckResult | None = None
    mailfrom: CheckResult | None = None
    skip: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict for one transaction, and what to log about it.

    ``action`` is the reply to every request of the transaction unless it is ``DUNNO``, in
    which case :func:`reply_for` hands out ``headers`` (see the module doc). ``identity`` and
    ``result`` are the check that decided; ``why`` the rule that applied; ``would`` the
    reject or defer that test-only mode did not send.
    """

    outcome: Outcome
    action: str = DUNNO
    headers: tuple[HeaderField, ...] = ()
    identity: Identity | None = None
    result: CheckResult | None = None
    why: str = ""
    log_line: str = ""
    would: str | None = None


def reply_for(decision: Decision, state: str, header_states: Collection[str]) -> tuple[PolicyReply, bool]:
    """The reply to one request of a decided transaction, and whether it carries a header.

    ``header_states`` are the protocol states whose requests already got one, in order; the
    next header goes to the first request of a new PREPEND-capable state.
    """
    if decision.action != DUNNO:
        return PolicyReply(decision.action), False
    given = len(header_states)
    if given < len(decision.headers) and state in PREPEND_STATES and state not in header_states:
        return PolicyReply(f"PREPEND {decision.headers[given]}"), True
    return PolicyReply(DUNNO), False


def decide(request: PolicyRequest, checks: Checks, config: PolicyConfig, *, receiver: str) -> Decision:
    """RFC 7208 §8 under the configured policy: HELO first, then MAIL FROM (module doc)."""
    if checks.skip is not None:
        return skipped(request, checks.skip)
    helo, mailfrom = checks.helo, checks.mailfrom
    if helo is not None:
        verdict = helo_verdict(request, helo, config)
        if verdict is not Verdict.ACCEPT:
            return _stop(request, config, receiver, Identity.HELO, helo, verdict)
    if mailfrom is not None:
        verdict = config.verdict(Identity.MAILFROM, mailfrom.result)
        if verdict is not Verdict.ACCEPT:
            return _stop(request, config, receiver, Identity.MAILFROM, mailfrom, verdict)
    # The header tells about MAIL FROM, or about HELO when it says more (policyd-spf does so).
    identity, shown = Identity.MAILFROM, mailfrom
    if shown is None or (shown.result is Result.NONE and helo is not None
                         and helo.result is not Result.NONE):
        identity, shown = Identity.HELO, helo
    if shown is None:
        line = _line("SPF not checked", request, None, "no identity is checked; action=DUNNO")
        return Decision(Outcome.ACCEPT, why="HELO_reject and Mail_From_reject are No_Check",
                        log_line=line)
    why = f"{_LABEL[identity]} {shown.result.value}: accept"
    headers = _headers(request, config, receiver, identity, shown)
    action = f"PREPEND {headers[0].name}" if headers else DUNNO
    line = _line(f"SPF {shown.result.value}", request, (identity, shown),
                 f"{_sentence(request, shown)}; action={action}")
    return Decision(Outcome.ACCEPT, DUNNO, headers, identity, shown, why, line)


def helo_verdict(request: PolicyRequest, helo: CheckResult, config: PolicyConfig) -> Verdict:
    """§2.3: what the HELO result does; not ACCEPT means it decides without MAIL FROM."""
    if config.helo_reject is RejectPolicy.NULL and request.sender:
        return Verdict.ACCEPT  # "Null": a HELO result counts only for the null sender
    return config.verdict(Identity.HELO, helo.result)


def skipped(request: PolicyRequest, reason: str) -> Decision:
    """Not checked, for ``reason`` (already sanitised by the caller): ``DUNNO``, no header."""
    line = _line("SPF skipped", request, None, f"{reason}; action={DUNNO}")
    return Decision(Outcome.SKIP, why=reason, log_line=line)


def fallback(request: PolicyRequest, config: PolicyConfig, reason: str, *, timeout: bool) -> Decision:
    """No verdict (deadline passed, or an internal error): the configured fallback action."""
    chosen = config.timeout_action if timeout else config.error_action
    if chosen is Fallback.DUNNO:
        action = DUNNO
    elif timeout:
        action = "451 4.7.24 SPF check did not finish in time; try again later"
    else:
        action = "451 4.3.0 SPF policy service error; try again later"
    line = _line("SPF no verdict", request, None, f"{quote_value(reason)}; action={action}")
    return Decision(Outcome.FALLBACK, action, why=reason, log_line=line)


def malformed(error: ProtocolError, config: PolicyConfig) -> Decision:
    """A request that could not be used (protocol.py): the error action, logged."""
    action = DUNNO if config.error_action is Fallback.DUNNO else \
        "451 4.3.0 malformed SPF policy request; try again later"
    client = quote_value(error.attributes.get("client_address", ""))
    instance = quote_value(error.attributes.get("instance", ""))
    line = (f"malformed policy request: {quote_value(error.reason)}; client={client} "
            f"instance={instance}; action={action}")
    return Decision(Outcome.FALLBACK, action, why=error.reason, log_line=line)


# --------------------------------------------------------------------------- helpers


def _stop(request: PolicyRequest, config: PolicyConfig, receiver: str, identity: Identity,
          checked: CheckResult, verdict: Verdict) -> Decision:
    """A reject or defer decided by ``identity``'s result (or, test-only, its accept)."""
    result = checked.result
    label = f"SPF {result.value} for {_LABEL[identity]} {quote_value(checked.domain or '-')}"
    if result is Result.FAIL:
        text = _shorten(checked.explanation or _plain(request, checked))
    elif result in (Result.PERMERROR, Result.TEMPERROR):
        text = _shorten(checked.problem or result.meaning)
    else:
        text = _plain(request, checked)
    if verdict is Verdict.REJECT:
        code = "550 5.7.24" if result is Result.PERMERROR else "550 5.7.23"
    else:
        code = "451 4.7.24" if result is Result.TEMPERROR else "451 4.7.23"
    action = f"{code} {label}: {text}"
    policy = config.helo_reject if identity is Identity.HELO else config.mail_from_reject
    why = f"{_LABEL[identity]} {result.value}: {verdict.value} (policy {policy.value}" + (
        ", [actions]" if result in config.actions.get(identity, {}) else "") + ")"
    sentence = _sentence(request, checked)
    if config.test_only:
        headers = _headers(request, config, receiver, identity, checked)
        shown = f"PREPEND {headers[0].name}" if headers else DUNNO
        line = _line(f"SPF {result.value}", request, (identity, checked),
                     f"{sentence}; action={shown} (test-only: would be {action})")
        return Decision(Outcome.ACCEPT, DUNNO, headers, identity, checked,
                        why + ", test-only", line, would=action)
    line = _line(f"SPF {result.value}", request, (identity, checked), f"{sentence}; action={action}")
    outcome = Outcome.REJECT if verdict is Verdict.REJECT else Outcome.DEFER
    return Decision(outcome, action, (), identity, checked, why, line)


def _headers(request: PolicyRequest, config: PolicyConfig, receiver: str, identity: Identity,
             checked: CheckResult) -> tuple[HeaderField, ...]:
    """The configured trace headers for ``checked``, each short enough for one line."""
    # Hide_Receiver: receiver= names this host, not the recipient (whom other recipients
    # would then see: a Bcc leak).
    shown = request.recipient if not config.hide_receiver and request.recipient else receiver
    client = request.client_ip
    helo = request.helo_name or None
    out: list[HeaderField] = []
    for kind in config.header_type:
        if kind is HeaderKind.RECEIVED_SPF:
            field = received_spf(checked, client_ip=client, identity=identity,
                                 envelope_from=request.sender, helo=helo, receiver=shown)
            if len(str(field).encode("utf-8")) > _HEADER_OCTETS:
                field = received_spf(checked, client_ip=client, identity=identity,
                                     envelope_from=request.sender, helo=helo, receiver=shown,
                                     comment="")
        else:
            field = authentication_results(checked, authserv_id=config.authserv_id or receiver,
                                           identity=identity, envelope_from=request.sender,
                                           helo=helo)
        out.append(field)
    return tuple(out)


def _shorten(text: str) -> str:
    cut = text if len(text) <= _TEXT_CHARS else text[:_TEXT_CHARS] + "..."
    return quote_value(cut)


def _plain(request: PolicyRequest, checked: CheckResult) -> str:
    """A sentence for a result that has no text of its own; values sanitised."""
    domain = quote_value(checked.domain) if checked.domain else "the domain"
    ip = quote_value(request.client_address)
    return {
        Result.PASS: f"{domain} designates {ip} as permitted sender",
        Result.FAIL: f"{domain} does not designate {ip} as permitted sender",
        Result.SOFTFAIL: f"{domain} does not designate {ip} as permitted sender (softfail)",
        Result.NEUTRAL: f"{domain} makes no assertion about {ip}",
        Result.NONE: f"{domain} publishes no SPF record" if checked.domain else
        "no domain to check",
        Result.PERMERROR: f"the SPF record of {domain} is broken",
        Result.TEMPERROR: f"the SPF record of {domain} could not be fetched",
    }[checked.result]


def _sentence(request: PolicyRequest, checked: CheckResult) -> str:
    """The log's account of a result: its plain sentence, its explanation or problem."""
    text = _plain(request, checked)
    if checked.result is Result.FAIL and checked.explanation and \
            checked.explanation != f"{checked.domain} does not designate " \
                                   f"{request.client_ip} as permitted sender":
        text += f"; explanation={_shorten(checked.explanation)}"
    if checked.problem and checked.result in (Result.PERMERROR, Result.TEMPERROR):
        text += f"; problem={_shorten(checked.problem)}"
    return text


def _line(head: str, request: PolicyRequest,
          decided: tuple[Identity, CheckResult] | None, tail: str) -> str:
    """``SPF fail: client=… helo=… envelope-from=… identity=mailfrom …: <tail>``."""
    parts = [
        f"client={quote_value(request.client_address)}",
        f"helo={quote_value(request.helo_name)}",
        f"envelope-from={quote_value(request.sender or '<>')}",
    ]
    if decided is not None:
        parts.append(f"identity={decided[0].value}")
    if request.queue_id:
        parts.append(f"queue-id={quote_value(request.queue_id)}")
    if decided is not None and decided[1].mechanism:
        parts.append(f"mechanism={quote_value(decided[1].mechanism)}")
    return f"{head}: {' '.join(parts)}: {tail}"
