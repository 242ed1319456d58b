"""spfkit: SPF (RFC 7208) and Sender ID (RFC 4406/4407) for postmasters and mail operators.

The public API: parse a record, evaluate ``check_host()``, look at the result.
"""

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
