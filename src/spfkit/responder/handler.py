"""The SMTP verifier: an aiosmtpd handler that mails an authentication report back.

Mail to ``check-auth@<hostname>`` is checked with the session's real client IP, HELO name
and MAIL FROM and the message's header (:func:`~spfkit.responder.verify.verify_message`);
the report goes back to the envelope sender — only when that sender's SPF result is
``pass`` — or to ``user@domain`` for mail to ``check-auth-user=domain@<hostname>`` when
``domain`` is that authenticated domain, through the relay, as a MIME message: the report as
text/plain, an excerpt of the original header as text/rfc822-headers (RFC 6522 §4), the
report as JSON.

It must not become a spam cannon, nor a reflector that mails third parties what a sender
chose.  The guards, each with its reason:

* RCPT: any other address is refused (550 5.1.1); ``check-auth-user=domain`` whose domain is
  not the envelope sender's is refused (550 5.7.1), so a report can only go to the domain
  that sent the mail; one recipient per message (452 4.5.3), so one message never fans out
  into several reports; a sender domain over its rate limit, or the verifier over its
  global limit, is deferred (450 4.7.1) before the data is even sent.
* DATA: a MAIL FROM whose SPF result (RFC 7208's: an ``spf2.0/mfrom`` record does not count)
  is not ``pass`` gets no report (anyone can forge an envelope sender; only a pass proves the
  report goes back to whoever sent the mail).
* DATA: no report to the null reverse-path (RFC 3834 §2: a response never goes to the
  null address), to this verifier itself, or in reply to a message that is itself automatic:
  ``Auto-Submitted:`` other than ``no`` (RFC 3834 §5; comments and case do not matter),
  list mail (``List-*`` fields, RFC 2369 / RFC 2919) or ``Precedence: bulk / list / junk``
  (RFC 3834 §2).  Such mail is
  accepted (250) and dropped: rejecting a bounce would only make another one.
* A token bucket per sender domain and one for all reports
  (:mod:`~spfkit.responder.ratelimit`), with an injectable clock; the
  per-domain table forgets only buckets that have refilled, so many domains cannot push a
  domain's bucket out; a size limit (advertised as SIZE by aiosmtpd, RFC 1870).
* The reply says ``Auto-Submitted: auto-replied`` and is sent from the null reverse-path
  (RFC 3834 §3, §5), so it cannot start a loop.
* Any unexpected exception in a handler is logged with its traceback and answered
  ``451 4.3.0`` with a generic text: the client never sees internal error text.
"""

from __future__ import annotations

import asyncio
import logging
import re
import smtplib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Final

from aiosmtpd.smtp import SMTP, Envelope, Session

from spfkit.evaluate import CheckOptions
from spfkit.headers import quote_value
from spfkit.lookup.protocol import Resolver
from spfkit.responder.ratelimit import RateLimit, RateLimiter
from spfkit.responder.received import Origin, Source
from spfkit.responder.report import Report, json_text, render_text, shown
from spfkit.responder.verify import Linter, lint_findings, verify_message
from spfkit.results import Result
from spfkit.senderid.pra import header_fields

__all__ = ["RateLimit", "RateLimiter", "Sender", "VerifierConfig", "VerifierHandler",
           "header_excerpt", "relay_sender", "report_message"]

log = logging.getLogger("spfkit.verifier")

#: Sends one message: (message, envelope recipient).  The envelope sender is always <>.
Sender = Callable[[EmailMessage, str], Awaitable[None]]

_NULL: Final = frozenset({"", "<>"})
_LIST_FIELDS: Final = ("list-id", "list-post", "list-unsubscribe", "list-help",
                       "list-subscribe", "list-owner", "list-archive")
_BULK: Final = frozenset({"bulk", "list", "junk"})
_MSG_ID: Final = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]+@[\x21-\x3b\x3d\x3f-\x7e]+>")
MAX_HEADER_EXCERPT: Final = 1024
"""Octets of the original header attached to the report, at most (an excerpt)."""
_EXCERPT_FIELDS: Final = ("return-path", "received", "from", "sender", "resent-from",
                          "resent-sender", "date", "message-id")
