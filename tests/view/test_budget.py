"""view.budget: the §4.6.4 gauge with the real total past the limit (issue 15 item 1)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from spfkit.lookup import ZoneResolver
from spfkit.results import CheckResult, Result
from spfkit.tree import build_tree
from spfkit.tree.model import Family, Needed
from spfkit.view.budget import (
    OVER_LIMIT,
    Gauge,
    Level,
    check_budget,
    tree_budgets,
    worst_budget,
)

ZONE = ZoneResolver(Path(__file__).resolve().parents[1] / "fixtures" / "issue15.zone")


@pytest.mark.parametrize(("needed", "limit", "level"), [
    (0, 10, Level.OK), (7, 10, Level.OK), (8, 10, Level.NEAR), (10, 10, Level.NEAR),
    (11, 10, Level.OVER), (0, 2, Level.OK), (1, 2, Level.OK), (2, 2, Level.NEAR), (3, 2, Level.OVER),
])
def test_levels(needed: int, limit: int, level: Level) -> None:
    assert Gauge(needed, min(needed, limit), limit).level is level


def test_text_of_a_gauge() -> None:
    assert str(Gauge(11, 10, 10)) == "11/10"
    assert str(Gauge(12, 10, 10, at_least=True)) == "≥12/10"


def test_a_check_within_the_limits_keeps_its_counts() -> None:
    budget = check_budget(CheckResult(Result.PASS, "a.example", lookups=3, void_lookups=1), None)
    assert budget.text == "3/10 DNS lookups, 1/2 void lookups"
    assert budget.level is Level.OK and budget.meaning is None and budget.consequence is None


def test_a_check_past_the_limit_shows_the_real_total() -> None:
    result = CheckResult(Result.PERMERROR, "a.example", lookups=10)
    budget = check_budget(result, Needed(11, 0, complete=True))
    assert (budget.lookups.needed, budget.lookups.counted) == (11, 10)
    assert budget.text == "11/10 DNS lookups, 0/2 void lookups"
    assert budget.level is Level.OVER
    assert budget.consequence == OVER_LIMIT
    assert budget.meaning is not None and "every receiver returns permerror for all mail" in budget.meaning
    assert budget.over_text == "11 DNS lookups (the limit is 10)"


def test_a_lower_bound_says_at_least() -> None:
    budget = check_budget(CheckResult(Result.PERMERROR, "a.example", lookups=10),
                          Needed(14, 3, complete=False))
    assert str(budget.lookups) == "≥14/10"
    assert budget.over_text == ("at least 14 DNS lookups (the limit is 10) and at least 3 void "
                                "lookups (the limit is 2)")


def test_tree_budgets_of_a_tree_over_the_limit() -> None:
    tree = asyncio.run(build_tree("over.example", ZONE))
    v4, v6 = tree_budgets(tree)
    assert tree.lookups_v4 == 10  # the receiver's count stops at the limit
    assert (v4.lookups.needed, v6.lookups.needed) == (11, 11)
    worst = worst_budget((v4, v6))
    assert worst.family is None  # both families alike: "all mail"
    assert worst.consequence == OVER_LIMIT


def test_one_family_over_speaks_of_that_family() -> None:
    tree = asyncio.run(build_tree("v6broken.example", ZONE))
    v4, v6 = tree_budgets(tree)
    assert v4.level is Level.OK and v6.level is Level.OVER
    worst = worst_budget((v4, v6))
    assert worst.family is Family.IPV6
    assert worst.consequence is not None
    assert "all mail from IPv6 clients" in worst.consequence


def test_as_dict() -> None:
    budget = check_budget(CheckResult(Result.PERMERROR, "a.example", lookups=10), Needed(11, 0, True))
    data = budget.as_dict()
    assert data["lookups"] == {"needed": 11, "counted": 10, "limit": 10, "at_least": False,
                               "level": "over", "text": "11/10"}
    assert data["level"] == "over" and data["text"] == "11/10 DNS lookups, 0/2 void lookups"
