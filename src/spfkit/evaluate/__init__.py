"""SPF evaluation: ``check_host()`` (RFC 7208 §4–§6) and the identity checks of §2.3–§2.4."""

from spfkit.evaluate.check_host import check_host
from spfkit.evaluate.identities import check, check_now
from spfkit.evaluate.options import DEFAULT_EXPLANATION, CheckOptions, FetchOrder

# the identity rules live in spfkit.identity; re-exported here for callers of the evaluator
from spfkit.identity import Subject, is_valid_domain, normalize_ip, subject_for

__all__ = [
    "DEFAULT_EXPLANATION",
    "CheckOptions",
    "FetchOrder",
    "Subject",
    "check",
    "check_now",
    "check_host",
    "is_valid_domain",
    "normalize_ip",
    "subject_for",
]
