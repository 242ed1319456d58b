"""A domain's DMARC record beside its SPF record, in words (RFC 7489 §6.3, §6.6.3).

SPF checks the envelope sender; what a receiver does with mail whose visible From: domain
fails is the domain's DMARC policy. :func:`dmarc_view` turns a
:class:`~spfkit.dmarc.DmarcLookup` into one line and a level the ``/check`` page colours.

Pure data: imports no rich, click, fastapi or asyncio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from spfkit.dmarc import DmarcLookup, DmarcStatus, Policy
from spfkit.view.budget import Level

__all__ = ["DmarcView", "dmarc_view"]

#: §6.3 "p": what receivers are asked to do with mail that fails DMARC
_POLICY: Final = {
    Policy.REJECT: "receivers are asked to reject mail that fails DMARC",
    Policy.QUARANTINE: "receivers are asked to quarantine (spam-folder) mail that fails DMARC",
    Policy.NONE: "monitoring only: receivers are asked to deliver mail that fails DMARC as usual",
}


@dataclass(frozen=True, slots=True)
class DmarcView:
    """``present``: a usable record; ``policy``: its ``p``; ``text``: the line to show."""

    name: str  # _dmarc.example.com
    present: bool
    policy: Policy | None
    record: str | None
    text: str
    level: Level  # OK: reject/quarantine; NEAR: p=none or no record; OVER: unusable

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "present": self.present,
                "policy": self.policy.value if self.policy else None, "record": self.record,
                "text": self.text, "level": self.level.value}


def dmarc_view(lookup: DmarcLookup) -> DmarcView:
    """What the page says of ``lookup`` (the record at ``_dmarc.<domain>``)."""
    name = "_dmarc." + lookup.domain.rstrip(".")
    record = lookup.record
    if lookup.status is DmarcStatus.RECORD and record is not None:
        text = f"p={record.p.value}: {_POLICY[record.p]}"
        if record.pct < 100:
            text += f" (for {record.pct}% of it, pct={record.pct})"
        if record.sp is not None and record.sp is not record.p:
            text += f"; subdomains: sp={record.sp.value}"
        level = Level.NEAR if record.p is Policy.NONE else Level.OK
        return DmarcView(name, True, record.p, lookup.text, text, level)
    if lookup.status is DmarcStatus.NONE:
        return DmarcView(name, False, None, None,
                         f"no DMARC record at {name}: receivers apply no DMARC policy, and SPF "
                         "alone does not protect the From: address people see", Level.NEAR)
    what = ("the DMARC lookup failed" if lookup.status is DmarcStatus.DNS_ERROR
            else "no usable DMARC record")
    return DmarcView(name, False, None, lookup.text, f"{what} at {name}: {lookup.error}",
                     Level.OVER)
