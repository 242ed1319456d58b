"""``spfkit flatten DOMAIN``: replace includes by the networks they resolve to, proven equal.

The core is :mod:`spfkit.flatten`; the zone lines are the wizard's
(:mod:`spfkit.wizard.zones`). stdout carries only the records; the verdict goes to stderr.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import click

from spfkit.cli import params
from spfkit.cli.dns_options import dns_options, dns_source
from spfkit.flatten import (
    DEFAULT_PATTERN,
    MAX_RECORD_BYTES,
    Flattened,
    FlattenError,
    flatten,
)
from spfkit.flatten.drift import facts_state, tree_facts
from spfkit.flatten.plan import Kept, nameable_targets, unknown_target
from spfkit.flatten.state import domain_state, dump_state
from spfkit.flatten.zone import render_records
from spfkit.lookup.protocol import Resolver
from spfkit.wizard.zones import MAX_TTL

__all__ = ["flatten_command"]


def _json(result: Flattened) -> str:
    proof = result.proof
    return json.dumps({
        "domain": result.plan.domain,
        "source_record": result.plan.record,
        "records": [{"name": n, "text": t} for n, t in result.records],
        "equivalent": proof.equal,
        "lookups": result.lookups,
        "source_lookups": result.source_lookups,
        "undecided_addresses": str(proof.undecided),
        "kept": [{"term": i.text, "reason": i.reason}
                 for i in result.plan.items if isinstance(i, Kept)],
    }, indent=2)


async def _check_names(domain: str, resolver: Resolver, keep: frozenset[str],
                       only: frozenset[str]) -> None:
    """A --keep/--only name the tree does not reach is a typo: refused, with what it has."""
    top, tree = await nameable_targets(domain, resolver)
    for option, names, known in (("--only", only, top), ("--keep", keep, tree)):
        if (message := unknown_target(names, known, domain, top=option == "--only")) is not None:
            raise click.UsageError(f"{option} {message}")


@click.command("flatten")
@click.argument("domain")
@dns_options
@click.option("--keep", multiple=True, metavar="INCLUDE", callback=params.domains,
              help="Keep this include (or redirect target) as written, in the top record or "
              "nested in a provider (repeatable).")
@click.option("--only", multiple=True, metavar="INCLUDE", callback=params.domains,
              help="Flatten only this include (or redirect target) of the top record; other "
              "includes, a and mx stay as written (repeatable).")
@click.option("--target-lookups", type=click.IntRange(0, 10), default=10, show_default=True,
              help="Refuse when the flattened tree needs more DNS lookups (RFC 7208 §4.6.4).")
@click.option("--name-pattern", default=DEFAULT_PATTERN, show_default=True,
              help="Names of the chained records ({n}, {domain}).")
@click.option("--max-record-bytes", type=click.IntRange(64, 4000), default=MAX_RECORD_BYTES,
              show_default=True, help="Largest record (octets of text).")
@click.option("--format", "fmt", type=click.Choice(["bind", "tinydns", "json", "text"]),
              default="bind", show_default=True)
@click.option("--ttl", type=click.IntRange(0, MAX_TTL), default=3600, show_default=True)
@click.option("--state", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the source networks (per include, with TTLs) for 'spfkit watch'.")
def flatten_command(domain: str, nameservers: tuple[str, ...], zones: tuple[str, ...],
                    timeout: float, keep: tuple[str, ...], only: tuple[str, ...],
                    target_lookups: int,
                    name_pattern: str, max_record_bytes: int, fmt: str, ttl: int,
                    state: Path | None) -> None:
    """Flatten DOMAIN's SPF tree into networks within the lookup limit, proven equal.

    Before printing, the source tree and the flattened records are compiled and compared:
    they give the same result for every IPv4 and IPv6 address, or nothing is printed.
    ptr, exists, macros and --keep includes stay as written, in place; with --only, so does
    every term but the named includes.

    Exit status: 0 the records were printed (equivalence proven); 2 usage error (a --keep or
    --only name the tree does not reach, too), or the tree cannot be flattened (no record,
    DNS error, not equivalent, over the lookup target).
    """
    if "{n}" not in name_pattern:
        raise click.UsageError("--name-pattern needs {n}")
    resolver = dns_source(nameservers, zones, timeout).resolver()
    wanted = frozenset(keep)
    chosen = frozenset(only) or None
    if chosen and chosen & wanted:
        raise click.UsageError(f"{sorted(chosen & wanted)[0]} is named with both --keep and --only")

    async def run() -> Flattened:
        if keep or only:
            await _check_names(domain, resolver, wanted, frozenset(only))
        return await flatten(domain, resolver, keep=wanted, only=chosen,
                             max_bytes=max_record_bytes, pattern=name_pattern,
                             target_lookups=target_lookups)

    try:
        result = asyncio.run(run())
        output = _json(result) if fmt == "json" else render_records(result.records, fmt, ttl)
    except (FlattenError, ValueError) as exc:
        click.echo(f"spfkit flatten: {exc}", err=True)
        raise SystemExit(2) from None
    click.echo(f"equivalent: the flattened records give the same result as {result.plan.domain}'s "
               f"tree for every address ({_lookups(result.lookups)}, was {result.source_lookups})",
               err=True)
    click.echo(output)
    if state is not None:
        facts = tree_facts(result.plan.record, result.source_tree, result.plan)
        entry = {**domain_state(result.plan.sources, result.records, result.lookups,
                                name_pattern, time.time()),
                 **facts_state(facts), "flattened": True}
        try:
            state.write_text(dump_state({result.plan.domain: entry}))
        except OSError as exc:
            click.echo(f"spfkit flatten: --state: {exc}", err=True)
            raise SystemExit(2) from None


def _lookups(n: int) -> str:
    return f"{n} DNS lookup{'' if n == 1 else 's'}"
