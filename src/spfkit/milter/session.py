"""One milter connection, stage by stage: what to check, what to answer, what to edit. Sans I/O.

The MTA's stages (Sendmail's milter API, which Postfix speaks: MILTER_README) drive a
:class:`Session`; the caller runs the checks it asks for and hands back their results:

* **connect** — the client's address (none for a local submission: nothing is checked);
* **helo** — the HELO/EHLO name (RFC 7208 §2.3);
* **mail** — a new transaction (RFC 5321 §3.3): :meth:`Session.mail` gives the policy's
  :class:`~spfkit.policy.decide.Transaction` (skips: ``skip_addresses``, SMTP AUTH from the
  ``{auth_authen}`` macro, trusted relays); its checks run once per message, then
  :meth:`Session.spf` takes the :class:`~spfkit.policy.decision.Decision`; a reject or
  defer is answered at MAIL FROM or at each RCPT TO (``reject_stage``);
* **header** — the fields the PRA (RFC 4407 §2) and forged-header removal (RFC 8601 §5)
  need are kept, within ``max_header_bytes``;
* **eoh** — :meth:`Session.eoh` finds the PRA; :meth:`Session.pra` takes the Sender ID
  result (RFC 4406 §4) and may refuse the message;
* **eom** — :meth:`Session.eom` gives the :class:`Edits`: forged ``Authentication-Results``
  removed, the trace headers added; and one log line for the message. :meth:`Session.results`
  and :meth:`Session.outcome` say what is counted of it (``milter.counters``).

Pure: imports no asyncio, socket or dnspython.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from ipaddress import ip_address
from typing import Final

from spfkit.headers import HeaderField, quote_value
from spfkit.identity import Identity, IPAddress
from spfkit.milter.config import MilterConfig, RejectStage
from spfkit.milter.edits import forged_indices
from spfkit.milter.senderid import PRADecision, Reply, decide_pra
from spfkit.policy.decide import Transaction
from spfkit.policy.decision import Decision, Envelope, Outcome
from spfkit.results import CheckResult, Result
from spfkit.senderid import PRAResult, field_name, pra_from_fields

__all__ = ["Edits", "Session", "Stage", "client_address"]

#: The fields RFC 4407 §2 reads (trace fields only for where they are) and RFC 8601 §5 edits.
_KEPT: Final = frozenset({"resent-sender", "resent-from", "sender", "from", "received",
                          "return-path", "authentication-results"})
_TRACE: Final = frozenset({"received", "return-path"})
_MAX_FIELDS: Final = 10_000


class Stage(StrEnum):
    """Where in the SMTP dialogue a connection is (the milter callbacks)."""

    CONNECT = "connect"
    HELO = "helo"
    MAIL = "mail"
    RCPT = "rcpt"
    HEADER = "header"
    EOH = "eoh"
    EOM = "eom"


@dataclass(frozen=True, slots=True)
class Edits:
    """Header changes at end of message: ``remove`` (name, index) in order, then ``add``."""

    remove: tuple[tuple[str, int], ...] = ()
    add: tuple[HeaderField, ...] = ()


def client_address(text: str | None) -> IPAddress | None:
    """The client's IP address as the MTA gives it (``IPv6:`` prefixed, bracketed), or None."""
    if not text:
        return None
    text = text.strip().strip("[]")
    if text.lower().startswith("ipv6:"):
        text = text[5:]
    try:
        return ip_address(text.partition("%")[0])
    except ValueError:
        return None


class _Message:
    """One transaction's state (reset by MAIL FROM and by abort)."""

    __slots__ = ("decision", "fields", "header_bytes", "overflow", "pra", "queue_id",
                 "recipients", "skip", "txn")

    def __init__(self) -> None:
        self.txn: Transaction | None = None
        self.decision: Decision | None = None
        self.skip: str | None = None
        self.fields: list[tuple[str, str]] = []
        self.header_bytes = 0
        self.overflow = False
        self.pra: PRADecision | None = None
        self.queue_id = ""
        self.recipients = 0


