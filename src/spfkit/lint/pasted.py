"""Recognising other TXT records pasted where an SPF record belongs (RFC 7208 §4.5, §6).

A domain's TXT RRset holds the SPF record beside records of other protocols and services: a
DKIM key (RFC 6376 §3.6.1), a DMARC policy (RFC 7489 §6.3), domain-verification tokens. People
paste one of those into the SPF record's field, or glue one onto it (``v=spf1 mx
MS=ms12345678 -all``). Receivers then see no SPF record (§4.5) or ignore an unknown modifier
(§6), and the service the token was for does not find it either. :func:`identify` says what
a text is, so a finding can say "this is a DKIM key" instead of "unknown modifier".
Pure: no I/O imports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["Foreign", "identify", "identify_key"]


@dataclass(frozen=True, slots=True)
class Foreign:
    """What a pasted text is and where it belongs instead."""

    what: str  # "a DKIM public key (v=DKIM1)"
    belongs: str  # "a TXT record at <selector>._domainkey.<domain>"


_AT_DOMAIN: Final = "a TXT record of its own at the domain (beside the SPF record)"

#: tag-value records of other protocols: their version tag, in lower case
_VERSIONED: Final[dict[str, Foreign]] = {
    "dkim1": Foreign("a DKIM public key (v=DKIM1, RFC 6376)",
                     "a TXT record at <selector>._domainkey.<domain>"),
    "dmarc1": Foreign("a DMARC policy (v=DMARC1, RFC 7489)", "a TXT record at _dmarc.<domain>"),
    "bimi1": Foreign("a BIMI record (v=BIMI1)", "a TXT record at default._bimi.<domain>"),
    "stsv1": Foreign("an MTA-STS record (v=STSv1, RFC 8461)",
                     "a TXT record at _mta-sts.<domain>"),
    "tlsrptv1": Foreign("a TLS reporting record (v=TLSRPTv1, RFC 8460)",
                        "a TXT record at _smtp._tls.<domain>"),
}

#: verification tokens, by the key before '=' (lower case)
_TOKENS: Final[dict[str, str]] = {
    "ms": "a Microsoft 365 domain-verification token (MS=…)",
    "google-site-verification": "a Google site-verification token",
    "facebook-domain-verification": "a Facebook domain-verification token",
    "apple-domain-verification": "an Apple domain-verification token",
    "atlassian-domain-verification": "an Atlassian domain-verification token",
    "adobe-idp-site-verification": "an Adobe domain-verification token",
    "docusign": "a DocuSign domain-verification token",
    "stripe-verification": "a Stripe domain-verification token",
    "zoom-domain-verification": "a Zoom domain-verification token",
    "globalsign-domain-verification": "a GlobalSign domain-validation token",
    "amazonses": "an Amazon SES verification token",
}
#: any other "<service>-verification=…" or "<service>-site-verification=…"
_VERIFICATION: Final = re.compile(r"[a-z0-9][a-z0-9-]*-(?:site-|domain-)?verification\Z")
_VERSION_TAG: Final = re.compile(r"\s*v\s*=\s*([A-Za-z0-9]+)\s*(?:;|\Z|\s)")
_KEY: Final = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9_-]*)\s*[=:]")


def identify_key(key: str) -> Foreign | None:
    """The token a ``key=value`` word is (``MS``, ``google-site-verification``), or None."""
    lower = key.lower()
    what = _TOKENS.get(lower)
    if what is None and _VERIFICATION.match(lower):
        what = f"a domain-verification token ({key}=…)"
    return Foreign(what, _AT_DOMAIN) if what is not None else None


def identify(text: str) -> Foreign | None:
    """What the whole ``text`` is when it is another kind of TXT record, else None."""
    if (version := _VERSION_TAG.match(text)) is not None:
        return _VERSIONED.get(version.group(1).lower())
    if (key := _KEY.match(text)) is not None:
        return identify_key(key.group(1))
    return None
