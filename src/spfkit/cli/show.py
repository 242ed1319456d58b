"""``spfkit show DOMAIN``: the published record and its include/redirect tree, with lookup counts.

``dig`` plus a lookup counter (RFC 7208 §4.6.4): each record reached, what it costs and the
running total against the limit of 10, void lookups against 2, the networks each record
authorises, and errors where they sit. The tree comes from ``spfkit.tree.build_tree``, i.e.
from the evaluator's own counters; this module only draws it.
"""

from __future__ import annotations

import asyncio
import json
import sys

import click
from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from spfkit.cli.dns_options import dns_options, dns_source
from spfkit.identity import is_valid_domain
from spfkit.lookup import Resolver
from spfkit.record.terms import Mechanism
from spfkit.tree import Family, FamilyRun, RecordTree, TermView, TreeNode, build_tree
from spfkit.tree.model import Cost

_FAMILIES = (Family.IPV4, Family.IPV6)


def _domain(ctx: click.Context, param: click.Parameter, value: str) -> str:
    name = value.strip().rstrip(".")
    if not is_valid_domain(name) or " " in name or "@" in name:
        raise click.BadParameter(f"{value!r} is not a domain name (like example.com)")
    return name


def _sender(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    domain = value.rpartition("@")[2]
    if not value.strip() or not is_valid_domain(domain):
        raise click.BadParameter(f"{value!r} is not an address like user@example.com or a domain")
    return value.strip()


@click.command("show")
@click.argument("domain", callback=_domain)
@dns_options
@click.option("--sender", default=None, metavar="ADDR", callback=_sender,
              help="Sample MAIL FROM address for macros such as %{s} %{l} %{o} (RFC 7208 §7) "
              "[default: postmaster@DOMAIN].")
@click.option("--helo", default=None, metavar="HOST",
              help="Sample HELO name for the %{h} macro [default: DOMAIN].")
@click.option("--json", "as_json", is_flag=True,
              help="Print the tree as one JSON object instead of text.")
def show_command(
    domain: str,
    nameservers: tuple[str, ...],
    zones: tuple[str, ...],
    timeout: float,
    sender: str | None,
    helo: str | None,
    as_json: bool,
) -> None:
    """Show DOMAIN's SPF record and every include/redirect it reaches, with lookup counts.

    Each record is shown with the DNS lookups it costs and the running total against the
    limit of 10 (RFC 7208 §4.6.4), its void lookups (limit 2), the networks it authorises
    and any error where it sits. The counts are those of a real check (spfkit check), made
    for an IPv4 and an IPv6 client address that no record lists (255.255.255.254 and
    ffff:...:fffe), so every term up to "all" is evaluated; they differ between the two
    when a/mx targets lack AAAA records. Records after an error are still shown, marked
    "not counted".

    Exit status: 0 when the tree was shown (even with errors in it: judging them is the job
    of spfkit lint), 2 for a usage error.
    """
    resolver: Resolver = dns_source(nameservers, zones, timeout).resolver()
    tree = asyncio.run(build_tree(domain, resolver, sender=sender, helo=helo))
    if as_json:
        sys.stdout.write(json.dumps(tree.as_dict(), indent=2, ensure_ascii=False) + "\n")
        return
    # emoji off: "ip6:2001:db8:100::/48" must not become a 💯; a pipe gets one line per term
    wide = None if sys.stdout.isatty() else 1000
    console = Console(highlight=False, emoji=False, width=wide)
    if tree.root is None:
        console.print(f"[bold]{escape(tree.domain)}[/] publishes no SPF record")
    else:
        console.print(render_tree(tree))
    for line in footer(tree):
        console.print(line)


def render_tree(tree: RecordTree) -> Tree:
    """The record tree as a rich Tree: one branch per record, its terms below it."""
    assert tree.root is not None
    top = Tree(_node_label(tree.root, tree, None), guide_style="dim")
    _fill(top, tree.root, tree)
    return top


def _fill(branch: Tree, node: TreeNode, tree: RecordTree) -> None:
    for error in _unique_errors(node):
        branch.add(f"[bold red]✗ {escape(error)}[/]")
    if node.exp is not None:
        exp = node.exp
        state = ("[green]ok[/]" if exp.problem is None
                 else f"[yellow]{escape(exp.problem)}: receivers ignore it (§6.2)[/]")
        branch.add(f"exp → TXT {escape(exp.target)}: {state}")
    for view in node.terms:
        for child in view.children:
            sub = branch.add(_node_label(child, tree, view))
            _fill(sub, child, tree)
        if not view.children:
            branch.add(_term_label(view, node, tree))


def _node_label(node: TreeNode, tree: RecordTree, via: TermView | None) -> str:
    head = f"[bold]{escape(node.domain)}[/]"
    if via is not None:
        head = f"[bold]{escape(via.text)}[/]"
        if via.text.split(":", 1)[-1].split("=", 1)[-1].lower() != node.domain.lower():
            head += f" → [bold]{escape(node.domain)}[/]"
    record = f'[cyan]"{escape(node.record_text)}"[/]' if node.record_text else _no_record_markup(node)
    if not node.counted:
        return f"{head}  {record}  [dim]not counted: looked up to show it, after an error stopped the evaluation[/]"
    if not node.evaluated:
        return f"{head}  {record}  [dim]not evaluated[/]"
    return f"{head}  {record}  {_counts(node.costs, tree)}"


def _no_record_markup(node: TreeNode) -> str:
    style = "dim" if node.missing == "(no SPF record)" else "red"
    return f"[{style}]{escape(node.missing)}[/]"


def _counts(costs: dict[Family, Cost] | object, tree: RecordTree) -> str:
    """``lookups 3 (total 3/10)  void 0``, per family when the two differ."""
    assert isinstance(costs, dict)
    per = [(f, costs[f]) for f in _FAMILIES if f in costs]
    lookups = {(c.lookups, c.total_lookups) for _, c in per}
    void = {(c.void, c.total_void) for _, c in per}
    parts: list[str] = []
    if len(lookups) == 1:
        c = per[0][1]
        parts.append(f"lookups {c.lookups} (total {_total(c.total_lookups, tree.max_lookups)})")
    else:
        parts.append("lookups " + ", ".join(
            f"{f.label} {c.lookups} (total {_total(c.total_lookups, tree.max_lookups)})" for f, c in per))
    if len(void) == 1:
        c = per[0][1]
        parts.append(f"void {c.void}" + (f" (total {_total(c.total_void, tree.max_void)})" if c.void else ""))
    else:
        parts.append("void " + ", ".join(
            f"{f.label} {c.void} (total {_total(c.total_void, tree.max_void)})" for f, c in per))
    if len(per) == 1:
        parts.append(f"[dim]({per[0][0].label} client only)[/]")
    parts.extend(_beyond([f for f, c in per if c.beyond_limit], len(per)))
    return "  ".join(parts)


def _beyond(families: list[Family], of: int) -> list[str]:
    """The lifted-limits walk got here, receivers (for these families) do not."""
    if not families:
        return []
    who = "" if len(families) == of else f" for an {families[0].label} client"
    return [f"[yellow]beyond the limit{who}: receivers stop before this[/]"]


def _total(value: int, limit: int) -> str:
    style = "bold red" if value > limit else "yellow" if value >= limit - 2 and limit == 10 else ""
    text = f"{value}/{limit}"
    return f"[{style}]{text}[/]" if style else text


def _term_label(view: TermView, node: TreeNode, tree: RecordTree) -> str:
    term = view.term
    label = f"[bold]{escape(view.text)}[/]" if isinstance(term, Mechanism) else escape(view.text)
    bits: list[str] = []
    outcomes = [(f, view.outcomes[f]) for f in _FAMILIES if f in view.outcomes]
    if outcomes and term.queries_dns:
        totals = {(o.lookups, o.total_lookups) for _, o in outcomes}
        if len(totals) == 1:
            o = outcomes[0][1]
            bits.append(f"lookup +{o.lookups} (total {_total(o.total_lookups, tree.max_lookups)})")
        else:
            bits.append("lookup " + ", ".join(
                f"{f.label} +{o.lookups} (total {_total(o.total_lookups, tree.max_lookups)})"
                for f, o in outcomes))
    for family, outcome in outcomes:
        if outcome.voids:
            bits.append(f"[yellow]void ({family.label}): {escape(', '.join(outcome.voids))}[/]")
    if view.mx_names is not None and view.mx_names > 10:
        bits.append(f"[bold red]{view.mx_names} MX names (limit 10)[/]")
    stopped = any(o.detail == "error" for _, o in outcomes)
    if stopped:
        bits.append("[bold red]evaluation stopped here[/]")
    else:
        bits.extend(_beyond([f for f, o in outcomes if o.beyond_limit], len(outcomes)))
    if not outcomes and isinstance(term, Mechanism) and node.evaluated and node.counted:
        bits.append("[dim]not evaluated[/]")
    resolved = [n for n in view.networks if n.host is not None]
    if resolved:
        by_host: dict[str, list[str]] = {}
        for net in resolved:
            by_host.setdefault(net.host or "", []).append(str(net.network))
        bits.append("; ".join(f"{escape(h)}: {', '.join(nets)}" for h, nets in by_host.items()))
    elif outcomes and not stopped and term.name in ("a", "mx"):
        bits.append("[dim]no addresses[/]")
    return "  ".join([label, *bits])


def _unique_errors(node: TreeNode) -> list[str]:
    """Each error once, with the families it concerns."""
    seen: dict[tuple[str, str | None, bool], list[str]] = {}
    for e in node.errors:
        who = e.family.label + " client" if e.family else "looking ahead, not counted"
        seen.setdefault((e.result.value + ": " + e.message, e.term, e.beyond_limit), []).append(who)
    lines = []
    for (message, term, beyond), whom in seen.items():
        where = f" at {term}" if term else ""
        when = "; only past the limit, receivers stop earlier" if beyond else ""
        families = "every client" if len(whom) == 2 and all("client" in w for w in whom) else ", ".join(whom)
        lines.append(f"{message}{where} ({families}{when})")
    return lines


def footer(tree: RecordTree) -> list[str]:
    """Totals for each client family against the limits, and how the counts were made."""
    lines = [""]
    for run in (tree.v4, tree.v6):
        lines.append(_family_line(run, tree))
    lines.append(
        f"[dim]sample: MAIL FROM {escape(tree.sample_sender)}, HELO {escape(tree.sample_helo)}, "
        f"clients {tree.v4.client} and {tree.v6.client} (no record lists them, so every term "
        "up to 'all' is evaluated)[/]"
    )
    if tree.sender_dependent:
        uses = ", ".join(f"{m.term} in {m.domain}" for m in tree.macro_uses)
        lines.append(f"[yellow]the tree depends on the sender or client (§7 macros: {escape(uses)}); "
                     "the counts are for the sample values above[/]")
    lines.extend(f"[dim]note: {escape(n)}[/]" for n in tree.notes)
    return lines


def _family_line(run: FamilyRun, tree: RecordTree) -> str:
    r = run.result
    text = (f"{run.family.label} client: {_total(r.lookups, tree.max_lookups)} DNS lookups, "
            f"{_total(r.void_lookups, tree.max_void)} void lookups → [bold]{r.result.value}[/]")
    if r.problem:
        text += f" ({escape(r.problem)})"
    if run.needed_lookups > r.lookups or run.needed_void > r.void_lookups:
        more = "at least " if not run.complete else ""
        text += (f"; the whole tree needs {more}[bold red]{run.needed_lookups}[/] lookups and "
                 f"{run.needed_void} void lookups")
    return text