"""The header fields the checks read, and those that identify the message: nothing the
sender could use to carry a message of their own (no Subject, no body)."""
_MAX_EXCERPT_VALUE: Final = 200
_GLOBAL: Final = "*"
_INTERNAL: Final = "451 4.3.0 the verifier had a problem with this message; try again later"


@dataclass(frozen=True, slots=True)
class VerifierConfig:
    """What the verifier is and how careful it is."""

    hostname: str
    relay: tuple[str, int] = ("127.0.0.1", 25)
    rate: RateLimit = RateLimit(5, 3600.0)
    #: all reports together, whatever the domains (a flood from many domains stays bounded)
    global_rate: RateLimit = RateLimit(100, 3600.0)
    max_size: int = 1_048_576
    local_part: str = "check-auth"
    relay_timeout: float = 30.0
    options: CheckOptions = field(default_factory=CheckOptions)

    @property
    def address(self) -> str:
        return f"{self.local_part}@{self.hostname}"


def _ascii(reply: str) -> str:
    """RFC 5321 §4.2: reply text is ASCII; "§" becomes "section", anything else an escape."""
    return reply.replace("§", "section ").encode("ascii", "backslashreplace").decode("ascii")


def _domain(address: str) -> str:
    return address.rpartition("@")[2].rstrip(".").lower()


def report_target(config: VerifierConfig, rcpt: str) -> str | None:
    """``""`` for ``check-auth@host`` (report to the sender), ``user@domain`` for
    ``check-auth-user=domain@host``, None for any other address."""
    local, at, domain = rcpt.rpartition("@")
    if not at or domain.rstrip(".").lower() != config.hostname.lower():
        return None
    base = config.local_part.lower()
    if local.lower() == base:
        return ""
    if not local.lower().startswith(base + "-"):
        return None
    user, eq, target_domain = local[len(base) + 1 :].rpartition("=")
    if not eq or not user or "." not in target_domain or "@" in user:
        return None
    return f"{user}@{target_domain}"


def _same_domain(a: str, b: str) -> bool:
    return a.rstrip(".").lower() == b.rstrip(".").lower()


def _valid_address(address: str) -> bool:
    """Can the report be addressed to ``address`` (RFC 5322 §3.4.1 addr-spec, the stdlib's
    parser, which :func:`report_message` uses)?  No controls, spaces or non-UTF-8 octets."""
    if "@" not in address or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F
                                 or 0xD800 <= ord(c) <= 0xDFFF for c in address):
        return False
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError, HeaderParseError):  # IndexError: on some input
        return False
    return True


def _keyword(value: str) -> str | None:
    """RFC 3834 §5 ``[CFWS] keyword [CFWS] *(";" parameter)``: the keyword, lower-cased,
    comments (RFC 5322 §3.2.2, nested, with quoted-pairs) dropped; None if one is unclosed."""
    text: list[str] = []
    depth = 0
    chars = iter(value)
    for c in chars:
        if c == "\\" and depth:
            next(chars, "")
        elif c == "(":
            depth += 1
        elif c == ")" and depth:
            depth -= 1
        elif not depth:
            text.append(c)
    if depth:
        return None
    return "".join(text).partition(";")[0].strip(" \t").lower()


def _why_no_report(config: VerifierConfig, mail_from: str, target: str,
                   fields: list[tuple[str, str]]) -> str | None:
    """RFC 3834 §2 and §5: the reason not to answer this message, or None."""
    if mail_from in _NULL:
        return "the sender is the null reverse-path (RFC 3834 §2)"
    if _domain(mail_from) == config.hostname.lower() or _domain(target) == config.hostname.lower():
        return "the report would go to this verifier itself"
    if not _valid_address(target):
        return f"the report address {quote_value(target)} is not usable"
    for name, value in fields:
        lower = name.lower()
        if lower == "auto-submitted" and _keyword(value) != "no":
            return (f"the message is automatic (Auto-Submitted: {quote_value(value.strip())}, "
                    "RFC 3834 §5)")
        if lower in _LIST_FIELDS:
            return f"the message comes from a mailing list ({name}:, RFC 3834 §2)"
        if lower == "precedence" and _keyword(value) in _BULK:
            return (f"the message is bulk mail (Precedence: {quote_value(value.strip())}, "
                    "RFC 3834 §2)")
    return None


