"""SPF evaluation: ``check_host()`` (RFC 7208 §4–§6) and the identity checks of §2.3–§2.4."""

from spfkit.evaluate.check_host import check_host, is_valid_domain, normalize_ip
from spfkit.evaluate.identities import Subject, check, subject_for
from spfkit.evaluate.options import DEFAULT_EXPLANATION, CheckOptions

__all__ = [
    "DEFAULT_EXPLANATION",
    "CheckOptions",
    "Subject",
    "check",
    "check_host",
    "is_valid_domain",
    "normalize_ip",
    "subject_for",
]
