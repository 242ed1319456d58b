"""JSON models of the verdict, the §4.6.4 budget and DMARC (``GET /api/check``, ``/api/test``).

The shapes are :mod:`spfkit.view`'s ``as_dict()`` (``Budget``, ``DomainVerdict``,
``DmarcView``), as the OpenAPI schema publishes them. Pydantic only.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["AddressCountModel", "BudgetModel", "BudgetsModel", "DmarcModel", "GaugeModel",
           "VerdictModel"]

LevelName = Literal["ok", "near", "over"]


class GaugeModel(BaseModel):
    """One count against its RFC 7208 §4.6.4 limit: ``needed`` is the real total."""

    needed: int = Field(description="What the evaluation needs with the limits lifted.")
    counted: int = Field(description="What receivers count before they stop (at most the limit).")
    limit: int
    at_least: bool = Field(description="The count is a lower bound (the walk stopped at an error).")
    level: LevelName
    text: str = Field(examples=["11/10"])


class BudgetModel(BaseModel):
    lookups: GaugeModel
    void_lookups: GaugeModel
    level: LevelName
    text: str = Field(examples=["11/10 DNS lookups, 0/2 void lookups"])
    meaning: str | None = Field(description="What the counts mean for mail, at or over a limit.")


class BudgetsModel(BaseModel):
    """The gauge's budget (the costlier sample family) and each family's."""

    gauge: BudgetModel
    ipv4: BudgetModel
    ipv6: BudgetModel


class AddressCountModel(BaseModel):
    ipv4: int
    ipv6: int


class VerdictModel(BaseModel):
    verdict: Literal["fine", "some", "everyone", "anyone", "none"]
    headline: str
    why: str
    sentence: str = Field(description="One sentence: the headline and why.")
    budget: BudgetModel
    authorised_addresses: AddressCountModel | None


class DmarcModel(BaseModel):
    name: str = Field(examples=["_dmarc.example.com"])
    present: bool
    policy: Literal["none", "quarantine", "reject"] | None
    record: str | None
    text: str
    level: LevelName
