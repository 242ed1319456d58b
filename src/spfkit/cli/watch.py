"""``spfkit watch DOMAIN... --state FILE``: resolve the trees again and report what changed.

Per domain, each source (include/redirect target, ``a``/``mx`` term) is resolved again
(:func:`spfkit.flatten.plan.plan_flattening`) and compared with the state file
(:mod:`spfkit.flatten.state`). When networks changed, the new flattened records are printed
under the alternate names (``_spf{n}`` ↔ ``_spfb{n}``): publish them, then the top record, so
receivers never see a half-switched chain.
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
from spfkit.flatten.plan import plan_flattening
from spfkit.flatten.state import (
    SourceChange,
    diff_sources,
    domain_state,
    dump_state,
    load_state,
    next_pattern,
)
from spfkit.flatten.zone import render_records
from spfkit.lookup.protocol import Resolver

__all__ = ["watch_command"]


async def _watch(domain: str, old: dict[str, Any], resolver: Resolver
                 ) -> tuple[list[SourceChange], dict[str, Any] | None]:
    plan = await plan_flattening(domain, resolver)
    changes = diff_sources(old.get("sources", {}), plan.sources)
    if not changes or any(c.error for c in changes):
        return changes, None
    pattern = next_pattern(old.get("pattern", "_spf{n}.{domain}"))
    result = await flatten(domain, resolver, pattern=pattern)
    entry = domain_state(result.plan.sources, result.records, result.lookups,
                         pattern, time.time())
    return changes, entry


@click.command("watch")
@click.argument("domains", nargs=-1, required=True)
@dns_options
@click.option("--state", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The state file written by 'spfkit flatten --state' (or a new one).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--update/--no-update", default=False,
              help="Write the new state (and record names) to the state file.")
def watch_command(domains: tuple[str, ...], nameservers: tuple[str, ...],
                  zones: tuple[str, ...], timeout: float, state: Path, fmt: str,
                  update: bool) -> None:
    """Resolve flattened trees again and report provider network changes.

    DOMAINs' sources (includes, redirect targets, a/mx terms) are resolved again and compared
    with the state file.

    Exit status: 0 nothing changed (a domain new to the state file is recorded); 1 a
    provider's networks changed (added/removed per provider, and the records to publish);
    2 usage error, unreadable state file, or a DNS/record error (an outage is never
    reported as "networks removed").
    """
    try:
        known = load_state(state.read_text()) if state.exists() else {}
    except (OSError, ValueError) as exc:
        raise click.UsageError(f"--state: {exc}") from None
    resolver = dns_source(nameservers, zones, timeout).resolver()
    report: dict[str, Any] = {}
    status = 0
    for raw in domains:
        domain = raw.lower().rstrip(".")
        try:
            if domain not in known:
                result = asyncio.run(flatten(domain, resolver))
                known[domain] = domain_state(result.plan.sources, result.records,
                                             result.lookups, "_spf{n}.{domain}",
                                             time.time())
                report[domain] = {"status": "recorded"}
                update = True
                continue
            changes, entry = asyncio.run(_watch(domain, known[domain], resolver))
        except FlattenError as exc:
            report[domain] = {"status": "error", "error": str(exc)}
            status = 2
            continue
        errors = [c for c in changes if c.error]
        if errors:
            report[domain] = {"status": "error",
                              "error": "; ".join(f"{c.name}: {c.error}" for c in errors)}
            status = 2
        elif entry is not None:
            report[domain] = {"status": "changed",
                              "changes": [{"source": c.name, "added": list(c.added),
                                           "removed": list(c.removed)} for c in changes],
                              "records": entry["records"]}
            status = max(status, 1)
            if update:
                known[domain] = entry
        else:
            report[domain] = {"status": "unchanged"}
    if update:
        state.write_text(dump_state(known))
    click.echo(json.dumps(report, indent=2) if fmt == "json" else _text(report))
    raise SystemExit(status)


def _text(report: dict[str, Any]) -> str:
    lines: list[str] = []
    for domain, entry in report.items():
        lines.append(f"{domain}: {entry['status']}" +
                     (f": {entry['error']}" if "error" in entry else ""))
        for change in entry.get("changes", []):
            lines.append(f"  {change['source']}:")
            lines.extend(f"    + {n}" for n in change["added"])
            lines.extend(f"    - {n}" for n in change["removed"])
        if "records" in entry:
            lines.append("  publish (the chained records first, then the top record):")
            records = tuple((n, t) for n, t in entry["records"])
            lines.extend("    " + line for line in
                         render_records(records[1:] + records[:1], "text", 0).splitlines())
    return "\n".join(lines)
