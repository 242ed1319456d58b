"""``spfkit lint``: check published SPF records for errors, risks and deprecated forms.

Three modes: ``spfkit lint DOMAIN...`` (live DNS, ``--nameserver`` or ``--zone``; several
domains, ``--from-file``: see :mod:`spfkit.cli.lint_bulk`), ``spfkit lint --record TEXT`` (the
text alone, no DNS) and ``spfkit lint --zone FILE`` without a domain (every SPF-like record in
the zone). Output: findings grouped by severity, with a caret under the record text (rich,
coloured on a terminal), ``--json``, or one line per domain (``--format csv|json``). The exit
status is the worst severity found, so CI pipelines can gate on it (see
:data:`EXIT_STATUS_HELP`).
"""

from __future__ import annotations

import asyncio
import sys
import unicodedata
from typing import Final

import click
from click.core import ParameterSource
from rich.cells import cell_len
from rich.console import Console

from spfkit.cli import lint_bulk
from spfkit.cli.dns_options import dns_options, dns_source
from spfkit.cli.output import budgets_markup, escape
from spfkit.lint import LintReport, lint_record, lint_zone
from spfkit.lint.findings import Finding, Severity
from spfkit.lookup import ZoneResolver
from spfkit.tree import RecordTree
from spfkit.view.record_tree import TreeView, tree_view
from spfkit.visible import json_text

EXIT_STATUS_HELP: Final = (
    "\b\nExit status:\n"
    "  0  clean: no findings, or only info\n"
    "  1  warnings, but no errors\n"
    "  2  errors (receivers return permerror or the record does not do what it says),\n"
    "     and for a usage error (one line on stderr)\n"
    "With several domains (or --from-file, or --zone and no DOMAIN), the worst status\n"
    "of all the domains.\n"
)
_STYLE: Final = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow",
                 Severity.INFO: "bold cyan"}
_HEADING: Final = {Severity.ERROR: "Errors", Severity.WARNING: "Warnings", Severity.INFO: "Info"}
_WINDOW: Final = 100


@click.command("lint", epilog=EXIT_STATUS_HELP)
@click.argument("domains", metavar="[DOMAIN]...", nargs=-1)
@click.option("--from-file", "from_file", metavar="FILE",
              help="Lint the domains listed in FILE too (- for standard input): one a line, "
              "'#' starts a comment.")
@click.option("--record", "record_text", metavar="TEXT",
              help="Lint this record text instead of a published one (no DNS; e.g. "
              "--record 'v=spf1 mx -all'). Not with DOMAIN, --zone or --nameserver.")
@dns_options
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text",
              show_default=True, help="text: every finding in full; csv: a header, then one "
              "line per domain (domain, status, exit_status, errors, warnings, info, codes, "
              "lookups_ipv4, lookups_ipv6, void_ipv4, void_ipv6, fixed_record); json: the "
              "same, one JSON object per line (JSON Lines).")
@click.option("--jobs", type=click.IntRange(1, lint_bulk.MAX_JOBS), default=8,
              show_default=True, metavar="N", help="Lint at most N domains at the same time.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the full reports as JSON: one object (with several domains or "
              "--zone and no DOMAIN, a list of them) with domain, records, findings, lookups, "
              "void_lookups, fixed_record and exit_status.")
