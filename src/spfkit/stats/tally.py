"""Counting observations: shares of received mail by result and identity, per day, top failing
domains, temperror/permerror rates (pure, no I/O)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from spfkit.results import Result
from spfkit.stats.observe import Observation

__all__ = ["Tally", "tally"]

_ORDER = tuple(r.value for r in (Result.PASS, Result.FAIL, Result.SOFTFAIL, Result.NEUTRAL,
                                 Result.NONE, Result.TEMPERROR, Result.PERMERROR))
_FAILING = frozenset({"fail", "softfail", "permerror"})


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


@dataclass(slots=True)
class Tally:
    """Counts by identity and result; ``since`` drops observations dated before it."""

    since: datetime | None = None
    by_identity: dict[str, Counter[str]] = field(default_factory=dict)
    by_day: dict[str, Counter[str]] = field(default_factory=dict)  # day → result (all identities)
    failing: Counter[str] = field(default_factory=Counter)  # domain → fail/softfail/permerror
    undated: int = 0
    skipped: int = 0  # before --since

    def add(self, obs: Observation) -> None:
        if self.since is not None and obs.when is not None and obs.when < self.since:
            self.skipped += 1
            return
        self.by_identity.setdefault(obs.identity, Counter())[obs.result] += 1
        if obs.when is None:
            self.undated += 1
        else:
            self.by_day.setdefault(obs.when.date().isoformat(), Counter())[obs.result] += 1
        if obs.result in _FAILING and obs.domain:
            self.failing[obs.domain] += 1

    def as_dict(self) -> dict[str, object]:
        identities: dict[str, object] = {}
        for identity in sorted(self.by_identity):
            counts = self.by_identity[identity]
            total = sum(counts.values())
            identities[identity] = {
                "total": total,
                "results": {r: {"count": counts[r], "pct": _pct(counts[r], total)} for r in _ORDER},
                "temperror_pct": _pct(counts["temperror"], total),
                "permerror_pct": _pct(counts["permerror"], total),
            }
        return {
            "identities": identities,
            "per_day": {day: dict(sorted(c.items())) for day, c in sorted(self.by_day.items())},
            "top_failing_domains": [{"domain": d, "count": n} for d, n in
                                    sorted(self.failing.items(), key=lambda kv: (-kv[1], kv[0]))[:20]],
            "undated": self.undated,
            "skipped_before_since": self.skipped,
        }


def tally(observations: Iterable[Observation], since: datetime | None = None) -> Tally:
    counts = Tally(since=since)
    for obs in observations:
        counts.add(obs)
    return counts
