"""``spfkit survey``: SPF and DMARC over a population of domains (one machine or a Dask cluster).

The work is :mod:`spfkit.survey`; this module reads the options, opens the input and the
output, shows a rich progress bar on a terminal, and prints the summary (a table, or
``--json``) and the HTML report.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from spfkit.cli.params import finite
from spfkit.cli.survey_output import emit, summary_table
from spfkit.lookup.stub import DnsResolver
from spfkit.survey.inputs import InputStats, read_domains
from spfkit.survey.result import DomainResult
from spfkit.survey.runner import ResolverConfig, RunStats, run_survey
from spfkit.survey.summary import Summary, summarise
from spfkit.survey.writers import (
    ResultWriter,
    done_domains,
    open_writer,
    read_results,
    repair,
)

EXIT_STATUS_HELP: Final = (
    "\b\nExit status:\n"
    "  0    every domain was surveyed (DNS errors are results, not failures)\n"
    "  2    usage error (one line on stderr)\n"
    "  130  interrupted (Ctrl-C or SIGTERM): the output holds whole rows; run again with --resume\n"
)


def _count_lines(path: str) -> int | None:
    """An upper bound for the progress bar's ETA: the newlines of a plain file."""
    if path == "-" or path.endswith(".gz") or not os.path.isfile(path):
        return None
    count = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            count += chunk.count(b"\n")
    return count


def _skipping(names: Iterator[str], done: set[str], stats: InputStats) -> Iterator[str]:
    for name in names:
        if name in done:
            stats.skipped += 1
        else:
            yield name


def _run_local(domains: Iterator[str], config: ResolverConfig, writer: ResultWriter | None,
               summary: Summary, total: int | None, show: bool) -> RunStats:
    stats = RunStats()
    progress = Progress(TextColumn("[bold]survey"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[rate]:>8.1f} domains/s"),
                        TextColumn("errors {task.fields[errors]} (timeouts {task.fields[timeouts]})"),
                        TimeElapsedColumn(), TimeRemainingColumn(),
                        console=Console(stderr=True), disable=not show, transient=False)
    task = progress.add_task("survey", total=total, rate=0.0, errors=0, timeouts=0)

    def sink(result: DomainResult) -> None:
        if writer is not None:
            writer.write(result)
        summary.add(result)
        if show and stats.done % 50 == 0:
            progress.update(task, completed=stats.done, rate=stats.rate,
                            errors=stats.dns_errors, timeouts=stats.timeouts)

    async def run() -> None:
        # SIGTERM stops the run as Ctrl-C does: the rows written so far are whole
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        await run_survey(domains, config, sink, stats)

    with progress:
        try:
            asyncio.run(run())
        except asyncio.CancelledError:
            raise KeyboardInterrupt from None
        finally:
            progress.update(task, completed=stats.done, rate=stats.rate,
                            errors=stats.dns_errors, timeouts=stats.timeouts)
    return stats


@click.command("survey", epilog=EXIT_STATUS_HELP)
@click.argument("domains_file", required=False, metavar="[DOMAINS_FILE|-]")
@click.option("--zone-file", metavar="FILE", help="Survey the delegations (NS owners) of this BIND zone file.")
@click.option("--nameserver", "nameservers", multiple=True, metavar="HOST[:PORT]",
              help="Ask this DNS server (repeatable); default: the system's resolvers.")
@click.option("--concurrency", type=click.IntRange(1, 100_000), default=200, show_default=True,
              help="Domains in flight at once.")
@click.option("--qps", type=click.FloatRange(min=0.1), default=None, callback=finite,
              help="At most this many queries a second toward the nameservers (all workers together).")
@click.option("--timeout", type=click.FloatRange(min=0.01), default=2.0, show_default=True,
              callback=finite,
              metavar="SECONDS", help="Time limit of each query attempt.")
@click.option("--retries", type=click.IntRange(0, 10), default=1, show_default=True,
              help="Attempts after a timeout or SERVFAIL.")
@click.option("--out", metavar="FILE", help="Write one row per domain: .jsonl, .csv or .parquet "
              "(with --dask: a directory of Parquet parts).")
@click.option("--report", metavar="FILE.html", help="Write an HTML report with charts.")
@click.option("--resume", is_flag=True, help="Skip the domains already in --out and append the rest.")
@click.option("--dask", "dask_address", metavar="ADDRESS", help="Run on this dask.distributed scheduler.")
@click.option("--dask-local", type=click.IntRange(1, 256), metavar="N",
              help="Start a local Dask cluster of N workers and run on it.")
@click.option("--partition", type=click.IntRange(1), default=5000, show_default=True,
              help="Domains per Dask partition.")
