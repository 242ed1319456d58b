"""Running openspf vectors through spfkit's real resolver against the loopback DNS fixture.

Shared by ``test_openspf.py`` and ``test_prefetch_identity.py``; ``summary_lines()`` feeds the
terminal summary hook in ``tests/conftest.py``. spfkit is imported inside :func:`evaluate` only,
so collecting these tests never fails, whatever state the package is in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pytest
import yaml

from tests.fixtures.dnsserver import ZoneDataServer
from tests.fixtures.openspf import SUITES, Case, Scenario, load_suite, suite_path

if TYPE_CHECKING:
    from spfkit.results import CheckResult

#: Per-query timeout of the resolver: TIMEOUT names cost this much, so keep it short.
QUERY_TIMEOUT: Final = 0.5
DEFAULT_EXPLANATION: Final = "DEFAULT"
CHANGES_PATH: Final = Path(__file__).with_name("rfc4408-changes.yml")
#: What must not differ between a run with and without prefetching.
OUTCOME_FIELDS: Final = ("result", "explanation", "lookups", "void_lookups", "mechanism", "domain")
RESULTS: Final = frozenset({"pass", "fail", "softfail", "neutral", "none", "temperror", "permerror"})


@dataclass(frozen=True, slots=True)
class Change:
    """An RFC 4408 vector whose expected result RFC 7208 changed (rfc4408-changes.yml)."""

    id: str
    new_result: tuple[str, ...]
    rfc7208_section: str
    why: str
    new_explanation: str | None = None


def load_changes(path: Path = CHANGES_PATH) -> dict[str, Change]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    changes: dict[str, Change] = {}
    for item in data.get("changes") or []:
        new = item["new_result"]
        change = Change(
            id=str(item["id"]),
            new_result=tuple(str(r) for r in new) if isinstance(new, list) else (str(new),),
            rfc7208_section=str(item["rfc7208_section"]),
            why=" ".join(str(item.get("why", "")).split()),
            new_explanation=None if item.get("new_explanation") is None else str(item["new_explanation"]),
        )
        if change.id in changes:
            raise ValueError(f"{path.name}: {change.id} is listed twice")
        changes[change.id] = change
    return changes


@cache
def scenarios(suite: str) -> tuple[Scenario, ...]:
    return tuple(load_suite(suite_path(suite)))


def vectors() -> list[tuple[Scenario, Case]]:
    return [(scenario, case) for suite in SUITES for scenario in scenarios(suite) for case in scenario.tests]


def params() -> list[Any]:
    """One pytest param per vector, id ``rfc7208/<scenario>/<test>``, marked with its spec."""
    return [pytest.param(scenario, case, id=case.id, marks=pytest.mark.spec(*case.spec))
            for scenario, case in vectors()]


def expected(case: Case, changes: Mapping[str, Change] | None = None) -> tuple[tuple[str, ...], str | None]:
    """The accepted results and the expected explanation, after rfc4408-changes.yml."""
    change = (load_changes() if changes is None else changes).get(case.id)
    if change is None:
        return case.result, case.explanation
    explanation = change.new_explanation if change.new_explanation is not None else case.explanation
    return change.new_result, explanation


async def evaluate(case: Case, port: int, *, prefetch: bool, fetch_order: str = "eager") -> CheckResult:
    """check() for one vector through the real resolver, against 127.0.0.1:port;
    ``fetch_order`` is a :class:`~spfkit.evaluate.FetchOrder` value."""
    from spfkit.evaluate import CheckOptions, FetchOrder, check
    from spfkit.lookup import DnsResolver

    resolver = DnsResolver(nameservers=["127.0.0.1"], port=port, timeout=QUERY_TIMEOUT)
    # The overall time budget (§4.6.4 "at least 20 seconds") stays at its default: with
    # QUERY_TIMEOUT = 0.5 s no vector comes near it.
    options = CheckOptions(default_explanation=DEFAULT_EXPLANATION, prefetch=prefetch,
                           fetch_order=FetchOrder(fetch_order))
    return await check(case.host, case.mailfrom, case.helo, resolver=resolver, options=options)


def outcome(result: CheckResult) -> dict[str, object]:
    return {name: getattr(result, name) for name in OUTCOME_FIELDS}


def steps(result: CheckResult) -> list[tuple[object, ...]]:
    """The trace without the answers' objects: each step, its place and its counts."""
    return [(e.kind, e.depth, e.domain, e.text, e.note, e.lookups, e.void_lookups)
            for e in result.trace]


