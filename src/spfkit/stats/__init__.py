"""``spfkit stats``: the share of received mail by SPF / Sender ID result and identity.

* :mod:`~spfkit.stats.observe` — pure parsers: a decision log line, or a message's
  ``Received-SPF:`` / ``Authentication-Results:`` fields → :class:`Observation`;
* :mod:`~spfkit.stats.tally` — counts and shares by identity and result, per day, top failing
  domains, temperror/permerror rates;
* :mod:`~spfkit.stats.sources` — logs (``.gz`` too), Maildir, mbox, streamed.
"""

from spfkit.stats.observe import (
    Observation,
    from_headers,
    from_log_line,
    from_milter_line,
    parse_time,
)
from spfkit.stats.sources import from_log_file, from_maildir, from_mbox
from spfkit.stats.tally import Tally, tally

__all__ = [
    "Observation",
    "Tally",
    "from_headers",
    "from_log_file",
    "from_log_line",
    "from_milter_line",
    "from_maildir",
    "from_mbox",
    "parse_time",
    "tally",
]
