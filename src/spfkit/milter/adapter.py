"""The pymilter adapter: libmilter's callbacks → :class:`~spfkit.milter.session.Session`.

pymilter (``import Milter``) calls one :class:`Milter.Base` object per SMTP connection, from
libmilter's thread for that connection. Each callback feeds the sans-I/O session, runs the
checks it asks for on the shared event loop (:class:`~spfkit.milter.bridge.LoopThread`, each
with the deadline), and turns the session's answer into a milter reply (``setreply`` +
``REJECT``/``TEMPFAIL``) or, at end of message, header edits (``chgheader`` to delete a forged
``Authentication-Results``, ``addheader`` for ours). A callback never raises: an internal error
is logged on one line and answered with the configured ``error_action`` (``dunno``: go on;
``defer``: 451 4.3.0), so the MTA never sees a protocol error.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

import Milter

from spfkit.milter.bridge import LoopThread
from spfkit.milter.senderid import Reply
from spfkit.milter.service import MilterService
from spfkit.milter.session import Session
from spfkit.policy.config import Fallback
from spfkit.policy.decision import Decision, Outcome, fallback

__all__ = ["Runtime", "milter_class"]

F = TypeVar("F", bound=Callable[..., Any])
#: libmilter must get the answer before Postfix's milter_command_timeout; our own deadline
#: (``deadline``) ends a check sooner, this only guards the hand-over to the loop
_GRACE = 1.0


@dataclass
class Runtime:
    """What every connection shares: the service, its loop, the connections in flight."""

    service: MilterService
    loop: LoopThread
    active: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def opened(self) -> None:
        with self._lock:
            self.active += 1

    def closed(self) -> None:
        with self._lock:
            self.active = max(0, self.active - 1)


def _ascii(text: str) -> str:
    """``text`` (built of sanitised parts) as printable ASCII, at most 400 characters."""
    visible = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text[:400])
    return visible.encode("ascii", "backslashreplace").decode("ascii")


def _smtp_text(text: str) -> str:
    """A reply line libmilter passes on unchanged: ASCII, no controls, ``%`` doubled."""
    return _ascii(text).replace("%", "%%")


def milter_class(runtime: Runtime) -> type[Milter.Base]:
    """The :class:`Milter.Base` subclass libmilter instantiates for each connection."""
    log = runtime.service.log
    counters = runtime.service.counters

    def guarded(callback: F) -> F:
        @wraps(callback)
        def run(self: SpfkitMilter, *args: Any) -> int:
            try:
                return int(callback(self, *args))
            except Exception as exc:  # a bug costs one answer, never the MTA's session
                log.exception("internal error in the %s callback: client=%s",
                              callback.__name__, self.session.client_ip)
                counters.event("errors")
                if runtime.service.config.policy.error_action is Fallback.DEFER:
                    self.setreply("451", "4.3.0", _smtp_text(
                        f"SPF milter error ({type(exc).__name__}); try again later"))
                    return int(Milter.TEMPFAIL)
                return int(Milter.CONTINUE)
        return run  # type: ignore[return-value]

    class SpfkitMilter(Milter.Base):  # type: ignore[misc]
        """One SMTP connection (see the module doc)."""

        def __init__(self) -> None:
            service = runtime.service
            self.session = Session(service.config, receiver=service.receiver)
            self._refused = False
            self._message: float | None = None  # the open message's token (service.started)
            runtime.opened()

        def _finish(self, ended: str, refused: Reply | None = None) -> None:
            """The open message (if any) ended: counted once (milter.counters); one that
            the client gave up (RSET, QUIT or a dropped line before its end) logged here."""
            if self._message is not None:
                token, self._message = self._message, None
                if ended == "aborted":
                    log.info(self.session.log_line("aborted (the client ended the transaction "
                                                   "before the end of the message)"))
                runtime.service.finished(token, self.session, ended, refused)

        # -- replies ----------------------------------------------------------------------

        def _refuse(self, reply: Reply, stage: str) -> int:
            self.setreply(reply.code, reply.xcode, _smtp_text(reply.text))
            if not self._refused:  # a reply per recipient, one log line per message
                self._refused = True
                counters.event("defers" if reply.temporary else "rejects")
                log.info(self.session.log_line(f"{stage} {_ascii(str(reply))}"))
                self._finish("defer" if reply.temporary else "reject", reply)
            return int(Milter.TEMPFAIL if reply.temporary else Milter.REJECT)

        def _symbol(self, name: str) -> str:
            value = self.getsymval(name)
            return value if isinstance(value, str) else ""

        # -- callbacks --------------------------------------------------------------------

        @guarded
        def connect(self, hostname: str, family: int, hostaddr: Any) -> int:
            counters.event("connections")
            address = None
            if family in (socket.AF_INET, socket.AF_INET6) and isinstance(hostaddr, tuple):
                address = str(hostaddr[0])
            self.session.connect(address or self._symbol("{client_addr}") or None, hostname)
            return int(Milter.CONTINUE)

        @guarded
        def hello(self, name: str) -> int:
            self.session.helo(name)
            return int(Milter.CONTINUE)

        @guarded
        def envfrom(self, sender: str, *params: str) -> int:
            self._refused = False
            self._finish("aborted")  # a transaction the MTA ended without abort()
            session = self.session
            txn = session.mail(sender, sasl_username=self._symbol("{auth_authen}"),
                               queue_id=self._symbol("i"))
            self._message = runtime.service.started()
            if txn is None:
                return int(Milter.CONTINUE)
            service = runtime.service
            deadline = service.config.policy.deadline
            try:
                decision: Decision = runtime.loop.run(service.spf(txn), deadline + _GRACE)
            except TimeoutError:
                counters.event("timeouts")
                decision = fallback(txn.envelope, service.config.policy,
                                    "no SPF verdict within the deadline", timeout=True)
            if decision.outcome is Outcome.SKIP:
                counters.event("skipped")
            elif decision.outcome is Outcome.FALLBACK:
                log.warning(decision.log_line)
            reply = session.spf(decision)
            return self._refuse(reply, "MAIL FROM") if reply else int(Milter.CONTINUE)

        @guarded
        def envrcpt(self, recipient: str, *params: str) -> int:
            reply = self.session.rcpt()
            return self._refuse(reply, "RCPT TO") if reply else int(Milter.CONTINUE)

        @guarded
        def header(self, name: str, value: str) -> int:
            self.session.header(name, value)
            return int(Milter.CONTINUE)

        @guarded
        def eoh(self) -> int:
            session = self.session
            pra = session.eoh()
            if pra is None or session.client_ip is None:
                return int(Milter.CONTINUE)
            service = runtime.service
            deadline = service.config.policy.deadline
            try:
                result = runtime.loop.run(service.pra(session.client_ip, pra, session.helo_name),
                                          deadline + _GRACE)
            except TimeoutError:
                counters.event("timeouts")
                if service.config.policy.timeout_action is Fallback.DEFER:
                    return self._refuse(Reply("451", "4.7.24", "Sender ID check did not finish "
                                              "in time; try again later"), "end of header")
                log.warning(session.log_line("accept (no Sender ID verdict within the deadline)"))
                return int(Milter.CONTINUE)
            reply = session.pra(pra, result)
            return self._refuse(reply, "end of header") if reply else int(Milter.CONTINUE)

        @guarded
        def eom(self) -> int:
            session = self.session
            edits = session.eom(self._symbol("i"))
            for name, index in edits.remove:
                self.chgheader(name, index, None)  # NULL: delete the field
            # each insert at the top: in reverse, so that they read in order
            for field_ in reversed(edits.add):
                self.addheader(field_.name, field_.value, 0)
            counters.event("forged_removed", len(edits.remove))
            counters.event("headers_added", len(edits.add))
            pra = session.message.pra
            if pra is not None and pra.would is not None or (
                    session.message.decision is not None and session.message.decision.would):
                counters.event("test_only")
            removed = f" removed={len(edits.remove)} forged Authentication-Results" \
                if edits.remove else ""
            log.info(session.log_line(f"accept{removed}"))
            if pra is not None and pra.would is not None:
                log.info(session.log_line(f"test-only: would be {_ascii(str(pra.would))}"))
            decision = session.message.decision
            if decision is not None and decision.would:
                log.info(session.log_line(f"test-only: would be {_ascii(decision.would)}"))
            self._finish("accept")
            session.abort()
            return int(Milter.CONTINUE)

        @guarded
        def abort(self) -> int:
            self._finish("aborted")
            self.session.abort()
            return int(Milter.CONTINUE)

        @guarded
        def close(self) -> int:
            self._finish("aborted")
            runtime.closed()
            return int(Milter.CONTINUE)

    return SpfkitMilter
