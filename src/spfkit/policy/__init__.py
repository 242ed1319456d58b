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

import typing

from spfkit import _lazy

# a function named as its module: imported here, or importing the module would leave the
# module under the name (it is on every path anyway)
from spfkit.policy.decide import decide

if typing.TYPE_CHECKING:
    from spfkit.policy.config import (
        ConfigError,
        ConfigProblem,
        ListenAddress,
        PolicyConfig,
        load_config,
        parse_config,
    )
    from spfkit.policy.decide import Transaction
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
    from spfkit.policy.service import (
        Explanation,
        PolicyService,
        make_resolver,
        reply_for,
    )

#: imported on first use: a module of this package (``spfkit.policy.config``) loads only
#: what it imports itself, not the whole receiver side
__getattr__ = _lazy.lazy_exports(__name__, {
    "ConfigError": "spfkit.policy.config",
    "ConfigProblem": "spfkit.policy.config",
    "ListenAddress": "spfkit.policy.config",
    "PolicyConfig": "spfkit.policy.config",
    "load_config": "spfkit.policy.config",
    "parse_config": "spfkit.policy.config",
    "Transaction": "spfkit.policy.decide",
    "Checks": "spfkit.policy.decision",
    "Decision": "spfkit.policy.decision",
    "Envelope": "spfkit.policy.decision",
    "Outcome": "spfkit.policy.decision",
    "configure_logging": "spfkit.policy.logs",
    "PolicyReader": "spfkit.policy.protocol",
    "PolicyReply": "spfkit.policy.protocol",
    "PolicyRequest": "spfkit.policy.protocol",
    "ProtocolError": "spfkit.policy.protocol",
    "ReaderState": "spfkit.policy.protocol",
    "render": "spfkit.policy.protocol",
    "PolicyServer": "spfkit.policy.server",
    "ServerError": "spfkit.policy.server",
    "run_stdio": "spfkit.policy.server",
    "Explanation": "spfkit.policy.service",
    "PolicyService": "spfkit.policy.service",
    "make_resolver": "spfkit.policy.service",
    "reply_for": "spfkit.policy.service",
})

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
