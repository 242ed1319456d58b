"""How ``spfkit check`` shows a result: text for people (rich), JSON, or one header."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from spfkit.headers import HeaderField, authentication_results, received_spf
from spfkit.identity import Identity, Subject
from spfkit.results import CheckResult, Result, TraceEvent, TraceKind

_STYLE = {
    Result.PASS: "bold green",
    Result.FAIL: "bold red",
    Result.SOFTFAIL: "bold yellow",
    Result.NEUTRAL: "bold blue",
    Result.NONE: "bold",
    Result.TEMPERROR: "bold magenta",
    Result.PERMERROR: "bold magenta",
}


@dataclass(frozen=True, slots=True)
class CheckReport:
    """One check and everything needed to show it."""

    ip: str
    sender: str
    helo: str
    identity: Identity
    subject: Subject
    receiver: str
    result: CheckResult

    def received_spf(self) -> HeaderField:
        return received_spf(
            self.result,
            client_ip=self.ip,
            identity=self.identity,
            envelope_from=self.sender,
            helo=self.helo or None,
            receiver=self.receiver,
        )

    def authentication_results(self) -> HeaderField:
        return authentication_results(
            self.result,
            authserv_id=self.receiver,
            identity=self.identity,
            envelope_from=self.sender,
            helo=self.helo or None,
        )

    def as_dict(self) -> dict[str, Any]:
        r = self.result
        return {
            "result": r.result.value,
            "meaning": r.result.meaning,
            "explanation": r.explanation,
            "problem": r.problem,
            "domain": r.domain,
            "mechanism": r.mechanism,
            "lookups": r.lookups,
            "void_lookups": r.void_lookups,
            "identity": self.identity.value,
            "ip": self.ip,
            "sender": self.subject.sender,
            "helo": self.helo,
            "checked_domain": self.subject.domain,
            "received_spf": str(self.received_spf()),
            "authentication_results": str(self.authentication_results()),
            "trace": [event.as_dict() for event in r.trace],
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
    console = Console(highlight=False, soft_wrap=True, emoji=False)
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
    stack: list[Tree] = [root]
    for event in events:
        if event.kind is TraceKind.CHECK:
            del stack[event.depth + 1 :]
            node = stack[-1].add(f"[bold]{escape(event.text)}[/]")
            stack.append(node)
            continue
        parent = stack[min(event.depth + 1, len(stack) - 1)]
        parent.add(_event_label(event))
    return root


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
