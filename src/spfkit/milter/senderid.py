"""The Sender ID verdict of one message (RFC 4406 §4 over RFC 4407 §2's PRA), sans I/O.

What the ``pra`` result does under the milter's policy (``[milter] pra_reject``,
``pra_actions``, ``no_pra``): reject with ``550 5.7.1`` (RFC 3463 §3.8 "delivery not
authorized, message refused", the code Sender ID receivers such as sid-milter give; a
``permerror`` reject is ``550 5.7.24``, RFC 7372), defer a ``temperror`` with ``451 4.7.24``
(RFC 7372), or mark: the trace headers (``Authentication-Results: …; sender-id=…
header.from=…``, RFC 8601 §2.7.2; ``Received-SPF: … identity=pra``, RFC 7208 §9.1) name
the header field the PRA came from. Test-only mode marks what it would have refused.

Pure: imports no asyncio, socket or dnspython.
"""

from __future__ import annotations

from dataclasses import dataclass

from spfkit.headers import (
    HeaderField,
    ascii_text,
    authentication_results,
    quote_value,
    received_spf,
)
from spfkit.identity import Identity, IPAddress
from spfkit.milter.config import MilterConfig, NoPRA
from spfkit.policy.config import HeaderKind, Verdict
from spfkit.results import CheckResult, Result
from spfkit.senderid import PRAResult

__all__ = ["PRADecision", "Reply", "decide_pra"]

_TEXT_CHARS = 200


@dataclass(frozen=True, slots=True)
class Reply:
    """An SMTP reply for the MTA to send (smfi_setreply): ``550 5.7.1 text``."""

    code: str
    xcode: str
    text: str

    def __post_init__(self) -> None:  # RFC 5321 §4.2: reply text is ASCII
        object.__setattr__(self, "text", ascii_text(self.text))

    @property
    def temporary(self) -> bool:
        return self.code.startswith("4")

    @classmethod
    def parse(cls, action: str) -> Reply:
        """An access(5)-style reply ``"550 5.7.23 text"`` (what policy decisions hold)."""
        code, _, rest = action.partition(" ")
        xcode, _, text = rest.partition(" ")
        return cls(code, xcode, text)

    def __str__(self) -> str:
        return f"{self.code} {self.xcode} {self.text}"


@dataclass(frozen=True, slots=True)
class PRADecision:
    """What the PRA check decided: a ``reply`` to refuse with, else ``headers`` to add.

    ``would`` is the reply test-only mode did not send; ``log`` is the log's account.
    """

    result: CheckResult
    pra: PRAResult
    reply: Reply | None = None
    headers: tuple[HeaderField, ...] = ()
    would: Reply | None = None
    log: str = ""


def decide_pra(config: MilterConfig, pra: PRAResult, result: CheckResult, *,
               client_ip: IPAddress, helo: str, sender: str, receiver: str) -> PRADecision:
    """RFC 4406 §4 under local policy: ``result`` of the check of ``pra``."""
    verdict = config.pra_verdict(result.result)
    if pra.address is None:  # RFC 4407 §2 step 6: no PRA, the message is ill-formed
        verdict = Verdict.REJECT if config.no_pra is NoPRA.REJECT else Verdict.ACCEPT
    reply = _reply(verdict, pra, result) if verdict is not Verdict.ACCEPT else None
    header = (pra.header or "From").lower()
    shown = quote_value(pra.address) if pra.address else "none"
    account = (f"sender-id={result.result.value} pra={shown}"
               f"{f' (header {pra.header})' if pra.header else ''}")
    if result.problem:
        account += f" problem={_short(result.problem)}"
    if reply is not None and not config.test_only:
        return PRADecision(result, pra, reply, (), None, f"{account}; action={reply}")
    headers = _headers(config, pra, result, header, client_ip=client_ip, helo=helo,
                       sender=sender, receiver=receiver)
    if reply is not None:
        return PRADecision(result, pra, None, headers, reply,
                           f"{account}; action=accept (test-only: would be {reply})")
    return PRADecision(result, pra, None, headers, None, f"{account}; action=accept")


def _reply(verdict: Verdict, pra: PRAResult, result: CheckResult) -> Reply:
    shown = quote_value(pra.address) if pra.address else ""
    if pra.address is None:
        return Reply("550", "5.7.1", f"Sender ID: no Purported Responsible Address: "
                     f"{_short(pra.reason or 'ill-formed message')} (RFC 4407 section 2)")
    if verdict is Verdict.DEFER:
        xcode = "4.7.24" if result.result is Result.TEMPERROR else "4.7.1"
        return Reply("451", xcode, f"Sender ID {result.result.value} for PRA {shown}: "
                     f"{_short(result.problem or result.result.meaning)}; try again later")
    if result.result is Result.PERMERROR:
        return Reply("550", "5.7.24", f"Sender ID permerror for PRA {shown}: "
                     f"{_short(result.problem or result.result.meaning)}")
    domain = quote_value(result.domain or pra.domain or "")
    text = result.explanation if result.result is Result.FAIL and result.explanation else \
        f"{domain} does not designate this host as a sender for {shown}"
    return Reply("550", "5.7.1", f"Sender ID {result.result.value} for PRA {shown}: {_short(text)}")


def _headers(config: MilterConfig, pra: PRAResult, result: CheckResult, header: str, *,
             client_ip: IPAddress, helo: str, sender: str, receiver: str) -> tuple[HeaderField, ...]:
    policy = config.policy
    out: list[HeaderField] = []
    address = _clip(pra.address) if pra.address else None
    for kind in policy.header_type:
        if kind is HeaderKind.RECEIVED_SPF:
            out.append(received_spf(result, client_ip=client_ip, identity=Identity.PRA,
                                    envelope_from=_clip(sender), helo=_clip(helo) or None,
                                    receiver=receiver, pra=address))
        else:
            out.append(authentication_results(result, authserv_id=policy.authserv_id or receiver,
                                              identity=Identity.PRA, envelope_from=None,
                                              helo=None, pra=address, pra_header=header))
    return tuple(out)


def _clip(text: str | None, limit: int = 120) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + "…"


def _short(text: str) -> str:
    return quote_value(text if len(text) <= _TEXT_CHARS else text[:_TEXT_CHARS] + "...")
