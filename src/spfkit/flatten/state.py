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
    try:
        data = json.loads(text)
    except RecursionError:  # nested deeper than any state file is
        raise ValueError("not an spfkit state file (nested too deeply)") from None
    if not isinstance(data, dict) or data.get("version") != 1 \
            or not isinstance(data.get("domains"), dict):
        raise ValueError("not an spfkit state file (version 1)")
    domains: dict[str, dict[str, Any]] = data["domains"]
    for name, entry in domains.items():
        problem = _entry_problem(entry)
        if problem:
            raise ValueError(f"not an spfkit state file: domain {name!r}: {problem}")
    return domains


_COUNTS = ("lookups", "source_lookups", "void_lookups")


def _entry_problem(entry: Any) -> str | None:
    """What is wrong with one domain's entry (the shape :func:`domain_state` writes), or None:
    a hand-edited or damaged file is refused, never read as "everything changed"."""
    if not isinstance(entry, dict):
        return "an entry must be an object"
    for key in _COUNTS:
        if key in entry and (type(entry[key]) is not int or entry[key] < 0):
            return f"{key} must be a whole number"
    if "time" in entry and (isinstance(entry["time"], bool)
                            or not isinstance(entry["time"], int | float)):
        return "time must be a number"
    for key in ("pattern", "source_record"):
        if key in entry and not isinstance(entry[key], str):
            return f"{key} must be a string"
    if "flattened" in entry and not isinstance(entry["flattened"], bool):
        return "flattened must be true or false"
    if "errors" in entry and not _strings(entry["errors"]):
        return "errors must be a list of strings"
    for key in ("records", "previous_records"):
        if key in entry and not (isinstance(entry[key], list) and all(
                isinstance(r, list) and len(r) == 2 and _strings(r) for r in entry[key])):
            return f"{key} must be a list of [name, text] pairs"
    sources = entry.get("sources", {})
    if not isinstance(sources, dict):
        return "sources must be an object"
    for source, facts in sources.items():
        if not isinstance(facts, dict):
            return f"source {source!r} must be an object"
        if facts.get("error") is not None and not isinstance(facts["error"], str):
            return f"source {source!r}: error must be a string or null"
        ttl = facts.get("ttl")
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int | float)
                                or ttl < 0):
            return f"source {source!r}: ttl must be a number or null"
        networks = facts.get("networks", [])
        if not _strings(networks):
            return f"source {source!r}: networks must be a list of strings"
        for network in networks:
            try:
                ip_network(network)
            except ValueError:
                return f"source {source!r}: {network[:64]!r} is not a network"
    return None


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


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