@click.option("--tree", "deep", is_flag=True, help="Build each domain's whole include tree and run "
              "every lint rule on it, as 'spfkit lint' does (about twice the CPU).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--progress/--no-progress", default=None, help="Show a progress bar (default: on a terminal).")
def survey_command(domains_file: str | None, zone_file: str | None, nameservers: tuple[str, ...],
                   concurrency: int, qps: float | None, timeout: float, retries: int, out: str | None,
                   report: str | None, resume: bool, dask_address: str | None, dask_local: int | None,
                   partition: int, deep: bool, as_json: bool, progress: bool | None) -> None:
    """Survey SPF (RFC 7208) and DMARC (RFC 7489) over a list of domains.

    DOMAINS_FILE has one domain per line (# comments), or is a CSV with a domain column;
    .gz is read as it is decompressed; - is stdin. Duplicates and invalid names are counted
    and skipped. Each domain's row holds its SPF record set, the record, the qualifier of
    all, lookups and void lookups for an IPv4 and an IPv6 client, lint codes, includes,
    whether TCP is needed, its DMARC record, and the DNS outcome — timeouts and SERVFAIL
    are kept apart from "no record". Without --out only the summary is printed.
    """
    if (domains_file is None) == (zone_file is None):
        raise click.UsageError("give DOMAINS_FILE or --zone-file (one of them)")
    if dask_address and dask_local:
        raise click.UsageError("--dask and --dask-local cannot be combined")
    if resume and not out:
        raise click.UsageError("--resume needs --out")
    source = zone_file or domains_file or "-"
    if source != "-" and not os.path.exists(source):
        raise click.UsageError(f"{source}: no such file")
    config = ResolverConfig(nameservers=nameservers, timeout=timeout, retries=retries, qps=qps,
                            concurrency=concurrency, deep=deep)
    try:
        if nameservers:
            DnsResolver.from_spec(" ".join(nameservers))
    except ValueError as exc:
        raise click.UsageError(f"--nameserver: {exc}") from None
    stats = InputStats()
    domains: Iterator[str] = read_domains(source, stats, zone=zone_file is not None)
    if dask_address or dask_local:
        summary, run = _dask(domains, config, out, dask_address, dask_local, partition, stats)
    else:
        summary, run = _local(domains, config, out, resume, stats, source,
                              sys.stderr.isatty() if progress is None else progress)
    _finish(summary, run, stats, report, as_json)


def _local(domains: Iterator[str], config: ResolverConfig, out: str | None, resume: bool,
           stats: InputStats, source: str, show: bool) -> tuple[Summary, RunStats]:
    writer: ResultWriter | None = None
    if out:
        try:
            if resume:
                repair(out)
                domains = _skipping(domains, done_domains(out), stats)
            writer = open_writer(out, append=resume)
        except ModuleNotFoundError as exc:
            raise click.ClickException(f"{out}: Parquet needs the survey extra ({exc.name} is not "
                                       "installed): pip install 'spfkit[survey]'") from None
        except (ValueError, OSError) as exc:
            raise click.UsageError(str(exc)) from None
    summary = Summary()
    try:
        run = _run_local(domains, config, writer, summary, _count_lines(source), show)
    except KeyboardInterrupt:
        click.echo(f"spfkit: interrupted; the results so far are in {out or '(nowhere: no --out)'}"
                   + ("; run again with --resume to continue" if out else ""), err=True)
        raise
    finally:
        if writer is not None:
            writer.close()
    if out and resume:
        summary = summarise(read_results(out))  # the whole file: earlier runs included
    return summary, run


def _dask(domains: Iterator[str], config: ResolverConfig, out: str | None, address: str | None,
          local: int | None, partition: int, stats: InputStats) -> tuple[Summary, RunStats]:
    import importlib.util

    for module in ("distributed", "pyarrow"):
        if importlib.util.find_spec(module) is None:  # pragma: no cover - the extra is missing
            raise click.ClickException(f"--dask needs the survey extra ({module} is not installed): "
                                       "pip install 'spfkit[survey]'")
    from spfkit.survey.cluster import survey_on_dask

    if out and Path(out).suffix:
        raise click.UsageError("with --dask, --out names a directory for the Parquet parts")
    summary, run = survey_on_dask(domains, config, out_dir=out, address=address, local_workers=local,
                                  partition=partition)
    return summary, run


def _finish(summary: Summary, run: RunStats, stats: InputStats, report: str | None, as_json: bool) -> None:
    data = summary.as_dict()
    data["input"] = stats.as_dict()
    data["run"] = run.as_dict()
    from spfkit.survey.report import render_report

    emit(data, as_json=as_json, table=summary_table, report=report, render=render_report)
