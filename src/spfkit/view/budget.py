"""The §4.6.4 gauge: what a tree or a check really costs against the limits (RFC 7208 §4.6.4).

Receivers stop counting at the limit, so their counts read ``10/10`` for a tree that needs
11 lookups. A :class:`Budget` shows the real total (``11/10``) with what it means for mail;
``spfkit check``, ``show``, ``lint`` and the web's gauges all draw it from here, in text
and JSON. The real totals are the evaluator's own, made with the limits lifted
(:mod:`spfkit.tree.needs`).

Pure data: imports no rich, click, fastapi or asyncio.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

from spfkit.evaluate.options import CheckOptions
from spfkit.results import CheckResult
from spfkit.tree.model import Family, FamilyRun, Needed, RecordTree

__all__ = [
    "OVER_LIMIT", "Budget", "Gauge", "Level", "check_budget", "tree_budgets", "worst_budget",
]

#: what a tree over a §4.6.4 limit does to mail, said once for every front end
OVER_LIMIT: Final = ("every receiver returns permerror for all mail, except from addresses "
                     "a term before the limit matches")
#: how close to the limit of 10 lookups a tree is "near" it
_NEAR_LOOKUPS: Final = 2


class Level(StrEnum):
    """How a count stands against its limit; the value is the CSS/JSON word."""

    OK = "ok"
    NEAR = "near"  # at the limit, or within two lookups of it: one more include breaks it
    OVER = "over"  # past it: receivers return permerror

    @property
    def rank(self) -> int:
        return (Level.OK, Level.NEAR, Level.OVER).index(self)


@dataclass(frozen=True, slots=True)
class Gauge:
    """One count against its limit: ``needed`` is the real total, ``counted`` what receivers
    counted before they stopped (equal unless the evaluation hit the limit)."""

    needed: int
    counted: int
    limit: int
    at_least: bool = False  # the lifted evaluation stopped at an error: a lower bound

    @property
    def level(self) -> Level:
        if self.needed > self.limit:
            return Level.OVER
        margin = _NEAR_LOOKUPS if self.limit > _NEAR_LOOKUPS else 0
        return Level.NEAR if self.limit and self.needed >= self.limit - margin else Level.OK

    def __str__(self) -> str:
        """``11/10`` (``≥11/10`` when it is a lower bound)."""
        return f"{'≥' if self.at_least else ''}{self.needed}/{self.limit}"

    def as_dict(self) -> dict[str, object]:
        return {"needed": self.needed, "counted": self.counted, "limit": self.limit,
                "at_least": self.at_least, "level": self.level.value, "text": str(self)}


@dataclass(frozen=True, slots=True)
class Budget:
    """DNS-querying terms and void lookups of one evaluation, against their limits.

    ``family`` is the sample client's family for a tree when only that family's counts are
    meant (the gauge of a tree whose families differ); None for both, or for one check.
    """

    lookups: Gauge
    void: Gauge
    family: Family | None = None

    @property
    def level(self) -> Level:
        return max(self.lookups.level, self.void.level, key=lambda level: level.rank)

    @property
    def text(self) -> str:
        """``11/10 DNS lookups, 0/2 void lookups``."""
        return f"{self.lookups} DNS lookups, {self.void} void lookups"

    @property
    def over(self) -> tuple[str, ...]:
        """The counts past their limit: ``("DNS lookups",)``."""
        return tuple(what for what, g in (("DNS lookups", self.lookups), ("void lookups", self.void))
                     if g.level is Level.OVER)

    @property
    def over_text(self) -> str:
        """``11 DNS lookups (the limit is 10)``: the counts past their limit, in words."""
        gauges = {"DNS lookups": self.lookups, "void lookups": self.void}
        return " and ".join(f"{'at least ' if gauges[w].at_least else ''}{gauges[w].needed} {w} "
                            f"(the limit is {gauges[w].limit})" for w in self.over)

    @property
    def consequence(self) -> str | None:
        """:data:`OVER_LIMIT`, for this family's clients when ``family`` is set; None within."""
        if not self.over:
            return None
        if self.family is None:
            return OVER_LIMIT
        return OVER_LIMIT.replace("all mail", f"all mail from {self.family.label} clients", 1)

    @property
    def meaning(self) -> str | None:
        """What the counts mean for mail, when they are at or over a limit."""
        if self.consequence is not None:
            return (f"over the limit of {' and '.join(self.over)} (RFC 7208 §4.6.4): "
                    f"{self.consequence}")
        if self.level is Level.NEAR:
            return ("at or near the limit (RFC 7208 §4.6.4): one more lookup-costing term or "
                    "void lookup and every receiver returns permerror")
        return None

    def as_dict(self) -> dict[str, object]:
        return {"lookups": self.lookups.as_dict(), "void_lookups": self.void.as_dict(),
                "level": self.level.value, "text": self.text, "meaning": self.meaning}


def _budget(counted: tuple[int, int], needed: Needed | None, limits: tuple[int, int],
            family: Family | None) -> Budget:
    lookups, void = counted
    at_least = needed is not None and not needed.complete
    n_lookups, n_void = (needed.lookups, needed.void) if needed is not None else counted
    return Budget(Gauge(max(n_lookups, lookups), lookups, limits[0], at_least),
                  Gauge(max(n_void, void), void, limits[1], at_least), family)


def _run_budget(run: FamilyRun, tree: RecordTree) -> Budget:
    """One sample family's budget (``family`` set: its meaning speaks of that family)."""
    r = run.result
    grew = run.needed_lookups > r.lookups or run.needed_void > r.void_lookups
    needed = Needed(run.needed_lookups, run.needed_void, run.complete) if grew else None
    return _budget((r.lookups, r.void_lookups), needed, (tree.max_lookups, tree.max_void),
                   run.family)


def tree_budgets(tree: RecordTree) -> tuple[Budget, Budget]:
    """The IPv4 and the IPv6 sample clients' budgets of ``tree``."""
    return _run_budget(tree.v4, tree), _run_budget(tree.v6, tree)


def worst_budget(budgets: tuple[Budget, ...]) -> Budget:
    """The budget a gauge shows: the family that costs most (the first when they tie); its
    ``family`` None when every family stands at the same level."""
    worst = max(budgets, key=lambda b: (b.level.rank, b.lookups.needed, b.void.needed))
    if len({b.level for b in budgets}) == 1:
        return replace(worst, family=None)
    return worst


def check_budget(result: CheckResult, needed: Needed | None,
                 options: CheckOptions | None = None) -> Budget:
    """The budget of one check: its counts, and ``needed`` when it stopped at a limit."""
    options = options or CheckOptions()
    return _budget((result.lookups, result.void_lookups), needed,
                   (options.max_dns_terms, options.max_void_lookups), None)