@click.pass_context
def lint_command(
    ctx: click.Context,
    domains: tuple[str, ...],
    from_file: str | None,
    record_text: str | None,
    nameservers: tuple[str, ...],
    zones: tuple[str, ...],
    timeout: float,
    fmt: str,
    jobs: int,
    as_json: bool,
) -> None:
    """Check the SPF record of DOMAIN (RFC 7208) for errors, risks and deprecated forms.

    Every finding has a stable code (see docs/lint-codes.md), a severity, the column in
    the record, a message, the RFC section and a fix — with the corrected record when it
    can be computed. Lookups (limit 10) and void lookups (limit 2) are counted over the
    whole include/redirect tree by the evaluator itself, for an IPv4 and an IPv6 client.
    Several domains (arguments, --from-file) are linted at most --jobs at a time and
    reported in the order given.

    \b
    spfkit lint example.com                   the published record (system resolvers)
    spfkit lint --zone my.zone example.com    answered from a BIND zone file (offline)
    spfkit lint --zone my.zone                every SPF-like record in the zone
    spfkit lint --record 'v=spf1 mx -all'     a record text, before publishing it
    spfkit lint --format csv a.example b.example     one line per domain
    spfkit lint --from-file domains.txt --format json
    """
    if as_json and fmt != "text":
        raise click.UsageError("--json prints the full reports; it cannot be combined with "
                               "--format csv or json")
    if record_text is not None:
        explicit_timeout = ctx.get_parameter_source("timeout") is ParameterSource.COMMANDLINE
        if domains or from_file or zones or nameservers or explicit_timeout:
            raise click.UsageError("--record lints the text alone: it cannot be combined with "
                                   "DOMAIN, --from-file, --zone, --nameserver or --timeout")
        reports = [lint_record(record_text)]
        _output(reports, fmt, as_json, single=True)
        return _exit(reports[0].exit_status)
    names = [lint_bulk.domain_name(d, "DOMAIN") for d in domains]
    if from_file is not None:
        names += lint_bulk.read_domains(from_file)
    names = lint_bulk.unique(names)
    if len(names) > lint_bulk.MAX_DOMAINS:
        raise click.UsageError(f"{len(names)} domains: at most {lint_bulk.MAX_DOMAINS} "
                               "(spfkit survey is made for populations)")
    if not names:
        if from_file is not None:
            raise click.UsageError(f"{from_file}: no domains in it")
        if not zones:
            raise click.UsageError("give a DOMAIN, --from-file FILE, --record TEXT or "
                                   "--zone FILE")
        resolver = dns_source(nameservers, zones, timeout).resolver()
        assert isinstance(resolver, ZoneResolver)  # --zone alone: the zone files themselves
        zone_trees: dict[str, RecordTree] = {}
        reports = asyncio.run(lint_zone(resolver, trees=zone_trees))
        _output(reports, fmt, as_json, single=False,
                views={name: tree_view(tree) for name, tree in zone_trees.items()})
        return _exit(max((r.exit_status for r in reports), default=0))
    resolver = dns_source(nameservers, zones, timeout).resolver()
    trees: dict[str, RecordTree] = {}
    reports = asyncio.run(lint_bulk.lint_domains(names, resolver, jobs, trees=trees))
    _output(reports, fmt, as_json, single=len(reports) == 1 and from_file is None,
            views={name: tree_view(tree) for name, tree in trees.items()})
    return _exit(max(r.exit_status for r in reports))


def _exit(status: int) -> None:
    """End with the documented exit status (0 clean, 1 warnings, 2 errors)."""
    click.get_current_context().exit(status)


def _output(reports: list[LintReport], fmt: str, as_json: bool, *, single: bool,
            views: dict[str, TreeView] | None = None) -> None:
    if fmt == "csv":
        lint_bulk.write_csv(reports)
    elif fmt == "json":
        lint_bulk.write_json_lines(reports)
    else:
        _emit(reports, as_json, single=single, views=views)


def _emit(reports: list[LintReport], as_json: bool, *, single: bool,
          views: dict[str, TreeView] | None = None) -> None:
    views = views or {}
    if as_json:
        dicts = [{**r.as_dict(), **({"budget": views[r.domain].budget_dict()}
                                   if r.domain in views else {})} for r in reports]
        data: object = dicts[0] if single else dicts
        sys.stdout.write(json_text(data))
        return
    console = Console(highlight=False, soft_wrap=True, emoji=False)
    if not reports:
        console.print("no SPF records found in the zone")
        return
    for n, report in enumerate(reports):
        if n:
            console.rule(style="dim")
        _print_report(console, report, views.get(report.domain or ""))
    if len(reports) > 1:
        bad = sum(1 for r in reports if r.exit_status)
        console.print(f"\n[bold]{len(reports)} domains linted, {bad} with warnings or errors[/]")


