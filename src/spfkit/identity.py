"""The identity an SPF or Sender ID check authorised (RFC 7208 §2.3–2.4, §9.1; RFC 4406 §3).

Pure data: imports nothing from asyncio, sockets or dnspython.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Identity"]


class Identity(StrEnum):
    """RFC 7208 §9.1 ``identity``; the value is the token written into ``identity=``.

    ``identity = "mailfrom" / "helo" / name`` — ``pra`` is the ``name`` for the
    Purported Responsible Address that Sender ID checks (RFC 4406 §3, RFC 4407).
    """

    MAILFROM = "mailfrom"  # §2.4: the SMTP "MAIL FROM" reverse-path
    HELO = "helo"  # §2.3: the SMTP "HELO"/"EHLO" domain
    PRA = "pra"  # RFC 4406 §3: the Purported Responsible Address of the message
