"""Sender ID (RFC 4406): the Purported Responsible Address (RFC 4407) and scoped checks.

``find_pra()`` is pure; ``check_pra()`` and ``check_mfrom_senderid()`` evaluate with the
``pra`` / ``mfrom`` scope through the resolver they are given.
"""

from spfkit.senderid.check import check_mfrom_senderid, check_pra, no_pra_result
from spfkit.senderid.fields import field_name
from spfkit.senderid.mailbox import (
    Mailbox,
    MailboxItem,
    MailboxList,
    parse_mailbox_list,
)
from spfkit.senderid.pra import (
    PRA_HEADERS,
    PRAResult,
    find_pra,
    header_fields,
    pra_from_fields,
)

__all__ = [
    "PRA_HEADERS",
    "Mailbox",
    "MailboxItem",
    "MailboxList",
    "PRAResult",
    "check_mfrom_senderid",
    "check_pra",
    "field_name",
    "find_pra",
    "header_fields",
    "no_pra_result",
    "parse_mailbox_list",
    "pra_from_fields",
]