def _print_report(console: Console, report: LintReport, view: TreeView | None = None) -> None:
    title = escape(report.domain) if report.domain else "record"
    console.print(f"[bold]{title}[/]")
    for published in report.records:
        console.print(f"  [cyan]{escape(_visible(published))}[/]")
    if not report.findings:
        console.print("  [green]no findings[/]")
    pairs = list(zip(report.findings, report.finding_records or (None,) * len(report.findings)))
    for severity in Severity.ERROR, Severity.WARNING, Severity.INFO:
        group = [(f, text) for f, text in pairs if f.severity is severity]
        if not group:
            continue
        console.print(f"\n [{_STYLE[severity]}]{_HEADING[severity]} ({len(group)})[/]")
        for f, text in group:
            _print_finding(console, f, text, report.domain)
    console.print()
    if view is not None:  # the real totals past the limit (11/10), from the tree
        console.print(f"  lookups: {budgets_markup(view.budgets)}")
    elif report.lookups_v4 is not None:
        console.print(
            f"  lookups: IPv4 {report.lookups_v4}/10, IPv6 {report.lookups_v6}/10 · "
            f"void lookups: IPv4 {report.void_v4}/2, IPv6 {report.void_v6}/2 (RFC 7208 §4.6.4)"
        )
    if report.fixed_record:
        console.print(f"  corrected record: [green]{escape(report.fixed_record)}[/]")
    counts = {s: sum(1 for f in report.findings if f.severity is s) for s in Severity}
    console.print(
        f"  {_plural(counts[Severity.ERROR], 'error')}, "
        f"{_plural(counts[Severity.WARNING], 'warning')}, {counts[Severity.INFO]} info "
        f"→ exit status {report.exit_status}"
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _print_finding(console: Console, f: Finding, text: str | None, domain: str | None) -> None:
    where = []
    if f.domain and f.domain != domain:
        where.append(f"in {f.domain}")
    if f.column is not None:
        where.append(f"column {f.column + 1}")
    console.print(f"  [{_STYLE[f.severity]}]{f.code}[/] {escape(' '.join(where))}".rstrip())
    if text is not None and f.column is not None:
        shown, offset, width = _excerpt(text, f.column, f.term)
        console.print(f"    {escape(shown)}")
        console.print("    " + " " * offset + "[bold]" + "^" * width + "[/]")
    console.print(f"    {escape(f.message)}")
    console.print(f"    [dim]RFC {escape(f.rfc)}[/] · fix: {escape(f.fix)}")
    if f.fixed_record:
        console.print(f"    corrected: [green]{escape(f.fixed_record)}[/]")
    for name, record in f.extra_records:
        console.print(f"    and publish at {escape(name)}: [green]{escape(record)}[/]")


def _visible(text: str) -> str:
    """Control characters as their Unicode pictures (␉ for a tab), so they show and align."""
    return "".join(chr(0x2400 + ord(c)) if ord(c) < 0x20 else c for c in text)


def _excerpt(text: str, column: int, term: str | None) -> tuple[str, int, int]:
    """The record text around ``column`` (at most ~100 cells), the caret's offset and width."""
    column = min(column, len(text))
    start = max(0, column - _WINDOW // 2) if len(text) > _WINDOW else 0
    end = min(len(text), start + _WINDOW)
    more = "…" if end < len(text) else ""
    shown = ("…" if start else "") + _visible(text[start:end]) + more
    offset = cell_len(("…" if start else "") + _visible(text[start:column]))
    width = 1
    if term and text.startswith(term, column):
        width = max(1, min(cell_len(_visible(term)), cell_len(_visible(text[column:end]))))
    elif column < len(text) and unicodedata.east_asian_width(text[column]) in "WF":
        width = 2
    return shown, offset, width