class Session:
    """One SMTP connection as the milter sees it (see the module doc)."""

    def __init__(self, config: MilterConfig, *, receiver: str) -> None:
        self.config = config
        self.receiver = receiver
        self.stage = Stage.CONNECT
        self.client_ip: IPAddress | None = None
        self.client_name = ""
        self.helo_name = ""
        self.sender = ""
        self.message = _Message()

    # -- the envelope ------------------------------------------------------------------------

    def connect(self, address: str | None, name: str = "") -> None:
        self.stage = Stage.CONNECT
        self.client_ip = client_address(address)
        self.client_name = name

    def helo(self, name: str) -> None:
        self.stage = Stage.HELO
        self.helo_name = name

    def mail(self, sender: str, *, sasl_username: str = "", queue_id: str = "") -> Transaction | None:
        """MAIL FROM: a new message; the transaction whose checks to run (None: nothing to do).

        ``sender`` may carry its angle brackets; ``<>`` is the null reverse-path.
        """
        self.stage = Stage.MAIL
        self.message = message = _Message()
        self.sender = _unbracket(sender)
        message.queue_id = queue_id
        if self.client_ip is None:
            message.skip = "no client IP address (a local submission)"
            return None
        envelope = Envelope(self.client_ip, self.helo_name, self.sender,
                            sasl_username=sasl_username, queue_id=queue_id)
        txn = message.txn = Transaction(envelope, self.config.policy, receiver=self.receiver)
        return txn

    def spf(self, decision: Decision) -> Reply | None:
        """The SPF decision (HELO and MAIL FROM, RFC 7208 §8); the reply at MAIL FROM if any."""
        message = self.message
        message.decision = decision
        if decision.outcome is Outcome.SKIP:
            message.skip = decision.why
        if self.config.reject_stage is RejectStage.MAIL:
            return self._refusal()
        return None

    def rcpt(self) -> Reply | None:
        """RCPT TO: the SPF reply, given to every recipient alike (one check per message)."""
        self.stage = Stage.RCPT
        self.message.recipients += 1
        return self._refusal()

    def _refusal(self) -> Reply | None:
        decision = self.message.decision
        if decision is None or decision.action == "DUNNO":
            return None
        return Reply.parse(decision.action)

    # -- the header --------------------------------------------------------------------------

    def header(self, name: str, value: str) -> None:
        """One header field as received; what RFC 4407 §2 and RFC 8601 §5 need is kept."""
        self.stage = Stage.HEADER
        message = self.message
        lower = field_name(name).lower()  # RFC 5322 §4.5: "Sender :" is Sender
        if lower not in _KEPT:
            return
        value = "" if lower in _TRACE else _unfold(value)
        message.header_bytes += len(name) + len(value) + 4
        if message.header_bytes > self.config.max_header_bytes or len(message.fields) >= _MAX_FIELDS:
            message.overflow = True
            # positions still matter (RFC 8601 §5 indices): keep the name, drop the value
            message.fields.append((lower, ""))
            return
        message.fields.append((lower, value))

    def eoh(self) -> PRAResult | None:
        """End of header: the PRA to check (RFC 4407 §2), or None when none is to be."""
        self.stage = Stage.EOH
        message = self.message
        if not self.config.check_pra or message.txn is None or message.skip is not None:
            return None
        if message.txn.skip is not None:  # a trusted relay found by the checks
            return None
        if message.overflow:
            return PRAResult(reason=f"the header is larger than {self.config.max_header_bytes} "
                             "bytes or has too many fields; it was not read")
        return pra_from_fields(message.fields)

    def pra(self, pra: PRAResult, result: CheckResult) -> Reply | None:
        """The Sender ID result (RFC 4406 §4); a reply when policy refuses the message."""
        assert self.client_ip is not None
        decided = self.message.pra = decide_pra(
            self.config, pra, result, client_ip=self.client_ip, helo=self.helo_name,
            sender=self.sender, receiver=self.receiver)
        return decided.reply

    # -- the end -----------------------------------------------------------------------------

    def eom(self, queue_id: str = "") -> Edits:
        """End of message: forged ``Authentication-Results`` out, our trace headers in."""
        self.stage = Stage.EOM
        message = self.message
        if queue_id:
            message.queue_id = queue_id
        remove: tuple[tuple[str, int], ...] = ()
        if self.config.remove_forged:
            ours = (self.config.policy.authserv_id or self.receiver,)
            remove = tuple(("Authentication-Results", index)
                           for index in forged_indices(message.fields, ours))
        add: list[HeaderField] = []
        decision = message.decision
        if decision is not None and decision.action == "DUNNO":
            add.extend(decision.headers)
        if message.pra is not None and message.pra.reply is None:
            add.extend(message.pra.headers)
        return Edits(remove, tuple(add))

    def results(self) -> tuple[tuple[Identity, Result], ...]:
        """Each identity's result so far: HELO, MAIL FROM (RFC 7208 §2.3, §2.4), PRA."""
        message = self.message
        found: list[tuple[Identity, Result]] = []
        if message.skip is None and message.txn is not None:
            checks = message.txn.checks
            found.extend((identity, check.result) for identity, check in
                         ((Identity.HELO, checks.helo), (Identity.MAILFROM, checks.mailfrom))
                         if check is not None)
        if message.pra is not None:
            found.append((Identity.PRA, message.pra.result.result))
        return tuple(found)

    def outcome(self, refused: Reply | None = None) -> Outcome:
        """How the message was decided: ``refused`` (the reply it got, if any) is a reject or
        defer; else the SPF decision's outcome (a message never checked: ``skip``)."""
        if refused is not None:
            return Outcome.DEFER if refused.temporary else Outcome.REJECT
        decision = self.message.decision
        if self.message.skip is not None or decision is None:
            return Outcome.SKIP
        return decision.outcome

    def log_line(self, action: str) -> str:
        """One line about the message: the envelope, each identity's result, the action."""
        message = self.message
        parts = [f"client={quote_value(str(self.client_ip) if self.client_ip else '-')}",
                 f"helo={quote_value(self.helo_name)}",
                 f"envelope-from={quote_value(self.sender or '<>')}"]
        if message.queue_id:
            parts.append(f"queue-id={quote_value(message.queue_id)}")
        results: list[str] = []
        txn = message.txn
        if message.skip is not None:
            results.append(f"skipped ({message.skip})")
        elif txn is not None:
            checks = txn.checks
            if checks.helo is not None:
                results.append(f"helo={checks.helo.result.value}")
            if checks.mailfrom is not None:
                results.append(f"mailfrom={checks.mailfrom.result.value}")
        if message.pra is not None:
            results.append(message.pra.log.partition("; action=")[0])
        if message.recipients:
            results.append(f"recipients={message.recipients}")
        return f"{' '.join(parts)}: {' '.join(results) or 'not checked'}; action={action}"

    def abort(self) -> None:
        """The transaction ended without a message (RSET, a reject, a dropped client)."""
        self.message = _Message()


def _unbracket(address: str) -> str:
    text = address.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    return text


def _unfold(value: str) -> str:
    """RFC 5322 §2.2.3: unfolding removes each CRLF that is followed by white space."""
    return value.replace("\r\n", "").replace("\n", "").replace("\r", "")
