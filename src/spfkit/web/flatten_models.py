"""JSON models of ``GET /api/flatten``: the query and the flattening with its verdict.

The records are those of :func:`spfkit.flatten.flatten` (RFC 7208 §4.6.4, §5.2, §6.1), the
zone lines :func:`spfkit.flatten.zone.render_records`'s, the lookup counts
:class:`spfkit.view.budget.Gauge`'s (the checker's gauge). Pydantic only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from spfkit.web.models import MAX_ITEMS, MAX_NAME, valid_domain
from spfkit.web.report_models import GaugeModel
from spfkit.wizard.zones import MAX_TTL

__all__ = ["FlattenLookups", "FlattenQuery", "FlattenResponse", "FlattenedRecordModel",
           "KeptTermModel"]

Outcome = Literal["equivalent", "refused", "incomplete"]
Role = Literal["top", "chained"]


def _keep_name(value: str) -> str:
    return valid_domain(value).lower()


class FlattenQuery(BaseModel):
    """The domain to flatten, the includes to keep as written, the TTL of the zone lines."""

    model_config = ConfigDict(extra="forbid")

    domain: Annotated[str, Field(max_length=MAX_NAME, examples=["example.com"]),
                      AfterValidator(valid_domain)]
    keep: Annotated[list[Annotated[str, Field(max_length=MAX_NAME),
                                   AfterValidator(_keep_name)]],
                    Field(max_length=MAX_ITEMS)] = Field(
        default_factory=list,
        description="Includes (or the redirect target) of the top record to keep as written, "
                    "like `spfkit flatten --keep` (repeat the parameter for more).")
    ttl: int = Field(3600, ge=0, le=MAX_TTL, description="TTL of the zone lines, in seconds.")


class FlattenedRecordModel(BaseModel):
    name: str = Field(examples=["_spf1.example.com"])
    role: Role = Field(
        description="The domain's own record, or one it reaches by include/redirect (§5.2).")
    text: str
    bind: list[str] = Field(description="BIND zone lines (character-strings of ≤ 255 octets).")
    tinydns: list[str]


class KeptTermModel(BaseModel):
    term: str = Field(examples=["exists:%{i}.wl.example.com"])
    reason: str = Field(examples=["exists depends on the client"])


class FlattenLookups(BaseModel):
    """DNS lookups receivers spend (§4.6.4): the source tree's real total, as ``/api/check``'s
    gauge counts it, and the flattened records' (the most for any client), null when unknown."""

    before: GaugeModel | None
    after: GaugeModel | None


class FlattenResponse(BaseModel):
    domain: str
    outcome: Outcome = Field(description="equivalent: the records are proven to give the same "
                             "result for every address; refused: flatten said why not "
                             "(`reason`); incomplete: the request's DNS budget ran out.")
    equivalent: bool = Field(description="True only when the proof found no differing address.")
    sentence: str = Field(description="The verdict in one sentence.")
    reason: str | None = Field(description="Why the tree was not flattened, or null.")
    source_record: str | None = Field(description="The domain's SPF record as published.")
    records: list[FlattenedRecordModel] = Field(
        description="The records to publish, the top record first; empty unless equivalent.")
    bind_lines: list[str]
    tinydns_lines: list[str]
    text_lines: list[str] = Field(description="One `name record` a line.")
    lookups: FlattenLookups
    kept: list[KeptTermModel] = Field(description="Terms kept as written, and why.")
    keep: list[str] = Field(description="The includes asked to be kept.")
    includes: list[str] = Field(description="The include and redirect targets of the top "
                                "record: what `keep` may name.")
    undecided_addresses: str = Field(
        description="Addresses only kept terms decide (a decimal count: it may exceed 2**64).")
    notes: list[str]
    dns_queries: int
    query_limit_reached: bool
