"""What is known and what is said about one SMTP transaction: facts, results, the decision.

Transport-neutral values (RFC 7208 §8): :class:`Envelope` (any transport's :class:`Facts`),
:class:`Checks` (what was found out), :class:`Decision` (the verdict) and the functions that
word a decision — its access(5) action, its trace headers, its log line. ``decide.py`` says
*which* decision a transaction gets; this module says what that decision says.

* **Actions** are access(5) actions: ``DUNNO``, or an SMTP reply with RFC 7372 codes:
  ``550 5.7.23`` for a rejected result (with the domain's explanation for ``fail``, §6.2),
  ``550 5.7.24`` for a rejected permerror, ``451 4.7.24`` for a deferred temperror
  (``451 4.7.23`` for any other deferred result). The explanation and every other value from
  the client or from DNS pass :func:`spfkit.headers.quote_value`.
* **Headers.** An accepted transaction gets a ``Received-SPF`` (§9.1) and/or
  ``Authentication-Results`` (RFC 8601) header for the transport to add (the policy server
  hands them out through ``PREPEND``, one per protocol stage: see ``service.py``). The header
  tells about MAIL FROM, or about HELO when it says more (policyd-spf does so).
* **Test-only mode** decides and logs as usual, but every would-be reject or defer is sent as
  an accept (with its header); the log line says what would have been sent.

Pure: imports no asyncio, socket or dnspython.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Final, Protocol

from spfkit.headers import (
    HeaderField,
    ascii_text,
    authentication_results,
    quote_value,
    received_spf,
)
from spfkit.identity import Identity, IPAddress, a_labels
from spfkit.policy.config import Fallback, HeaderKind, PolicyConfig, Verdict
from spfkit.results import CheckResult, Result

__all__ = [
    "DUNNO",
    "Checks",
    "Decision",
    "Envelope",
    "Facts",
    "Outcome",
    "accepted",
    "fallback",
    "skipped",
    "stopped",
]

DUNNO: Final = "DUNNO"
#: Longest header line we aim for (RFC 5322 §2.1.1: 998 octets); a PREPEND cannot be folded.
_HEADER_OCTETS: Final = 990
_TEXT_CHARS: Final = 200  # of an explanation or problem quoted in a reply (SMTP lines: 512)
_CLIPPED_CHARS: Final = 120  # of a sender or HELO name in a header that would not fit otherwise
_LABEL: Final = {Identity.HELO: "HELO", Identity.MAILFROM: "MAIL FROM"}


class Facts(Protocol):
    """What a transport knows of one transaction, read-only: an :class:`Envelope`, or a
    policy request (``protocol.PolicyRequest`` has these attributes), or a milter's own."""

    @property
    def client_ip(self) -> IPAddress: ...
    @property
    def helo_name(self) -> str: ...
    @property
    def sender(self) -> str: ...  # without angle brackets; "" is the null reverse-path
    @property
    def recipient(self) -> str: ...
    @property
    def sasl_username(self) -> str: ...
    @property
    def queue_id(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Envelope:
    """The facts of one SMTP transaction (RFC 5321 §3.3): :class:`Facts` for any transport.

    ``recipient``'s domain is what a header may name (``Hide_Receiver = false``); ``sasl_username``
    is set when the client authenticated (RFC 4954).
    """

    client_ip: IPAddress
    helo_name: str = ""
    sender: str = ""
    recipient: str = ""
    sasl_username: str = ""
    queue_id: str = ""

    @classmethod
    def of(cls, facts: Facts) -> Envelope:
        """A frozen copy of any transport's facts (read once)."""
        if isinstance(facts, Envelope):
            return facts
        return cls(facts.client_ip, facts.helo_name, facts.sender, facts.recipient,
                   facts.sasl_username, facts.queue_id)

    def domain_of(self, identity: Identity) -> str:
        """§2.3 the HELO name; §2.4 the MAIL FROM domain (the HELO name for the null sender)."""
        if identity is Identity.MAILFROM and self.sender:
            return self.sender.rpartition("@")[2]
        return self.helo_name


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


class Outcome(StrEnum):
    """How a transaction was decided."""

    ACCEPT = "accept"  # checked; may pass (with headers)
    REJECT = "reject"
    DEFER = "defer"
    SKIP = "skip"  # not checked: a local, trusted or authenticated client
    FALLBACK = "fallback"  # no verdict: deadline passed, internal error or malformed request


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict for one transaction, and what to log about it.

    ``action`` is the access(5) action for the transaction: an SMTP reply for a reject or
    defer, else ``DUNNO``, in which case ``headers`` are to be added. ``identity`` and
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


def skipped(facts: Facts, reason: str) -> Decision:
    """Not checked, for ``reason`` (already sanitised by the caller): ``DUNNO``, no header."""
    line = _line("SPF skipped", Envelope.of(facts), None, f"{reason}; action={DUNNO}")
    return Decision(Outcome.SKIP, why=reason, log_line=line)


def fallback(facts: Facts, config: PolicyConfig, reason: str, *, timeout: bool) -> Decision:
    """No verdict (deadline passed, or an internal error): the configured fallback action."""
    chosen = config.timeout_action if timeout else config.error_action
    if chosen is Fallback.DUNNO:
        action = DUNNO
    elif timeout:
        action = "451 4.7.24 SPF check did not finish in time; try again later"
    else:
        action = "451 4.3.0 SPF policy service error; try again later"
    line = _line("SPF no verdict", Envelope.of(facts), None,
                 f"{quote_value(reason)}; action={action}")
    return Decision(Outcome.FALLBACK, action, why=reason, log_line=line)


def accepted(envelope: Envelope, config: PolicyConfig, receiver: str,
             helo: CheckResult | None, mailfrom: CheckResult | None) -> Decision:
    """Neither identity's result is rejected or deferred: ``DUNNO`` with the trace headers."""
    # The header tells about MAIL FROM, or about HELO when it says more (policyd-spf does so).
    identity, shown = Identity.MAILFROM, mailfrom
    if shown is None or (shown.result is Result.NONE and helo is not None
                         and helo.result is not Result.NONE):
        identity, shown = Identity.HELO, helo
    if shown is None:
        line = _line("SPF not checked", envelope, None, "no identity is checked; action=DUNNO")
        return Decision(Outcome.ACCEPT, why="HELO_reject and Mail_From_reject are No_Check",
                        log_line=line)
    why = f"{_LABEL[identity]} {shown.result.value}: accept"
    headers = _headers(envelope, config, receiver, identity, shown)
    action = f"PREPEND {headers[0].name}" if headers else DUNNO
    line = _line(f"SPF {shown.result.value}", envelope, (identity, shown),
                 f"{_sentence(envelope, shown)}; action={action}")
    return Decision(Outcome.ACCEPT, DUNNO, headers, identity, shown, why, line)


def stopped(envelope: Envelope, config: PolicyConfig, receiver: str, identity: Identity,
            checked: CheckResult, verdict: Verdict) -> Decision:
    """A reject or defer decided by ``identity``'s result (or, test-only, its accept)."""
    result = checked.result
    # the identity's own domain (§2.3, §2.4), not the include where an error happened: the
    # problem text names that one
    label = f"SPF {result.value} for {_LABEL[identity]} " \
            f"{quote_value(a_labels(envelope.domain_of(identity)) or checked.domain or '-')}"
    if result is Result.FAIL:
        text = _shorten(checked.explanation or _plain(envelope, checked))
    elif result in (Result.PERMERROR, Result.TEMPERROR):
        text = _shorten(checked.problem or result.meaning)
    else:
        text = _plain(envelope, checked)
    if verdict is Verdict.REJECT:
        code = "550 5.7.24" if result is Result.PERMERROR else "550 5.7.23"
    else:
        code = "451 4.7.24" if result is Result.TEMPERROR else "451 4.7.23"
    action = ascii_text(f"{code} {label}: {text}")  # RFC 5321 §4.2: reply text is ASCII
    policy = config.helo_reject if identity is Identity.HELO else config.mail_from_reject
    listed = (verdict is Verdict.REJECT and result in (Result.FAIL, Result.SOFTFAIL, Result.NEUTRAL)
              and config.rejects_not_pass(envelope.domain_of(identity)))
    why = f"{_LABEL[identity]} {result.value}: {verdict.value} (policy " + (
        "SPF_Not_Pass for Reject_Not_Pass_Domains" if listed else policy.value) + (
        ", [actions]" if result in config.actions.get(identity, {}) else "") + ")"
    sentence = _sentence(envelope, checked)
    if config.test_only:
        headers = _headers(envelope, config, receiver, identity, checked)
        shown = f"PREPEND {headers[0].name}" if headers else DUNNO
        line = _line(f"SPF {result.value}", envelope, (identity, checked),
                     f"{sentence}; action={shown} (test-only: would be {action})")
        return Decision(Outcome.ACCEPT, DUNNO, headers, identity, checked,
                        why + ", test-only", line, would=action)
    line = _line(f"SPF {result.value}", envelope, (identity, checked), f"{sentence}; action={action}")
    outcome = Outcome.REJECT if verdict is Verdict.REJECT else Outcome.DEFER
    return Decision(outcome, action, (), identity, checked, why, line)


def _headers(envelope: Envelope, config: PolicyConfig, receiver: str, identity: Identity,
             checked: CheckResult) -> tuple[HeaderField, ...]:
    """The configured trace headers for ``checked``, each short enough for one line."""
    # Hide_Receiver: receiver= names this host, not the recipient's domain (which other
    # recipients would then see); never the whole address (policyd-spf 3.x neither)
    shown = receiver
    if not config.hide_receiver and envelope.recipient:
        shown = _ascii_address(envelope.recipient.rpartition("@")[2] or envelope.recipient)
    client = envelope.client_ip
    helo = _ascii_address(envelope.helo_name) or None
    sender = _ascii_address(envelope.sender)
    out: list[HeaderField] = []
    for kind in config.header_type:
        # a PREPEND cannot be folded: shorter and shorter until the line fits (the comment
        # goes first, then the sender-chosen values are cut: each alone may be 512 octets)
        for value, name, comment in ((sender, helo, None), (sender, helo, ""),
                                     (_clip(sender), _clip(helo), "")):
            if kind is HeaderKind.RECEIVED_SPF:
                field = received_spf(checked, client_ip=client, identity=identity,
                                     envelope_from=value, helo=name, receiver=shown,
                                     comment=comment)
            else:
                field = authentication_results(checked, authserv_id=config.authserv_id or receiver,
                                               identity=identity, envelope_from=value, helo=name)
            if len(str(field).encode("utf-8")) <= _HEADER_OCTETS:
                break
        out.append(field)
    return tuple(out)


def _ascii_address(text: str) -> str:
    """A HELO name or an address as header text, in US-ASCII: a transport cannot say whether
    the message is SMTPUTF8 (RFC 6532), so the domain is written in A-labels (RFC 8616 §3,
    the form that was checked) and any other character as its escape (``\\xfc``, and the
    U+FFFD that stands for octets that were not UTF-8)."""
    if text.isascii():
        return text
    local, at, domain = text.rpartition("@")
    return ascii_text(f"{local}{at}{a_labels(domain)}")


def _clip(text: str | None) -> str | None:
    """A sender-chosen value cut short enough for a one-line header, marked as cut."""
    if text is None or len(text) <= _CLIPPED_CHARS:
        return text
    return text[:_CLIPPED_CHARS] + "..."


def _shorten(text: str) -> str:
    cut = text if len(text) <= _TEXT_CHARS else text[:_TEXT_CHARS] + "..."
    return quote_value(cut)


def _plain(envelope: Envelope, checked: CheckResult) -> str:
    """A sentence for a result that has no text of its own; values sanitised."""
    domain = quote_value(checked.domain) if checked.domain else "the domain"
    ip = quote_value(_ip_text(envelope.client_ip))
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


def _sentence(envelope: Envelope, checked: CheckResult) -> str:
    """The log's account of a result: its plain sentence, its explanation or problem."""
    text = _plain(envelope, checked)
    if checked.result is Result.FAIL and checked.explanation and \
            checked.explanation != f"{checked.domain} does not designate " \
                                   f"{_ip_text(envelope.client_ip)} as permitted sender":
        text += f"; explanation={_shorten(checked.explanation)}"
    if checked.problem and checked.result in (Result.PERMERROR, Result.TEMPERROR):
        text += f"; problem={_shorten(checked.problem)}"
    return text


@lru_cache(maxsize=4096)
def _ip_text(ip: IPAddress) -> str:
    """``str(ip)``, remembered: ipaddress spells an address in Python, and every decision
    names its client three times (a client sends many mails)."""
    return str(ip)


def _line(head: str, envelope: Envelope,
          decided: tuple[Identity, CheckResult] | None, tail: str) -> str:
    """``SPF fail: client=… helo=… envelope-from=… identity=mailfrom …: <tail>``."""
    parts = [
        f"client={quote_value(_ip_text(envelope.client_ip))}",
        f"helo={quote_value(envelope.helo_name)}",
        f"envelope-from={quote_value(envelope.sender or '<>')}",
    ]
    if decided is not None:
        parts.append(f"identity={decided[0].value}")
    if envelope.queue_id:
        parts.append(f"queue-id={quote_value(envelope.queue_id)}")
    if decided is not None and decided[1].mechanism:
        parts.append(f"mechanism={quote_value(decided[1].mechanism)}")
    return f"{head}: {' '.join(parts)}: {tail}"
