"""How ``spfkit check`` shows a result: text for people (rich), JSON, or one header.

The report and the trace's tree are :mod:`spfkit.view`'s (the web shows the same ones);
this module only draws them.
"""

from __future__ import annotations

import json
import sys

from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from spfkit.results import Result, TraceEvent, TraceKind
from spfkit.view.check import CheckReport
from spfkit.view.trace import TraceNode, trace_nodes

__all__ = ["print_report", "trace_tree"]

#: columns of output that is not a terminal: wide enough that no line is ever cut
PIPE_WIDTH = 1_000_000

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
        sys.stdout.write(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n")
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
    console.print(
        f"  lookups: {r.lookups}/10 DNS-querying terms, {r.void_lookups}/2 void lookups"
    )
    console.print(f"  {escape(str(report.received_spf()))}")


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
            branch.add(_event_label(node.event))


def _event_label(event: TraceEvent) -> str:
    text, detail = escape(event.text), escape(event.detail)
    match event.kind:
        case TraceKind.QUERY:
            return f"[dim]query[/] {text} → {detail}"
        case TraceKind.RECORD:
            return f"record [cyan]\"{text}\"[/]"
        case TraceKind.TERM:
            style = "green" if event.detail == "match" else "dim"
            return f"term [bold]{text}[/] [{style}]{detail}[/]"
        case TraceKind.RESULT:
            return f"result [bold]{text}[/]" + (f" ({detail})" if detail else "")
    return f"{text}" + (f": {detail}" if detail else "")
