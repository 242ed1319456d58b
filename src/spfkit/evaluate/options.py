"""What a caller may tune about one evaluation (RFC 7208 §4.6.4 limits, §6.2 default text)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from spfkit.evaluate.budget import MAX_DNS_TERMS, MAX_VOID_LOOKUPS, MAX_WORK
from spfkit.record.model import Scope

#: §6.2: used when a fail has no (usable) "exp"; an explain-string, so macros work.
DEFAULT_EXPLANATION: Final = "%{o} does not designate %{c} as permitted sender"
#: §4.6.4: "at least 20 seconds" for the whole check is the RFC's suggestion
DEFAULT_TIME_BUDGET: Final = 20.0


class FetchOrder(StrEnum):
    """How prefetch fetches the records of include/redirect targets (evaluate/prefetch.py).

    ``sequential``: one target after another, each only once the whole tree before it is
    known, so no query is sent that a sequential evaluation could not send. ``eager``: the
    TXT queries of a record's targets start as soon as the record is parsed (at most
    ``max_dns_terms`` of them ahead per check); see docs/prefetch.md for the bound.
    """

    SEQUENTIAL = "sequential"
    EAGER = "eager"


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """Knobs of one check. ``scope`` selects Sender ID records (RFC 4406 §4.4) when set.

    ``prefetch`` lets lookups that later terms will need start while a term waits on DNS;
    results, explanations and counts are the same with it on or off; ``fetch_order`` says how
    include/redirect targets are fetched ahead (:class:`FetchOrder`). ``max_work`` bounds
    the CPU work of one check (characters of record text evaluated, addresses compared).
    """

    default_explanation: str = DEFAULT_EXPLANATION
    max_dns_terms: int = MAX_DNS_TERMS
    max_void_lookups: int = MAX_VOID_LOOKUPS
    max_work: int = MAX_WORK
    time_budget: float = DEFAULT_TIME_BUDGET
    prefetch: bool = True
    fetch_order: FetchOrder = FetchOrder.EAGER
    scope: Scope | None = None
