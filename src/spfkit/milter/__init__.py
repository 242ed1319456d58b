"""``spfkit milter``: SPF (RFC 7208) and Sender ID (RFC 4406, PRA of RFC 4407) in the MTA.

Sans I/O (no pymilter, asyncio or sockets):

* ``config`` — :class:`MilterConfig`: the policy's options plus the ``[milter]`` table;
* ``session`` — :class:`Session`: one connection's stages, what to check, reply and edit;
* ``senderid`` — the Sender ID verdict of a message (:func:`decide_pra`, :class:`Reply`);
* ``edits`` — which ``Authentication-Results`` are forged (RFC 8601 §5);
* ``counters`` — :class:`Counters` for ``--stats`` (and metrics).

I/O at the edges: ``service`` (the checks on one loop, with deadlines), ``bridge`` (the loop's
thread), ``control`` (the control socket), and — needing the ``milter`` extra — ``adapter``
(pymilter's callbacks) and ``server`` (the process and its signals).
"""

from spfkit.milter.config import (
    MilterConfig,
    MilterSocket,
    NoPRA,
    RejectStage,
    libmilter_socket,
    load_milter_config,
    parse_milter_config,
    parse_milter_socket,
    postfix_socket,
)
from spfkit.milter.counters import Counters
from spfkit.milter.edits import authserv_id_of, forged_indices
from spfkit.milter.senderid import PRADecision, Reply, decide_pra
from spfkit.milter.session import Edits, Session, Stage

__all__ = [
    "Counters",
    "Edits",
    "MilterConfig",
    "MilterSocket",
    "NoPRA",
    "PRADecision",
    "RejectStage",
    "Reply",
    "Session",
    "Stage",
    "authserv_id_of",
    "decide_pra",
    "forged_indices",
    "libmilter_socket",
    "load_milter_config",
    "parse_milter_config",
    "parse_milter_socket",
    "postfix_socket",
]