def describe(case: Case, result: CheckResult, server: ZoneDataServer) -> str:
    """What a failing vector shows: the vector, the outcome, the trace and the DNS queries."""
    results, explanation = expected(case)
    rfc = "7208" if case.id.startswith("rfc7208") else "4408"
    want = "|".join(results) + (f" explanation={explanation!r}" if explanation is not None else "")
    if case.id in load_changes():
        want += " (from rfc4408-changes.yml)"
    got = (
        f"{result.result.value} explanation={result.explanation!r} mechanism={result.mechanism!r} "
        f"domain={result.domain!r} problem={getattr(result, 'problem', None)!r} "
        f"lookups={result.lookups} void={result.void_lookups}"
    )
    trace = (f"    {'  ' * e.depth}{e.kind.value:<6} {e.domain} {e.text} {e.detail}" for e in result.trace)
    lines = [
        f"{case.id} (RFC {rfc} § {', '.join(case.spec)})",
        f"  {case.description or ''}",
        f"  host={case.host} mailfrom={case.mailfrom!r} helo={case.helo!r}",
        f"  expected {want}",
        f"  got {got}",
        "  trace:",
        *(line.rstrip() for line in trace),
        "  queries: " + ", ".join(f"{q.qname}/{q.qtype}/{q.transport}" for q in server.queries),
    ]
    return "\n".join(lines)


class ScenarioServer:
    """One ZoneDataServer for the session, loaded with a scenario's data when it changes."""

    def __init__(self, server: ZoneDataServer) -> None:
        self.server = server
        self._current: Scenario | None = None

    def serve(self, scenario: Scenario) -> ZoneDataServer:
        if self._current is not scenario:
            self.server.load(scenario.zonedata)
            self._current = scenario
        self.server.reset_counts()
        return self.server


# -- the terminal summary ---------------------------------------------------------------------

_PARAM = re.compile(r"::(test_\w+)\[(.+)\]$")
_LABELS: Final = {
    "test_openspf.py": "",
    "test_prefetch_identity.py": "prefetch identity ",
    "test_openspf_memory.py": "in-memory ",
}


def summary_lines(stats: Mapping[str, Iterable[Any]]) -> list[str]:
    """``rfc7208: N/203 passed`` lines from pytest's report stats; [] if no vector ran."""
    ran: dict[str, set[str]] = {}
    passed: dict[str, set[str]] = {}
    for key in ("passed", "failed", "error"):
        for report in stats.get(key, ()):
            nodeid = getattr(report, "nodeid", "")
            match = _PARAM.search(nodeid)
            if "tests/conformance/" not in nodeid or match is None:
                continue
            module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
            label = _LABELS.get(module)
            if label is None or match.group(1) not in ("test_vector", "test_prefetch_changes_nothing"):
                continue
            vector_id = match.group(2)
            group = label + vector_id.split("/", 1)[0]
            ran.setdefault(group, set()).add(vector_id)
            if key == "passed" and getattr(report, "when", "call") == "call":
                passed.setdefault(group, set()).add(vector_id)
    if not ran:
        return []
    lines: list[str] = []
    for label in _LABELS.values():
        for suite in SUITES:
            group = label + suite
            if group in ran:
                total = sum(len(s.tests) for s in scenarios(suite))
                failed = len(ran[group] - passed.get(group, set()))
                note = f" ({len(ran[group])} run)" if len(ran[group]) != total else ""
                lines.append(f"{group}: {len(passed.get(group, set()))}/{total} passed{note}"
                             + (f", {failed} failed" if failed else ""))
    changes = load_changes()
    if "rfc4408" in ran and changes:
        lines.append(f"rfc4408 vectors expecting the RFC 7208 result ({CHANGES_PATH.name}):")
        lines.extend(f"  {c.id}: {'|'.join(c.new_result)} (RFC 7208 § {c.rfc7208_section}) {c.why}"
                     for c in changes.values())
    return lines
