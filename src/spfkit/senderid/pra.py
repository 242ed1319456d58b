"""The Purported Responsible Address of a message (RFC 4407 §2).

RFC 4407 §2 defines the PRA by an algorithm over the message header, top to bottom
(the most recent fields are on top: RFC 5322 §3.6.6 resent blocks and §3.6.7 trace fields
are prepended).  :func:`find_pra` follows it step by step; each step is quoted beside its
code.  It never raises: a message without a PRA gives a :class:`PRAResult` whose
``reason`` says why (step 6), and ``problems`` lists what was ignored or tolerated.

Pure: no I/O; imports no asyncio, socket or dnspython.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message
from typing import Final

from spfkit.headers import quote_value
from spfkit.senderid.fields import Field, header_fields
from spfkit.senderid.mailbox import parse_mailbox_list

__all__ = ["PRA_HEADERS", "PRAResult", "find_pra", "header_fields", "pra_from_fields"]

#: RFC 4407 §2: the header fields a PRA can come from, in the order the steps try them.
PRA_HEADERS: Final = ("Resent-Sender", "Resent-From", "Sender", "From")
_CANONICAL: Final = {name.lower(): name for name in PRA_HEADERS}
# Step 1: "one or more Received or Return-Path headers" between two resent blocks.
_TRACE: Final = frozenset({"received", "return-path"})


@dataclass(frozen=True, slots=True)
class PRAResult:
    """What RFC 4407 §2 found: ``address`` from ``header``, or ``reason`` why there is none.

    ``step`` is the step that decided (5: a PRA was returned, 6: none can be determined);
    ``problems`` lists what a postmaster should know (empty fields ignored, a skipped
    Resent-Sender, tolerated syntax) even when a PRA was found.
    """

    address: str | None = None
    header: str | None = None
    reason: str | None = None
    problems: tuple[str, ...] = ()
    step: int = 6

    @property
    def domain(self) -> str | None:
        """The domain Sender ID checks (RFC 4406 §4): the part after the last ``@``."""
        return self.address.rpartition("@")[2] if self.address else None


def find_pra(message: Message | bytes | str) -> PRAResult:
    """RFC 4407 §2: the Purported Responsible Address of ``message`` (header only is enough)."""
    return pra_from_fields(header_fields(message))


def _non_empty(value: str) -> bool:
    # §2: 'a header field is "non-empty" if and only if it contains any non-whitespace
    # characters.  Header fields that are otherwise relevant but contain only whitespace
    # are ignored and treated as if they were not present.'
    return bool(value.strip())


def pra_from_fields(fields: Sequence[Field]) -> PRAResult:
    """RFC 4407 §2 steps 1–6 over ``(name, value)`` pairs in message order."""
    lower = [(name.lower(), value) for name, value in fields]
    problems: list[str] = []
    for index, (name, value) in enumerate(lower):
        if name in _CANONICAL and not _non_empty(value):
            problems.append(
                f"field {index + 1}: an empty {_CANONICAL[name]}: header was ignored "
                "(RFC 4407 §2: treated as if not present)"
            )

    def where(name: str) -> list[int]:
        return [i for i, (n, v) in enumerate(lower) if n == name and _non_empty(v)]

    resent_senders, resent_froms = where("resent-sender"), where("resent-from")
    chosen: int | None = None
    # Step 1: "Select the first non-empty Resent-Sender header in the message.  If no such
    # header is found, continue with step 2.  If it is preceded by a non-empty Resent-From
    # header and one or more Received or Return-Path headers occur after said Resent-From
    # header and before the Resent-Sender header, continue with step 2.  Otherwise, proceed
    # to step 5."  (Such a Resent-Sender belongs to an older resent block than the
    # Resent-From above it: trace fields separate resent blocks, RFC 5322 §3.6.6.)
    if resent_senders:
        sender = resent_senders[0]
        above = [i for i in resent_froms if i < sender]
        if above and any(lower[k][0] in _TRACE for k in range(above[0] + 1, sender)):
            problems.append(
                f"field {sender + 1}: the Resent-Sender: belongs to an older resent block than "
                f"the Resent-From: in field {above[0] + 1} (a Received: or Return-Path: lies "
                "between them), so it was passed over (RFC 4407 §2 step 1)"
            )
        else:
            chosen = sender
    # Step 2: "Select the first non-empty Resent-From header in the message.  If a
    # Resent-From header is found, proceed to step 5.  Otherwise, continue with step 3."
    if chosen is None and resent_froms:
        chosen = resent_froms[0]
    # "Note that steps 1 and 2 above extract the Resent-Sender or Resent-From header from
    # the first resent block (as defined by section 3.6.6 of [MAIL]) if any.  Steps 3 and 4
    # above extract the Sender or From header if there are no resent blocks."
    if chosen is None:
        # Step 3: "Select all the non-empty Sender headers in the message.  If there are no
        # such headers, continue with step 4.  If there is exactly one such header, proceed
        # to step 5.  If there is more than one such header, proceed to step 6."
        senders = where("sender")
        if len(senders) > 1:
            return _none(f"the message has {len(senders)} Sender: headers; a PRA needs exactly "
                         "one (RFC 4407 §2 step 3)", problems)
        if senders:
            chosen = senders[0]
    if chosen is None:
        # Step 4: "Select all the non-empty From headers in the message.  If there is exactly
        # one such header, continue with step 5.  Otherwise, proceed to step 6."
        froms = where("from")
        if not froms:
            return _none("the message has no From: header (nor Resent-Sender:, Resent-From: "
                         "or Sender:) (RFC 4407 §2 step 4)", problems)
        if len(froms) > 1:
            return _none(f"the message has {len(froms)} From: headers and no Sender:; a PRA "
                         "needs exactly one (RFC 4407 §2 step 4)", problems)
        chosen = froms[0]
    return _step5(_CANONICAL[lower[chosen][0]], fields[chosen][1], problems)


def _step5(header: str, value: str, problems: list[str]) -> PRAResult:
    # Step 5: "A previous step has selected a single header from the message.  If that
    # header is malformed (e.g., it appears to contain multiple mailboxes, or the single
    # mailbox is hopelessly malformed, or the single mailbox does not contain a domain
    # name), continue with step 6.  Otherwise, return that single mailbox as the Purported
    # Responsible Address."
    shown = quote_value(value.strip())
    parsed = parse_mailbox_list(value)
    problems.extend(f"{header}: {note}" for note in parsed.notes)
    if parsed.error is not None:
        return _none(f"the {header}: header {shown} is malformed: {parsed.error} "
                     "(RFC 4407 §2 step 5)", problems)
    if not parsed.items:
        return _none(f"the {header}: header {shown} holds no mailbox (RFC 4407 §2 step 5)",
                     problems)
    if len(parsed.items) > 1:
        return _none(f"the {header}: header {shown} holds {len(parsed.items)} mailboxes; the "
                     "PRA is a single mailbox (RFC 4407 §2 step 5)", problems)
    item = parsed.items[0]
    if item.mailbox is None:
        return _none(f"the {header}: header {shown} is malformed: {item.error} "
                     "(RFC 4407 §2 step 5)", problems)
    return PRAResult(item.mailbox.address, header, None, tuple(problems), step=5)


def _none(reason: str, problems: list[str]) -> PRAResult:
    # Step 6: "The message is ill-formed, and it is impossible to determine a Purported
    # Responsible Address."
    return PRAResult(None, None, reason, tuple(problems), step=6)
