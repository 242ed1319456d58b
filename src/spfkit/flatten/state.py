"""The state file of ``spfkit flatten --state`` / ``spfkit watch``, and its diff (JSON).

``{"version": 1, "domains": {"example.com": {"time": …, "pattern": …, "flattened": true,
"lookups": n, "records": [[name, text], …], "previous_records": […], "source_record": …,
"source_lookups": n, "void_lookups": n, "errors": […], "sources": {"p1.net": {"networks":
[...], "ttl": 300, "error": null}}}}}``. A source whose lookup failed carries its ``error``
and no networks: an outage is an error, never "all networks removed". Pure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, collapse_addresses, ip_network
from typing import Any

from spfkit.flatten.plan import Network, Source, subtract

__all__ = ["SourceChange", "diff_sources", "domain_state", "dump_state", "load_state",
           "next_pattern"]


def domain_state(sources: tuple[Source, ...], records: tuple[tuple[str, str], ...],
                 lookups: int, pattern: str, now: float) -> dict[str, Any]:
    """One domain's entry."""
    return {
        "time": now,
        "pattern": pattern,
        "lookups": lookups,
        "sources": {s.name: {"networks": [str(n) for n in s.networks], "ttl": s.ttl,
                             "error": s.error} for s in sources},
        "records": [list(r) for r in records],
    }


def dump_state(domains: Mapping[str, dict[str, Any]]) -> str:
    return json.dumps({"version": 1, "domains": dict(domains)}, indent=2, sort_keys=True) + "\n"


def load_state(text: str) -> dict[str, dict[str, Any]]:
    """The domains of a state file; :class:`ValueError` for one that is not ours."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("version") != 1 \
            or not isinstance(data.get("domains"), dict):
        raise ValueError("not an spfkit state file (version 1)")
    domains: dict[str, dict[str, Any]] = data["domains"]
    return domains


@dataclass(frozen=True, slots=True)
class SourceChange:
    """What changed in one provider's networks (or its error)."""

    name: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    error: str | None = None


def diff_sources(old: Mapping[str, Any], new: tuple[Source, ...]) -> list[SourceChange]:
    """Per source: networks added and removed; a source that fails now is an error."""
    changes: list[SourceChange] = []
    seen = set()
    for source in new:
        seen.add(source.name)
        before = old.get(source.name, {"networks": []})
        if source.error is not None:
            changes.append(SourceChange(source.name, (), (), source.error))
            continue
        was = [ip_network(n) for n in before.get("networks", [])]
        now = list(source.networks)
        added, removed = _difference(now, was), _difference(was, now)
        if added or removed or source.name not in old:
            changes.append(SourceChange(source.name, added, removed))
    for name in sorted(set(old) - seen):
        changes.append(SourceChange(name, (), tuple(old[name].get("networks", []))))
    return changes


def _difference(a: list[Network], b: list[Network]) -> tuple[str, ...]:
    """The addresses of ``a`` that ``b`` lacks, as the fewest networks (so a /24 taken out
    of a /21 reads as that /24, however the networks were collapsed)."""
    left = subtract(tuple(a), b)
    v4 = collapse_addresses([x for x in left if isinstance(x, IPv4Network)])
    v6 = collapse_addresses([x for x in left if isinstance(x, IPv6Network)])
    return tuple(str(n) for n in (*v4, *v6))


def next_pattern(pattern: str) -> str:
    """The alternate record names, so the switch to new records is atomic: ``_spf{n}`` ↔
    ``_spfb{n}`` (the top record's include is the last thing to change)."""
    if "_spfb{n}" in pattern:
        return pattern.replace("_spfb{n}", "_spf{n}")
    if "_spf{n}" in pattern:
        return pattern.replace("_spf{n}", "_spfb{n}")
    return pattern.replace("{n}", "b{n}")
