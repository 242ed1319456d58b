"""spfkit: SPF (RFC 7208) and Sender ID (RFC 4406/4407) for postmasters and mail operators.

The public API: parse a record, evaluate ``check_host()``, look at the result.
"""

import typing

from spfkit import _lazy

if typing.TYPE_CHECKING:
    from spfkit.errors import (
        MacroSyntaxError,
        PermError,
        RecordSyntaxError,
        SpfkitError,
        TempError,
    )
    from spfkit.evaluate import CheckOptions, check, check_host
    from spfkit.identity import Identity
    from spfkit.record import Record, parse_record
    from spfkit.results import CheckResult, Result, TraceEvent, TraceKind

#: imported on first use, so that a command (``spfkit policyd`` spawned per connection,
#: ``spfkit --help``) loads only the modules it runs
__getattr__ = _lazy.lazy_exports(__name__, {
    "MacroSyntaxError": "spfkit.errors",
    "PermError": "spfkit.errors",
    "RecordSyntaxError": "spfkit.errors",
    "SpfkitError": "spfkit.errors",
    "TempError": "spfkit.errors",
    "CheckOptions": "spfkit.evaluate",
    "check": "spfkit.evaluate",
    "check_host": "spfkit.evaluate",
    "Identity": "spfkit.identity",
    "Record": "spfkit.record",
    "parse_record": "spfkit.record",
    "CheckResult": "spfkit.results",
    "Result": "spfkit.results",
    "TraceEvent": "spfkit.results",
    "TraceKind": "spfkit.results",
})

__version__ = "0.1.0"

__all__ = [
    "CheckOptions",
    "CheckResult",
    "Identity",
    "MacroSyntaxError",
    "PermError",
    "Record",
    "RecordSyntaxError",
    "Result",
    "SpfkitError",
    "TempError",
    "TraceEvent",
    "TraceKind",
    "__version__",
    "check",
    "check_host",
    "parse_record",
]
