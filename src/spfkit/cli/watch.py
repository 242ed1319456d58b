"""``spfkit watch DOMAIN... --state FILE``: resolve the trees again and report what changed.

Per domain, the tree is observed again (:mod:`spfkit.flatten.drift`: its source record,
lookups, void lookups, errors and each source's networks) and compared with the state file
(:mod:`spfkit.flatten.state`). For a flattened domain whose sources changed, the new
flattened records are printed under the alternate names (``_spf{n}`` ↔ ``_spfb{n}``):
publish them, then the top record, so receivers never see a half-switched chain.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import click

from spfkit.cli.dns_options import dns_options, dns_source
from spfkit.flatten import FlattenError, flatten
from spfkit.flatten.drift import TreeChanges, TreeFacts, compare, facts_state, observe
from spfkit.flatten.state import domain_state, dump_state, load_state, next_pattern
from spfkit.flatten.zone import render_records
from spfkit.lookup.overlay import OverlayResolver
from spfkit.lookup.protocol import Resolver

__all__ = ["watch_command"]

_PATTERN = "_spf{n}.{domain}"


def _is_flattened(entry: dict[str, Any]) -> bool:
    """Written by ``spfkit flatten --state`` (or a state file from before the flag)."""
    return bool(entry.get("flattened", bool(entry.get("records"))))


async def _reflatten(facts: TreeFacts, resolver: Resolver, pattern: str
                     ) -> tuple[dict[str, Any] | None, str | None]:
    """The new flattened records of the source record, or why they cannot be made."""
    view = OverlayResolver(resolver, {facts.domain: facts.record}) if facts.flattened_live \
        else resolver
    try:
        result = await flatten(facts.domain, view, pattern=pattern)
    except FlattenError as exc:
        return None, str(exc)
    entry = domain_state(result.plan.sources, result.records, result.lookups, pattern,
                         time.time())
    return entry, None


async def _one(domain: str, old: dict[str, Any] | None, resolver: Resolver
               ) -> tuple[int, dict[str, Any], dict[str, Any] | None]:
    """(exit status, report, new state entry or None) for one domain."""
    try:
        facts = await observe(domain, resolver, old)
    except FlattenError as exc:
        return 2, {"status": "error", "error": str(exc)}, None
    if facts.outage is not None:
        return 2, {"status": "error", "error": f"DNS failure, nothing compared: {facts.outage}"}, None
    report: dict[str, Any] = {"published": "flattened" if facts.flattened_live else "source",
                              "lookups": facts.lookups, "void_lookups": facts.void_lookups}
    if facts.errors:
        report["errors"] = list(facts.errors)
    if old is None:
        entry = {**domain_state(facts.sources, (), facts.lookups, _PATTERN, time.time()),
                 **facts_state(facts), "flattened": False}
        return 0, {"status": "recorded", **report}, entry
    changes = compare(old, facts)
    if not changes.changed:
        return 0, {"status": "unchanged", **report}, None
    report = {"status": "changed", **report, **_changes(changes)}
    if not _is_flattened(old):
        entry = {**old, **domain_state(facts.sources, (), facts.lookups,
                                       old.get("pattern", _PATTERN), time.time()),
                 **facts_state(facts), "flattened": False}
        return 1, report, entry
    pattern = next_pattern(old.get("pattern", _PATTERN))
    made, why = await _reflatten(facts, resolver, pattern)
    if made is None:
        # the change is real; the state keeps the old records until new ones can be made
        report["flatten_error"] = why
        return 1, report, None
    report["records"] = made["records"]
    entry = {**made, **facts_state(facts), "flattened": True,
             "previous_records": old.get("records", [])}
    return 1, report, entry


def _changes(changes: TreeChanges) -> dict[str, Any]:
    out: dict[str, Any] = {"changes": [
        {"source": c.name, "added": list(c.added), "removed": list(c.removed),
         **({"error": c.error} if c.error else {})} for c in changes.sources]}
    tree: dict[str, Any] = {}
    for key, pair in (("record", changes.record), ("lookups", changes.lookups),
                      ("void_lookups", changes.void_lookups)):
        if pair is not None:
            tree[key] = {"before": pair[0], "now": pair[1]}
    if changes.errors_added:
        tree["errors_added"] = list(changes.errors_added)
    if changes.errors_removed:
        tree["errors_removed"] = list(changes.errors_removed)
    if tree:
        out["tree"] = tree
    return out


@click.command("watch")
@click.argument("domains", nargs=-1, required=True)
@dns_options
@click.option("--state", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The state file written by 'spfkit flatten --state' (or a new one).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--update/--no-update", default=False,
              help="Write what changed (and the new record names) to the state file.")
def watch_command(domains: tuple[str, ...], nameservers: tuple[str, ...],
                  zones: tuple[str, ...], timeout: float, state: Path, fmt: str,
                  update: bool) -> None:
    """Resolve DOMAINs' SPF trees again and report what changed since the state file.

    Compared: the source record, the DNS lookups and void lookups the tree needs, its errors,
    and the networks of each source (include and redirect targets, a/mx terms). For a domain
    flattened with 'spfkit flatten --state', the new records to publish are printed under the
    alternate names (_spf{n} <-> _spfb{n}) so the switch is atomic; while the flattened
    records are what DNS serves, the source record kept in the state file is followed.

    Exit status: 0 nothing changed (a domain new to the state file is recorded); 1 something
    changed (per provider: networks added and removed; the tree: lookups, errors, record);
    2 usage error, unreadable state file, no SPF record, or a DNS failure (an outage is
    never reported as "networks removed").
    """
    try:
        known = load_state(state.read_text()) if state.exists() else {}
    except (OSError, ValueError) as exc:
        raise click.UsageError(f"--state: {exc}") from None
    resolver = dns_source(nameservers, zones, timeout).resolver()
    report: dict[str, Any] = {}
    status = 0
    write = False
    for raw in domains:
        domain = raw.lower().rstrip(".")
        old = known.get(domain)
        code, report[domain], entry = asyncio.run(_one(domain, old, resolver))
        status = max(status, code)
        if entry is not None and (old is None or update):
            known[domain] = entry
            write = True
            report[domain]["updated"] = old is not None
    if write:
        try:
            state.write_text(dump_state(known))
        except OSError as exc:
            raise click.UsageError(f"--state: {exc}") from None
    click.echo(json.dumps(report, indent=2) if fmt == "json" else _text(report))
    raise SystemExit(status)


def _text(report: dict[str, Any]) -> str:
    lines: list[str] = []
    for domain, entry in report.items():
        head = f"{domain}: {entry['status']}" + (f": {entry['error']}" if "error" in entry else "")
        if "lookups" in entry:
            n = entry["lookups"]
            head += (f" ({n} lookup{'' if n == 1 else 's'}, {entry['void_lookups']} void"
                     f"{', flattened records published' if entry['published'] == 'flattened' else ''})")
        lines.append(head)
        tree = entry.get("tree", {})
        for key, label in (("record", "record"), ("lookups", "lookups"),
                           ("void_lookups", "void lookups")):
            if key in tree:
                lines.append(f"  {label}: {tree[key]['before']} -> {tree[key]['now']}")
        lines.extend(f"  new error: {e}" for e in tree.get("errors_added", []))
        lines.extend(f"  error gone: {e}" for e in tree.get("errors_removed", []))
        for change in entry.get("changes", []):
            lines.append(f"  {change['source']}:" +
                         (f" now {change['error']}" if "error" in change else ""))
            lines.extend(f"    + {n}" for n in change["added"])
            lines.extend(f"    - {n}" for n in change["removed"])
        if "flatten_error" in entry:
            lines.append(f"  new records cannot be made: {entry['flatten_error']}")
        if "records" in entry:
            lines.append("  publish (the chained records first, then the top record):")
            records = tuple((n, t) for n, t in entry["records"])
            lines.extend("    " + line for line in
                         render_records(records[1:] + records[:1], "text", 0).splitlines())
    return "\n".join(lines)
