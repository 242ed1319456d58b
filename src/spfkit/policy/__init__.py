"""The receiver side: ``spfkit policyd``, a Postfix SMTP access policy server (SMTPD_POLICY_README).

* ``protocol`` — the sans-I/O codec: :class:`PolicyReader` (bytes → requests), :func:`render`.
* ``config`` — the TOML configuration, checked when loaded: :func:`load_config`.
* ``decide`` — pure: check results + configuration → :class:`Decision` (RFC 7208 §8, RFC 7372).
* ``service`` — :class:`PolicyService`: skips, checks, transactions, the deadline, logging.
* ``logs`` — syslog, stderr or a file (never Postfix's socket in spawn mode).
* ``server`` — the loops: :func:`run_stdio` for spawn(8), :class:`PolicyServer` for TCP/UNIX.
"""

from spfkit.policy.config import ConfigError, ListenAddress, PolicyConfig, load_config, parse_config
from spfkit.policy.decide import Checks, Decision, Outcome, decide, reply_for
from spfkit.policy.logs import configure_logging
from spfkit.policy.protocol import PolicyReader, PolicyReply, PolicyRequest, ProtocolError, render
from spfkit.policy.server import PolicyServer, ServerError, run_stdio
from spfkit.policy.service import Explanation, PolicyService, make_resolver

__all__ = [
    "Checks",
    "ConfigError",
    "Decision",
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
    "ServerError",
    "configure_logging",
    "decide",
    "load_config",
    "make_resolver",
    "parse_config",
    "render",
    "reply_for",
    "run_stdio",
]
