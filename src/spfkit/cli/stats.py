"""``spfkit stats``: the share of received mail by SPF result, from decision logs or mail headers."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import click
from rich.table import Table

from spfkit.cli.survey_output import emit
from spfkit.stats import Observation, from_log_file, from_maildir, from_mbox, tally

EXIT_STATUS_HELP: Final = (
    "\b\nExit status:\n"
    "  0  counted (also when nothing matched)\n"
    "  2  usage error (one line on stderr)\n"
)


def _since(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use an ISO date or time, e.g. 2026-12-01 or 2026-12-01T08:00") from None


def _table(data: dict[str, Any]) -> Table:
    table = Table(title="Received mail by SPF result", title_justify="left")
    table.add_column("identity")
    table.add_column("result")
    table.add_column("messages", justify="right")
    table.add_column("share", justify="right")
    for identity, block in data["identities"].items():
        for result, share in block["results"].items():
            if share["count"]:
                table.add_row(identity, result, str(share["count"]), f"{share['pct']:.2f} %")
        table.add_row(identity, "total", str(block["total"]), "", end_section=True)
    for entry in data["top_failing_domains"][:10]:
        table.add_row("failing", entry["domain"], str(entry["count"]), "")
    return table


@click.command("stats", epilog=EXIT_STATUS_HELP)
@click.argument("logs", nargs=-1, metavar="[POLICYD_OR_MILTER_LOG...]")
@click.option("--maildir", metavar="DIR", help="Count the Received-SPF / Authentication-Results "
              "fields of every message of this Maildir.")
@click.option("--mbox", metavar="FILE", help="The same for an mbox file.")
@click.option("--since", callback=_since, metavar="DATE", help="Only checks on or after this time "
              "(ISO 8601; log lines without a time are counted).")
@click.option("--year", type=int, help="The year of syslog time stamps (they have none; default: this year).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--report", metavar="FILE.html", help="Write an HTML report with charts.")
def stats_command(logs: tuple[str, ...], maildir: str | None, mbox: str | None,
                  since: datetime | None, year: int | None, as_json: bool, report: str | None) -> None:
    """Share of received mail by SPF result, from policyd/milter logs or mail headers.

    Reads spfkit's own decision lines (SPF <result>: client=… identity=…) from log files
    (.gz too), or the topmost Received-SPF / Authentication-Results field per identity of
    each message in a Maildir or mbox; counts by identity (mailfrom, helo, pra) and result,
    per day, with the top failing sender domains and the temperror/permerror rates.
    """
    if not logs and not maildir and not mbox:
        raise click.UsageError("give log files, --maildir DIR or --mbox FILE")
    for path in logs:
        if not os.path.isfile(path):
            raise click.UsageError(f"{path}: no such file")
    if maildir and not (Path(maildir) / "new").is_dir() and not (Path(maildir) / "cur").is_dir():
        raise click.UsageError(f"{maildir}: not a Maildir (no new/ or cur/)")
    if mbox and os.path.isdir(mbox):
        raise click.UsageError(f"{mbox}: is a directory (an mbox is one file; --maildir reads a "
                               "Maildir)")
    if mbox and not os.path.isfile(mbox):
        raise click.UsageError(f"{mbox}: no such file")
    sources: list[Iterator[Observation]] = [from_log_file(p, year=year) for p in logs]
    if maildir:
        sources.append(from_maildir(maildir))
    if mbox:
        sources.append(from_mbox(mbox))
    data = tally(itertools.chain.from_iterable(sources), since).as_dict()
    from spfkit.survey.report import render_stats_report

    emit(data, as_json=as_json, table=_table, report=report, render=render_stats_report)
