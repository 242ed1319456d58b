"""The receiver side: ``spfkit policyd``, a Postfix SMTP access policy server (SMTPD_POLICY_README).

Pure, transport-neutral (a milter can reuse them):

* ``decide`` — :class:`Transaction`: one transaction's facts → what to check → results →
  :class:`Decision`, each verdict once (RFC 7208 §8, RFC 7372).
* ``decision`` — the values (:class:`Envelope`, :class:`Checks`, :class:`Decision`) and what a
  decision says: its action, its trace headers, its log line.
* ``config`` / ``_options`` — the TOML configuration, checked when loaded (:func:`load_config`,
  every mistake with its line), and its option table.
* ``legacy`` — policyd-spf's own ``Name = value`` file, read with policyd-spf's meaning, and
  written as TOML (``spfkit policyd --import``).

The policy protocol:

* ``protocol`` — the sans-I/O codec: :class:`PolicyReader` (bytes → requests), :func:`render`.
* ``service`` — :class:`PolicyService`: runs each transaction's checks, remembers Postfix's
  transactions, one header per stage (:func:`reply_for`), the deadline, logging.
* ``server`` — the loops: :func:`run_stdio` for spawn(8), :class:`PolicyServer` for TCP/UNIX.
* ``logs`` — syslog, stderr or a file (never Postfix's socket in spawn mode).
"""

from spfkit.policy.config import (
    ConfigError,
    ConfigProblem,
    ListenAddress,
    PolicyConfig,
    load_config,
    parse_config,
)
from spfkit.policy.decide import Transaction, decide
from spfkit.policy.decision import Checks, Decision, Envelope, Outcome
from spfkit.policy.logs import configure_logging
from spfkit.policy.protocol import (
    PolicyReader,
    PolicyReply,
    PolicyRequest,
    ProtocolError,
    ReaderState,
    render,
)
from spfkit.policy.server import PolicyServer, ServerError, run_stdio
from spfkit.policy.service import Explanation, PolicyService, make_resolver, reply_for

__all__ = [
    "Checks",
    "ConfigError",
    "ConfigProblem",
    "Decision",
    "Envelope",
    "Explanation",
    "ListenAddress",
    "Outcome",
    "PolicyConfig",
    "PolicyReader",
    "PolicyReply",
    "PolicyRequest",
    "PolicyServer",
    "PolicyService",
    "ProtocolError",
    "ReaderState",
    "ServerError",
    "Transaction",
    "configure_logging",
    "decide",
    "load_config",
    "make_resolver",
    "parse_config",
    "render",
    "reply_for",
    "run_stdio",
]
