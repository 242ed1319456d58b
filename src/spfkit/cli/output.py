"""How ``spfkit check`` shows a result: text for people (rich), JSON, or one header.

The report and the trace's tree are :mod:`spfkit.view`'s (the web shows the same ones);
this module only draws them.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape as escape_markup
from rich.tree import Tree

from spfkit.results import Result, TraceEvent, TraceKind
from spfkit.view.budget import Budget, Gauge, Level, worst_budget
from spfkit.view.check import CheckReport
from spfkit.view.trace import TraceNode, trace_nodes
from spfkit.visible import json_text, visible_text

__all__ = ["budget_markup", "budgets_markup", "escape", "print_report", "trace_tree"]

#: columns of output that is not a terminal: wide enough that no line is ever cut
PIPE_WIDTH = 1_000_000



def escape(text: str) -> str:
    """``text`` inside rich markup: its markup escaped, and every control character (the ESC
    of a terminal sequence in a DNS record) and format character shown as its escape."""
    return escape_markup(visible_text(text))


_STYLE = {
    Result.PASS: "bold green",
    Result.FAIL: "bold red",
    Result.SOFTFAIL: "bold yellow",
    Result.NEUTRAL: "bold blue",
    Result.NONE: "bold",
    Result.TEMPERROR: "bold magenta",
    Result.PERMERROR: "bold magenta",
}


def print_report(report: CheckReport, fmt: str, trace: bool) -> None:
    if fmt == "json":
        sys.stdout.write(json_text(report.as_dict()))
        return
    if fmt == "received-spf":
        sys.stdout.write(report.received_spf().fold() + "\n")
        return
    if fmt == "auth-results":
        sys.stdout.write(report.authentication_results().fold() + "\n")
        return
    # to a terminal, wrapped to its width; to a pipe or file (a ticket, a log) never cut:
    # the trace tree would crop its lines at 80 columns
    wide = None if sys.stdout.isatty() else PIPE_WIDTH
    console = Console(highlight=False, soft_wrap=True, emoji=False, width=wide)
    _print_text(console, report)
    if trace:
        console.print()
        console.print(trace_tree(report.result.trace))


def _print_text(console: Console, report: CheckReport) -> None:
    r = report.result
    who = escape(report.subject.sender)
    console.print(
        f"[{_STYLE[r.result]}]{r.result.value}[/]  {escape(report.ip)} → {who} "
        f"({report.identity.value} identity, domain {escape(report.subject.domain)})"
    )
    console.print(f"  {escape(r.result.meaning)}")
    if r.no_such_domain:
        console.print(f"  {escape(report.subject.domain)} does not exist (NXDOMAIN): check the "
                      "spelling of the domain")
    if r.mechanism and r.mechanism != "default":
        console.print(f"  decided by: [bold]{escape(r.mechanism)}[/] in the record of {escape(r.domain)}")
    elif r.mechanism == "default":
        console.print(f"  decided by: no mechanism matched in the record of {escape(r.domain)} (default)")
    if r.problem:
        console.print(f"  problem: {escape(r.problem)}")
    if r.explanation:
        console.print(f"  explanation: {escape(r.explanation)}")
    console.print(f"  lookups: {budget_markup(report.budget)}")
    console.print(f"  {escape(str(report.received_spf()))}")


#: how a count is drawn against its limit (view.budget decides the level)
_LEVEL_STYLE = {Level.OK: "", Level.NEAR: "yellow", Level.OVER: "bold red"}


def budget_markup(budget: Budget, *, meaning: bool = True) -> str:
    """``11/10 DNS lookups, 0/2 void lookups``, coloured, and (``meaning``) what it means when
    at a limit."""
    def gauge(g: Gauge, what: str) -> str:
        style = _LEVEL_STYLE[g.level]
        return f"[{style}]{g}[/] {what}" if style else f"{g} {what}"
    text = f"{gauge(budget.lookups, 'DNS lookups')}, {gauge(budget.void, 'void lookups')}"
    if meaning and budget.meaning:
        text += f" [{_LEVEL_STYLE[budget.level]}]— {escape(budget.meaning)}[/]"
    return text


def budgets_markup(budgets: tuple[Budget, ...]) -> str:
    """Each family's counts (once when they agree), then what the costlier one means."""
    worst = worst_budget(budgets)
    if len({b.text for b in budgets}) == 1:
        return budget_markup(worst)
    text = "; ".join((f"{b.family.label}: " if b.family else "") + budget_markup(b, meaning=False)
                     for b in budgets)
    return text + (f" [{_LEVEL_STYLE[worst.level]}]— {escape(worst.meaning)}[/]"
                   if worst.meaning else "")


def trace_tree(events: tuple[TraceEvent, ...]) -> Tree:
    """The evaluation as a tree: one branch per check_host() (top, include, redirect)."""
    root = Tree("[bold]evaluation[/]")
    _add_steps(root, trace_nodes(events))
    return root


def _add_steps(branch: Tree, nodes: tuple[TraceNode, ...]) -> None:
    for node in nodes:
        if node.kind is TraceKind.CHECK:
            _add_steps(branch.add(f"[bold]{escape(node.text)}[/]"), node.children)
        else:
            branch.add(_event_label(node.event, node.matched))


def _event_label(event: TraceEvent, matched: Result | None = None) -> str:
    text, detail = escape(event.text), escape(event.detail)
    match event.kind:
        case TraceKind.QUERY:
            return f"[dim]query[/] {text} → {detail}"
        case TraceKind.RECORD:
            return f"record [cyan]\"{text}\"[/]"
        case TraceKind.TERM:
            # a match is coloured by the result it gives: "-all match" is a fail, not green
            style = _STYLE[matched].removeprefix("bold ") if matched is not None else "dim"
            result = f" → {matched.value}" if matched is not None else ""
            return f"term [bold]{text}[/] [{style}]{detail}{result}[/]"
        case TraceKind.RESULT:
            return f"result [bold]{text}[/]" + (f" ({detail})" if detail else "")
    return f"{text}" + (f": {detail}" if detail else "")