def report_message(report: Report, *, config: VerifierConfig, to: str, original: bytes,
                   fields: list[tuple[str, str]]) -> EmailMessage:
    """The reply: text report, original header (text/rfc822-headers), JSON (RFC 3834 §3)."""
    msg = EmailMessage()
    msg["From"] = Address("spfkit verifier", addr_spec=config.address)
    msg["To"] = Address(addr_spec=to)  # the parser _valid_address() already accepted
    results = ", ".join(f"{c.name}={c.result.result.value}" for c in report.checks)
    msg["Subject"] = f"Authentication report: {results}"
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid("spfkit", domain=config.hostname)
    msg["Auto-Submitted"] = "auto-replied"  # RFC 3834 §5
    original_id = next((v.strip() for n, v in fields if n.lower() == "message-id"), "")
    if _MSG_ID.fullmatch(original_id):  # RFC 3834 §3.1: In-Reply-To and References
        msg["In-Reply-To"] = original_id
        earlier = next((v for n, v in fields if n.lower() == "references"), "")
        refs = [r for r in earlier.split() if _MSG_ID.fullmatch(r)][-20:]
        msg["References"] = " ".join([*refs, original_id])
    msg.set_content(render_text(report), charset="utf-8", cte="quoted-printable")
    msg.add_attachment(header_excerpt(fields), subtype="rfc822-headers", cte="quoted-printable",
                       filename="original-header.txt")
    msg.add_attachment(json_text(report).encode("utf-8"), maintype="application", subtype="json", filename="report.json")
    return msg


def header_excerpt(fields: list[tuple[str, str]]) -> str:
    """The fields of the original header that the checks read (the topmost ``Received:``
    only), each value cut to 200 characters, at most 1 KiB in all: enough to see what was
    checked, too little to carry anyone's message.  Controls and octets that were not UTF-8
    are escaped as in the report's text (:func:`~spfkit.responder.report.shown`)."""
    lines: list[str] = []
    size = 0
    seen_received = False
    for name, value in fields:
        lower = name.lower()
        if lower not in _EXCERPT_FIELDS or (lower == "received" and seen_received):
            continue
        seen_received |= lower == "received"
        text = shown(" ".join(value.split()))
        if len(text) > _MAX_EXCERPT_VALUE:
            text = text[: _MAX_EXCERPT_VALUE - 1] + "…"
        line = f"{shown(name)}: {text}"
        cost = len(line.encode("utf-8")) + 1
        if size + cost > MAX_HEADER_EXCERPT:
            break
        lines.append(line)
        size += cost
    return "".join(f"{line}\n" for line in lines)


def relay_sender(relay: tuple[str, int], *, hostname: str, timeout: float = 30.0) -> Sender:
    """Send through ``relay`` with the stdlib's smtplib, in a thread, from ``<>``."""

    def send_now(msg: EmailMessage, rcpt: str) -> None:
        with smtplib.SMTP(relay[0], relay[1], local_hostname=hostname, timeout=timeout) as smtp:
            smtp.send_message(msg, from_addr="", to_addrs=[rcpt])

    async def send(msg: EmailMessage, rcpt: str) -> None:
        await asyncio.to_thread(send_now, msg, rcpt)

    return send


