"""The verifier: authentication reports for a message (MAIL FROM, HELO, PRA).

* :mod:`~spfkit.responder.received` — IP, HELO and MAIL FROM from a saved message, the
  Received: field that names the client (pure); :mod:`~spfkit.responder.relays` — the
  receiver's own relays (:class:`TrustedRelays`).
* :mod:`~spfkit.responder.report` — :func:`build_report`, :func:`render_text`,
  :func:`as_json` (pure); :mod:`~spfkit.responder.advice` — what each result means.
* :mod:`~spfkit.responder.verify` — :func:`verify_message`: the checks and the lint (DNS).
* :mod:`~spfkit.responder.handler` — the aiosmtpd handler of ``spfkit verifier``
  (imported on its own, so that the report needs no SMTP server), with its rate limits
  (:mod:`~spfkit.responder.ratelimit`).
"""

from spfkit.responder.received import (
    ClientHeader,
    Envelope,
    Origin,
    Source,
    envelope_from_fields,
    find_client,
)
from spfkit.responder.relays import TrustedRelays
from spfkit.responder.report import (
    CheckSection,
    Report,
    ReportInputs,
    as_json,
    build_report,
    render_text,
)
from spfkit.responder.verify import verify_message

__all__ = [
    "CheckSection",
    "ClientHeader",
    "Envelope",
    "Origin",
    "Report",
    "ReportInputs",
    "Source",
    "TrustedRelays",
    "as_json",
    "build_report",
    "envelope_from_fields",
    "find_client",
    "render_text",
    "verify_message",
]