class VerifierHandler:
    """aiosmtpd handler: ``handle_RCPT`` guards the door, ``handle_DATA`` checks and replies."""

    def __init__(self, config: VerifierConfig, *, resolver: Resolver,
                 send: Sender | None = None, clock: Callable[[], float] = time.monotonic,
                 linter: Linter | None = lint_findings) -> None:
        self.config = config
        self.resolver = resolver
        self.send = send or relay_sender(config.relay, hostname=config.hostname,
                                         timeout=config.relay_timeout)
        self.limiter = RateLimiter(config.rate, clock)
        self.global_limiter = RateLimiter(config.global_rate, clock, max_keys=1)
        self.linter = linter

    def _available(self, mail_from: str) -> bool:
        return self.global_limiter.available(_GLOBAL) and self.limiter.available(_domain(mail_from))

    def _take(self, mail_from: str) -> bool:
        """One token from the sender domain's bucket and one from the global one, or none."""
        if not self._available(mail_from):
            return False
        return self.limiter.take(_domain(mail_from)) and self.global_limiter.take(_GLOBAL)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        try:
            return self._rcpt(session, envelope, address, rcpt_options)
        except Exception:  # never aiosmtpd's "500 Error: (...)" with our internals in it
            log.exception("RCPT %s failed", quote_value(address))
            return _INTERNAL

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        try:
            return await self._data(session, envelope)
        except Exception:  # as handle_RCPT: a temporary error, the traceback in the log
            log.exception("DATA from %s failed", quote_value(envelope.mail_from or ""))
            return _INTERNAL

    def _rcpt(self, session: Session, envelope: Envelope, address: str,
              rcpt_options: list[str]) -> str:
        target = report_target(self.config, address)
        if target is None:
            log.info("refused RCPT %s from %s", quote_value(address), session.peer)
            return _ascii(f"550 5.1.1 no such mailbox here; write to <{self.config.address}>")
        if envelope.rcpt_tos:
            return "452 4.5.3 one recipient per message, please"
        mail_from = envelope.mail_from or ""
        if target and not _same_domain(_domain(target), _domain(mail_from)):
            log.info("refused RCPT %s from %s: not the sender's domain", quote_value(address),
                     quote_value(mail_from))
            return _ascii(f"550 5.7.1 reports go only to the sender's own domain: "
                          f"{self.config.local_part}-USER={_domain(mail_from) or 'DOMAIN'}"
                          f"@{self.config.hostname}")
        if target and not _valid_address(target):
            log.info("refused RCPT %s: the report address is not usable", quote_value(address))
            return _ascii(f"550 5.1.3 {quote_value(target)} is not an address a report can go "
                          f"to; write to <{self.config.address}> or "
                          f"{self.config.local_part}-USER=DOMAIN@{self.config.hostname}")
        if mail_from not in _NULL and not self._available(mail_from):
            return _ascii(f"450 4.7.1 too many reports for {_domain(mail_from)}; "
                          "try again later")
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def _data(self, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        if len(content) > self.config.max_size:
            return "552 5.3.4 message too big for the verifier"
        mail_from = envelope.mail_from or ""
        target = report_target(self.config, envelope.rcpt_tos[0]) or mail_from
        fields = header_fields(content)
        if (why := _why_no_report(self.config, mail_from, target, fields)) is not None:
            log.info("no report for %s: %s", quote_value(mail_from), why)
            return _ascii(f"250 2.0.0 accepted; no report sent: {why}")
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        try:
            report = await verify_message(
                fields,
                ip=Origin(peer, Source.SESSION),
                helo=Origin(session.host_name or "", Source.SESSION),
                mail_from=Origin(mail_from, Source.SESSION),
                resolver=self.resolver,
                receiver=self.config.hostname,
                options=self.config.options,
                linter=self.linter,
            )
        except ValueError:  # the peer is not an IP address (a UNIX socket, a scoped address)
            return "554 5.3.0 the verifier needs the client's IP address"
        # The RFC 7208 result: an spf2.0/mfrom record (RFC 4406) authenticates nobody to SPF.
        mfrom = report.check("mfrom").result.result
        if mfrom is not Result.PASS:
            why = (f"MAIL FROM {quote_value(mail_from)} does not pass SPF ({mfrom.value}): "
                   "the report could reach someone who did not send this mail")
            log.info("no report for %s: %s", quote_value(mail_from), why)
            return _ascii(f"250 2.0.0 accepted; no report sent: {why}")
        if not self._take(mail_from):
            return _ascii(f"450 4.7.1 too many reports for {_domain(mail_from)}; try again later")
        reply = report_message(report, config=self.config, to=target, original=content,
                               fields=fields)
        try:
            await self.send(reply, target)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("report to %s not sent: %s", quote_value(target), quote_value(str(exc)))
            return "451 4.3.0 the report could not be sent; try again later"
        results = " ".join(f"{c.name}={c.result.result.value}" for c in report.checks)
        log.info("report sent to %s (%s)", quote_value(target), results)
        return _ascii(f"250 2.0.0 report sent to <{target}>")
